"""geomrep.manifolds.euclidean: the flat baseline (distance NOT squared, finite gradients at x = y)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import euclidean as E
from geomrep.testing import quick_jit

DTYPES = [jnp.float32, jnp.float64]


@quick_jit
def _values(x, y, u):
    zero = jnp.zeros_like(x)
    return {
        "dist": E.dist(x, y),
        "dist_keep": E.dist(x, y, keepdims=True),
        "dist0": E.dist0(x),
        "grad_dist_diag": jax.grad(lambda p: jnp.sum(E.dist(p, x)))(x),
        "grad_dist0_origin": jax.grad(lambda p: jnp.sum(E.dist0(p)))(zero),
        "grad_norm_zero": jax.grad(lambda w: jnp.sum(E.norm(x, w)))(zero),
        "grad_dist": jax.grad(lambda p: jnp.sum(E.dist(p, y)))(x),
        "inner": E.inner(x, u),
        "inner_uv": E.inner(x, u, y),
        "norm": E.norm(x, u),
        "expmap": E.expmap(x, u),
        "logmap": E.logmap(x, y),
        "retr": E.retr(x, u),
        "transp": E.transp(x, y, u),
        "proj": E.proj(x),
        "proju": E.proju(x, u),
        "egrad2rgrad": E.egrad2rgrad(x, u),
        "expmap0": E.expmap0(u),
        "logmap0": E.logmap0(y),
        "random": E.random(jax.random.key(0), x.shape, x.dtype, std=2.0),
        "origin": E.origin(x.shape, x.dtype),
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_euclidean_values_and_gradients(dtype):
    rng = np.random.default_rng(0)
    x, y, u = (jnp.asarray(rng.standard_normal((6, 4)), dtype) for _ in range(3))
    out = jax.tree_util.tree_map(np.asarray, _values(x, y, u))
    x, y, u = np.asarray(x), np.asarray(y), np.asarray(u)
    for name, value in out.items():
        assert value.dtype == dtype, name
        assert np.all(np.isfinite(value)), name
    tol = 1e-6 if dtype == jnp.float32 else 1e-14
    # The distance, not its square (the reference Poincaré-embedding code's Euclidean bug).
    np.testing.assert_allclose(out["dist"], np.linalg.norm(x - y, axis=-1), rtol=tol)
    assert out["dist_keep"].shape == (6, 1)
    np.testing.assert_allclose(out["dist0"], np.linalg.norm(x, axis=-1), rtol=tol)
    assert np.all(out["grad_dist_diag"] == 0) and np.all(out["grad_dist0_origin"] == 0)
    assert np.all(out["grad_norm_zero"] == 0)
    np.testing.assert_allclose(
        out["grad_dist"], (x - y) / np.linalg.norm(x - y, axis=-1, keepdims=True), rtol=10 * tol
    )
    np.testing.assert_allclose(out["inner"], np.sum(u * u, -1), rtol=tol)
    np.testing.assert_allclose(out["inner_uv"], np.sum(u * y, -1), rtol=tol, atol=tol)
    np.testing.assert_allclose(out["norm"], np.linalg.norm(u, axis=-1), rtol=tol)
    np.testing.assert_allclose(out["expmap"], x + u, rtol=tol)
    np.testing.assert_allclose(out["retr"], x + u, rtol=tol)
    np.testing.assert_allclose(out["logmap"], y - x, rtol=tol)
    for name in ("transp", "proju", "egrad2rgrad", "expmap0"):
        np.testing.assert_array_equal(out[name], u)
    np.testing.assert_array_equal(out["proj"], x)
    np.testing.assert_array_equal(out["logmap0"], y)
    assert out["random"].shape == (6, 4) and np.std(out["random"]) > 1.0
    assert np.all(out["origin"] == 0)


def test_eager_float32_stays_float32():
    x = jnp.ones((2, 3), jnp.float32)
    assert E.dist(x, 2 * x).dtype == jnp.float32
    np.testing.assert_allclose(E.dist(x, 2 * x), np.sqrt(3.0), rtol=1e-6)
