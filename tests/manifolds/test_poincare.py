"""geomrep.manifolds.poincare: formulas, gyrogroup laws (hypothesis), gradients, boundary behaviour.

To keep the suite fast, each group of checks evaluates one jitted function (``quick_jit``), with the curvature
passed as a traced argument so that c = 1 and c = 0.5 share a compile.
"""

import math

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.manifolds import PoincareBall, numerics
from geomrep.manifolds import poincare as P
from geomrep.testing import assert_on_manifold, quick_jit

DTYPES = [jnp.float32, jnp.float64]
# Tolerance on identities between values of order 1 (points about 1–3 units from the origin).
TOL = {jnp.float32: 2e-5, jnp.float64: 1e-12}
CURVATURES = [1.0, 0.5]
DIM = 3


_expmap0_jit = quick_jit(lambda u, c: P.expmap0(u, c=c))


def _points(seed, dtype, c, std=0.5, n=8):
    """n points exp_0(std·g), g ~ N(0, I) drawn by numpy (one compile per dtype for all tests)."""
    u = std * np.random.default_rng(seed).standard_normal((n, DIM))
    return _expmap0_jit(jnp.asarray(u, dtype), jnp.asarray(c, dtype))


def _normal(seed, shape, dtype, scale=1.0):
    return jnp.asarray(scale * np.random.default_rng(seed).standard_normal(shape), dtype)


# ---------------------------------------------------------------------------------------------------------------
# Reference formulas (written independently of the implementation, for comparison).


def _mobius_add_ref(x, y, c):
    x2 = jnp.sum(x * x, -1, keepdims=True)
    y2 = jnp.sum(y * y, -1, keepdims=True)
    xy = jnp.sum(x * y, -1, keepdims=True)
    return ((1 + 2 * c * xy + c * y2) * x + (1 - c * x2) * y) / (1 + 2 * c * xy + c**2 * x2 * y2)


def _dist_mobius_ref(x, y, c):
    w = _mobius_add_ref(-x, y, c)
    return 2 / jnp.sqrt(c) * jnp.arctanh(jnp.sqrt(c) * jnp.linalg.norm(w, axis=-1))


def _dist_arcosh_ref(x, y, c):
    num = 2 * c * jnp.sum((x - y) ** 2, -1)
    den = (1 - c * jnp.sum(x * x, -1)) * (1 - c * jnp.sum(y * y, -1))
    return jnp.arccosh(1 + num / den) / jnp.sqrt(c)


# ---------------------------------------------------------------------------------------------------------------
# One jitted evaluation of everything the value tests compare.


