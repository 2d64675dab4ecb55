"""Reconstruction metrics of an embedded graph.

``closure_reconstruction`` is the evaluation of Nickel & Kiela (2017), as the reference code computes it
(``hype/graph.py``): on the *training* transitive closure, directed (each node ``u`` is linked to its ancestors).
It ranks graph closure neighbours; Sala et al.'s MAP (:func:`graph_map`), which ranks distance-1 graph
neighbours, is a different metric with a different name. ``link_prediction`` is NK17's held-out variant: the same
ranking of held-out pairs, filtered (other true pairs are no candidates).

**Distance sources.** Every metric reads distances one block of rows at a time, never an n × n matrix unless
it was given one. The embedded distances (the first argument) come from one of

- ``embeddings`` (n, D) together with ``manifold=`` a manifold value: ``manifold.dist`` on (block, n) tiles,
  fused with the metric in one jitted kernel;
- an (n, n) array-like (numpy, ``np.memmap``, jax) with ``manifold=None``: its rows are read by slicing
  (e.g. the HDD distance matrix);
- a callable ``dist_rows(rows) -> (len(rows), n)`` with ``manifold=None``: ``rows`` is an ascending int64 array
  of distinct node ids, row i of the result the distances from node ``rows[i]`` to every node (e.g. the exact
  distances of the combinatorial construction). It runs on the host between kernel calls, so it may use
  anything. n is read from an attribute ``num_nodes`` when it has one, else from the width of its rows.

The true distances of :func:`distortion` come from a matrix or a callable too (:func:`graph_distance_rows` gives
BFS rows of a graph too large for its n × n matrix). Exact over all source rows by default; ``sample=k`` uses k
source rows drawn uniformly without replacement (``numpy.random.default_rng(seed)``), and the result says so.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

from geomrep.manifolds import Euclidean, PoincareBall, numerics

# (block × nodes) distances per kernel call: large enough to amortise the call (~0.3 ms), small enough that the
# block's (block, n) temporaries stay in cache. Measured on this 2-core CPU: the ranking kernel over the noun
# closure (n = 82k) is fastest at 12 rows (2^20; 3 rows: +90 %, 25 rows: +17 %), the distortion kernel at
# n = 4,000 at 64 rows (2^18; 524 rows: 3x slower), which writes several float64 (block, n) arrays.
_ELEMENTS_PER_BLOCK = 1 << 20
_DISTORTION_ELEMENTS_PER_BLOCK = 1 << 18
# Bytes of live temporaries per (block, n) element in the kernels (distances, graph rows, search positions and
# their float64 copies): the block size is capped so that they take at most half the free memory.
_BYTES_PER_ELEMENT = 48
# Up to this many thresholds (2 × neighbours) the counts below each are summed comparisons (one fused pass);
# beyond, a binary search among the merged thresholds and a histogram (O(n log P) instead of O(nP)).
_UNROLLED_THRESHOLDS = 64
# Up to this dimension the Poincaré-ball and Euclidean distances of a block are computed from coordinates stored
# axis-first, (D, n), as D vectorised (b, n) updates: about twice as fast as reducing the minor axis of (b, n, D).
_TRANSPOSED_MAX_DIM = 64

RowDistances = Callable[[np.ndarray], Any]  # rows (b,) int64 -> (b, n) distances


class Reconstruction(NamedTuple):
    """Result of :func:`closure_reconstruction`."""

    mean_rank: float  # mean over all (u, v) closure pairs of rank(u, v)
    map: float  # mean over sources u (nodes with ≥ 1 neighbour) of AP(u)
    num_sources: int  # sources evaluated (all nodes with a neighbour, or the sample)
    num_pairs: int
    sampled: bool = False  # True when num_sources is a uniform sample of the sources


class GraphReconstruction(NamedTuple):
    """Result of :func:`graph_reconstruction`."""

    map: float  # Sala et al.'s graph MAP: mean over sources a of AP(a) over the graph neighbours N_a
    mean_rank: float  # mean over (a, b ∈ N_a) of 1 + #{w ∉ N_a, w ≠ a : d(a, w) < d(a, b)}
    num_sources: int  # sources evaluated (every node with a neighbour, or the sample)
    sampled: bool  # True when num_sources is a uniform sample of the nodes with a neighbour


class Distortion(NamedTuple):
    """Result of :func:`distortion`."""

    average: float  # (1/n) Σ_i mean over the valid j of |d_emb(i, j)/scale − d_G(i, j)| / d_G(i, j)
    worst_case: float  # max(d/d_G) · max(d_G/d) over valid pairs, d = d_emb/scale; nan if there are none
    skipped_pairs: int  # ordered pairs (i, j), i ≠ j, left out because d_G or d_emb is 0, inf or nan
    num_sources: int = 0  # rows i averaged over: n when exact, the sample size otherwise
    sampled: bool = False  # True when the rows are a uniform sample (then worst_case is a lower bound)


# --- distance sources ---------------------------------------------------------------------------------------------


class _Transposed(NamedTuple):
    """Points stored axis-first for the transposed distance kernels, with their per-point ball factor."""

    coords: jax.Array  # (D, n)
    inv_beta: jax.Array | None  # (n,) 1/max(1 − c‖y‖², min_norm) on the Poincaré ball, None in Euclidean space


def _transposed(points, manifold) -> _Transposed:
    inv_beta = None
    if isinstance(manifold, PoincareBall):
        tiny = numerics.min_norm(points.dtype)
        inv_beta = 1.0 / jnp.maximum(1.0 - manifold.c * jnp.sum(points * points, axis=1), tiny)
    return _Transposed(jnp.asarray(points.T), inv_beta)


class _Source(NamedTuple):
    """Where a metric reads distances: points of a manifold, or host rows of a matrix / a row function."""

    num_nodes: int
    manifold: Any = None  # with ``points``: distances computed inside the kernels
    points: jax.Array | None = None
    points_t: _Transposed | None = None  # axis-first copy of ``points`` for the transposed kernels, or None
    read: Callable[[np.ndarray], Any] | None = None  # rows -> (len(rows), n), host side
    name: str = "distances"


def _finite_embeddings(embeddings) -> jax.Array:
    embeddings = jnp.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be an (n, D) array of points; got shape {embeddings.shape}")
    finite = np.asarray(jnp.all(jnp.isfinite(embeddings), axis=-1))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(f"embeddings hold non-finite values in {len(bad)} rows, the first at index {bad[0]}")
    return embeddings


def _matrix_rows(matrix):
    def read(rows):
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1:  # consecutive: a slice (fast on a memmap)
            return matrix[int(rows[0]) : int(rows[-1]) + 1]
        return matrix[rows]

    return read


def _as_source(value, manifold, name: str, num_nodes: int | None = None) -> _Source:
    """Normalise embeddings + manifold, an (n, n) matrix or a row function into a :class:`_Source`."""
    if manifold is not None:
        points = _finite_embeddings(value)
        fast = type(manifold) in (PoincareBall, Euclidean) and points.shape[1] <= _TRANSPOSED_MAX_DIM
        points_t = _transposed(points, manifold) if fast else None
        return _Source(points.shape[0], manifold=manifold, points=points, points_t=points_t, name=name)
    if callable(value) and not hasattr(value, "shape"):
        n = getattr(value, "num_nodes", None)
        if n is None:
            n = num_nodes
        if n is None:  # learn n from one row
            n = np.shape(value(np.zeros(1, np.int64)))[-1]
        return _Source(int(n), read=value, name=name)
    if not hasattr(value, "shape"):
        value = np.asarray(value)
    shape = tuple(value.shape)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty square (n, n) distance matrix, a row function dist_rows(rows) -> "
            f"(len(rows), n), or embeddings with manifold=; got shape {shape}"
        )
    return _Source(shape[0], read=_matrix_rows(value), name=name)


def _read_rows(source: _Source, rows: np.ndarray, *, check: bool) -> np.ndarray:
    """Rows ``rows`` of a host source as a (len(rows), n) float array; with ``check``, non-finite or negative
    off-diagonal entries are a ValueError naming the first bad (row, column)."""
    block = np.asarray(source.read(rows))
    if block.shape != (len(rows), source.num_nodes):
        raise ValueError(
            f"{source.name}: rows {rows[0]}..{rows[-1]} came back with shape {block.shape}, expected "
            f"({len(rows)}, {source.num_nodes})"
        )
    if not np.issubdtype(block.dtype, np.floating):
        block = block.astype(np.float64)
    if check:
        bad = ~np.isfinite(block) | (block < 0)
        bad[np.arange(len(rows)), rows] = False
        if bad.any():
            i, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise ValueError(
                f"{source.name}[{rows[i]}, {j}] = {block[i, j]}: distances must be finite and >= 0 off the diagonal"
            )
    return block


def _free_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _block_rows(
    rows: int, num_nodes: int, block_size: int | None, elements: int = _ELEMENTS_PER_BLOCK
) -> int:
    """Rows per kernel call: the given ``block_size`` or ``elements // n``, capped so that four blocks' temporaries
    (one per worker thread) fit in half the free memory (a too-large request is reduced with a warning rather than
    exhausting memory)."""
    if block_size is not None and (isinstance(block_size, bool) or int(block_size) < 1):
        raise ValueError(f"block_size must be a positive integer; got {block_size}")
    wanted = int(block_size) if block_size is not None else max(1, elements // num_nodes)
    free = _free_memory_bytes()
    if free is not None:
        fits = max(1, free // 8 // (_BYTES_PER_ELEMENT * num_nodes))  # half the memory, ≤ 4 blocks at a time
        if wanted > fits:
            if block_size is not None:
                warnings.warn(
                    f"block_size={block_size} needs ~{_BYTES_PER_ELEMENT * wanted * num_nodes / 2**30:.1f} GiB but "
                    f"{free / 2**30:.1f} GiB are free: using block_size={fits}",
                    stacklevel=3,
                )
            wanted = fits
    return max(1, min(wanted, rows))


def _sample_rows(candidates: np.ndarray, sample: int | None, seed: int) -> tuple[np.ndarray, bool]:
    """All candidates, or ``sample`` of them drawn uniformly without replacement (sorted); and whether sampled."""
    if sample is None:
        return candidates, False
    if isinstance(sample, bool) or int(sample) < 1:
        raise ValueError(f"sample must be a positive number of source nodes or None (all); got {sample}")
    if int(sample) >= len(candidates):
        return candidates, False
    chosen = np.random.default_rng(seed).choice(len(candidates), size=int(sample), replace=False)
    return candidates[np.sort(chosen)], True


def graph_distance_rows(edges, num_nodes: int) -> RowDistances:
    """A row function of unweighted shortest-path lengths: ``dist_rows(rows)`` = rows of :func:`graph_distances`.

    Each call runs a BFS from every node in ``rows`` (``scipy.sparse.csgraph.shortest_path(..., indices=rows)``),
    O(len(rows) · m) time and O(len(rows) · n) memory, so :func:`distortion` works on graphs whose n × n matrix
    does not fit (WordNet, n = 74,374: 44 GB). The function carries ``num_nodes``.

    >>> rows = graph_distance_rows(np.array([[0, 1], [1, 2]]), 3)
    >>> rows(np.array([0, 2]))
    array([[0., 1., 2.],
           [2., 1., 0.]])
    """
    num_nodes = int(num_nodes)
    if num_nodes < 1:
        raise ValueError(f"num_nodes must be positive; got {num_nodes}")
    pairs = _undirected_edges(edges, num_nodes)
    adjacency = scipy.sparse.csr_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(num_nodes, num_nodes)
    )

    def dist_rows(rows):
        rows = np.asarray(rows, dtype=np.int64)
        return scipy.sparse.csgraph.shortest_path(
            adjacency, directed=False, unweighted=True, indices=rows
        ).astype(np.float64)

    dist_rows.num_nodes = num_nodes
    return dist_rows


def nearest_neighbour_edges(distances, *, block_size: int | None = None) -> np.ndarray:
    """The nearest-neighbour pairs of a distance matrix: (i, j) with d(i, j) = min_{k ≠ i} d(i, k), ties all kept.

    For a distance matrix given without a graph, these pairs play the graph's neighbours in :func:`graph_map`
    with ``directed=True`` (N_a = a's own nearest neighbours; a matrix then ranks itself with MAP 1). For the
    shortest-path matrix of a graph they are exactly its edges, in both directions. ``distances`` is an (n, n) array-like or a row function (see the module docstring), read one
    block of rows at a time; non-finite or negative off-diagonal entries are an error naming the entry.

    >>> d = np.array([[0, 1, 3], [1, 0, 2], [3, 2, 0]])
    >>> nearest_neighbour_edges(d)
    array([[0, 1],
           [1, 0],
           [2, 1]])
    """
    source = _as_source(distances, None, "distances")
    n = source.num_nodes
    if n < 2:
        raise ValueError(f"nearest neighbours need at least 2 points; got n = {n}")
    block = _block_rows(n, n, block_size)
    found = []
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        d = _read_rows(source, rows, check=True).astype(np.float64)
        d[np.arange(len(rows)), rows] = np.inf
        i, j = np.nonzero(d == d.min(axis=1, keepdims=True))
        found.append(np.stack([rows[i], j], axis=1))
    return np.concatenate(found).astype(np.int64)


def _block_distances(manifold, points, points_t, src):
    """(b, n) distances from the points ``src`` to every point: ``manifold.dist``, or, when ``points_t`` (the
    points stored axis-first, :class:`_Transposed`) is given, the same formula with ‖x − y‖² accumulated over D
    axis-first.

    The transposed path serves :class:`PoincareBall` (``poincare.dist``: d = (2/√c) asinh(√(c‖x − y‖²/(αβ))),
    α, β = 1 − c‖·‖² clamped ≥ ``min_norm``) and :class:`Euclidean` (‖x − y‖), both computed from the keys of
    :func:`_block_rank_keys`; it agrees with ``manifold.dist`` up to rounding (the order of the D-term sum).
    """
    keys = _block_rank_keys(manifold, points, points_t, src)
    if points_t is None:
        return keys
    if isinstance(manifold, Euclidean):
        return jnp.sqrt(keys)
    inv_alpha = points_t.inv_beta[src][:, None]  # the sources' own factor
    return (2.0 / np.sqrt(manifold.c)) * jnp.arcsinh(jnp.sqrt(manifold.c * keys * inv_alpha))


def _block_rank_keys(manifold, points, points_t, src):
    """(b, n) keys that order every row as :func:`_block_distances` does, for ranking within a row.

    On the transposed path (:class:`PoincareBall`, :class:`Euclidean`) the key is ‖x − y‖²/max(1 − c‖y‖², tiny)
    for the ball (the factor precomputed per point, ``points_t.inv_beta``), since
    d = (2/√c) asinh(√(c‖x − y‖²/(αβ))) is strictly increasing in it and α depends only on the row's source x;
    and ‖x − y‖² for Euclidean space. Exact ties stay ties, no new ones are made by rounding the asinh, and the
    per-element square root and asinh (over half the ranking kernel's time on CPU) are skipped. Other
    manifolds: their distance.
    """
    if points_t is None:
        return manifold.dist(points[src][:, None, :], points[None, :, :])
    coords = points_t.coords
    x_t = coords[:, src]  # (D, b)
    sq = jnp.zeros((src.shape[0], coords.shape[1]), coords.dtype)
    for axis in range(coords.shape[0]):
        sq = sq + (x_t[axis][:, None] - coords[axis][None, :]) ** 2
    if isinstance(manifold, Euclidean):
        return sq
    return sq * points_t.inv_beta[None, :]


def _run_blocks(blocks: Iterable, compute: Callable, threads: int | None) -> list:
    """``[compute(block) for block in blocks]`` on up to ``threads`` worker threads (default: the usable CPU
    cores, at most 4). XLA runs one kernel call on one core, so concurrent calls use the others."""
    blocks = list(blocks)
    if threads is None:
        threads = min(
            4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        )
    if threads <= 1 or len(blocks) <= 1:
        return [compute(block) for block in blocks]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(compute, blocks))


# --- ranking kernel (closure MAP and graph MAP) -------------------------------------------------------------------


class _Neighbours(NamedTuple):
    """Directed neighbour lists in CSR form: node ``sources[i]`` has neighbours ``targets[starts[i]:][:counts[i]]``."""

    sources: np.ndarray  # (s,) int32 nodes with ≥ 1 neighbour, ascending
    starts: np.ndarray  # (s,) int64
    counts: np.ndarray  # (s,) int64
    targets: np.ndarray  # (m,) int32, grouped by source


def _neighbour_lists(edges: np.ndarray) -> _Neighbours:
    edges = np.unique(np.asarray(edges, dtype=np.int64), axis=0)  # sorted by source, duplicates dropped
    sources, starts, counts = np.unique(edges[:, 0], return_index=True, return_counts=True)
    return _Neighbours(sources.astype(np.int32), starts, counts, edges[:, 1].astype(np.int32))


def _neighbour_table(lists: _Neighbours, members: np.ndarray, width: int, num_nodes: int) -> np.ndarray:
    """(len(members), width) neighbours of the sources ``members`` (indices into ``lists``), padded with n.

    Built per degree group, so one hub (the noun closure's root has 82,114 neighbours when symmetrised) never
    widens the table of every source.
    """
    counts = lists.counts[members]
    table = np.full((len(members), width), num_nodes, dtype=np.int32)
    slot = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    targets = lists.targets[np.repeat(lists.starts[members], counts) + slot]
    table[np.repeat(np.arange(len(members)), counts), slot] = targets
    return table


def _positives_table(edges: np.ndarray, num_nodes: int):
    """Sources with ≥ 1 out-neighbour and their neighbours padded with ``num_nodes`` to a (s, P) table."""
    lists = _neighbour_lists(edges)
    members = np.arange(len(lists.sources))
    return lists.sources, _neighbour_table(lists, members, int(lists.counts.max()), num_nodes)


def _row_counts(operands):
    """``tuple(Σ_w x[:, w] for x in operands)`` for (b, n) int32 operands, as one variadic ``lax.reduce``: XLA
    fuses the operands' comparisons into a single pass over the row (measured 10× cheaper on CPU than a scatter
    histogram of the same counts, and 50× cheaper than reducing one broadcast (b, m, n) comparison)."""
    zeros = tuple(jnp.zeros((), jnp.int32) for _ in operands)
    return jax.lax.reduce(
        tuple(operands), zeros, lambda x, y: tuple(p + q for p, q in zip(x, y, strict=True)), (1,)
    )


def _rank_stats(d, sources, positives, ignored=None):
    """Sum of ranks, number of pairs, sum of AP and number of non-finite distances over one block of sources.

    ``d`` (b, n) holds the distances from each source (padded sources are -1) to every node, or any keys that
    order each row as its distances do (:func:`_block_rank_keys`). Per row, the neighbours' distances sorted are the thresholds t_0 ≤ … ≤ t_{P−1} (padding +inf), and the kernel needs

        #{w : d_w ≤ t_j}   and   #{w : d_w < t_j}.

    Narrow rows (2P ≤ ``_UNROLLED_THRESHOLDS``) count them directly: 2P comparisons per node summed over the
    row in one fused pass (:func:`_row_counts`), O(nP). Wider rows (hubs) use s_j, the largest float below t_j
    (d_w < t_j ⟺ d_w ≤ s_j), so both counts are prefix counts over the merged sorted thresholds
    T = sort(t ∪ s) (length L, a power of two padded with +inf): each node w is placed at k(w) = #{m : T_m < d_w}
    by a branchless binary search of log₂ L steps (one gather from the block's flat threshold table each), and
    #{w : d_w ≤ T_m} = #{w : k(w) ≤ m} is the cumulative histogram of k, O(n log P). Subtracting the neighbours
    counted there gives the ranks among non-neighbours and the precisions at each neighbour, ties grouped. The
    node itself sits at +inf.

    ``ignored`` (b, Q), padded with n, optionally lists per row nodes I(u) that are not candidates at all (the
    filtered setting of link prediction: other known true pairs). They must be distinct, not u and not in the
    row's positives. Their distances sorted give #{i ∈ I(u) : d_i ≤ t_j} and #{i ∈ I(u) : d_i < t_j} by two
    binary searches per threshold (O(P log Q)), subtracted from the counts above:

        rank(u, v_j) = 1 + #{w ∉ P(u) ∪ I(u), w ≠ u : d_w < t_j},
        precision_j  = #{v ∈ P(u) : d_v ≤ t_j} / #{w ∉ I(u), w ≠ u : d_w ≤ t_j}.
    """
    num_nodes = d.shape[1]
    num_rows, width = positives.shape
    valid_src = sources >= 0
    src = jnp.where(valid_src, sources, 0)
    rows = jnp.arange(num_rows)
    d = d.at[rows, src].set(jnp.inf)  # the node itself is never a candidate
    pos_valid = (positives < num_nodes) & valid_src[:, None]
    d_pos = jnp.take_along_axis(d, jnp.minimum(positives, num_nodes - 1), axis=1)  # (b, P)
    t = jnp.sort(jnp.where(pos_valid, d_pos, jnp.inf), axis=1)  # valid thresholds first, padding last
    # XLA on CPU treats subnormals as 0 in comparisons, so thresholds below the smallest normal number are taken
    # as 0 (the sorted searches below then agree with the comparisons), and the float below 0 is −tiny.
    tiny = jnp.finfo(t.dtype).tiny
    t = jnp.where(jnp.abs(t) < tiny, 0.0, t).astype(t.dtype)
    if 2 * width <= _UNROLLED_THRESHOLDS:
        counts = _row_counts(
            [(d <= t[:, j : j + 1]).astype(jnp.int32) for j in range(width)]
            + [(d < t[:, j : j + 1]).astype(jnp.int32) for j in range(width)]
            + [(~jnp.isfinite(d)).astype(jnp.int32)]
        )
        all_le = jnp.stack(counts[:width], axis=1)  # #{w ≠ u : d_w ≤ t_j}
        all_lt = jnp.stack(counts[width : 2 * width], axis=1)  # #{w ≠ u : d_w < t_j}
        non_finite = jnp.sum(jnp.where(valid_src, counts[-1] - 1, 0))  # the node itself is at +inf
    else:
        all_le, all_lt, non_finite = _merged_threshold_counts(d, t, valid_src)
    pos_lt = jax.vmap(lambda tr: jnp.searchsorted(tr, tr, side="left"))(t)  # neighbours strictly closer
    pos_le = jax.vmap(lambda tr: jnp.searchsorted(tr, tr, side="right"))(t)  # neighbours not farther
    n_pos = jnp.sum(pos_valid, axis=1)
    valid = jnp.arange(width)[None, :] < n_pos[:, None]
    if ignored is not None:  # not candidates: remove them from both counts
        ign_valid = (ignored < num_nodes) & valid_src[:, None]
        d_ign = jnp.take_along_axis(d, jnp.minimum(ignored, num_nodes - 1), axis=1)  # (b, Q)
        d_ign = jnp.where(jnp.abs(d_ign) < tiny, 0.0, d_ign).astype(d.dtype)  # compared as the counts do
        d_ign = jnp.sort(jnp.where(ign_valid, d_ign, jnp.inf), axis=1)

        def count(values, side):
            return jax.vmap(lambda row, v: jnp.searchsorted(row, v, side=side))(d_ign, values)

        all_le = all_le - count(t, "right")  # #{i ∈ I(u) : d_i ≤ t_j}
        all_lt = all_lt - count(t, "left")  # #{i ∈ I(u) : d_i < t_j}
    rank = 1 + all_lt - pos_lt
    precision = pos_le.astype(d.dtype) / jnp.maximum(all_le, 1).astype(d.dtype)
    ap = jnp.sum(jnp.where(valid, precision, 0.0), axis=1) / jnp.maximum(n_pos, 1)
    rank_sum = jnp.sum(jnp.where(valid, rank, 0))  # ≤ block·P·n: no int32 overflow
    return rank_sum, jnp.sum(n_pos), jnp.sum(jnp.where(valid_src, ap, 0.0)), non_finite


def _merged_threshold_counts(d, t, valid_src):
    """(#{w : d_w ≤ t_j}, #{w : d_w < t_j}, non-finite count) of :func:`_rank_stats` for wide rows: binary search
    of every node among the merged thresholds T = sort(t ∪ s), then a per-row histogram (one scatter)."""
    num_rows, width = t.shape
    rows = jnp.arange(num_rows)
    tiny = jnp.finfo(t.dtype).tiny
    below = jnp.where(t == 0, -tiny, jnp.nextafter(t, jnp.array(-jnp.inf, t.dtype))).astype(t.dtype)
    merged = jnp.sort(jnp.concatenate([t, below], axis=1), axis=1)  # T, (b, 2P)
    length = 1 << (2 * width).bit_length()  # a power of two > 2P: at least one +inf pad, so k(w) ≤ L − 1
    flat = jnp.pad(merged, ((0, 0), (0, length - 2 * width)), constant_values=jnp.inf).reshape(-1)
    k = jnp.zeros(d.shape, jnp.int32)
    step = length // 2
    while step:
        k = k + jnp.where(flat[(rows * length)[:, None] + k + (step - 1)] < d, step, 0)
        step //= 2
    # one more bin counts the non-finite distances (the node itself, at +inf, among them): no separate reduction
    k = jnp.where(jnp.isfinite(d), k, length)
    length += 1
    offset = (rows * length)[:, None]
    hist = jnp.bincount((offset + k).reshape(-1), length=num_rows * length).reshape(num_rows, length)
    non_finite = jnp.sum(jnp.where(valid_src, hist[:, -1] - 1, 0))
    at_most = jnp.cumsum(hist, axis=1)  # [m] = #{w ≠ u : d_w ≤ T_m}

    def position(values):
        return jax.vmap(lambda row, v: jnp.searchsorted(row, v, side="left"))(merged, values)

    return (
        jnp.take_along_axis(at_most, position(t), axis=1),
        jnp.take_along_axis(at_most, position(below), axis=1),
        non_finite,
    )


@functools.partial(jax.jit, static_argnums=0)
def _block_stats(manifold, embeddings, embeddings_t, sources, positives, ignored=None):
    """:func:`_rank_stats` with the block's rank keys (:func:`_block_rank_keys`) computed in the same kernel.

    Jitted once per (manifold, shapes): repeated evaluations during training reuse the compiled kernel.
    """
    src = jnp.where(sources >= 0, sources, 0)
    d = _block_rank_keys(manifold, embeddings, embeddings_t, src)  # (b, n)
    return _rank_stats(d, sources, positives, ignored)


_rank_stats_jit = jax.jit(_rank_stats)


def _ignored_lists(lists: _Neighbours, known: np.ndarray) -> _Neighbours:
    """Per source of ``lists``: the nodes w with (u, w) in ``known`` that are neither u nor a neighbour of u in
    ``lists`` (CSR aligned with ``lists.sources``; sources without any get count 0)."""
    known = np.asarray(known, dtype=np.int64)
    keys = lists.sources.astype(np.int64)  # ascending
    at = np.minimum(np.searchsorted(keys, known[:, 0]), len(keys) - 1)
    known = known[(keys[at] == known[:, 0]) & (known[:, 0] != known[:, 1])]  # sources being ranked, no loops
    if len(known):
        num = int(max(known.max(), lists.targets.max(), keys.max())) + 1
        pos_keys = np.repeat(keys, lists.counts) * num + lists.targets  # sorted: lists come from np.unique
        known_keys = np.unique(known[:, 0] * num + known[:, 1])
        known_keys = known_keys[~np.isin(known_keys, pos_keys, assume_unique=True)]
        known = np.stack(np.divmod(known_keys, num), axis=1)
    else:
        known = np.zeros((0, 2), np.int64)
    index = np.searchsorted(keys, known[:, 0])
    counts = np.bincount(index, minlength=len(keys)).astype(np.int64)
    starts = np.cumsum(counts) - counts
    return _Neighbours(lists.sources, starts, counts, known[:, 1].astype(np.int32))


def _width(counts: np.ndarray) -> np.ndarray:
    """Table widths: counts rounded up to a power of two (0 stays 0)."""
    return np.where(counts > 0, 1 << np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64), 0)


def _ranking(source: _Source, edges: np.ndarray, *, block_size, sample, seed, threads=None, known=None):
    """(rank_sum, pairs, ap_sum, num_sources, sampled) over the sources of the directed ``edges``.

    With ``known`` (pairs (u, w)), the w with (u, w) ∈ known that are not ranked pairs of u are removed from u's
    candidates (:func:`_rank_stats`'s ``ignored``). Sources are grouped by their number of neighbours, the table's
    width rounded up to a power of two, so a few hubs (WordNet's 404 children) do not pad every row of the
    threshold table; the ignored table is as wide as the neighbour table, or wider (the next power of two) for
    sources that ignore more nodes, so filtering adds kernel shapes (compiles) only for those.
    """
    num_nodes = source.num_nodes
    lists = _neighbour_lists(edges)
    ignored = _ignored_lists(lists, known) if known is not None else None
    chosen, sampled = _sample_rows(np.arange(len(lists.sources)), sample, seed)
    bucket = _width(lists.counts[chosen])
    ignore_bucket = np.zeros_like(bucket)
    if ignored is not None:  # at least the neighbour width: one kernel per width unless a source ignores more
        ignore_bucket = np.maximum(bucket, _width(ignored.counts[chosen]))
    if len(chosen) * num_nodes <= _ELEMENTS_PER_BLOCK:  # one call's worth: one kernel, no per-width compiles
        bucket[:] = bucket.max()
        ignore_bucket[:] = ignore_bucket.max()
    blocks = []  # (sources, neighbour table, ignored table or None) per kernel call, padded to the block shape
    for width, ignore_width in sorted(set(zip(bucket.tolist(), ignore_bucket.tolist(), strict=True))):
        members = chosen[(bucket == width) & (ignore_bucket == ignore_width)]
        block = _block_rows(len(members), num_nodes, block_size)
        pad = (-len(members)) % block
        group_sources = np.concatenate([lists.sources[members], np.full(pad, -1, np.int32)])
        table = np.concatenate(
            [
                _neighbour_table(lists, members, int(width), num_nodes),
                np.full((pad, width), num_nodes, np.int32),
            ]
        )
        ignore_table = None
        if ignore_width:
            ignore_table = np.concatenate(
                [
                    _neighbour_table(ignored, members, int(ignore_width), num_nodes),
                    np.full((pad, ignore_width), num_nodes, np.int32),
                ]
            )
        for start in range(0, len(group_sources), block):
            part = slice(start, start + block)
            blocks.append(
                (group_sources[part], table[part], None if ignore_table is None else ignore_table[part])
            )

    def compute(item):
        src, pos, ign = item
        if source.points is not None:
            out = _block_stats(source.manifold, source.points, source.points_t, src, pos, ign)
        else:
            ids = src[src >= 0].astype(np.int64)
            order = np.argsort(ids)
            rows = _read_rows(source, ids[order], check=False)
            d = np.zeros((len(src), num_nodes), rows.dtype)
            d[order] = rows
            out = _rank_stats_jit(d, src, pos, ign)
        r, p, a, bad = out
        return float(r), int(p), float(a), int(bad)

    results = _run_blocks(blocks, compute, threads)
    rank_sum = sum(r[0] for r in results)
    pairs = sum(r[1] for r in results)
    ap_sum = sum(r[2] for r in results)
    non_finite = sum(r[3] for r in results)
    if non_finite:
        what = (
            f"are the embeddings points of {source.manifold!r}?" if source.points is not None else source.name
        )
        raise ValueError(f"{non_finite} embedded distances are not finite: {what}")
    return rank_sum, pairs, ap_sum, len(chosen), sampled


def _checked_pairs(edges, num_nodes: int, name: str, *, allow_empty: bool = False) -> np.ndarray:
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or (len(edges) == 0 and not allow_empty):
        raise ValueError(f"{name} must be a non-empty (m, 2) integer array; got shape {edges.shape}")
    if len(edges) and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(f"{name} ids must lie in [0, {num_nodes}); got range [{edges.min()}, {edges.max()}]")
    return edges


def closure_reconstruction(
    embeddings,
    edges,
    manifold,
    *,
    known=None,
    block_size: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> Reconstruction:
    """Mean rank and MAP of a transitive closure reconstructed from embeddings (Nickel & Kiela 2017, §4.1).

    For each node ``u`` with neighbours ``N(u) = {v : (u, v) in edges}`` (its ancestors, for a child→ancestor
    closure), every candidate ``w ∈ C(u)`` is scored by ``-d(u, w)``, where ``C(u) = {w ≠ u : w ∉ K(u)} ∪ N(u)``
    and ``K(u) = {w : (u, w) in known}`` (empty by default):

    - ``rank(u, v) = 1 + |{w ∈ C(u) ∖ N(u) : d(u, w) < d(u, v)}|`` (other neighbours do not count);
      mean rank = mean over all pairs ``(u, v)``;
    - ``AP(u) = mean_{v ∈ N(u)} |{v' ∈ N(u): d(u,v') <= d(u,v)}| / |{w ∈ C(u) : d(u,w) <= d(u,v)}|`` (sklearn's
      ``average_precision_score(labels, -d)`` over C(u), ties grouped); MAP = mean of AP(u) over nodes with
      neighbours.

    ``known`` is the filtered setting: pairs known to be true but not ranked here (e.g. the other parts of a
    split, see :func:`link_prediction`) are neither positives nor negatives.

    Computed on device in blocks of source nodes: memory O(block · n), never an n × n matrix, and time
    O(n² log P) (P = largest number of neighbours), so an 82k-node closure evaluates without 82k² memory.

    Args:
      embeddings: (n, D) points of ``manifold`` (any dtype; distances are computed in that dtype); or, with
        ``manifold=None``, an (n, n) distance matrix or a row function (see the module docstring).
      edges: (m, 2) integer array of directed pairs (u, v).
      manifold: a manifold value with ``dist(x, y)``, or None for precomputed distances.
      known: None, or (k, 2) directed pairs (u, w) removed from u's candidates unless (u, w) is in ``edges``.
      block_size: sources per device call (default: ~1M distances per call, capped by free memory).
      sample: None for every source (exact), or a number of sources drawn uniformly (NK17's ``-sample``).
      seed: seed of the sample.
      threads: worker threads issuing kernel calls (default: the usable cores, at most 4; 1 = sequential).

    Returns:
      :class:`Reconstruction` with ``mean_rank``, ``map``, ``num_sources``, ``num_pairs``, ``sampled``.
    """
    source = _as_source(embeddings, manifold, "distances")
    num_nodes = source.num_nodes
    edges = _checked_pairs(edges, num_nodes, "edges")
    if known is not None:
        known = _checked_pairs(known, num_nodes, "known", allow_empty=True)
    rank_sum, pairs, ap_sum, num_sources, sampled = _ranking(
        source, edges, block_size=block_size, sample=sample, seed=seed, threads=threads, known=known
    )
    return Reconstruction(
        mean_rank=rank_sum / pairs,
        map=ap_sum / num_sources,
        num_sources=num_sources,
        num_pairs=pairs,
        sampled=sampled,
    )


def link_prediction(
    embeddings,
    held_out,
    known,
    manifold,
    *,
    block_size: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> Reconstruction:
    """Filtered link prediction (Nickel & Kiela 2017, §4.1): rank held-out pairs among the true non-edges.

    With H(u) = {v : (u, v) in held_out} and K(u) = {w : (u, w) in known} (all true pairs: train ∪ valid ∪
    test), each held-out (u, v) is ranked among the nodes that are neither u nor known neighbours of u:

        rank(u, v) = 1 + |{w ∉ K(u) ∪ H(u), w ≠ u : d(u, w) < d(u, v)}|,
        AP(u) = mean_{v ∈ H(u)} |{v' ∈ H(u) : d(u, v') ≤ d(u, v)}| / |{w ∈ C(u) : d(u, w) ≤ d(u, v)}|,

    where C(u) = H(u) ∪ {w ∉ K(u), w ≠ u}. Mean rank is over the held-out pairs, MAP over their sources u. This
    is :func:`closure_reconstruction` of ``held_out`` with ``known=known`` (the same blocked kernel).

    Args:
      embeddings: (n, D) points of ``manifold``, or with ``manifold=None`` distances (module docstring).
      held_out: (m, 2) directed pairs (u, v) to rank (validation or test edges).
      known: (k, 2) every true pair (u, w); the held-out pairs may or may not be among them.
      manifold, block_size, sample, seed, threads: as for :func:`closure_reconstruction`.

    Returns:
      :class:`Reconstruction` (mean_rank, map, num_sources = sources of held-out pairs, num_pairs, sampled).
    """
    return closure_reconstruction(
        embeddings,
        held_out,
        manifold,
        known=known,
        block_size=block_size,
        sample=sample,
        seed=seed,
        threads=threads,
    )


# --- Graph reconstruction metrics of Sala, De Sa, Gu & Ré (2018) --------------------------------------------------
#
# These follow the reference code (HazyResearch/hyperbolics, ``utils/distortions.py``) on the *undirected* graph:
# distortion compares embedded distances with shortest-path lengths, MAP ranks the distance-1 neighbours of every
# node. Unlike ``closure_reconstruction`` above they never see the direction of an edge.


def _undirected_edges(edges, num_nodes: int, *, directed: bool = False) -> np.ndarray:
    """Validated (m, 2) int64 edges listed in both directions (as given if ``directed``), self-loops and
    duplicates dropped, sorted."""
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0:
        raise ValueError(f"edges must be a non-empty (m, 2) integer array; got shape {edges.shape}")
    if not np.issubdtype(edges.dtype, np.integer):
        if not (np.issubdtype(edges.dtype, np.floating) and np.all(edges == np.round(edges))):
            raise ValueError(f"edges must hold integer node ids; got dtype {edges.dtype}")
    edges = edges.astype(np.int64)
    if edges.min() < 0 or edges.max() >= num_nodes:
        raise ValueError(f"edge ids must lie in [0, {num_nodes}); got range [{edges.min()}, {edges.max()}]")
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(edges if directed else np.concatenate([edges, edges[:, ::-1]]), axis=0)


def graph_distances(edges, num_nodes: int) -> np.ndarray:
    """Unweighted shortest-path lengths d_G(i, j) of the undirected graph given by ``edges``.

    d_G(i, j) = the least number of edges on a path between i and j; d_G(i, i) = 0; d_G(i, j) = inf when no path
    joins them (a disconnected graph or an isolated node). Edge direction, duplicates and self-loops are ignored.
    Computed by ``scipy.sparse.csgraph.shortest_path`` (BFS from every node, O(n·m) time).

    This is the dense (n, n) matrix, 8n² bytes: fine for the SDGR18 graphs up to Gr-QC (4,158 nodes, 138 MB) and
    not for WordNet (74,374 nodes, 44 GB); :func:`graph_distance_rows` gives its rows on demand instead.
    :func:`distortion` reads either one block of rows at a time, so a ``np.memmap`` of it works too.

    Args:
      edges: (m, 2) integer array of pairs (u, v), both ids in [0, num_nodes).
      num_nodes: n, the number of nodes (ids beyond the largest in ``edges`` are isolated nodes).

    Returns:
      (n, n) float64 numpy array, symmetric, with zeros on the diagonal and inf for disconnected pairs.

    >>> graph_distances(np.array([[0, 1], [2, 1], [1, 1]]), 4)
    array([[ 0.,  1.,  2., inf],
           [ 1.,  0.,  1., inf],
           [ 2.,  1.,  0., inf],
           [inf, inf, inf,  0.]])
    """
    num_nodes = int(num_nodes)
    if num_nodes < 1:
        raise ValueError(f"num_nodes must be positive; got {num_nodes}")
    return graph_distance_rows(edges, num_nodes)(np.arange(num_nodes))


def _distortion_stats(d, rows, graph_rows):
    """Over one block of rows (padded rows are -1) of embedded distances ``d`` (already divided by the scale):
    the sum of per-row mean relative errors, the number of valid pairs, the largest expansion d_emb/d_G, the
    largest contraction d_G/d_emb, and the number of negative d_G."""
    num_nodes = d.shape[1]
    valid_row = rows >= 0
    src = jnp.where(valid_row, rows, 0)
    g = graph_rows.astype(d.dtype)
    pair = valid_row[:, None] & (jnp.arange(num_nodes)[None, :] != src[:, None])  # the diagonal never counts
    # the reference skips a pair when either distance is 0, inf or nan ("bad" entries)
    valid = pair & jnp.isfinite(d) & (d != 0) & jnp.isfinite(g) & (g > 0)
    ratio = jnp.where(valid, d / jnp.where(valid, g, 1), 1)  # d/d_G; |d − d_G|/d_G = |ratio − 1|
    # one elementwise pass written out, then plain reductions of it (XLA would redo the pass per reduction)
    ratio, valid = jax.lax.optimization_barrier((ratio, valid))
    good = jnp.sum(valid, axis=1)
    row_mean = jnp.sum(jnp.abs(ratio - 1), axis=1) / jnp.maximum(good, 1)  # a row with no valid pair adds 0
    expansion = jnp.max(jnp.where(valid, ratio, 0))
    contraction = 1 / jnp.min(jnp.where(valid, ratio, jnp.inf))
    negative = jnp.sum(pair & (g < 0))
    return jnp.sum(row_mean), jnp.sum(good), expansion, contraction, negative


@functools.partial(jax.jit, static_argnums=0)
def _distortion_block(manifold, embeddings, embeddings_t, rows, graph_rows, scale):
    """:func:`_distortion_stats` with the block's distances computed from the embeddings in the same kernel.

    Jitted once per (manifold, shapes); ``scale`` is traced, so changing it does not recompile.
    """
    src = jnp.where(rows >= 0, rows, 0)
    d = _block_distances(manifold, embeddings, embeddings_t, src) / scale  # (b, n)
    return _distortion_stats(d, rows, graph_rows)


@jax.jit
def _distortion_rows_block(d, rows, graph_rows, scale):
    return _distortion_stats(d / scale, rows, graph_rows)


def distortion(
    embeddings,
    graph_dist,
    manifold=None,
    *,
    scale: float = 1.0,
    block_size: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    threads: int | None = None,
) -> Distortion:
    """Average and worst-case distortion of an embedded graph (Sala et al. 2018; ``utils/distortions.py``).

    With d(i, j) = d_emb(i, j)/scale and the valid pairs V_i = {j ≠ i : d(i, j) and d_G(i, j) finite and ≠ 0}:

    - ``average`` d_avg = (1/n) Σ_i (1/|V_i|) Σ_{j ∈ V_i} |d(i, j) − d_G(i, j)| / d_G(i, j); a row with V_i
      empty adds 0 but still counts in n (as in the reference);
    - ``worst_case`` d_wc = max_{j ∈ V_i} d(i, j)/d_G(i, j) · max_{j ∈ V_i} d_G(i, j)/d(i, j) (≥ 1; 1 for an
      isometry up to scale); nan if no pair is valid;
    - ``skipped_pairs`` = n(n − 1) − Σ_i |V_i|, ordered pairs, the reference's "bad" count (with a symmetric
      d_G each unordered pair counts twice). Disconnected pairs (d_G = inf) land here; so do distinct nodes
      embedded at the same point (d = 0), which the reference also skips rather than scoring as infinite.

    The reference computes the ratios only where d_emb is finite and non-zero and d_G ≠ 0; it does not test
    d_G for inf (its |d − inf|/inf is nan), which this function skips instead.

    With ``sample=k`` the sums run over k rows i drawn uniformly without replacement (each row still over all n
    columns): ``average`` is then an unbiased estimate, ``worst_case`` a lower bound, ``skipped_pairs`` counts
    the sampled rows' pairs, and ``num_sources = k``, ``sampled = True``.

    Computed in blocks of rows: each call holds a (block, n) distance matrix and reads the matching rows of
    ``graph_dist``, never an n × n matrix unless one was given.

    Args:
      embeddings: (n, D) points of ``manifold`` (distances are computed in their dtype); or, with
        ``manifold=None``, the embedded distances as an (n, n) matrix or a row function ``dist_rows(rows)``
        (module docstring): they must be finite and ≥ 0 off the diagonal.
      graph_dist: (n, n) graph distances d_G (e.g. :func:`graph_distances`; anything whose row slices give
        arrays, such as ``np.memmap``), or a row function (e.g. :func:`graph_distance_rows`). Negative entries
        are an error.
      manifold: a manifold value with ``dist(x, y)``, or None for precomputed embedded distances.
      scale: the embedding's scale τ (combinatorial) or t (h-MDS): embedded distances are divided by it.
      block_size: rows per call (default: ~260k distances per call, capped by free memory).
      sample: None for every row (exact), or a number of rows drawn uniformly.
      seed: seed of the sample.
      threads: worker threads issuing kernel calls (default: the usable cores, at most 4; 1 = sequential). A
        row function is called from these threads.

    Returns:
      :class:`Distortion` of Python numbers.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> distortion(jnp.array([[0.0], [2.0], [4.0]]), path, Euclidean(), scale=2.0)
    Distortion(average=0.0, worst_case=1.0, skipped_pairs=0, num_sources=3, sampled=False)
    >>> distortion(2 * path, path, scale=2.0).average  # a precomputed matrix of embedded distances
    0.0
    """
    embedded = _as_source(
        embeddings, manifold, "embedded distances", num_nodes=getattr(graph_dist, "num_nodes", None)
    )
    num_nodes = embedded.num_nodes
    if not callable(graph_dist) and not hasattr(graph_dist, "shape"):
        graph_dist = np.asarray(graph_dist)
    if hasattr(graph_dist, "shape") and tuple(graph_dist.shape) != (num_nodes, num_nodes):
        raise ValueError(
            f"graph_dist must be ({num_nodes}, {num_nodes}) for {num_nodes} embeddings; got {tuple(graph_dist.shape)}"
        )
    graph = _as_source(graph_dist, None, "graph_dist", num_nodes=num_nodes)
    if graph.num_nodes != num_nodes:
        raise ValueError(f"graph_dist has {graph.num_nodes} nodes but the embedding has {num_nodes}")
    scale = float(scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number; got {scale}")
    rows_used, sampled = _sample_rows(np.arange(num_nodes), sample, seed)
    block = _block_rows(len(rows_used), num_nodes, block_size, _DISTORTION_ELEMENTS_PER_BLOCK)

    def compute(start):
        ids = rows_used[start : start + block]
        rows = np.full(block, -1, np.int32)
        rows[: len(ids)] = ids
        chunk = _read_rows(graph, ids, check=False)
        graph_rows = np.zeros((block, num_nodes), chunk.dtype)
        graph_rows[: len(ids)] = chunk
        if embedded.points is not None:
            out = _distortion_block(
                embedded.manifold, embedded.points, embedded.points_t, rows, graph_rows, scale
            )
        else:
            emb_chunk = _read_rows(embedded, ids, check=True)
            d = np.ones((block, num_nodes), emb_chunk.dtype)
            d[: len(ids)] = emb_chunk
            out = _distortion_rows_block(d, rows, graph_rows, scale)
        m, g, e, c, neg = out
        return float(m), int(g), float(e), float(c), int(neg)

    results = _run_blocks(range(0, len(rows_used), block), compute, threads)
    mean_sum = sum(r[0] for r in results)
    good = sum(r[1] for r in results)
    expansion = max(r[2] for r in results)
    contraction = max(r[3] for r in results)
    negative = sum(r[4] for r in results)
    if negative:
        raise ValueError(f"graph_dist holds {negative} negative off-diagonal entries; distances must be >= 0")
    num_rows = len(rows_used)
    return Distortion(
        average=mean_sum / num_rows,
        worst_case=expansion * contraction if good else float("nan"),
        skipped_pairs=num_rows * (num_nodes - 1) - good,
        num_sources=num_rows,
        sampled=sampled,
    )


def average_distortion(
    embeddings, graph_dist, manifold=None, *, scale: float = 1.0, block_size: int | None = None
) -> float:
    """d_avg = (1/n) Σ_i mean_{j ≠ i valid} |d_emb(i, j)/scale − d_G(i, j)| / d_G(i, j); see :func:`distortion`.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> average_distortion(jnp.array([[0.0], [1.0], [3.0]]), path, Euclidean())  # rows (0 + 1/2, 0 + 1, 1/2 + 1)/2
    0.5
    """
    return distortion(embeddings, graph_dist, manifold, scale=scale, block_size=block_size).average


def worst_case_distortion(
    embeddings, graph_dist, manifold=None, *, scale: float = 1.0, block_size: int | None = None
) -> float:
    """d_wc = max(d_emb/(scale · d_G)) · max(scale · d_G/d_emb) over valid pairs; see :func:`distortion`.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> worst_case_distortion(jnp.array([[0.0], [1.0], [3.0]]), path, Euclidean())  # max 2/1 · max 1
    2.0
    """
    return distortion(embeddings, graph_dist, manifold, scale=scale, block_size=block_size).worst_case


def graph_reconstruction(
    embeddings,
    edges,
    manifold=None,
    *,
    block_size: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    threads: int | None = None,
    directed: bool = False,
) -> GraphReconstruction:
    """Graph MAP (Sala et al. 2018; ``utils/distortions.py``) and mean rank of the graph neighbours.

    On the undirected graph, with N_a the neighbours of a (d_G = 1) and R_{a,b} = {w ≠ a : d_emb(a, w) ≤
    d_emb(a, b)} the nodes no farther from a than b:

        MAP = (1/|A|) Σ_{a ∈ A} (1/|N_a|) Σ_{b ∈ N_a} |N_a ∩ R_{a,b}| / |R_{a,b}|,   A = {a : N_a ≠ ∅},

    and mean rank = mean over (a, b ∈ N_a) of 1 + #{w ∉ N_a, w ≠ a : d_emb(a, w) < d_emb(a, b)}.

    Tied distances all count in R_{a,b} (sklearn's average precision with ties grouped). Without ties this is
    what the reference computes; with ties the reference's value depends on ``argsort``'s order. The reference
    averages over all n nodes and asserts every node has a neighbour; here nodes without neighbours (isolated,
    or only self-loops) are left out of the mean, so |A| = n on the graphs it accepts. The node a itself is
    excluded by index (the reference drops the first sorted entry, assuming a is nearest to itself). A scale
    does not change a ranking, so there is none. With ``sample=k``, A is k nodes drawn uniformly from A.

    This is :func:`closure_reconstruction` on the symmetric edge list (the same kernel: memory O(block · n),
    time O(n² log(max degree))).

    Args:
      embeddings: (n, D) points of ``manifold`` (distances are computed in their dtype); or, with
        ``manifold=None``, the embedded distances as an (n, n) matrix or a row function (module docstring).
      edges: (m, 2) integer array of pairs (u, v) in [0, n); direction, duplicates and self-loops are ignored.
        For a distance matrix without a graph, :func:`nearest_neighbour_edges` gives the pairs to rank (with
        ``directed=True``: each point's own nearest neighbours).
      manifold: a manifold value with ``dist(x, y)``, or None for precomputed distances.
      block_size: source nodes per call (default: ~1M distances per call, capped by free memory).
      sample: None for every node with a neighbour (exact), or a number of them drawn uniformly.
      seed: seed of the sample.
      directed: if True, N_a = {b : (a, b) in edges} as given (not symmetrised): for nearest-neighbour pairs.
      threads: worker threads issuing kernel calls (default: the usable cores, at most 4; 1 = sequential). A
        row function is called from these threads.

    Returns:
      :class:`GraphReconstruction` of Python numbers.
    """
    source = _as_source(embeddings, manifold, "embedded distances")
    pairs = _undirected_edges(edges, source.num_nodes, directed=directed)
    if len(pairs) == 0:
        raise ValueError("edges hold only self-loops: no node has a neighbour to rank")
    rank_sum, num_pairs, ap_sum, num_sources, sampled = _ranking(
        source, pairs, block_size=block_size, sample=sample, seed=seed, threads=threads
    )
    return GraphReconstruction(
        map=ap_sum / num_sources, mean_rank=rank_sum / num_pairs, num_sources=num_sources, sampled=sampled
    )


def graph_map(
    embeddings,
    edges,
    manifold=None,
    *,
    block_size: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    threads: int | None = None,
    directed: bool = False,
) -> float:
    """Mean average precision of the graph neighbours (Sala et al. 2018): :func:`graph_reconstruction`'s ``map``.

    MAP = (1/|A|) Σ_{a ∈ A} (1/|N_a|) Σ_{b ∈ N_a} |N_a ∩ R_{a,b}| / |R_{a,b}| with N_a the graph neighbours of a
    and R_{a,b} = {w ≠ a : d_emb(a, w) ≤ d_emb(a, b)}; see :func:`graph_reconstruction` for ties, sampling and the
    accepted distance sources.

    >>> from geomrep.manifolds import Euclidean
    >>> edges = np.array([[0, 1], [1, 2]])
    >>> graph_map(jnp.array([[0.0], [1.0], [2.0]]), edges, Euclidean())
    1.0
    >>> graph_map(jnp.array([[0.0], [2.0], [1.0]]), edges, Euclidean())  # APs 1/2, 1 and 1/2 (a tie at node 2)
    0.6666666666666666
    >>> graph_map(graph_distances(edges, 3), edges)  # a distance matrix ranks its own graph perfectly
    1.0
    """
    return graph_reconstruction(
        embeddings,
        edges,
        manifold,
        block_size=block_size,
        sample=sample,
        seed=seed,
        directed=directed,
        threads=threads,
    ).map
