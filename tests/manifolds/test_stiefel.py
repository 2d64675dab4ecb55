"""geomrep.manifolds.stiefel and the Stiefel value (BiMap weights): projections, geodesics, the Riemannian gradient
against finite differences along retractions, missing log/dist reported clearly, Riemannian optimisation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep import optim
from geomrep.manifolds import Stiefel, stiefel
from geomrep.testing import assert_on_manifold, assert_tangent, quick_jit

DTYPES = [jnp.float32, jnp.float64]


@functools.partial(quick_jit, static_argnames=("shape", "dtype"))
def _random(key, *, shape, dtype):
    return stiefel.random(key, shape, dtype)


TOL = {jnp.float32: 2e-5, jnp.float64: 1e-13}


@quick_jit
def _pieces(W, Z, G, t, h):
    D = stiefel.proju(W, Z)
    E = stiefel.proju(W, G)
    # one batched expmap: γ(1), γ(½), γ(t), γ(½ ± h) of the geodesic γ(s) = exp_W(s D)
    scales = jnp.stack([1.0, 0.5, t, 0.5 + h, 0.5 - h]).astype(W.dtype)
    geo = stiefel.expmap(W[None], scales[:, None, None, None] * D[None])
    Y, half, small = geo[0], geo[1], geo[2]
    vel = (geo[3] - geo[4]) / (2 * h)  # γ'(½), central difference
    return {
        "P": stiefel.proj(Z),
        "PP": stiefel.proj(stiefel.proj(Z)),
        "PW": stiefel.proj(W),
        "D": D,
        "DD": stiefel.proju(W, D),
        "Y": Y,
        "Y_two_halves": stiefel.expmap(half, 0.5 * vel),
        "Y_small": small,
        "retr": stiefel.retr(W, D),
        "transp": stiefel.transp(W, Y, E),
        "rgrad_inner": stiefel.inner(W, stiefel.egrad2rgrad(W, G), D),
        "egrad_inner": jnp.sum(G * D, axis=(-2, -1)),
        "norm_sq": stiefel.norm(W, D) ** 2,
        "inner_dd": stiefel.inner(W, D, keepdims=True),
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_projections_geodesics_and_gradients(dtype):
    m = Stiefel(6, 3)
    kw, kz, kg = jax.random.split(jax.random.key(0), 3)
    W = _random(kw, shape=(4, 6, 3), dtype=dtype)
    Z = jax.random.normal(kz, (4, 6, 3), dtype)
    G = jax.random.normal(kg, (4, 6, 3), dtype)
    h = 1e-4 if dtype == jnp.float64 else 1e-2
    out = _pieces(W, Z, G, jnp.asarray(1e-3, dtype), jnp.asarray(h, dtype))
    tol = TOL[dtype]
    for name in ("P", "Y", "retr"):
        assert out[name].dtype == dtype
        assert_on_manifold(m, out[name])
        gram = jnp.swapaxes(out[name], -1, -2) @ out[name]
        np.testing.assert_allclose(gram, np.broadcast_to(np.eye(3), gram.shape), atol=10 * tol, err_msg=name)
    np.testing.assert_allclose(out["PP"], out["P"], atol=10 * tol)
    np.testing.assert_allclose(out["PW"], W, atol=10 * tol)
    assert_tangent(m, W, out["D"])
    assert_tangent(m, out["Y"], out["transp"])
    np.testing.assert_allclose(out["DD"], out["D"], atol=10 * tol)
    # the geodesic: exp_W(D) = exp_{γ(½)}(½ γ'(½)) (γ' by central difference: error ≈ h²), exp_W(tD) = W + tD + O(t²)
    np.testing.assert_allclose(out["Y_two_halves"], out["Y"], atol=1e-7 if dtype == jnp.float64 else 2e-3)
    np.testing.assert_allclose((out["Y_small"] - W) / 1e-3, out["D"], atol=2e-2)
    # ⟨rgrad f, D⟩ = df(W)[D] for tangent D (embedded metric), norm² = inner, keepdims shape
    np.testing.assert_allclose(out["rgrad_inner"], out["egrad_inner"], rtol=100 * tol)
    np.testing.assert_allclose(out["norm_sq"], out["inner_dd"][..., 0, 0], rtol=100 * tol)
    assert out["inner_dd"].shape == (4, 1, 1)


def test_riemannian_gradient_matches_finite_differences_along_the_retraction():
    m = Stiefel(5, 2)
    W = _random(jax.random.key(1), shape=(5, 2), dtype=jnp.float64)
    A = jax.random.normal(jax.random.key(2), (5, 5), jnp.float64)
    D = stiefel.proju(W, jax.random.normal(jax.random.key(3), (5, 2), jnp.float64))

    def f(x):
        return jnp.sum((x.T @ A @ x) ** 2)

    @quick_jit
    def both(W, D, h=1e-5):
        rgrad = m.egrad2rgrad(W, jax.grad(f)(W))
        fd = (f(m.retr(W, h * D)) - f(m.retr(W, -h * D))) / (2 * h)
        return m.inner(W, rgrad, D), fd

    got, fd = both(W, D)
    np.testing.assert_allclose(got, fd, rtol=1e-8)


def test_proj_gradient_is_finite_at_orthonormal_input():
    # X (XᵀX)^{-1/2} at an orthonormal X: XᵀX = I has one repeated eigenvalue.
    W = jnp.eye(4)[:, :2]
    grad = quick_jit(jax.grad(lambda x: jnp.sum(stiefel.proj(x) ** 3)))
    for dtype in DTYPES:
        g = grad(W.astype(dtype))
        assert g.dtype == dtype and bool(jnp.all(jnp.isfinite(g)))


def test_missing_maps_and_bad_shapes_are_reported():
    W = stiefel.origin((4, 2), jnp.float64)
    with pytest.raises(NotImplementedError, match="no closed form"):
        Stiefel(4, 2).logmap(W, W)
    with pytest.raises(NotImplementedError, match="grassmann.dist"):
        Stiefel(4, 2).dist(W, W)
    with pytest.raises(ValueError, match="p must be ≤ n"):
        Stiefel(2, 3)
    with pytest.raises(ValueError, match=r"shape must end with \(n, p\)"):
        stiefel.random(jax.random.key(0), (2, 3))
    with pytest.raises(ValueError, match="does not have orthonormal columns"):
        stiefel.check_orthonormal(2.0 * W, name="W")
    assert Stiefel(4, 2).dim == 5 and Stiefel(4, 2) == Stiefel(4, 2) and Stiefel(4, 2).point_shape() == (4, 2)


@pytest.mark.parametrize("optimizer", ["rsgd", pytest.param("radam", marks=pytest.mark.slow)])
def test_riemannian_optimizers_maximise_a_trace_on_stiefel(optimizer):
    # BiMap-style parameter: maximise tr(Wᵀ A W N) with N = diag(2, 1) (Brockett): W → A's top-2 eigenvectors,
    # in order, up to signs; the optimum value is 2λ₁ + λ₂.
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    A = jnp.asarray(Q @ np.diag([5.0, 3.0, 1.0, 0.5, 0.2, 0.1]) @ Q.T)
    N = jnp.diag(jnp.array([2.0, 1.0]))
    m = Stiefel(6, 2)
    params = {"w": _random(jax.random.key(4), shape=(6, 2), dtype=jnp.float64)}

    def loss(p):
        return -jnp.trace(p["w"].T @ A @ p["w"] @ N)

    labels = {"w": m}
    tx = optim.rsgd(0.05, labels, momentum=0.5) if optimizer == "rsgd" else optim.radam(0.05, labels)

    @quick_jit
    def run(p):
        def step(_, carry):
            p, s = carry
            updates, s = tx.update(jax.grad(loss)(p), s, p)
            return optim.apply_updates(p, updates, labels), s

        return jax.lax.fori_loop(0, 400, step, (p, tx.init(p)))[0]

    p = run(params)
    stiefel.check_orthonormal(p["w"])
    assert float(-loss(p)) == pytest.approx(2 * 5.0 + 3.0, abs=1e-6)
