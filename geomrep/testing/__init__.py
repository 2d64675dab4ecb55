"""geomrep.testing: public checkers users can call in their own tests (in the spirit of e3nn's
``assert_equivariant``).

- :func:`assert_on_manifold` / :func:`assert_tangent`: raise AssertionError naming the index of the worst point.
- :func:`check_manifold_contract`: the contract suite geomrep runs over every manifold; works for any value
  with geomrep's manifold vocabulary, e.g. your own.
- :func:`check_gyro_laws` / :func:`gyro_law_errors`: the gyrovector-space laws (left cancellation, scalar
  associativity, gyrodistance = geodesic distance, ...) for SPD and Grassmann values.
- :func:`quick_jit`: ``jax.jit`` with XLA options that favour compile speed, for tests.

>>> import jax, jax.numpy as jnp
>>> from geomrep.manifolds import Lorentz
>>> check_manifold_contract(Lorentz(1.0), dim=2, dtype=jnp.float32, key=jax.random.key(1), n=4)
"""

from geomrep.testing._asserts import (
    assert_on_manifold,
    assert_tangent,
    default_point_atol,
    default_tangent_atol,
    point_violation,
    tangent_violation,
)
from geomrep.testing._compile import quick_jit
from geomrep.testing._contract import TOLERANCES, check_manifold_contract, contract_tolerances
from geomrep.testing.gyro_laws import GYRO_TOLERANCES, check_gyro_laws, gyro_law_errors

__all__ = [
    "GYRO_TOLERANCES",
    "TOLERANCES",
    "assert_on_manifold",
    "assert_tangent",
    "check_gyro_laws",
    "check_manifold_contract",
    "contract_tolerances",
    "default_point_atol",
    "default_tangent_atol",
    "gyro_law_errors",
    "point_violation",
    "quick_jit",
    "tangent_violation",
]