def _values(x, y, u, m, r, c):
    o = jnp.zeros_like(x)
    out = {
        "dist": P.dist(x, y, c=c),
        "dist_mobius": _dist_mobius_ref(x, y, c),
        "dist_arcosh": _dist_arcosh_ref(x, y, c),
        "dist_keep": P.dist(x, y, c=c, keepdims=True),
        "dist_pairwise": P.dist(x[:, None, :], y[None, :, :], c=c),
        "dist_vmap": jax.vmap(lambda a, b: P.dist(a, b, c=c))(x, y),
        "dist0": P.dist0(x, c=c),
        "dist_o": P.dist(o, x, c=c),
        "mobius_add": P.mobius_add(x, y, c=c),
        "mobius_add_ref": _mobius_add_ref(x, y, c),
        "mobius_sub": P.mobius_sub(x, y, c=c),
        "mobius_sub_ref": _mobius_add_ref(x, -y, c),
        "add_xx": P.mobius_add(x, x, c=c),
        "scalar_2": P.mobius_scalar_mul(2.0, x, c=c),
        "scalar_1": P.mobius_scalar_mul(1.0, x, c=c),
        "scalar_batch": P.mobius_scalar_mul(r, x, c=c),
        "scalar_batch_ref": jax.vmap(lambda ri, xi: P.mobius_scalar_mul(ri, xi, c=c))(r, x),
        "scalar_zero": P.mobius_scalar_mul(r, o, c=c),
        "matvec_id": P.mobius_matvec(jnp.eye(DIM, dtype=x.dtype), x, c=c),
        "matvec_scaled": P.mobius_matvec(1.7 * jnp.eye(DIM, dtype=x.dtype), x, c=c),
        "scalar_17": P.mobius_scalar_mul(1.7, x, c=c),
        "matvec_zero": P.mobius_matvec(jnp.zeros((DIM, DIM), x.dtype), x, c=c),
        "matvec_rect": P.mobius_matvec(m, x, c=c),
        "matvec_rect_ref": jax.vmap(lambda xi: P.mobius_matvec(m, xi, c=c))(x),
        "matvec_assoc_lhs": P.mobius_matvec(m.T, P.mobius_matvec(m, x, c=c), c=c),
        "matvec_assoc_rhs": P.mobius_matvec(m.T @ m, x, c=c),
        "expmap0": P.expmap0(u, c=c),
        "expmap_o": P.expmap(o, u, c=c),
        "logmap0": P.logmap0(x, c=c),
        "logmap_o": P.logmap(o, x, c=c),
        "log": P.logmap(x, y, c=c),
        "log_yx": P.logmap(y, x, c=c),
        "transp_log": P.transp(x, y, P.logmap(x, y, c=c), c=c),
        "transp_from_o": P.transp(o, y, u, c=c),
        "lambda_y": P.lambda_x(y, c=c),
        "lambda_keep": P.lambda_x(y, c=c, keepdims=True),
        "inner_uu": P.inner(x, u, c=c),
        "inner_uu_explicit": P.inner(x, u, u, c=c),
        "inner_keep": P.inner(x, u, c=c, keepdims=True),
        "norm_u": P.norm(x, u, c=c),
        "rgrad": P.egrad2rgrad(x, u, c=c),
        "lambda_x": P.lambda_x(x, c=c),
        "retr": P.retr(x, u, c=c),
        "proju": P.proju(x, u, c=c),
        "proj_inside": P.proj(x, c=c),
        "proj_outside": P.proj(10.0 * u, c=c),
        "dist0_outside": P.dist0(P.proj(10.0 * u, c=c), c=c),
        "dist_antipodal": P.dist(P.proj(10.0 * u, c=c), P.proj(-10.0 * u, c=c), c=c),
    }
    return out


_values_jit = quick_jit(_values)


@pytest.fixture(scope="module", params=[(d, c) for d in DTYPES for c in CURVATURES], ids=str)
def vals(request):
    dtype, c = request.param
    x = _points(1, dtype, c)
    y = _points(2, dtype, c)
    u = _normal(3, (8, DIM), dtype, 0.7)
    m = _normal(4, (DIM + 1, DIM), dtype, 0.5)
    r = jnp.asarray(np.random.default_rng(5).uniform(-2.0, 2.0, 8), dtype)
    out = _values_jit(x, y, u, m, r, jnp.asarray(c, dtype))
    out = jax.tree_util.tree_map(np.asarray, out)
    inputs = jax.tree_util.tree_map(np.asarray, dict(x=x, y=y, u=u, m=m, r=r))
    return dtype, c, inputs, out


def _close(a, b, dtype, scale=1.0):
    np.testing.assert_allclose(
        np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=scale * TOL[dtype], atol=scale * TOL[dtype]
    )


def test_dtypes_and_finiteness(vals):
    dtype, _, _, out = vals
    for name, value in out.items():
        assert value.dtype == dtype, name
        assert np.all(np.isfinite(value)), name


