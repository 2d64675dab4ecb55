"""geomrep.testing: assert_on_manifold / assert_tangent name the offending index; quick_jit."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import Euclidean, Lorentz, PoincareBall
from geomrep.testing import assert_on_manifold, assert_tangent, default_point_atol, quick_jit


def test_ball_point_outside_is_named_by_index():
    x = np.full((5, 2), 0.1)
    x[3] = [0.6, 0.85]  # norm 1.04
    with pytest.raises(AssertionError, match=re.escape("point at index (3,) has norm 1.04") + ".*≥ 1/√c = 1"):
        assert_on_manifold(PoincareBall(1.0), jnp.asarray(x))
    assert_on_manifold(PoincareBall(1.0), jnp.asarray(x[:3]))
    # The radius depends on c: ‖x‖ = 0.75 is outside the ball of c = 2 (radius 0.707).
    with pytest.raises(AssertionError, match=r"index \(0,\).*1/√c = 0\.707"):
        assert_on_manifold(PoincareBall(2.0), jnp.array([[0.75, 0.0]]))
    # A point exactly on the sphere ‖x‖ = 1/√c is not in the open ball; atol loosens the check.
    with pytest.raises(AssertionError):
        assert_on_manifold(PoincareBall(1.0), jnp.array([1.0, 0.0]))
    assert_on_manifold(PoincareBall(1.0), jnp.array([1.0, 0.0]), atol=1e-6)


def test_batch_index_is_multidimensional_and_nan_fails():
    x = np.zeros((2, 3, 2), np.float32)
    x[1, 2] = [np.nan, 0.0]
    with pytest.raises(AssertionError, match=r"index \(1, 2\) is not finite.*1 of 6 points fail"):
        assert_on_manifold(PoincareBall(1.0), jnp.asarray(x))
    with pytest.raises(AssertionError, match=r"index \(1, 2\) is not finite"):
        assert_on_manifold(Euclidean(), jnp.asarray(x))


def test_lorentz_points():
    good = jnp.array([[1.0, 0.0, 0.0], [np.sqrt(2.0), 1.0, 0.0]])
    assert_on_manifold(Lorentz(1.0), good)
    bad = good.at[1, 0].set(1.2)
    with pytest.raises(
        AssertionError, match=r"index \(1,\) has ⟨x,x⟩_L = -0\.44 but the hyperboloid needs −1/c = -1"
    ):
        assert_on_manifold(Lorentz(1.0), bad)
    with pytest.raises(AssertionError, match=r"index \(0,\).*lower sheet"):
        assert_on_manifold(Lorentz(1.0), -good)
    with pytest.raises(AssertionError, match=r"−1/c = -0\.5"):
        assert_on_manifold(Lorentz(2.0), good)
    assert default_point_atol(Lorentz(1.0), jnp.float32) > default_point_atol(Lorentz(1.0), jnp.float64)


def test_tangent_vectors():
    x = jnp.array([[1.0, 0.0], [1.0, 0.0]])
    assert_tangent(Lorentz(1.0), x, jnp.array([[0.0, 2.0], [0.0, -1.0]]))
    with pytest.raises(
        AssertionError, match=r"tangent vector at index \(1,\) has ⟨x,u⟩_L = -0\.5.*⟨x,u⟩_L = 0"
    ):
        assert_tangent(Lorentz(1.0), x, jnp.array([[0.0, 2.0], [0.5, 0.0]]))
    # Every vector is tangent to the ball and to ℝⁿ, but non-finite ones still fail.
    assert_tangent(PoincareBall(1.0), x, jnp.ones((2, 2)))
    with pytest.raises(AssertionError, match=r"index \(0,\)"):
        assert_tangent(Euclidean(), x, jnp.array([[jnp.inf, 0.0], [0.0, 0.0]]))


class UnitCircle:
    """A user manifold without a built-in checker: the generic path uses proj / proju."""

    name = "circle"

    def proj(self, x):
        return x / jnp.linalg.norm(x, axis=-1, keepdims=True)

    def proju(self, x, u):
        return u - jnp.sum(x * u, -1, keepdims=True) * x


def test_user_manifold_falls_back_on_proj_and_proju():
    circle = UnitCircle()  # not hashable by value, but it has identity hash: both paths work
    assert_on_manifold(circle, jnp.array([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(AssertionError, match=r"index \(1,\) is off the manifold: ‖proj\(x\) − x‖"):
        assert_on_manifold(circle, jnp.array([[1.0, 0.0], [0.0, 1.5]]))
    assert_tangent(circle, jnp.array([[1.0, 0.0]]), jnp.array([[0.0, 3.0]]))
    with pytest.raises(AssertionError, match=r"index \(0,\) is not tangent"):
        assert_tangent(circle, jnp.array([[1.0, 0.0]]), jnp.array([[1.0, 3.0]]))


def test_quick_jit():
    f = quick_jit(lambda x, n: x * n, static_argnums=1)
    assert float(f(jnp.float32(2.0), 3)) == 6.0
    assert f(jnp.float32(2.0), 3).dtype == jnp.float32
