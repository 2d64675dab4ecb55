"""geomrep.manifolds.sphere and the ``Sphere`` value: contract, antipodes, long steps, finite gradients."""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import Manifold, Sphere, sphere
from geomrep.testing import check_manifold_contract, quick_jit

DTYPES = [jnp.float32, jnp.float64]
CURVATURES = [1.0, 0.5]


def _tol(dtype):
    return 1e-5 if dtype == jnp.float32 else 1e-12


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("c", CURVATURES)
def test_contract(c, dtype):
    check_manifold_contract(Sphere(c), dim=4, dtype=dtype, key=jax.random.key(0), n=16)


def _points(key, n, dim, c, dtype):
    """Uniform points on the sphere of curvature c."""
    return sphere.proj(jax.random.normal(key, (n, dim + 1), dtype=dtype), c=c)


N = 16
LENGTHS = (3.0, 10.0, 1e3, 1e6)


@functools.partial(quick_jit, static_argnames="c")
def _compute(key, *, c):
    """Every quantity the sphere-specific tests check, in one compiled function per (c, dtype)."""
    dtype = key.dtype
    kx, kv = jax.random.split(jax.random.key(0))
    x = _points(kx, N, 3, c, dtype)
    v = sphere.proju(x, jax.random.normal(kv, x.shape, dtype), c=c)
    e = v / jnp.linalg.norm(v, axis=-1, keepdims=True)
    sqrt_c = math.sqrt(c)
    out = {}

    def tangent_residual(p, w):
        return jnp.abs(jnp.sum(p * w, -1)) * sqrt_c / jnp.linalg.norm(w, axis=-1)

    # Antipodes: exactly −x, and −x perturbed below float32/float64 resolution.
    out["d_antipode"] = sphere.dist(x, -x, c=c)
    out["grad_antipode"] = jax.grad(lambda p: jnp.sum(sphere.dist(p, -x, c=c)))(x)
    for name, y in (("exact", -x), ("near", sphere.proj(-x + 1e-9 * jnp.arange(4, dtype=dtype), c=c))):
        log = sphere.logmap(x, y, c=c)
        pv = sphere.transp(x, y, v, c=c)
        out[f"anti_{name}_log_len"] = jnp.linalg.norm(log, axis=-1) - sphere.dist(x, y, c=c)
        out[f"anti_{name}_log_tangent"] = tangent_residual(x, log)
        out[f"anti_{name}_exp_log"] = jnp.linalg.norm(sphere.expmap(x, log, c=c) + x, axis=-1)
        out[f"anti_{name}_transp_tangent"] = tangent_residual(y, pv)
        out[f"anti_{name}_transp_norm"] = jnp.linalg.norm(pv, axis=-1) - jnp.linalg.norm(v, axis=-1)

    # Finite (zero) gradients of dist on the diagonal; log_x(x) has the tangent projection as Jacobian.
    gx, gy = jax.grad(lambda p, q: jnp.sum(sphere.dist(p, q, c=c)), argnums=(0, 1))(x, x)
    out["grad_diag"] = jnp.concatenate([gx, gy])
    jac = jax.jacobian(lambda q: sphere.logmap(x[0], q, c=c))(x[0])
    out["jac_log_diag"] = jac - (jnp.eye(4, dtype=dtype) - c * jnp.outer(x[0], x[0]))

    # Long steps stay on the sphere; a full turn 2π/√c comes back to x.
    out["long_radius"] = jnp.stack(
        [jnp.linalg.norm(sphere.expmap(x, t * e, c=c), axis=-1) * sqrt_c - 1.0 for t in LENGTHS]
    )
    out["full_turn"] = sphere.expmap(x, (2 * math.pi / sqrt_c) * e, c=c) - x

    # exp/log inverse for angles up to 0.9π.
    theta = jnp.linspace(1e-4, 0.9 * math.pi, N, dtype=dtype)[:, None]
    u = e * theta / sqrt_c
    y = sphere.expmap(x, u, c=c)
    log = sphere.logmap(x, y, c=c)
    out["log_exp"] = log - u
    out["exp_log"] = sphere.expmap(x, log, c=c) - y
    out["dist_theta"] = sphere.dist(x, y, c=c) - theta[:, 0] / sqrt_c
    out["d_exact"] = sphere.dist(x, -x, c=c)
    return out


@functools.cache
def _values(c, dtype):
    out = _compute(jnp.zeros((), dtype), c=c)
    for name, value in out.items():
        assert value.dtype == dtype, name
        assert np.all(np.isfinite(np.asarray(value))), name
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


CASES = [(c, d) for c in CURVATURES for d in DTYPES]
CASE_IDS = [f"c={c}-{d.__name__}" for c, d in CASES]


