"""geomrep.nn hyperbolic layers ([G18]): formulas against float64 NumPy, limits, gradients, modules, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from geomrep.manifolds import Euclidean, PoincareBall
from geomrep.nn import HyperbolicMLR, ManifoldParam, MobiusLinear, manifold_labels_of
from geomrep.nn import functional as F
from geomrep.optim import apply_updates, radam
from geomrep.testing import assert_on_manifold, quick_jit

DTYPES = [jnp.float32, jnp.float64]
TOL = {jnp.float32: 2e-5, jnp.float64: 1e-12}


# ---- float64 NumPy references, written from the formulas of gyro.md §B8 -----------------------------------
def _np_mobius_add(x, y, c):
    xy, x2, y2 = (
        np.sum(x * y, -1, keepdims=True),
        np.sum(x * x, -1, keepdims=True),
        np.sum(y * y, -1, keepdims=True),
    )
    num = (1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y
    return num / (1 + 2 * c * xy + c**2 * x2 * y2)


def _np_mobius_matvec(m, x, c):
    mx = x @ m.T
    nx, nmx = np.linalg.norm(x, axis=-1, keepdims=True), np.linalg.norm(mx, axis=-1, keepdims=True)
    return np.tanh(nmx / nx * np.arctanh(np.sqrt(c) * nx)) * mx / (np.sqrt(c) * nmx)


def _np_mlr(x, p, a_origin, c):
    out = np.zeros(x.shape[:-1] + (p.shape[0],))
    for k in range(p.shape[0]):
        lam_p = 2 / (1 - c * np.sum(p[k] ** 2))
        a = (2 / lam_p) * a_origin[k]  # parallel transport from 0: (λ_0 / λ_p) a'
        z = _np_mobius_add(-p[k], x, c)
        za = np.sum(z * a, -1)
        na = np.linalg.norm(a)
        out[..., k] = (
            lam_p * na / np.sqrt(c) * np.arcsinh(2 * np.sqrt(c) * za / ((1 - c * np.sum(z * z, -1)) * na))
        )
    return out


def _ball_points(rng, shape, c, scale=0.6):
    u = rng.standard_normal(shape)
    u *= scale * rng.uniform(0.05, 1.0, shape[:-1] + (1,)) / np.linalg.norm(u, axis=-1, keepdims=True)
    return u / np.sqrt(c)


# the curvature is passed traced, so c = 1 and c = 0.5 share a compile
_linear = quick_jit(lambda x, m, b, c: F.mobius_linear(x, m, b, c=c))
_mlr = quick_jit(lambda x, p, a, c: F.hyperbolic_mlr_logits(x, p, a, c=c))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1.0, 0.5])
def test_mobius_linear_matches_numpy(dtype, c):
    rng = np.random.default_rng(0)
    x, b = _ball_points(rng, (6, 4), c), _ball_points(rng, (3,), c)
    m = rng.standard_normal((3, 4)) / 2
    want = _np_mobius_add(_np_mobius_matvec(m, x, c), b, c)
    got = _linear(jnp.asarray(x, dtype), jnp.asarray(m, dtype), jnp.asarray(b, dtype), jnp.asarray(c, dtype))
    assert got.dtype == dtype
    np.testing.assert_allclose(np.asarray(got), want, atol=TOL[dtype] * 10, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1.0, 0.5])
def test_hyperbolic_mlr_matches_numpy(dtype, c):
    rng = np.random.default_rng(1)
    x, p = _ball_points(rng, (2, 5, 3), c), _ball_points(rng, (4, 3), c)
    a = rng.standard_normal((4, 3))
    got = _mlr(jnp.asarray(x, dtype), jnp.asarray(p, dtype), jnp.asarray(a, dtype), jnp.asarray(c, dtype))
    assert got.shape == (2, 5, 4) and got.dtype == dtype
    np.testing.assert_allclose(
        np.asarray(got), _np_mlr(x, p, a, c), atol=TOL[dtype] * 50, rtol=TOL[dtype] * 50
    )


def test_hyperbolic_mlr_tends_to_euclidean_mlr_as_curvature_vanishes():
    """[G18] §3.1: as c → 0 the logit tends to 4⟨x − p_k, a'_k⟩ (λ_p → 2, asinh(2√c s)/√c → 2s)."""
    rng = np.random.default_rng(2)
    x, p, a = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    got = _mlr(jnp.asarray(x), jnp.asarray(p), jnp.asarray(a), jnp.asarray(1e-9))
    np.testing.assert_allclose(
        np.asarray(got), 4 * np.einsum("nkd,kd->nk", x[:, None] - p[None], a), rtol=1e-6
    )


def test_hyperbolic_mlr_sign_is_the_side_of_the_gyroplane():
    """x on the gyroplane through p with normal a (⟨−p ⊕ x, a⟩ = 0) gets logit 0; moving along ±a flips the sign."""
    p = np.array([[0.2, -0.1]])
    a = np.array([[0.0, 1.0]])
    # p ⊕ v for v ⟂ a' and v ± a': −p ⊕ (p ⊕ v) = v
    x = _np_mobius_add(p, np.array([[0.3, 0.0], [0.3, 0.2], [0.3, -0.2]]), 1.0)
    logits = np.asarray(_mlr(jnp.asarray(x), jnp.asarray(p), jnp.asarray(a), jnp.asarray(1.0)))[:, 0]
    assert abs(logits[0]) < 1e-12 and logits[1] > 0 > logits[2]


