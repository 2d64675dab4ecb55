"""Small pieces shared by the dense and the row-sparse optimizers."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from geomrep.manifolds import Euclidean


def learning_rate_at(learning_rate, count):
    """``learning_rate(count)`` for an optax schedule, the constant otherwise."""
    return learning_rate(count) if callable(learning_rate) else learning_rate


def second_moment(manifold, x, g):
    """Adam's squared-gradient statistic on a manifold (Bécigneul & Ganea 2019, Alg. 1).

    On a Riemannian factor the statistic is the squared Riemannian norm ``<g, g>_x`` of the point (one scalar per
    point, kept as trailing axes of size 1 — two for matrix manifolds — so it broadcasts); on Euclidean leaves it
    is elementwise ``g*g``, so radam on Euclidean parameters is exactly Adam.
    """
    if isinstance(manifold, Euclidean):
        return g * g
    # ≥ 0 in exact arithmetic; the Minkowski form loses ~eps·x0² far from the origin and can dip below 0
    return jnp.maximum(manifold.inner(x, g, g, keepdims=True), 0.0)


def second_moment_shape(manifold, x):
    if isinstance(manifold, Euclidean):
        return x.shape
    point_ndim = int(getattr(manifold, "point_ndim", 1))  # 2 for matrix manifolds: one scalar per matrix
    return x.shape[:-point_ndim] + (1,) * point_ndim


def check_learning_rate(learning_rate):
    if not callable(learning_rate) and not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0 (or an optax schedule); got {learning_rate!r}")


def unzip_tree(params, tree_of_tuples):
    """Split a tree whose leaves (at the positions of ``params``' leaves) are tuples into a tuple of trees."""
    treedef = jax.tree.structure(params)
    columns = zip(*treedef.flatten_up_to(tree_of_tuples), strict=True)
    return tuple(jax.tree.unflatten(treedef, column) for column in columns)