@pytest.mark.parametrize("c, dtype", CASES, ids=CASE_IDS)
def test_antipodes(c, dtype):
    out = _values(c, dtype)
    tol = _tol(dtype)
    np.testing.assert_allclose(out["d_antipode"], math.pi / math.sqrt(c), rtol=10 * tol)
    for name in ("exact", "near"):
        # log is not unique there: a tangent vector of length d(x, y) = π/√c whose exp lands on −x.
        assert np.max(np.abs(out[f"anti_{name}_log_len"])) <= 10 * tol
        assert np.max(out[f"anti_{name}_log_tangent"]) <= 10 * tol
        assert np.max(out[f"anti_{name}_exp_log"]) <= 1e-3
        # transp follows that geodesic: an isometry into T_y (T_{−x} up to the √eps offset of the "near" y).
        assert np.max(out[f"anti_{name}_transp_tangent"]) <= 10 * float(jnp.finfo(dtype).eps) ** 0.5
        assert np.max(np.abs(out[f"anti_{name}_transp_norm"])) <= 10 * tol


@pytest.mark.parametrize("c, dtype", CASES, ids=CASE_IDS)
def test_dist_gradient_finite_and_zero_on_the_diagonal(c, dtype):
    out = _values(c, dtype)
    np.testing.assert_array_equal(out["grad_diag"], 0.0)
    np.testing.assert_allclose(out["jac_log_diag"], 0.0, atol=10 * _tol(dtype))


@pytest.mark.parametrize("c, dtype", CASES, ids=CASE_IDS)
def test_expmap_long_steps_stay_on_the_sphere(c, dtype):
    out = _values(c, dtype)
    np.testing.assert_allclose(out["long_radius"], 0.0, atol=10 * _tol(dtype))
    np.testing.assert_allclose(out["full_turn"], 0.0, atol=1e-5 if dtype == jnp.float32 else 1e-12)


@pytest.mark.parametrize("c, dtype", CASES, ids=CASE_IDS)
def test_exp_log_inverse_away_from_antipodes(c, dtype):
    out = _values(c, dtype)
    atol = 1e-4 if dtype == jnp.float32 else 1e-10
    for name in ("log_exp", "exp_log", "dist_theta"):
        np.testing.assert_allclose(out[name], 0.0, atol=atol, err_msg=name)


@functools.partial(quick_jit, static_argnums=0)
def _value_class_outputs(m, x, y, v):
    u = m.logmap(x, y)
    o = m.origin(x.shape, x.dtype)
    closed = v - m.c * jnp.sum(y * v, -1, keepdims=True) / (1 + m.c * jnp.sum(x * y, -1, keepdims=True)) * (
        x + y
    )
    return {
        "transp_vs_closed_form": m.transp(x, y, v) - closed,
        "dist_vs_module": m.dist(x, y) - sphere.dist(x, y, c=m.c),
        "exp_log": m.expmap(x, u) - y,
        "exp0_log0": m.expmap0(m.logmap0(y)) - y,
        "dist0": m.dist0(y) - m.dist(o, y),
        "radius": jnp.linalg.norm(m.random(jax.random.key(0), x.shape, x.dtype, std=0.3), axis=-1) * m.c**0.5
        - 1,
        "proj_zero": m.proj(jnp.zeros_like(x)) - o,
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_value_class_delegates_transp_closed_form_and_jit(dtype):
    m = Sphere(4.0)
    kx, ky, kv = jax.random.split(jax.random.key(8), 3)
    x = _points(kx, 8, 3, m.c, dtype)
    y = _points(ky, 8, 3, m.c, dtype)
    v = m.proju(x, jax.random.normal(kv, x.shape, dtype))
    out = _value_class_outputs(m, x, y, v)
    atol = 1e-4 if dtype == jnp.float32 else 1e-10
    for name, value in out.items():
        assert value.dtype == dtype, name
        np.testing.assert_allclose(np.asarray(value), 0.0, atol=atol, err_msg=name)
    np.testing.assert_allclose(np.asarray(m.origin((2, 3), dtype)), [[0.5, 0, 0], [0.5, 0, 0]])


def test_sphere_value():
    s = Sphere(2)
    assert isinstance(s, Manifold) and s.name == "sphere" and s.c == 2.0 and type(s.c) is float
    assert repr(s) == "Sphere(c=2.0)" and s.ambient_dim(3) == 4
    assert hash(Sphere(1)) == hash(Sphere(1.0)) and Sphere(1) == Sphere(1.0) and Sphere(1.0) != Sphere(0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.c = 3.0
    for bad in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"Sphere: .*c must be > 0.*curvature is \+c"):
            Sphere(bad)
    with pytest.raises(TypeError, match="python float"):
        Sphere(True)
    with pytest.raises(NotImplementedError, match="no isometric Poincaré-ball model"):
        s.to_poincare(jnp.array([1.0, 0.0]))
