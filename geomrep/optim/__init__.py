"""Riemannian optimizers in the optax style (layer L1: imports only geomrep.manifolds, jax and optax).

Dense API (any pytree of parameters)::

    tx = geomrep.optim.rsgd(learning_rate, manifolds)        # or radam(...)
    state = tx.init(params)
    updates, state = tx.update(euclidean_grads, state, params)
    params = geomrep.optim.apply_updates(params, updates, manifolds)

``manifolds`` is a pytree of manifold values (``PoincareBall(c)``, ``Lorentz(c)``, ``Euclidean()``) parallel to,
or a prefix of, ``params``; :func:`manifold_labels` builds it from parameter paths. Updates are tangent vectors
and follow optax's sign convention (``apply_updates`` moves along ``+update``), so ``rsgd`` returns
``-lr * rgrad``. They compose with optax: ``optax.chain(optax.clip_by_global_norm(1.0), rsgd(...))`` clips the
Euclidean gradients, and ``learning_rate`` may be an optax schedule.

Row-sparse API for embedding tables (:mod:`geomrep.optim.sparse`): gradients of gathered rows plus their
indices update only those rows and their optimizer state, at O(rows touched) per step.
"""

from geomrep.optim.apply import apply_updates
from geomrep.optim.labels import broadcast_manifolds, manifold_labels
from geomrep.optim.radam import RAdamState, radam
from geomrep.optim.rsgd import RSGDState, rsgd
from geomrep.optim.sparse import (
    SparseRAdamState,
    SparseRSGDState,
    SparseTransformation,
    coalesce_rows,
    sparse_radam,
    sparse_rsgd,
)

__all__ = [
    "RAdamState",
    "RSGDState",
    "SparseRAdamState",
    "SparseRSGDState",
    "SparseTransformation",
    "apply_updates",
    "broadcast_manifolds",
    "coalesce_rows",
    "manifold_labels",
    "radam",
    "rsgd",
    "sparse_radam",
    "sparse_rsgd",
]