def test_dist_forms_agree(vals):
    dtype, c, inp, out = vals
    _close(out["dist"], out["dist_mobius"], dtype, scale=10)
    _close(out["dist"], out["dist_arcosh"], dtype, scale=10)
    _close(out["dist"], out["dist_vmap"], dtype)
    assert out["dist_keep"].shape == (8, 1)
    assert out["dist_pairwise"].shape == (8, 8)
    _close(np.diag(out["dist_pairwise"]), out["dist"], dtype)
    _close(out["dist0"], out["dist_o"], dtype)
    np.testing.assert_allclose(
        out["dist0"],
        2 / math.sqrt(c) * np.arctanh(math.sqrt(c) * np.linalg.norm(inp["x"], axis=-1)),
        rtol=10 * TOL[dtype],
    )


def test_mobius_ops(vals):
    dtype, c, inp, out = vals
    _close(out["mobius_add"], out["mobius_add_ref"], dtype)
    _close(out["mobius_sub"], out["mobius_sub_ref"], dtype)
    _close(out["scalar_2"], out["add_xx"], dtype)  # 2 ⊗ x = x ⊕ x
    _close(out["scalar_1"], inp["x"], dtype)
    _close(out["scalar_batch"], out["scalar_batch_ref"], dtype)
    assert np.all(out["scalar_zero"] == 0.0)
    _close(out["matvec_id"], inp["x"], dtype)
    _close(out["matvec_scaled"], out["scalar_17"], dtype)  # (rI) ⊗ x = r ⊗ x
    assert np.all(out["matvec_zero"] == 0.0)
    assert out["matvec_rect"].shape == (8, DIM + 1)
    _close(out["matvec_rect"], out["matvec_rect_ref"], dtype)
    _close(out["matvec_assoc_lhs"], out["matvec_assoc_rhs"], dtype, scale=10)  # M ⊗ (M' ⊗ x) = (MM') ⊗ x


def test_maps_at_origin_and_transport(vals):
    dtype, c, inp, out = vals
    _close(out["expmap0"], out["expmap_o"], dtype)
    _close(out["logmap0"], out["logmap_o"], dtype)
    # Transporting the initial velocity of the geodesic x → y gives minus the one of y → x.
    _close(out["transp_log"], -out["log_yx"], dtype, scale=10)
    # From the origin, transport is the conformal rescaling λ_0/λ_y = 1 − c‖y‖².
    _close(out["transp_from_o"], inp["u"] * (2.0 / out["lambda_y"])[:, None], dtype)


def test_metric_pieces(vals):
    dtype, c, inp, out = vals
    lam = 2 / (1 - c * np.sum(inp["x"] ** 2, -1))
    _close(out["lambda_x"], lam, dtype)
    assert out["lambda_keep"].shape == (8, 1)
    _close(out["inner_uu"], out["inner_uu_explicit"], dtype)
    _close(out["inner_uu"], lam**2 * np.sum(inp["u"] ** 2, -1), dtype)
    assert out["inner_keep"].shape == (8, 1)
    _close(out["norm_u"] ** 2, out["inner_uu"], dtype)
    _close(out["rgrad"], inp["u"] / lam[:, None] ** 2, dtype)
    np.testing.assert_array_equal(out["proju"], inp["u"])


def test_proj(vals):
    dtype, c, inp, out = vals
    np.testing.assert_array_equal(out["proj_inside"], inp["x"])
    max_norm = (1 - numerics.ball_eps(dtype)) / math.sqrt(c)
    np.testing.assert_allclose(np.linalg.norm(out["proj_outside"], axis=-1), max_norm, rtol=4 * TOL[dtype])
    ball = PoincareBall(c)
    assert_on_manifold(ball, out["proj_outside"])
    assert_on_manifold(ball, out["retr"])


def test_projection_caps_distance_from_origin(vals):
    dtype, c, _, out = vals
    eps = numerics.ball_eps(dtype)
    cap = math.log((2 - eps) / eps) / math.sqrt(c)  # 6.2 (float32), 12.2 (float64) for c = 1
    np.testing.assert_allclose(out["dist0_outside"], cap, rtol=1e-4)
    np.testing.assert_allclose(out["dist_antipodal"], 2 * cap, rtol=1e-4)


