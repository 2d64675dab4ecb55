"""Flat Euclidean space ℝⁿ in geomrep's manifold vocabulary (the zero-curvature baseline).

Points and tangent vectors live on the last axis; leading batch axes broadcast; reductions return no trailing
axis unless ``keepdims=True``. There is no curvature parameter.

:func:`dist` is the distance ‖x − y‖, NOT its square: the reference Poincaré-embedding code's Euclidean baseline
returns the squared distance (facebookresearch/poincare-embeddings issue #63, PR #80), which is a different model.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from geomrep.manifolds import numerics

__all__ = [
    "proj",
    "proju",
    "egrad2rgrad",
    "inner",
    "norm",
    "expmap",
    "logmap",
    "expmap0",
    "logmap0",
    "retr",
    "transp",
    "dist",
    "dist0",
    "random",
    "origin",
]


def proj(x):
    """Identity: every vector is a point.

    >>> proj(jnp.array([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    return numerics.as_float(x)


def proju(x, u):
    """Identity: every vector is tangent.

    >>> proju(jnp.zeros(2), jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return numerics.as_float(u)


def egrad2rgrad(x, g):
    """Identity: the Riemannian gradient is the Euclidean one.

    >>> egrad2rgrad(jnp.zeros(2), jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return numerics.as_float(g)


def inner(x, u, v=None, *, keepdims: bool = False):
    """⟨u, v⟩ (v defaults to u). Shapes: (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> float(inner(jnp.zeros(2), jnp.array([3.0, 4.0])))
    25.0
    """
    u = numerics.as_float(u)
    v = u if v is None else numerics.as_float(v)
    return jnp.sum(u * v, axis=-1, keepdims=keepdims)


def norm(x, u, *, keepdims: bool = False):
    """‖u‖ with a finite (zero) gradient at u = 0. Shapes: (..., n) → (...).

    >>> float(norm(jnp.zeros(2), jnp.array([3.0, 4.0])))
    5.0
    """
    return numerics.safe_norm(numerics.as_float(u), keepdims=keepdims)


def expmap(x, u):
    """exp_x(u) = x + u. Shapes: (..., n) → (..., n).

    >>> expmap(jnp.ones(2), jnp.ones(2)).tolist()
    [2.0, 2.0]
    """
    return numerics.as_float(x) + numerics.as_float(u)


def logmap(x, y):
    """log_x(y) = y − x. Shapes: (..., n) → (..., n).

    >>> logmap(jnp.ones(2), jnp.zeros(2)).tolist()
    [-1.0, -1.0]
    """
    return numerics.as_float(y) - numerics.as_float(x)


def expmap0(u):
    """exp_0(u) = u.

    >>> expmap0(jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return numerics.as_float(u)


def logmap0(y):
    """log_0(y) = y.

    >>> logmap0(jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return numerics.as_float(y)


def retr(x, u):
    """x + u (the exponential map).

    >>> retr(jnp.ones(2), jnp.ones(2)).tolist()
    [2.0, 2.0]
    """
    return numerics.as_float(x) + numerics.as_float(u)


def transp(x, y, v):
    """Identity: parallel transport in flat space does not change v.

    >>> transp(jnp.zeros(2), jnp.ones(2), jnp.array([1.0, -1.0])).tolist()
    [1.0, -1.0]
    """
    return numerics.as_float(v)


def dist(x, y, *, keepdims: bool = False):
    """‖x − y‖ (not squared), with a finite (zero) gradient at x = y. Shapes: (..., n) → (...).

    >>> float(dist(jnp.zeros(2), jnp.array([3.0, 4.0])))
    5.0
    """
    return numerics.safe_norm(numerics.as_float(x) - numerics.as_float(y), keepdims=keepdims)


def dist0(x, *, keepdims: bool = False):
    """‖x‖, with a finite gradient at 0. Shapes: (..., n) → (...).

    >>> float(dist0(jnp.array([3.0, 4.0])))
    5.0
    """
    return numerics.safe_norm(numerics.as_float(x), keepdims=keepdims)


def random(key, shape, dtype=jnp.float32, *, std=1.0):
    """std · N(0, I) samples of the given ``shape`` (..., n).

    >>> random(jax.random.key(0), (4, 3)).shape
    (4, 3)
    """
    return std * jax.random.normal(key, shape, dtype=dtype)


def origin(shape, dtype=jnp.float32):
    """Zeros of ``shape`` (..., n).

    >>> origin((2,)).tolist()
    [0.0, 0.0]
    """
    return jnp.zeros(shape, dtype=dtype)
