"""geomrep.nn SPD modules: shapes and dtypes (float32 and float64), manifold labels, the B0 definition of the
logits through geomrep.manifolds.spd, and a short Riemannian training run that beats chance."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from geomrep.manifolds import SPD, Euclidean, Stiefel, spd
from geomrep.nn import BiMap, LogEig, ManifoldParam, ReEig, SPDGyroFC, SPDGyroMLR, manifold_labels_of
from geomrep.nn import functional as F
from geomrep.optim import apply_updates, radam
from geomrep.testing import assert_on_manifold, quick_jit

DTYPES = [jnp.float32, jnp.float64]
METRICS = ["ai", "le", "lc"]


def _spd(rng, shape, n, spread=0.5):
    a = rng.standard_normal((*shape, n, n))
    lam, U = np.linalg.eigh(spread * (a + np.swapaxes(a, -1, -2)) / 2)
    return (U * np.exp(lam)[..., None, :]) @ np.swapaxes(U, -1, -2)


class _Net(nnx.Module):
    def __init__(self, metric, dtype, rngs):
        self.bimap = BiMap(6, 4, param_dtype=dtype, rngs=rngs)
        self.reeig = ReEig()
        self.fc = SPDGyroFC(4, 3, metric=metric, param_dtype=dtype, rngs=rngs)
        self.mlr = SPDGyroMLR(3, 5, metric=metric, param_dtype=dtype, rngs=rngs)
        self.logeig = LogEig(vectorize=True)

    def __call__(self, X):
        H = self.reeig(self.bimap(X))
        return self.mlr(self.fc(H)), self.logeig(H)


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_dtypes_labels_and_identity_start(dtype):
    metric = "le" if dtype == jnp.float32 else "ai"
    net = _Net(metric, dtype, nnx.Rngs(0))
    zero = SPDGyroMLR(3, 2, metric=metric, weight_std=0.0, param_dtype=dtype, rngs=nnx.Rngs(1))
    X = jnp.asarray(_spd(np.random.default_rng(0), (7,), 6), dtype)
    graphs, states = zip(*(nnx.split(module) for module in (net, zero)), strict=True)

    def forward(states, X):
        logits, vec = nnx.merge(graphs[0], states[0])(X)
        return logits, vec, nnx.merge(graphs[1], states[1])(X[:2, :3, :3])

    logits, vec, zero_logits = quick_jit(forward)(states, X)
    assert logits.shape == (7, 5) and logits.dtype == dtype
    assert vec.shape == (7, 10) and vec.dtype == dtype
    labels = manifold_labels_of(net)
    assert labels["bimap"]["weight"] == Stiefel(6, 4)
    assert labels["fc"]["offsets"] == SPD(4, metric) and labels["mlr"]["normals"] == SPD(3, metric)
    for p in (net.bimap.weight, net.fc.offsets, net.fc.normals, net.mlr.offsets, net.mlr.normals):
        assert isinstance(p, ManifoldParam) and p[...].dtype == dtype
    assert net.fc.normals[...].shape == (6, 4, 4) and net.mlr.offsets[...].shape == (5, 3, 3)
    W = net.bimap.weight[...]
    np.testing.assert_allclose(np.asarray(W.T @ W), np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(net.mlr.offsets[...]), np.broadcast_to(np.eye(3), (5, 3, 3)))
    np.testing.assert_array_equal(np.asarray(zero_logits), 0.0)  # W = I: every logit is 0
    assert all(
        isinstance(m, Euclidean)
        for m in jax.tree.leaves(manifold_labels_of(nnx.Linear(2, 2, rngs=nnx.Rngs(0))))
    )


def test_bimap_and_module_arguments_are_checked():
    with pytest.raises(ValueError, match="out_dim"):
        BiMap(3, 4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="valid metrics"):
        SPDGyroMLR(3, 2, metric="euclid", rngs=nnx.Rngs(0))


def test_mlr_logits_equal_the_generic_gyro_definition():
    """spd_mlr_logits(X, P, W) = ⟨⊖P_k ⊕ X, W_k⟩_gr built from spd.gyro_inv, spd.gyro_add and spd.gyro_inner."""
    rng = np.random.default_rng(2)
    X, P, W = _spd(rng, (4,), 3), _spd(rng, (2,), 3), _spd(rng, (2,), 3)

    def both(X, P, W):
        out = []
        for metric in METRICS:
            inv = spd.gyro_inv(P, metric=metric)
            generic = spd.gyro_inner(spd.gyro_add(inv, X[:, None], metric=metric), W, metric=metric)
            out.append((F.spd_mlr_logits(X, P, W, metric=metric), generic))
        return out

    for got, generic in quick_jit(both)(X, P, W):
        np.testing.assert_allclose(np.asarray(got), np.asarray(generic), rtol=1e-9, atol=1e-10)


def test_le_mlr_represents_the_bayes_posterior_of_the_le_gaussian_model():
    """log X ~ N(G_y, σ²) in Sym(n): with log W_k = G_k/σ² and log P_k = G_k/2 the LE logits are the Bayes
    log-posterior up to a class-independent shift (gyro.md §D4 A)."""
    rng = np.random.default_rng(3)
    n, K, sigma = 4, 3, 0.4
    G = rng.standard_normal((K, n, n))
    G = 0.3 * (G + np.swapaxes(G, 1, 2)) / 2  # moderate: W = exp(G/σ²) stays well conditioned
    logX = G[rng.integers(0, K, 6)] + sigma * rng.standard_normal((6, n, n))
    logX = (logX + np.swapaxes(logX, 1, 2)) / 2
    expm = functools.partial(spd.expmap0, metric="le")
    logits = quick_jit(lambda a, b, c: F.spd_mlr_logits(expm(a), expm(b), expm(c), metric="le"))(
        jnp.asarray(logX), jnp.asarray(G / 2), jnp.asarray(G / sigma**2)
    )
    log_post = -np.sum((logX[:, None] - G[None]) ** 2, axis=(-2, -1)) / (2 * sigma**2)
    shift = np.asarray(logits) - log_post
    np.testing.assert_allclose(shift - shift[:, :1], 0.0, atol=1e-9)


def test_short_training_beats_chance_and_keeps_parameters_on_their_manifolds():
    """BiMap → ReEig → AI gyro-MLR on 3 classes of SPD matrices around distinct means: > 85% after 60 steps."""
    rng = np.random.default_rng(4)
    n, K = 5, 3
    means = rng.standard_normal((K, n, n))
    means = 1.2 * (means + np.swapaxes(means, 1, 2)) / 2
    y = rng.integers(0, K, 240)
    noise = 0.3 * rng.standard_normal((240, n, n))
    logX = means[y] + (noise + np.swapaxes(noise, 1, 2)) / 2
    lam, vecs = np.linalg.eigh(logX)
    X = jnp.asarray((vecs * np.exp(lam)[:, None, :]) @ np.swapaxes(vecs, 1, 2))

    class Net(nnx.Module):
        def __init__(self, rngs):
            self.bimap = BiMap(n, 4, param_dtype=jnp.float64, rngs=rngs)
            self.mlr = SPDGyroMLR(4, K, metric="ai", param_dtype=jnp.float64, rngs=rngs)

        def __call__(self, X):
            return self.mlr(F.reeig(self.bimap(X)))

    graphdef, params = nnx.split(Net(nnx.Rngs(0)), nnx.Param)
    labels = manifold_labels_of(params)
    tx = radam(0.05, labels)

    def loss_fn(params):
        logits = nnx.merge(graphdef, params)(X)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), jnp.asarray(y)[:, None], 1))

    def step(carry, _):
        params, opt = carry
        grads = jax.grad(loss_fn)(params)
        updates, opt = tx.update(grads, opt, params)
        return (apply_updates(params, updates, labels), opt), None

    def train(params, opt):
        params, _ = jax.lax.scan(step, (params, opt), None, length=60)[0]
        return params, nnx.merge(graphdef, params)(X)

    params, logits = quick_jit(train)(params, tx.init(params))
    accuracy = float(np.mean(np.argmax(np.asarray(logits), -1) == y))
    assert accuracy > 0.85, accuracy
    assert_on_manifold(Stiefel(n, 4), params["bimap"]["weight"][...])
    assert_on_manifold(SPD(4, "ai"), params["mlr"]["normals"][...])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_logeig_with_a_floor_is_reeig_then_logeig(dtype):
    """``LogEig(floor=ε)`` (one eigh) computes SPDNet's ``LogEig(ReEig(ε)(·))`` (two eighs): value and gradient."""
    X = jnp.asarray(_spd(np.random.default_rng(3), (5,), 4, spread=2.0), dtype)  # eigenvalues on both sides of ε
    eps = 0.5
    fused, composed = LogEig(vectorize=True, floor=eps), LogEig(vectorize=True)
    reeig = ReEig(eps)
    w = jnp.arange(10, dtype=dtype)

    def loss_fused(x):
        return jnp.sum(fused(x) * w)

    def loss_composed(x):
        return jnp.sum(composed(reeig(x)) * w)

    tol = 1e-4 if dtype == jnp.float32 else 1e-11
    lam = np.linalg.eigvalsh(np.asarray(X, np.float64))
    assert (lam < eps).any() and (lam > eps).any()
    np.testing.assert_allclose(loss_fused(X), loss_composed(X), rtol=tol, atol=tol)
    np.testing.assert_allclose(jax.grad(loss_fused)(X), jax.grad(loss_composed)(X), rtol=tol, atol=tol)