@quick_jit
def _gyration_errors(a, b, w, c):
    ref = _mobius_add_ref(-_mobius_add_ref(a, b, c), _mobius_add_ref(a, _mobius_add_ref(b, w, c), c), c)
    gyr = P.gyration(a, b, w, c=c)
    return gyr - ref, jnp.linalg.norm(gyr, axis=-1) - jnp.linalg.norm(w, axis=-1)


def test_gyration_matches_its_definition():
    # Moderate points: the composed definition is ill-conditioned near the boundary (the closed form is not).
    for c in (1.0, 2.0):
        a = _points(6, jnp.float64, c, std=0.4)
        b = _points(7, jnp.float64, c, std=0.4)
        w = _normal(8, (8, DIM), jnp.float64)
        definition_err, isometry_err = _gyration_errors(a, b, w, jnp.asarray(c))
        np.testing.assert_allclose(definition_err, 0.0, atol=1e-12)
        np.testing.assert_allclose(isometry_err, 0.0, atol=1e-12)  # a gyration is a Euclidean isometry


@quick_jit
def _nearby(x, delta):
    return P.dist(x, x + delta), P.lambda_x(x) * jnp.linalg.norm(delta)


def test_nearby_points_are_accurate():
    """The asinh form resolves tiny distances (arcosh(1 + γ) with γ < eps would need 1 + γ to be exact)."""
    ours, expected = _nearby(jnp.array([0.3, -0.2, 0.1]), jnp.array([1e-10, 2e-10, -1e-10]))
    assert float(ours) == pytest.approx(float(expected), rel=1e-9)  # d = λ_x‖δ‖ (1 + O(‖δ‖))


# ---------------------------------------------------------------------------------------------------------------
# Gyrogroup laws and inverses (hypothesis, float64). One compiled function evaluates every law.


def _laws(a, b, x, r, s, c):
    add = lambda p, q: P.mobius_add(p, q, c=c)  # noqa: E731
    mul = lambda t, p: P.mobius_scalar_mul(t, p, c=c)  # noqa: E731
    o = jnp.zeros_like(a)
    u = P.logmap(a, b, c=c)
    v = x / P.lambda_x(a, c=c, keepdims=True)  # a tangent vector at a of Riemannian length ‖x‖ ≤ 1/√c
    return {
        "left_cancellation": add(-a, add(a, b)) - b,
        "gyro_commutativity": add(a, b) - P.gyration(a, b, add(b, a), c=c),
        "left_identity": add(o, x) - x,
        "right_identity": add(x, o) - x,
        "inverse": add(-x, x),
        "distributivity": mul(r + s, x) - add(mul(r, x), mul(s, x)),
        "scalar_associativity": mul(r * s, x) - mul(r, mul(s, x)),
        "exp_log": P.expmap(a, u, c=c) - b,
        "log_exp": P.logmap(a, P.expmap(a, v, c=c), c=c) - v,
        "exp0_log0": P.expmap0(P.logmap0(b, c=c), c=c) - b,
        "dist_symmetry": P.dist(a, b, c=c) - P.dist(b, a, c=c),
        "dist_is_log_norm": P.dist(a, b, c=c) - P.norm(a, u, c=c),
        "dist_is_gyro_norm": P.dist(a, b, c=c) - _dist_mobius_ref(a, b, c),
        "dist_invariant_under_left_translation": P.dist(add(x, a), add(x, b), c=c) - P.dist(a, b, c=c),
    }


_laws_jit = quick_jit(_laws)

_vec = hnp.arrays(np.float64, (DIM,), elements=st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False))
# |r + s| ≤ 2 keeps every Möbius multiple within 2·2√3 ≈ 6.9 of the origin, inside the float64 projection
# radius (ln((2 − eps)/eps)/√c = 8.6 for c = 2), so no law is broken by proj.
_scalar = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None)
@given(_vec, _vec, _vec, _scalar, _scalar, st.sampled_from([0.5, 1.0, 2.0]))
def test_gyrogroup_laws_and_inverses(ta, tb, tx, r, s, c):
    c64 = jnp.asarray(c, jnp.float64)
    # Points exp_0 of tangent vectors with components in [−1, 1]: up to 2√3 ≈ 3.5 from the origin.
    a, b, x = (_expmap0_jit(jnp.asarray(t), c64) for t in (ta, tb, tx))
    errors = _laws_jit(a, b, x, jnp.asarray(r), jnp.asarray(s), c64)
    for name, err in errors.items():
        assert float(jnp.max(jnp.abs(err))) < 1e-9, (name, float(jnp.max(jnp.abs(err))))