def _central_fd(f, x, h=1e-6):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(jnp.asarray(x + e))) - float(f(jnp.asarray(x - e)))) / (2 * h)
    return g


def test_gradients_match_finite_differences_and_are_finite_at_the_origin():
    rng = np.random.default_rng(3)
    x, p, a = _ball_points(rng, (3, 3), 1.0), _ball_points(rng, (2, 3), 1.0), rng.standard_normal((2, 3))
    m, b = rng.standard_normal((3, 3)) / 2, _ball_points(rng, (3,), 1.0)
    w = rng.standard_normal((3, 2))

    def loss(x, p, a, m, b):
        return jnp.sum(F.hyperbolic_mlr_logits(F.mobius_linear(x, m, b), p, a) * w)

    args = [jnp.asarray(v) for v in (x, p, a, m, b)]
    grad_fn = quick_jit(jax.grad(loss, argnums=(0, 1, 2, 3, 4)))
    loss_jit = quick_jit(loss)
    for i, g in enumerate(grad_fn(*args)):

        def f(v, i=i):
            return loss_jit(*[v if j == i else args[j] for j in range(5)])

        np.testing.assert_allclose(np.asarray(g), _central_fd(f, args[i]), atol=1e-6, rtol=1e-5)
    # at the origin (x = 0, p = 0, b = 0: where the layers start) gradients are finite
    zeros = [jnp.zeros_like(args[0]), jnp.zeros_like(args[1]), args[2], args[3], jnp.zeros_like(args[4])]
    for g in grad_fn(*zeros):
        assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_modules_shapes_dtypes_and_labels(dtype):
    layer = MobiusLinear(4, 3, c=0.5, param_dtype=dtype, rngs=nnx.Rngs(0))
    mlr = HyperbolicMLR(3, 5, c=0.5, param_dtype=dtype, rngs=nnx.Rngs(1))
    x = jnp.asarray(_ball_points(np.random.default_rng(4), (7, 4), 0.5), dtype)
    (g_layer, s_layer), (g_mlr, s_mlr) = nnx.split(layer), nnx.split(mlr)

    def forward(s_layer, s_mlr, x):
        y = nnx.merge(g_layer, s_layer)(x)
        return y, nnx.merge(g_mlr, s_mlr)(y)

    y, logits = quick_jit(forward)(s_layer, s_mlr, x)
    assert y.shape == (7, 3) and y.dtype == dtype
    assert logits.shape == (7, 5) and logits.dtype == dtype
    assert layer.weight[...].shape == (3, 4) and layer.weight[...].dtype == dtype
    assert isinstance(layer.bias, ManifoldParam) and isinstance(mlr.offsets, ManifoldParam)
    labels = manifold_labels_of(layer)
    assert labels["bias"] == PoincareBall(0.5) and labels["weight"] == Euclidean()
    assert MobiusLinear(4, 3, use_bias=False, rngs=nnx.Rngs(0)).bias is None


def test_short_training_beats_chance_and_keeps_parameters_on_the_ball():
    """A Möbius layer + hyperbolic MLR on 3 well-separated clusters in the ball: RAdam reaches > 90% in 100 steps."""
    rng = np.random.default_rng(5)
    centers = np.array([[0.5, 0.0, 0.0], [-0.3, 0.4, 0.0], [0.0, -0.3, -0.4]])
    y = rng.integers(0, 3, 300)
    u = centers[y] + 0.15 * rng.standard_normal((300, 3))
    x = (
        np.tanh(np.linalg.norm(u, axis=1, keepdims=True)) * u / np.linalg.norm(u, axis=1, keepdims=True)
    )  # exp₀

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.hidden = MobiusLinear(3, 4, param_dtype=jnp.float64, rngs=rngs)
            self.mlr = HyperbolicMLR(4, 3, param_dtype=jnp.float64, rngs=rngs)

        def __call__(self, x):
            return self.mlr(F.mobius_pointwise(jnp.tanh, self.hidden(x)))

    graphdef, params = nnx.split(Net(nnx.Rngs(0)), nnx.Param)
    labels = manifold_labels_of(params)
    tx = radam(0.05, labels)

    def loss_fn(params):
        logits = nnx.merge(graphdef, params)(jnp.asarray(x))
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), jnp.asarray(y)[:, None], 1))

    def step(carry, _):
        params, opt = carry
        grads = jax.grad(loss_fn)(params)
        updates, opt = tx.update(grads, opt, params)
        return (apply_updates(params, updates, labels), opt), None

    def train(params, opt):
        params, _ = jax.lax.scan(step, (params, opt), None, length=100)[0]
        return params, nnx.merge(graphdef, params)(jnp.asarray(x))

    params, logits = quick_jit(train)(params, tx.init(params))
    accuracy = float(np.mean(np.argmax(np.asarray(logits), -1) == y))
    assert accuracy > 0.9, accuracy
    assert_on_manifold(PoincareBall(1.0), params["hidden"]["bias"][...])
    assert_on_manifold(PoincareBall(1.0), params["mlr"]["offsets"][...])
