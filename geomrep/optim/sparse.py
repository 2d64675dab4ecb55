"""Row-sparse Riemannian optimizers for embedding tables (the semantics of geoopt's SparseRiemannianSGD/Adam).

An embedding step touches a few rows of a large table (one row per node; up to 10^7 rows). The dense API would
materialise a table-sized gradient and update every row and every moment at each step. Here a step takes the
gradients with respect to the *gathered rows* and their row indices, sums the gradients of duplicate indices,
and reads and writes only those rows of the table and of the optimizer state: O(rows touched · dim) work and
O(rows touched) extra memory per step, independent of the table size::

    tx = sparse_rsgd(learning_rate, PoincareBall(1.0))
    state = tx.init(table)
    rows = table[idx]                                   # idx: any int array, e.g. (batch, 2 + negatives)
    row_grads = jax.grad(loss_of_rows)(rows)            # same shape as rows
    table, state = tx.update(row_grads, idx, state, table)

Rows that are not touched keep their value and their optimizer state (Adam's moments do not decay for them, as
in geoopt's sparse optimizers and ``torch.optim.SparseAdam``). Everything is jittable with static shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from geomrep.optim._common import check_learning_rate, learning_rate_at, second_moment, second_moment_shape


class SparseTransformation(NamedTuple):
    """A row-sparse optimizer: ``init(table) -> state``; ``update(row_grads, indices, state, table)``.

    ``update`` returns ``(new_table, new_state)``: unlike optax it applies the step itself, because only the
    touched rows are written.
    """

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


class SparseRSGDState(NamedTuple):
    count: jax.Array
    slots: jax.Array  # (num_rows,) int32 scratch for coalesce_rows
    momentum: Any  # (num_rows, dim) tangent vectors, or None without momentum


class SparseRAdamState(NamedTuple):
    count: jax.Array
    slots: jax.Array  # (num_rows,) int32 scratch for coalesce_rows
    mu: jax.Array  # (num_rows, dim) first moments, tangent at each row
    nu: jax.Array  # (num_rows, 1) squared Riemannian norms ((num_rows, dim) on Euclidean tables)


def coalesce_rows(indices, row_grads, slots):
    """Sum the gradients of repeated row indices in O(N) (no sort), using a row → slot scratch map.

    Each entry ``j`` writes its position into ``slots[indices[j]]``; reading the map back gives every entry the
    position of one *representative* entry of its row (the same for all duplicates). Representatives are then
    numbered by a prefix sum and the gradients are summed per distinct row with ``segment_sum``. The result has
    ``M = min(N, num_rows)`` rows (``N`` = number of indices), so a step on a small table costs O(num_rows) and a
    step on a huge one O(N): never more than both. ``slots`` is scratch: its contents are never trusted (only
    positions written in this call are read), so it lives in the optimizer state and costs 4 bytes per table
    row, with no per-step work proportional to the table.

    Args:
      indices: int array of any shape ``S``; values in ``[0, num_rows)`` are rows, ``num_rows`` (or more) marks
        padding that must touch nothing.
      row_grads: array of shape ``S + (dim,)``: the gradient with respect to ``table[indices]``.
      slots: (num_rows,) int32 scratch map.

    Returns:
      ``(rows, grads, slots)``: ``rows`` (M,) holds each distinct row index once (in an unspecified order),
      followed by ``num_rows`` as
      padding (gather with ``mode="clip"``, scatter with ``mode="drop"``); ``grads`` (M, dim) the summed gradient
      of each row (zero on padding); ``slots`` the updated scratch map.

    >>> rows, g, _ = coalesce_rows(jnp.array([2, 0, 2]), jnp.ones((3, 1)), jnp.zeros(4, jnp.int32))
    >>> sorted(zip(rows.tolist(), g[:, 0].tolist()))
    [(0, 1.0), (2, 2.0), (4, 0.0)]
    """
    flat = indices.reshape(-1)
    n = flat.shape[0]
    num_rows = slots.shape[0]
    size = min(n, num_rows)
    grads = row_grads.reshape((n,) + row_grads.shape[indices.ndim :])
    position = jnp.arange(n, dtype=slots.dtype)
    slots = slots.at[flat].set(position, mode="drop")
    representative = slots.at[flat].get(mode="fill", fill_value=n)  # padding entries get n: no representative
    is_rep = representative == position
    number = jnp.cumsum(is_rep, dtype=slots.dtype) - 1  # 0, 1, ... over representatives, in order
    # each entry's distinct-row number: that of its representative (padding -> size: dropped)
    segment = jnp.where(representative < n, number[jnp.minimum(representative, n - 1)], size)
    summed = jax.ops.segment_sum(grads, segment, num_segments=size)
    rows = jnp.full((size,), num_rows, flat.dtype).at[jnp.where(is_rep, number, size)].set(flat, mode="drop")
    return rows, summed, slots


def _slots(table):
    return jnp.zeros((table.shape[0],), jnp.int32)


def _gather(table, rows):
    return table.at[rows].get(mode="clip")


def _scatter(table, rows, values):
    return table.at[rows].set(values.astype(table.dtype), mode="drop")


def sparse_rsgd(
    learning_rate, manifold, *, momentum: float = 0.0, dampening: float = 0.0
) -> SparseTransformation:
    """Row-sparse Riemannian SGD (Nickel & Kiela 2017, eq. 5) on a table whose rows lie on ``manifold``.

    For each distinct touched row ``x`` with summed Euclidean gradient ``g``::

        r = egrad2rgrad(x, g);  buf = momentum * buf + (1 - dampening) * r  (buf = r without momentum)
        x <- proj(expmap_x(-lr * buf));  buf <- transp(x_old, x, buf)

    Args:
      learning_rate: a positive float or an optax schedule of the step count.
      manifold: a manifold value (``PoincareBall(c)``, ``Lorentz(c)``, ``Euclidean()``) for every row.
      momentum, dampening: as in geoopt's ``SparseRiemannianSGD``.
    """
    check_learning_rate(learning_rate)

    def init_fn(table):
        buf = jnp.zeros_like(table) if momentum > 0 else None
        return SparseRSGDState(count=jnp.zeros([], jnp.int32), slots=_slots(table), momentum=buf)

    def update_fn(row_grads, indices, state, table):
        rows, g, slots = coalesce_rows(indices, row_grads, state.slots)
        x = _gather(table, rows)
        r = manifold.egrad2rgrad(x, g.astype(x.dtype))
        lr = learning_rate_at(learning_rate, state.count)
        buf = momentum * _gather(state.momentum, rows) + (1.0 - dampening) * r if momentum > 0 else r
        x_new = manifold.proj(manifold.expmap(x, (-lr * buf).astype(x.dtype)))
        table = _scatter(table, rows, x_new)
        new_buf = _scatter(state.momentum, rows, manifold.transp(x, x_new, buf)) if momentum > 0 else None
        return table, SparseRSGDState(count=optax.safe_increment(state.count), slots=slots, momentum=new_buf)

    return SparseTransformation(init_fn, update_fn)


def sparse_radam(
    learning_rate, manifold, *, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> SparseTransformation:
    """Row-sparse Riemannian Adam (Bécigneul & Ganea 2019, Alg. 1; geoopt's ``SparseRiemannianAdam``).

    Same formulas as :func:`geomrep.optim.radam`, applied to the touched rows only; the bias correction uses the
    global step count.
    """
    check_learning_rate(learning_rate)

    def init_fn(table):
        return SparseRAdamState(
            count=jnp.zeros([], jnp.int32),
            slots=_slots(table),
            mu=jnp.zeros_like(table),
            nu=jnp.zeros(second_moment_shape(manifold, table), table.dtype),
        )

    def update_fn(row_grads, indices, state, table):
        rows, g, slots = coalesce_rows(indices, row_grads, state.slots)
        x = _gather(table, rows)
        r = manifold.egrad2rgrad(x, g.astype(x.dtype))
        count = optax.safe_increment(state.count)
        lr = learning_rate_at(learning_rate, state.count)
        mu = b1 * _gather(state.mu, rows) + (1.0 - b1) * r
        nu = b2 * _gather(state.nu, rows) + (1.0 - b2) * second_moment(manifold, x, r)
        bc1 = 1.0 - b1 ** count.astype(x.dtype)
        bc2 = 1.0 - b2 ** count.astype(x.dtype)
        u = (-lr * (mu / bc1) / (jnp.sqrt(nu / bc2) + eps)).astype(x.dtype)
        x_new = manifold.proj(manifold.expmap(x, u))
        return _scatter(table, rows, x_new), SparseRAdamState(
            count=count,
            slots=slots,
            mu=_scatter(state.mu, rows, manifold.transp(x, x_new, mu)),
            nu=_scatter(state.nu, rows, nu),
        )

    return SparseTransformation(init_fn, update_fn)