# ---------------------------------------------------------------------------------------------------------------
# Gradients: against finite differences (float64) and finite at the singular points (float32 and float64).


def _directional_check(fn, args, directions, h):
    """jvp, vjp and a central difference of ``fn`` along each direction (a tuple matching ``args``)."""

    def one(dirs):
        _, jv = jax.jvp(fn, args, dirs)
        plus = fn(*[a + h * d for a, d in zip(args, dirs, strict=True)])
        minus = fn(*[a - h * d for a, d in zip(args, dirs, strict=True)])
        out, vjp = jax.vjp(fn, *args)
        cot = jnp.ones_like(out)
        vj = vjp(cot)
        vj_dot = sum(jnp.sum(g * d) for g, d in zip(vj, dirs, strict=True))
        return jv, (plus - minus) / (2 * h), jnp.sum(jv * cot), vj_dot

    return jax.vmap(one)(directions)


def _fd_cases(x, y, u, dirs_x, dirs_y, c):
    h = 1e-6
    return {
        "dist": _directional_check(lambda p, q: P.dist(p, q, c=c), (x, y), (dirs_x, dirs_y), h),
        "expmap": _directional_check(lambda p, w: P.expmap(p, w, c=c), (x, u), (dirs_x, dirs_y), h),
        "mobius_add": _directional_check(lambda p, q: P.mobius_add(p, q, c=c), (x, y), (dirs_x, dirs_y), h),
        "logmap": _directional_check(lambda p, q: P.logmap(p, q, c=c), (x, y), (dirs_x, dirs_y), h),
        "transp": _directional_check(lambda p, q: P.transp(p, q, u, c=c), (x, y), (dirs_x, dirs_y), h),
    }


_fd_cases_jit = quick_jit(_fd_cases)


@pytest.mark.parametrize("c", CURVATURES)
def test_gradients_match_finite_differences(c):
    x = _points(9, jnp.float64, c)
    y = _points(10, jnp.float64, c)
    u = _normal(11, (8, DIM), jnp.float64, 0.5)
    dirs_x = _normal(12, (3, 8, DIM), jnp.float64)
    dirs_y = _normal(13, (3, 8, DIM), jnp.float64)
    results = _fd_cases_jit(x, y, u, dirs_x, dirs_y, jnp.asarray(c))
    for name, (jv, fd, jv_dot, vj_dot) in results.items():
        np.testing.assert_allclose(jv, fd, rtol=1e-6, atol=1e-7, err_msg=f"{name}: jvp vs finite difference")
        np.testing.assert_allclose(jv_dot, vj_dot, rtol=1e-10, atol=1e-12, err_msg=f"{name}: jvp vs vjp")


