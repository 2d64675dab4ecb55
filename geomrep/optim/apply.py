"""Applying Riemannian updates: the manifold counterpart of ``optax.apply_updates``."""

from __future__ import annotations

import jax

from geomrep.optim.labels import broadcast_manifolds


def apply_updates(params, updates, manifolds):
    """Move each parameter along its tangent update with the exponential map, then re-project.

    ``x_new = proj(expmap_x(u))`` per leaf, where ``u`` is the update produced by a geomrep transformation
    (already scaled by ``-lr``: optax's sign convention). For ``Euclidean()`` leaves this is ``x + u``, i.e.
    exactly ``optax.apply_updates``.

    Args:
      params: pytree of points.
      updates: pytree of tangent vectors at ``params`` (same structure).
      manifolds: label pytree, parallel to or a prefix of ``params``.
    """
    labels = broadcast_manifolds(manifolds, params)
    return jax.tree.map(lambda m, x, u: m.proj(m.expmap(x, u)).astype(x.dtype), labels, params, updates)
