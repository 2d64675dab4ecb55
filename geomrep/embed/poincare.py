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

from geomrep.manifolds import PoincareBall, numerics
from geomrep.optim.sparse import SparseTransformation, row_dots


class ClosureGraph(NamedTuple):
    """Device arrays describing a closure for training (a pytree: pass it to jitted functions as an argument).

    edges: (m, 2) int32 directed pairs (u, v); indptr: (n+1,) and neighbours: (m,) the CSR of out-neighbours,
    sorted within each row (for binary-search membership tests); burnin_prob: (n,) and burnin_alias: (n,) the
    alias table (:func:`alias_table`) of count(w)^dampening, the distribution of burn-in negatives.
    """

    edges: jax.Array
    indptr: jax.Array
    neighbours: jax.Array
    burnin_prob: jax.Array
    burnin_alias: jax.Array


def alias_table(weights) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of non-negative ``weights`` (Vose's O(n) construction): ``(prob, alias)``.

    Drawing i uniformly from [0, n) and r from U[0, 1), then taking i if r < prob[i] and alias[i] otherwise,
    draws i with probability weights[i] / Σ weights: a constant two gathers per draw, where inverse-CDF
    sampling needs a log₂ n binary search (the reference code's sampler is an alias table too). Bucket i keeps
    prob[i] = n·w_i/W of its own mass and lends the rest to alias[i]; zero-weight ids are never drawn.
    """
    w = np.asarray(weights, np.float64)
    if w.ndim != 1 or not len(w) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("alias_table needs a 1-D array of finite non-negative weights with a positive sum")
    n = len(w)
    scaled = w * (n / w.sum())
    prob = np.ones(n)
    alias = np.arange(n)
    small = np.flatnonzero(scaled < 1.0).tolist()
    large = np.flatnonzero(scaled >= 1.0).tolist()
    while small and large:
        s, big = small.pop(), large[-1]
        prob[s], alias[s] = scaled[s], big
        scaled[big] -= 1.0 - scaled[s]
        if scaled[big] < 1.0:
            small.append(large.pop())
    # leftovers hold (up to rounding) exactly their own mass: prob 1
    return prob, alias


def closure_graph(edges, num_nodes: int, *, dampening: float = 0.75, dtype=jnp.float32) -> ClosureGraph:
    """Build the :class:`ClosureGraph` of a (m, 2) array of directed pairs over ``num_nodes`` nodes."""
    edges = np.unique(np.asarray(edges, dtype=np.int64), axis=0)  # sorted by (u, v): rows of the CSR
    indptr = np.zeros(num_nodes + 1, np.int64)
    np.add.at(indptr, edges[:, 0] + 1, 1)
    indptr = np.cumsum(indptr)
    counts = np.bincount(edges[:, 1], minlength=num_nodes).astype(np.float64) ** dampening
    prob, alias = alias_table(counts)
    return ClosureGraph(
        edges=jnp.asarray(edges, jnp.int32),
        indptr=jnp.asarray(indptr, jnp.int32),
        neighbours=jnp.asarray(edges[:, 1], jnp.int32),
        burnin_prob=jnp.asarray(prob, dtype),
        burnin_alias=jnp.asarray(alias, jnp.int32),
    )


def _search_steps(graph: ClosureGraph) -> int:
    max_degree = int(np.max(np.diff(np.asarray(graph.indptr))))
    return max(1, max_degree.bit_length())


def is_edge(graph: ClosureGraph, u, w, *, steps: int):
    """Whether ``(u, w)`` is in the closure, by a fixed-length binary search in ``u``'s sorted neighbour row.

    ``u`` and ``w`` broadcast; ``steps`` must be ≥ bit_length(max out-degree) (static). The row bounds are
    gathered at ``u``'s own shape (once per source, not once per draw) and the search is unrolled, so XLA
    fuses its ``steps`` dependent loads into one pass over the draws.
    """
    lo = graph.indptr[u]
    hi = graph.indptr[u + 1]
    lo, hi, w = jnp.broadcast_arrays(lo, hi, w)
    end = hi
    last = graph.neighbours.shape[0] - 1
    for _ in range(steps):
        mid = (lo + hi) // 2
        right = graph.neighbours[jnp.minimum(mid, last)] < w
        active = lo < hi
        lo, hi = jnp.where(active & right, mid + 1, lo), jnp.where(active & ~right, mid, hi)
    return (lo < end) & (graph.neighbours[jnp.minimum(lo, last)] == w)


def redraw_slots(graph: ClosureGraph, num_sources: int, num_negatives: int) -> int:
    """Static number of sources per redraw round of :func:`sample_negatives` (``slots``) for a batch.

    A uniform draw for source ``u`` is rejected with probability (deg(u) + 1)/n ≤ p = (max degree + 1)/n, so
    the number of sources with a rejected draw has mean ≤ ``num_sources·num_negatives·p``; the buffer holds
    twice that plus 64, capped at ``num_sources``. For the noun closure (p = 35/82115), 1024 sources and 50
    negatives: 108 sources for a mean of ≤ 22 (≈ 7 in practice).
    """
    max_degree = int(np.max(np.diff(np.asarray(graph.indptr))))
    num_nodes = int(graph.indptr.shape[0]) - 1
    mean = num_sources * num_negatives * (max_degree + 1) / num_nodes
    return int(min(num_sources, math.ceil(2.0 * mean) + 64))


def uniform_nodes(key, shape, num_nodes: int):
    """Uniform node ids in [0, num_nodes): ``bits mod num_nodes`` over 32 random bits.

    One draw of 32 bits per id (``jax.random.randint`` draws twice for exact uniformity). The modulo bias is
    below num_nodes/2³² relative (2e-5 for 82k nodes): ids below 2³² mod num_nodes are that much likelier.
    """
    bits = jax.random.bits(key, shape, jnp.uint32)
    return (bits % jnp.uint32(num_nodes)).astype(jnp.int32)


def sample_negatives(
    key,
    graph: ClosureGraph,
    u,
    num_negatives: int,
    *,
    burnin,
    rounds: int = 2,
    steps: int,
    slots: int | None = None,
):
    """Draw ``num_negatives`` negatives per source ``u`` (shape (B,)) that are never ``u`` nor a neighbour of ``u``.

    Returns ``(negatives (B, K) int32, valid (B, K) bool)``: draws still invalid after ``rounds`` draws (the first and ``rounds − 1`` redraws) are
    flagged ``valid=False`` (the loss masks them). ``burnin`` (a traced bool) switches uniform draws to draws
    ∝ count^dampening.

    Uniform draws are rarely rejected (probability (deg(u) + 1)/n), so with ``slots`` (static, e.g.
    :func:`redraw_slots`) each redraw round redraws and tests only the rows of the first ``slots`` sources
    that have a rejected draw (found with ``nonzero`` over B flags), not all B·K draws; rejected draws of
    sources beyond the first ``slots`` stay rejected (masked). Burn-in draws (often ancestors) always redraw
    every rejected draw. ``slots=None`` redraws every rejected draw in both phases.
    """
    num_nodes = graph.indptr.shape[0] - 1
    shape = u.shape + (num_negatives,)

    def weighted(k, shape):  # the alias method: one uniform id, one uniform coin, two gathers
        k_id, k_coin = jax.random.split(k)
        ids = uniform_nodes(k_id, shape, num_nodes)
        coin = jax.random.uniform(k_coin, shape, dtype=graph.burnin_prob.dtype)
        return jnp.where(coin < graph.burnin_prob[ids], ids, graph.burnin_alias[ids])

    def invalid(src, w):
        return (w == src) | is_edge(graph, src, w, steps=steps)

    keys = jax.random.split(key, rounds)

    def dense_rounds(draw):
        negatives = draw(keys[0], shape)
        bad = invalid(u[:, None], negatives)
        for k in keys[1:]:
            redraw = draw(k, shape)
            negatives = jnp.where(bad, redraw, negatives)
            bad = bad & invalid(u[:, None], negatives)
        return negatives, ~bad

    def compact_rounds(draw):
        negatives = draw(keys[0], shape)
        bad = invalid(u[:, None], negatives)
        num_sources = u.shape[0]
        for k in keys[1:]:
            (rows,) = jnp.nonzero(jnp.any(bad, axis=1), size=slots, fill_value=num_sources)
            src = u.at[rows].get(mode="clip")[:, None]
            row_bad = bad.at[rows].get(mode="clip")
            redrawn = jnp.where(row_bad, draw(k, (slots, num_negatives)), negatives.at[rows].get(mode="clip"))
            negatives = negatives.at[rows].set(redrawn, mode="drop")
            bad = bad.at[rows].set(row_bad & invalid(src, redrawn), mode="drop")
        return negatives, ~bad

    def uniform(k, shape):
        return uniform_nodes(k, shape, num_nodes)

    uniform_rounds = dense_rounds if slots is None else compact_rounds
    return jax.lax.cond(burnin, lambda: dense_rounds(weighted), lambda: uniform_rounds(uniform))


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


def asinh_nonneg(s, root):
    """asinh(s) for s ≥ 0 given ``root`` = √(1 + s²), from ``log`` only (XLA's CPU ``asinh`` costs ~15× more).

    log(s + √(1 + s²)) above s₀ = 0.1 (float32) or 0.02 (float64), where rounding of the argument costs at most
    a few ulps relative; below, the series s − s³/6 + 3s⁵/40 − 5s⁷/112, whose next term (≤ 0.031 s⁹) is below
    rounding.
    """
    small = s < (0.1 if s.dtype == jnp.float32 else 0.02)
    s2 = s * s
    series = s * (1.0 + s2 * (-1.0 / 6.0 + s2 * (3.0 / 40.0 + s2 * (-5.0 / 112.0))))
    return jnp.where(small, series, jnp.log(jnp.where(small, 1.0, s + root)))


def ball_loss_and_grad(rows, valid_negatives, weights, *, c):
    """:func:`batch_loss` on the Poincaré ball of curvature −c and its gradient with respect to ``rows``, in closed form.

    With ``u = rows[:, 0]``, ``o_j = rows[:, 1 + j]`` (j = 0 the positive, 1..K the negatives),
    D_j = ‖u − o_j‖², α = 1 − c‖u‖², β_j = 1 − c‖o_j‖² (both floored at ``min_norm``), q_j = c D_j/(α β_j) and
    d_j = (2/√c) asinh(√q_j) (:func:`geomrep.manifolds.poincare.dist`), the loss of pair b is
    L_b = logsumexp_{j valid}(−d_j) + d_0 and the batch loss is Σ_b w_b L_b / max(1, Σ_b w_b). Then

        ∂L/∂d_j = (w_b / W) (δ_{j0} − p_j),  p = softmax over the valid j of −d,
        ∂d_j/∂q_j = 1/(√c √q_j √(1 + q_j))  (0 at q_j = 0, the subgradient ``safe_sqrt`` gives),
        ∂q_j/∂u   = (2c/(α β_j)) ((u − o_j) + (c D_j/α) u),
        ∂q_j/∂o_j = (2c/(α β_j)) ((o_j − u) + (c D_j/β_j) o_j),

    (the α, β terms drop where the floor is active, as with ``jnp.maximum``). With
    G_j = ∂L/∂d_j · ∂d_j/∂q_j · 2c/(α β_j): ∂L/∂o_j = (G_j c D_j/β_j) o_j − G_j (u − o_j) and
    ∂L/∂u = (Σ_j G_j c D_j/α) u + Σ_j G_j (u − o_j). Three passes over the rows (the squared norms, the
    per-pair scalars, the gradient) where reverse-mode autodiff of :func:`batch_loss` makes about ten; agrees
    with ``jax.value_and_grad(batch_loss)`` to rounding.

    Returns ``(loss, grads)`` with ``grads`` shaped like ``rows`` (B, K + 2, D).
    """
    dtype = rows.dtype
    tiny = numerics.min_norm(dtype)
    sqrt_c = c**0.5
    u = rows[:, :1, :]  # (B, 1, D)
    o = rows[:, 1:, :]  # (B, K + 1, D)
    diff = u - o
    dd, oo = row_dots((diff, diff), (o, o), keepdims=False)  # (B, K + 1) each, one pass
    (uu,) = row_dots((u, u), keepdims=False)  # (B, 1)
    a_raw = 1.0 - c * uu
    b_raw = 1.0 - c * oo
    alpha = jnp.maximum(a_raw, tiny)
    beta = jnp.maximum(b_raw, tiny)
    q = c * dd / (alpha * beta)
    pos = q > 0
    q_safe = jnp.where(pos, q, 1.0)
    sq = jnp.sqrt(q_safe)
    s1 = jnp.sqrt(1.0 + q_safe)
    d = jnp.where(pos, (2.0 / sqrt_c) * asinh_nonneg(sq, s1), 0.0)
    mask = jnp.concatenate([jnp.ones_like(valid_negatives[:, :1]), valid_negatives], axis=1)
    # softmax of -d over the valid j, shifted by the smallest valid distance (column 0 is always valid)
    d_valid = jnp.where(mask, d, jnp.inf)
    d_min = jnp.min(d_valid, axis=1, keepdims=True)
    e = jnp.exp(d_min - d_valid)  # 0 where masked
    total = jnp.sum(e, axis=1, keepdims=True)
    scale = weights / jnp.maximum(jnp.sum(weights), 1.0)  # (B,)
    loss = jnp.sum((jnp.log(total[:, 0]) - d_min[:, 0] + d[:, 0]) * scale)
    p = e / total
    first = (jnp.arange(d.shape[1]) == 0).astype(dtype)
    dl_dd = scale[:, None] * (first - p)
    dd_dq = jnp.where(pos, 1.0 / (sqrt_c * sq * s1), 0.0)
    big_g = dl_dd * dd_dq * (2.0 * c) / (alpha * beta)  # (B, K + 1)
    cd = c * dd
    coef_o = big_g * jnp.where(b_raw > tiny, cd / beta, 0.0)
    coef_u = jnp.sum(big_g * jnp.where(a_raw > tiny, cd / alpha, 0.0), axis=1)  # (B,)
    # written with diff = u - o (not u and o separately): no cancellation when o_j is close to u
    grad_o = coef_o[..., None] * o - big_g[..., None] * diff
    grad_u = coef_u[:, None] * rows[:, 0, :] + jnp.einsum(
        "bj,bjd->bd", big_g, diff, precision=jax.lax.Precision.HIGHEST
    )
    return loss, jnp.concatenate([grad_u[:, None, :], grad_o], axis=1)


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
    slots = redraw_slots(graph, batch_size, num_negatives)

    def step(carry, xs):
        table, opt_state, graph, burnin = carry
        pair_ids, key = xs
        weights = (pair_ids >= 0).astype(table.dtype)
        pairs = graph.edges[jnp.maximum(pair_ids, 0)]
        u, v = pairs[:, 0], pairs[:, 1]
        negatives, valid = sample_negatives(
            key, graph, u, num_negatives, burnin=burnin, steps=search_steps, slots=slots
        )
        idx = jnp.concatenate([u[:, None], v[:, None], negatives], axis=1)
        used = jnp.concatenate([jnp.ones_like(valid[:, :2]), valid], axis=1) & (pair_ids >= 0)[:, None]
        idx = jnp.where(used, idx, num_nodes)  # padding / masked rows: out of range, never written
        rows = table.at[idx].get(mode="clip")
        if isinstance(manifold, PoincareBall):
            loss, row_grads = ball_loss_and_grad(rows, valid, weights, c=manifold.c)
        else:
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
