"""geomrep.manifolds (L0): pure ``jax.numpy`` geometry kernels, no flax or optax.

Function modules (the math): :mod:`~geomrep.manifolds.poincare`, :mod:`~geomrep.manifolds.lorentz`,
:mod:`~geomrep.manifolds.euclidean`, :mod:`~geomrep.manifolds.sphere`, sharing :mod:`~geomrep.manifolds.numerics`
(per-dtype eps table and safe functions). Frozen values that bind the curvature and serve as static leaves in label pytrees:
``PoincareBall(c=1.0)``, ``Lorentz(c=1.0)``, ``Euclidean()``, ``Sphere(c=1.0)``, and ``Product(factors, dims)``
(:mod:`~geomrep.manifolds.product`).

Matrix manifolds (issue 7; points are (..., n, n) or (..., n, p) arrays, ``point_ndim = 2``):
:mod:`~geomrep.manifolds.spd` (affine-invariant, log-Euclidean and log-Cholesky metrics with their gyrovector
calculus; value ``SPD(n, metric)``), :mod:`~geomrep.manifolds.grassmann` (orthonormal-basis and projector views
with gyro operations; ``Grassmann(n, p, view)``), :mod:`~geomrep.manifolds.stiefel` (BiMap weights;
``Stiefel(n, p)``), built on :mod:`~geomrep.manifolds.spectral` (matrix functions of symmetric
matrices with gradients that are exact at repeated eigenvalues).

>>> import jax.numpy as jnp
>>> from geomrep.manifolds import PoincareBall, poincare
>>> x = jnp.array([0.1, 0.2])
>>> bool(jnp.allclose(PoincareBall(1.0).expmap0(x), poincare.expmap0(x, c=1.0)))
True
"""

from geomrep.manifolds import (
    euclidean,
    grassmann,
    lorentz,
    numerics,
    poincare,
    spd,
    spectral,
    sphere,
    stiefel,
)
from geomrep.manifolds.base import SPD, Euclidean, Grassmann, Lorentz, Manifold, PoincareBall, Sphere, Stiefel
from geomrep.manifolds.product import Product

__all__ = [
    "Euclidean",
    "Grassmann",
    "Lorentz",
    "Manifold",
    "PoincareBall",
    "Product",
    "SPD",
    "Sphere",
    "Stiefel",
    "euclidean",
    "grassmann",
    "lorentz",
    "numerics",
    "poincare",
    "spd",
    "spectral",
    "sphere",
    "stiefel",
]
