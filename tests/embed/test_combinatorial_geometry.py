"""Hyperbolic triangle kernels and spherical codes used by the combinatorial construction."""

import math

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.embed.hyperbolic_triangles import far_angle, third_side
from geomrep.embed.sphere_codes import align_first, min_angle, spread_directions


def _mp_third_side(x, y, theta):
    with mpmath.workprec(int(1.5 * (x + y)) + 200):
        x, y, theta = mpmath.mpf(x), mpmath.mpf(y), mpmath.mpf(theta)
        c = mpmath.cosh(x) * mpmath.cosh(y) - mpmath.sinh(x) * mpmath.sinh(y) * mpmath.cos(theta)
        return float(mpmath.acosh(c))


def _mp_far_angle(x, y, theta):
    with mpmath.workprec(int(3 * (x + y)) + 200):
        x, y, theta = mpmath.mpf(x), mpmath.mpf(y), mpmath.mpf(theta)
        num = mpmath.sin(theta)
        den = mpmath.sinh(x) * mpmath.cosh(y) / mpmath.sinh(y) - mpmath.cosh(x) * mpmath.cos(theta)
        return float(mpmath.atan2(num, den))


def _third(x, y, theta, dtype=jnp.float64):
    x, y, theta = (jnp.asarray(v, dtype) for v in (x, y, theta))
    return third_side(x, y, jnp.exp(-x), jnp.exp(-y), jnp.sin(theta / 2) ** 2)


@pytest.mark.parametrize(
    "x, y, theta",
    [
        (0.3, 0.7, 1.0),
        (5.0, 5.0, 0.3),
        (40.0, 55.0, 0.05),
        (800.0, 1200.0, 0.0155),
        (2500.0, 126.0, 2.9),
        (3.0, 0.0, 1.0),
    ],
)
def test_third_side_matches_high_precision_law_of_cosines(x, y, theta):
    # sides of thousands overflow cosh in float64; the rewritten form keeps ~1e-15 relative error
    d = float(_third(x, y, theta))
    assert d == pytest.approx(_mp_third_side(x, y, theta), rel=1e-14, abs=1e-14)


def test_third_side_limits_and_float32():
    assert float(_third(3.0, 1.0, 0.0)) == pytest.approx(2.0, rel=1e-14)  # collinear, same side
    assert float(_third(3.0, 1.0, math.pi)) == pytest.approx(4.0, rel=1e-14)  # collinear, opposite
    assert float(_third(0.0, 0.0, 1.0)) == 0.0
    d32 = _third(30.0, 45.0, 0.4, jnp.float32)
    assert d32.dtype == jnp.float32
    assert float(d32) == pytest.approx(_mp_third_side(30.0, 45.0, 0.4), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.0, 500.0),
    st.floats(0.0, 500.0),
    st.floats(1e-3, math.pi),
)
def test_third_side_symmetric_and_triangle_inequality(x, y, theta):
    d, d_swapped = float(_third(x, y, theta)), float(_third(y, x, theta))
    assert d == pytest.approx(d_swapped, rel=1e-13, abs=1e-13)
    tol = 1e-12 * (x + y + 1)
    assert abs(x - y) - tol <= d <= x + y + tol


@pytest.mark.parametrize(
    "x, y, theta",
    [(0.9, 1.3, 1.0), (0.2, 3.0, 2.5), (10.0, 0.5, 0.7), (60.0, 200.0, 1.2), (300.0, 40.0, 0.02)],
)
def test_far_angle_matches_four_part_formula(x, y, theta):
    gamma = float(
        far_angle(jnp.asarray(x), jnp.asarray(y), math.exp(-x), math.sin(theta / 2), math.cos(theta / 2))
    )
    expected = _mp_far_angle(x, y, theta)
    assert gamma == pytest.approx(expected, rel=1e-12, abs=1e-300)  # relative even when γ ≈ e^{−x} is tiny


def test_far_angle_is_zero_at_an_apex():
    assert float(far_angle(jnp.asarray(2.0), jnp.asarray(0.0), math.exp(-2.0), 0.5, math.sqrt(0.75))) == 0.0


# --- spherical codes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count, dim, expected",
    [
        (7, 2, 2 * math.pi / 7),
        (4, 3, math.acos(-1 / 3)),  # tetrahedron
        (11, 10, math.acos(-1 / 10)),  # regular simplex
        (6, 3, math.pi / 2),  # octahedron
        (15, 10, math.pi / 2),  # cross-polytope
    ],
)
def test_spread_directions_optimal_small_codes(count, dim, expected):
    d = spread_directions(count, dim)
    assert d.shape == (count, dim)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-15)
    assert min_angle(d) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("count, dim", [(9, 3), (40, 3), (405, 3), (30, 5), (300, 10)])
def test_greedy_code_is_spread_and_deterministic(count, dim):
    d = spread_directions(count, dim)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-15)
    # better than the planar set (2π/k), which also fits in any dimension
    assert min_angle(d) > 1.3 * (2 * math.pi / count)
    np.testing.assert_array_equal(d, spread_directions(count, dim))
    assert not d.flags.writeable


def test_spread_directions_rejects_bad_arguments():
    with pytest.raises(ValueError, match="count"):
        spread_directions(0, 3)
    with pytest.raises(ValueError, match="dim"):
        spread_directions(3, 1)


@pytest.mark.parametrize("dim", [2, 3, 6])
def test_align_first_is_an_isometry_onto_the_target(dim):
    rng = np.random.default_rng(dim)
    sets = np.stack([spread_directions(5, dim)] * 4)
    target = rng.standard_normal((4, dim))
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    target[0] = sets[0, 0]  # coinciding already
    out = align_first(sets, target)
    np.testing.assert_allclose(out[:, 0], target, atol=1e-15)
    gram = np.einsum("bkr,bjr->bkj", out, out)
    np.testing.assert_allclose(gram, np.einsum("bkr,bjr->bkj", sets, sets), atol=1e-14)


@pytest.mark.parametrize("dim", [2, 3, 5])
def test_align_first_when_the_target_nearly_is_the_first_vector(dim):
    # regression: a reflection through d0 − t (length ~1e-16, direction = rounding noise) threw d0 anywhere
    sets = spread_directions(2 * dim + 2, dim)
    for noise in (0.0, 2.2e-16, -4.4e-16, 1e-9):
        target = sets[0].copy()
        target[-1] += noise  # not exactly unit, as rounding leaves real directions
        for t in (target, -target):
            out = align_first(sets, t)
            np.testing.assert_allclose(out[0], t, atol=1e-15)
            np.testing.assert_allclose(out @ out.T, sets @ sets.T, atol=1e-14)
