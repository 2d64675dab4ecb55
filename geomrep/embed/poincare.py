"""Poincaré embeddings of a transitive closure (Nickel & Kiela 2017) and their Lorentz / Euclidean variants.

Training objective (NK17, eq. 6), for each closure pair ``(u, v)`` (``u`` a child, ``v`` one of its ancestors)::

    L(u, v) = -log( exp(-d(u, v)) / Σ_{v' ∈ {v} ∪ N(u)} exp(-d(u, v')) )

``N(u)`` are ``K`` negatives drawn uniformly from the nodes ``w != u`` with ``(u, w)`` not in the closure
(as the reference code does: rejected draws are redrawn — ``rounds`` draws in all, 2 by default — and any still
invalid are masked out of the softmax, so a true neighbour is never used as a negative). During the first ``burnin_epochs`` epochs
negatives are drawn ∝ count(w)^dampening (count = how often ``w`` is an ancestor in the closure) and the
learning rate is multiplied by ``burnin_lr_mult``. Rows are initialised U(−1e-3, 1e-3) (the paper's init) and
optimised with row-sparse Riemannian SGD or Adam (:mod:`geomrep.optim.sparse`).

A whole epoch (shuffle, every minibatch, negative sampling, the sparse update) is one jitted ``lax.scan``:
per-step dispatch from Python would dominate at the reference batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.optim.sparse import SparseTransformation


class ClosureGraph(NamedTuple):
    """Device arrays describing a closure for training (a pytree: pass it to jitted functions as an argument).

    edges: (m, 2) int32 directed pairs (u, v); indptr: (n+1,) and neighbours: (m,) the CSR of out-neighbours,
    sorted within each row (for binary-search membership tests); burnin_cdf: (n,) cumulative distribution of
    count(w)^dampening used for burn-in negatives.
    """

    edges: jax.Array
    indptr: jax.Array
    neighbours: jax.Array
    burnin_cdf: jax.Array


def closure_graph(edges, num_nodes: int, *, dampening: float = 0.75, dtype=jnp.float32) -> ClosureGraph:
    """Build the :class:`ClosureGraph` of a (m, 2) array of directed pairs over ``num_nodes`` nodes."""
    edges = np.unique(np.asarray(edges, dtype=np.int64), axis=0)  # sorted by (u, v): rows of the CSR
    indptr = np.zeros(num_nodes + 1, np.int64)
    np.add.at(indptr, edges[:, 0] + 1, 1)
    indptr = np.cumsum(indptr)
    counts = np.bincount(edges[:, 1], minlength=num_nodes).astype(np.float64) ** dampening
    cdf = np.cumsum(counts) / counts.sum()
    return ClosureGraph(
        edges=jnp.asarray(edges, jnp.int32),
        indptr=jnp.asarray(indptr, jnp.int32),
        neighbours=jnp.asarray(edges[:, 1], jnp.int32),
        burnin_cdf=jnp.asarray(cdf, dtype),
    )


def _search_steps(graph: ClosureGraph) -> int:
    max_degree = int(np.max(np.diff(np.asarray(graph.indptr))))
    return max(1, max_degree.bit_length())


def is_edge(graph: ClosureGraph, u, w, *, steps: int):
    """Whether ``(u, w)`` is in the closure, by a fixed-length binary search in ``u``'s sorted neighbour row.

    ``u`` and ``w`` broadcast; ``steps`` must be ≥ bit_length(max out-degree) (static).
    """
    u, w = jnp.broadcast_arrays(u, w)
    lo = graph.indptr[u]
    hi = graph.indptr[u + 1]
    end = hi
    last = graph.neighbours.shape[0] - 1

    def body(_, bounds):
        lo, hi = bounds
        mid = (lo + hi) // 2
        right = graph.neighbours[jnp.minimum(mid, last)] < w
        active = lo < hi
        return jnp.where(active & right, mid + 1, lo), jnp.where(active & ~right, mid, hi)

    lo, _ = jax.lax.fori_loop(0, steps, body, (lo, hi))
    return (lo < end) & (graph.neighbours[jnp.minimum(lo, last)] == w)


def sample_negatives(key, graph: ClosureGraph, u, num_negatives: int, *, burnin, rounds: int = 2, steps: int):
    """Draw ``num_negatives`` negatives per source ``u`` (shape (B,)) that are never ``u`` nor a neighbour of ``u``.

    Returns ``(negatives (B, K) int32, valid (B, K) bool)``: draws still invalid after ``rounds`` draws (the first and ``rounds − 1`` redraws) are
    flagged ``valid=False`` (the loss masks them). ``burnin`` (a traced bool) switches uniform draws to draws
    ∝ count^dampening.
    """
    num_nodes = graph.indptr.shape[0] - 1
    shape = u.shape + (num_negatives,)

    def uniform(k):
        return jax.random.randint(k, shape, 0, num_nodes, dtype=jnp.int32)

    def weighted(k):
        p = jax.random.uniform(k, shape, dtype=graph.burnin_cdf.dtype)
        return jnp.minimum(jnp.searchsorted(graph.burnin_cdf, p, side="right"), num_nodes - 1).astype(
            jnp.int32
        )

    def draw(k):
        return jax.lax.cond(burnin, weighted, uniform, k)

    def invalid(w):
        return (w == u[:, None]) | is_edge(graph, u[:, None], w, steps=steps)

    keys = jax.random.split(key, rounds)
    negatives = draw(keys[0])
    bad = invalid(negatives)
    for k in keys[1:]:
        redraw = draw(k)
        negatives = jnp.where(bad, redraw, negatives)
        bad = bad & invalid(negatives)
    return negatives, ~bad


def init_embeddings(seed: int, num_nodes: int, dim: int, manifold, *, dtype=jnp.float64, scale: float = 1e-3):
    """Initial table: coordinates U(−scale, scale) (NK17's init), lifted onto ``manifold``.

    Drawn on the host with ``numpy.random.default_rng(seed)`` (no device compile for a one-off draw), then
    projected. Returns (num_nodes, dim) for the ball and Euclidean space, (num_nodes, dim + 1) for the Lorentz
    model (the spatial part is uniform and the time coordinate is recomputed by ``proj``).
    """
    ambient = manifold.ambient_dim(dim)
    x = np.random.default_rng(seed).uniform(-scale, scale, (num_nodes, ambient))
    if ambient != dim:  # Lorentz: time coordinate first
        x[:, 0] = 0.0
    return jax.jit(manifold.proj)(jnp.asarray(x, dtype))


def batch_loss(rows, valid_negatives, weights, manifold):
    """Mean NK17 loss over a minibatch given the gathered rows.

    Args:
      rows: (B, K + 2, D) rows of ``u``, ``v`` and the ``K`` negatives.
      valid_negatives: (B, K) mask of usable negatives.
      weights: (B,) 1 for real pairs, 0 for padding.

    Returns:
      ``sum_b weights_b · L(u_b, v_b) / max(1, sum_b weights_b)``.
    """
    d = manifold.dist(rows[:, :1, :], rows[:, 1:, :])  # (B, K + 1)
    mask = jnp.concatenate([jnp.ones_like(valid_negatives[:, :1]), valid_negatives], axis=1)
    logits = jnp.where(mask, -d, -jnp.inf)
    per_pair = jax.nn.logsumexp(logits, axis=1) + d[:, 0]
    return jnp.sum(per_pair * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def steps_per_epoch(num_edges: int, batch_size: int) -> int:
    """Number of minibatches in one epoch over ``num_edges`` pairs (the last one padded)."""
    return math.ceil(num_edges / min(batch_size, num_edges))


class EpochFn(NamedTuple):
    """The jittable epoch of :func:`make_epoch_fn` and the static sizes it was built for."""

    run: Callable
    steps_per_epoch: int
    batch_size: int


def make_epoch_fn(
    manifold,
    tx: SparseTransformation,
    graph: ClosureGraph,
    *,
    batch_size: int,
    num_negatives: int,
    batch_sharding=None,
) -> EpochFn:
    """Build ``run(table, opt_state, graph, key, burnin) -> (table, opt_state, metrics)``: one epoch.

    The epoch shuffles the pairs with ``key``, pads the permutation to a whole number of batches (padding pairs
    have weight 0 and touch no row), and scans over the batches: draw negatives, gather the rows, differentiate
    :func:`batch_loss` with respect to the gathered rows, and apply the row-sparse update ``tx``. Padding and
    masked negatives are routed to an out-of-range row index, so they touch neither the table nor the optimizer
    state. ``metrics`` holds the mean loss over the epoch. Jit it (the sizes are static) with the table and
    optimizer state donated.

    ``batch_sharding`` (a ``jax.sharding.Sharding`` of the (steps, batch) pair-id array, e.g.
    ``NamedSharding(mesh, P(None, "data"))``) makes the epoch data-parallel: each device samples negatives,
    gathers rows and differentiates its slice of every minibatch, and XLA inserts the collectives for the
    gathers from and the scatters into the table, whatever the table's own sharding (replicated or by row).
    """
    num_edges = int(graph.edges.shape[0])
    num_nodes = int(graph.indptr.shape[0]) - 1
    steps = steps_per_epoch(num_edges, batch_size)
    batch_size = min(batch_size, num_edges)
    search_steps = _search_steps(graph)

    def step(carry, xs):
        table, opt_state, graph, burnin = carry
        pair_ids, key = xs
        weights = (pair_ids >= 0).astype(table.dtype)
        pairs = graph.edges[jnp.maximum(pair_ids, 0)]
        u, v = pairs[:, 0], pairs[:, 1]
        negatives, valid = sample_negatives(key, graph, u, num_negatives, burnin=burnin, steps=search_steps)
        idx = jnp.concatenate([u[:, None], v[:, None], negatives], axis=1)
        used = jnp.concatenate([jnp.ones_like(valid[:, :2]), valid], axis=1) & (pair_ids >= 0)[:, None]
        idx = jnp.where(used, idx, num_nodes)  # padding / masked rows: out of range, never written
        rows = table.at[idx].get(mode="clip")
        loss, row_grads = jax.value_and_grad(batch_loss)(rows, valid, weights, manifold)
        table, opt_state = tx.update(row_grads, idx, opt_state, table)
        return (table, opt_state, graph, burnin), loss

    def run(table, opt_state, graph, key, burnin):
        k_perm, k_steps = jax.random.split(key)
        perm = jax.random.permutation(k_perm, num_edges).astype(jnp.int32)
        perm = jnp.concatenate([perm, jnp.full((steps * batch_size - num_edges,), -1, jnp.int32)])
        pair_ids = perm.reshape(steps, batch_size)
        if batch_sharding is not None:
            pair_ids = jax.lax.with_sharding_constraint(pair_ids, batch_sharding)
        xs = (pair_ids, jax.random.split(k_steps, steps))
        (table, opt_state, _, _), losses = jax.lax.scan(step, (table, opt_state, graph, burnin), xs)
        return table, opt_state, {"loss": jnp.mean(losses)}

    return EpochFn(run=run, steps_per_epoch=steps, batch_size=batch_size)


def burnin_schedule(lr: float, *, burnin_steps: int, burnin_lr_mult: float):
    """Learning-rate schedule: ``lr · burnin_lr_mult`` for the first ``burnin_steps`` steps, then ``lr``."""

    def schedule(count):
        return jnp.where(count < burnin_steps, lr * burnin_lr_mult, lr)

    return schedule