def _singular_gradients(x, y, u, big, m, c):
    """Gradients (of weighted sums) at the origin, at x == y and at the boundary ‖x‖ = (1 − eps)/√c.

    The special points are stacked along the batch axis so each function is differentiated once.
    """
    o = jnp.zeros_like(x)
    xb = P.proj(big, c=c)  # exactly on the projection boundary
    w = jnp.linspace(0.5, 1.5, x.shape[-1], dtype=x.dtype)
    cat = lambda *a: jnp.concatenate(a, axis=0)  # noqa: E731
    # Pairs: (origin, y), (x, x), (origin, origin), (boundary, y), (boundary, boundary), (y, boundary).
    p2, q2 = cat(o, x, o, xb, xb, y), cat(y, x, o, y, xb, xb)
    # Single points: origin, boundary, interior; and the tangent vectors u and 0 at each.
    p1 = cat(o, xb, x)
    u1 = cat(u, u, u)
    z1 = jnp.zeros_like(p1)

    def g(fn, *args):
        def weighted(*a):
            out = fn(*a)
            return jnp.sum(out * w) if out.shape[-1:] == w.shape else jnp.sum(out)

        return jax.grad(weighted, argnums=tuple(range(len(args))))(*args)

    return {
        "dist": g(lambda a, b: P.dist(a, b, c=c), p2, q2),
        "logmap": g(lambda a, b: P.logmap(a, b, c=c), p2, q2),
        "mobius_add": g(lambda a, b: P.mobius_add(a, b, c=c), p2, q2),
        "transp": g(lambda a, b: P.transp(a, b, jnp.ones_like(a), c=c), p2, q2),
        "dist0": g(lambda a: P.dist0(a, c=c), p1),
        "logmap0": g(lambda a: P.logmap0(a, c=c), p1),
        "expmap0": g(lambda a: P.expmap0(a, c=c), cat(p1, 10 * big)),  # tangent vectors 0, small, huge
        "lambda_x": g(lambda a: P.lambda_x(a, c=c), p1),
        "norm": g(lambda a, v: P.norm(a, v, c=c), cat(p1, p1), cat(u1, z1)),
        "expmap": g(lambda a, v: P.expmap(a, v, c=c), cat(p1, p1), cat(u1, z1)),
        "scalar_mul": g(lambda t, a: P.mobius_scalar_mul(t, a, c=c), jnp.ones(p1.shape[:-1], x.dtype), p1),
        "matvec": g(lambda mm, a: P.mobius_matvec(mm, a, c=c), m, p1),
        "matvec_zero_m": g(lambda mm, a: P.mobius_matvec(mm, a, c=c), jnp.zeros_like(m), p1),
        "proj": g(lambda a: P.proj(a, c=c), p1),
        "egrad2rgrad": g(lambda a, v: P.egrad2rgrad(a, v, c=c), p1, u1),
    }


_singular_jit = quick_jit(_singular_gradients)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients_are_finite_at_origin_diagonal_and_boundary(dtype):
    for c in CURVATURES:
        x = _points(14, dtype, c)
        y = _points(15, dtype, c)
        u = _normal(16, (8, DIM), dtype, 0.5)
        big = _normal(17, (8, DIM), dtype, 5.0)
        m = jnp.eye(DIM, dtype=dtype)
        cases = _singular_jit(x, y, u, big, m, jnp.asarray(c, dtype))
        for name, grads in cases.items():
            for gi in grads:
                gi = np.asarray(gi)
                assert gi.dtype == dtype, name
                bad = np.argwhere(~np.isfinite(gi))
                assert bad.size == 0, f"{name} (c={c}): non-finite gradient at {bad[:3].tolist()}"


# ---------------------------------------------------------------------------------------------------------------
# Eager evaluation, jit agreement and shapes.


def test_eager_matches_jit_in_float32():
    x = _points(18, jnp.float32, 1.0)
    y = _points(19, jnp.float32, 1.0)
    for fn in (P.dist,):  # eager primitives compile one by one on first use: keep this short
        eager = fn(x, y)
        assert eager.dtype == jnp.float32
        np.testing.assert_allclose(eager, jax.jit(fn)(x, y), rtol=1e-5, atol=1e-6)
    assert P.origin((2, 3), jnp.float32).dtype == jnp.float32


def test_random_points():
    pts = quick_jit(lambda key: P.random(key, (5, 4), jnp.float64, c=2.0, std=3.0))(jax.random.key(2))
    assert pts.shape == (5, 4) and pts.dtype == jnp.float64
    assert float(jnp.max(jnp.linalg.norm(pts, axis=-1))) <= (1 - 1e-5) / math.sqrt(2.0) + 1e-15
