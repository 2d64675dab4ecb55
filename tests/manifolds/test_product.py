"""geomrep.manifolds.Product: contract, product metric, validation, and a radam step on a product parameter."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import Euclidean, Lorentz, Manifold, PoincareBall, Product, Sphere
from geomrep.optim import apply_updates, radam
from geomrep.testing import check_manifold_contract, default_point_atol, point_violation, quick_jit

DTYPES = [jnp.float32, jnp.float64]
M = Product((PoincareBall(1.0), Sphere(1.0), Euclidean()), (2, 2, 3))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_contract(dtype):
    check_manifold_contract(M, dim=7, dtype=dtype, key=jax.random.key(0), n=8)


@functools.partial(quick_jit, static_argnums=0)
def _metric_outputs(m, key):
    kx, ky, ku, kv = jax.random.split(key, 4)
    x = m.random(kx, (6, m.ambient_size), jnp.float64, std=0.4)
    y = m.random(ky, (6, m.ambient_size), jnp.float64, std=0.4)
    u = m.proju(x, jax.random.normal(ku, x.shape, jnp.float64))
    v = m.proju(x, jax.random.normal(kv, x.shape, jnp.float64))
    xs, ys, us, vs = (jnp.split(a, np.cumsum(m.sizes)[:-1], axis=-1) for a in (x, y, u, v))
    factor_d = [f.dist(a, b) for f, a, b in zip(m.factors, xs, ys, strict=True)]
    factor_inner = [f.inner(a, b, c) for f, a, b, c in zip(m.factors, xs, us, vs, strict=True)]
    return {
        "dist": m.dist(x, y),
        "dist_ref": jnp.sqrt(sum(d**2 for d in factor_d)),
        "dist_keepdims": m.dist(x, y, keepdims=True)[..., 0],
        "inner": m.inner(x, u, v),
        "inner_ref": sum(factor_inner),
        "norm_sq": m.norm(x, u) ** 2,
        "inner_uu": m.inner(x, u),
        "dist0": m.dist0(y),
        "dist_origin": m.dist(m.origin(y.shape, y.dtype), y),
        "grad_diag": jax.grad(lambda p: jnp.sum(m.dist(p, x)))(x),
    }


def test_dist_is_the_l2_product_of_factor_distances():
    out = {k: np.asarray(a) for k, a in _metric_outputs(M, jax.random.key(1)).items()}
    np.testing.assert_allclose(out["dist"], out["dist_ref"], rtol=1e-12)
    np.testing.assert_allclose(out["dist_keepdims"], out["dist"], rtol=1e-12)
    np.testing.assert_allclose(out["inner"], out["inner_ref"], rtol=1e-12)
    np.testing.assert_allclose(out["norm_sq"], out["inner_uu"], rtol=1e-12)
    np.testing.assert_allclose(out["dist0"], out["dist_origin"], rtol=1e-12)
    np.testing.assert_array_equal(out["grad_diag"], 0.0)


def test_radam_step_keeps_a_product_parameter_on_the_manifold():
    m = Product((Lorentz(1.0), Sphere(0.5), Euclidean()), (2, 2, 2))
    labels = {"emb": m}
    tx = radam(0.3, labels)

    @quick_jit
    def run(key):
        kx, kt = jax.random.split(key)
        p = {"emb": m.random(kx, (5, m.ambient_size), jnp.float32, std=0.5)}
        target = m.random(kt, (5, m.ambient_size), jnp.float32, std=0.5)

        def loss(p):
            return jnp.sum(m.dist(p["emb"], target) ** 2)

        def body(carry, _):
            p, state = carry
            updates, state = tx.update(jax.grad(loss)(p), state, p)
            p = apply_updates(p, updates, labels)
            return (p, state), loss(p)

        start = loss(p)
        (p, _), losses = jax.lax.scan(body, (p, tx.init(p)), None, length=5)
        return p, jnp.concatenate([start[None], losses]), point_violation(m, p["emb"])[0]

    params, losses, violation = run(jax.random.key(2))
    assert params["emb"].dtype == jnp.float32
    assert np.all(np.asarray(violation) <= default_point_atol(m, jnp.float32)), violation
    assert np.all(np.diff(np.asarray(losses)) < 0), losses


def test_value_semantics_and_ambient_dim():
    assert isinstance(M, Manifold) and M.name == "product"
    assert M.sizes == (2, 3, 3) and M.ambient_size == 8 and M.dim == 7 and M.ambient_dim(7) == 8
    same = Product([PoincareBall(1), Sphere(1), Euclidean()], [2, 2, 3])
    assert same == M and hash(same) == hash(M) and isinstance(same.factors, tuple)
    assert Product((Sphere(1.0),), (2,)) != Product((Sphere(0.5),), (2,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        M.dims = (1, 1, 1)
    with pytest.raises(ValueError, match="fixed by dims to 7"):
        M.ambient_dim(4)
    with pytest.raises(ValueError, match="last axis 8"):
        M.proj(jnp.zeros((2, 7)))
    # Nested products and use as a static jit argument.
    nested = Product((M, Lorentz(2.0)), (7, 1))
    assert nested.ambient_size == 10
    f = jax.jit(lambda mm, a: mm.dist0(a), static_argnums=0)
    assert float(f(M, M.origin((8,), jnp.float64))) == 0.0


@pytest.mark.parametrize(
    "factors, dims, error, match",
    [
        ((PoincareBall(1.0), "sphere"), (2, 2), TypeError, r"factors\[1\] must be a manifold value"),
        ((PoincareBall, Euclidean()), (2, 2), TypeError, r"factors\[0\] must be a manifold value"),
        ((PoincareBall(1.0), Euclidean()), (2,), ValueError, "2 factors but 1 dims"),
        ((PoincareBall(1.0),), (0,), ValueError, r"dims\[0\] must be ≥ 1"),
        ((PoincareBall(1.0),), (2.5,), TypeError, r"dims\[0\] must be an int"),
        ((PoincareBall(1.0),), (True,), TypeError, r"dims\[0\] must be an int"),
        ((), (), ValueError, "at least one factor"),
        (PoincareBall(1.0), (2,), TypeError, "factors must be a tuple"),
    ],
)
def test_validation(factors, dims, error, match):
    with pytest.raises(error, match=match):
        Product(factors, dims)
