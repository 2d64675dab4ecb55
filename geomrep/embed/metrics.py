"""Reconstruction metrics of an embedded graph.

``closure_reconstruction`` is the evaluation of Nickel & Kiela (2017), as the reference code computes it
(``hype/graph.py``): on the *training* transitive closure, directed (each node ``u`` is linked to its ancestors).
It ranks graph closure neighbours; Sala et al.'s MAP, which ranks distance-1 graph neighbours, is a different
metric with a different name.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

# (block × nodes) distances evaluated per device call: bounds memory and keeps each call large enough to
# amortise dispatch.
_ELEMENTS_PER_BLOCK = 1 << 21  # ~25 rows of the 82k-node noun closure: cache-friendly


class Reconstruction(NamedTuple):
    """Result of :func:`closure_reconstruction`."""

    mean_rank: float  # mean over all (u, v) closure pairs of rank(u, v)
    map: float  # mean over sources u (nodes with ≥ 1 neighbour) of AP(u)
    num_sources: int
    num_pairs: int


def _positives_table(edges: np.ndarray, num_nodes: int):
    """Sources with ≥ 1 out-neighbour and their neighbours padded with ``num_nodes`` to a (s, P) table."""
    edges = np.unique(np.asarray(edges, dtype=np.int64), axis=0)
    src, dst = edges[:, 0], edges[:, 1]
    sources, counts = np.unique(src, return_counts=True)
    width = int(counts.max())
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(src)) - np.repeat(starts, counts)
    table = np.full((len(sources), width), num_nodes, dtype=np.int32)
    table[np.repeat(np.arange(len(sources)), counts), slot] = dst
    return sources.astype(np.int32), table


@functools.partial(jax.jit, static_argnums=0)
def _block_stats(manifold, embeddings, sources, positives):
    """Sum of ranks, number of pairs, and sum of AP over one block of sources (padded sources are -1).

    Per source row, the neighbours' distances are sorted into thresholds t_0 ≤ … ≤ t_{P−1} (padding = +inf).
    Every node w is placed among the thresholds by a binary search (O(n log P), not O(n P)): with
    k_right(w) = #{j : t_j ≤ d_w} and k_left(w) = #{j : t_j < d_w},

        #{w : d_w < t_j} = #{w : k_right(w) ≤ j},     #{w : d_w ≤ t_j} = #{w : k_left(w) ≤ j},

    i.e. prefix sums of two histograms over 0..P. Subtracting the neighbours counted there gives the ranks
    among non-neighbours and the precisions at each neighbour, ties grouped. The node itself sits at +inf.
    Jitted once per (manifold, shapes): repeated evaluations during training reuse the compiled kernel.
    """
    num_nodes = embeddings.shape[0]
    valid_src = sources >= 0
    src = jnp.where(valid_src, sources, 0)
    d = manifold.dist(embeddings[src][:, None, :], embeddings[None, :, :])  # (b, n)
    non_finite = jnp.sum(~jnp.isfinite(d) & valid_src[:, None])
    rows = jnp.arange(src.shape[0])
    d = d.at[rows, src].set(jnp.inf)  # the node itself is never a candidate
    pos_valid = (positives < num_nodes) & valid_src[:, None]
    d_pos = jnp.take_along_axis(d, jnp.minimum(positives, num_nodes - 1), axis=1)  # (b, P)
    t = jnp.sort(jnp.where(pos_valid, d_pos, jnp.inf), axis=1)  # valid thresholds first, padding last
    width = t.shape[1]

    def prefix_counts(side):
        k = jax.vmap(lambda tr, dr: jnp.searchsorted(tr, dr, side=side))(t, d)  # (b, n) in [0, P]
        hist = jnp.zeros((t.shape[0], width + 1), jnp.int32).at[rows[:, None], k].add(1)
        return jnp.cumsum(hist, axis=1)[:, :width]  # [j] = #{w : k(w) ≤ j}

    all_lt = prefix_counts("right")  # #{w != u : d_w < t_j}
    all_le = prefix_counts("left")  # #{w != u : d_w ≤ t_j}
    pos_lt = jax.vmap(lambda tr: jnp.searchsorted(tr, tr, side="left"))(t)  # neighbours strictly closer
    pos_le = jax.vmap(lambda tr: jnp.searchsorted(tr, tr, side="right"))(t)  # neighbours not farther
    n_pos = jnp.sum(pos_valid, axis=1)
    valid = jnp.arange(width)[None, :] < n_pos[:, None]
    rank = 1 + all_lt - pos_lt
    precision = pos_le.astype(d.dtype) / jnp.maximum(all_le, 1).astype(d.dtype)
    ap = jnp.sum(jnp.where(valid, precision, 0.0), axis=1) / jnp.maximum(n_pos, 1)
    rank_sum = jnp.sum(jnp.where(valid, rank, 0))  # ≤ block·P·n: no int32 overflow
    return rank_sum, jnp.sum(n_pos), jnp.sum(jnp.where(valid_src, ap, 0.0)), non_finite


def closure_reconstruction(embeddings, edges, manifold, *, block_size: int | None = None) -> Reconstruction:
    """Mean rank and MAP of a transitive closure reconstructed from embeddings (Nickel & Kiela 2017, §4.1).

    For each node ``u`` with neighbours ``N(u) = {v : (u, v) in edges}`` (its ancestors, for a child→ancestor
    closure), every ``w != u`` is scored by ``-d(u, w)``:

    - ``rank(u, v) = 1 + |{w ∉ N(u), w != u : d(u, w) < d(u, v)}|`` (other neighbours do not count);
      mean rank = mean over all pairs ``(u, v)``;
    - ``AP(u) = mean_{v ∈ N(u)} |{v' ∈ N(u): d(u,v') <= d(u,v)}| / |{w != u : d(u,w) <= d(u,v)}|`` (sklearn's
      ``average_precision_score(labels, -d)`` with ties grouped); MAP = mean of AP(u) over nodes with neighbours.

    Computed on device in blocks of source nodes: memory O(block · n), never an n × n matrix, and time
    O(n² log P) (P = largest number of neighbours), so an 82k-node closure evaluates without 82k² memory.

    Args:
      embeddings: (n, D) points of ``manifold`` (any dtype; distances are computed in that dtype).
      edges: (m, 2) integer array of directed pairs (u, v).
      manifold: a manifold value with ``dist(x, y)``.
      block_size: sources per device call (default: sized to keep ~3e7 comparisons per call).

    Returns:
      :class:`Reconstruction` with ``mean_rank``, ``map``, ``num_sources``, ``num_pairs``.
    """
    embeddings = jnp.asarray(embeddings)
    num_nodes = embeddings.shape[0]
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0:
        raise ValueError(f"edges must be a non-empty (m, 2) integer array; got shape {edges.shape}")
    if edges.min() < 0 or edges.max() >= num_nodes:
        raise ValueError(f"edge ids must lie in [0, {num_nodes}); got range [{edges.min()}, {edges.max()}]")
    finite = np.asarray(jnp.all(jnp.isfinite(embeddings), axis=-1))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(f"embeddings hold non-finite values in {len(bad)} rows, the first at index {bad[0]}")
    sources, positives = _positives_table(edges, num_nodes)
    width = positives.shape[1]
    if block_size is None:
        block_size = max(1, min(len(sources), _ELEMENTS_PER_BLOCK // num_nodes))
    pad = (-len(sources)) % block_size
    sources = np.concatenate([sources, np.full(pad, -1, np.int32)])
    positives = np.concatenate([positives, np.full((pad, width), num_nodes, np.int32)])
    rank_sum = ap_sum = 0.0
    pairs = non_finite = 0
    for start in range(0, len(sources), block_size):
        r, n, a, bad = _block_stats(
            manifold, embeddings, sources[start : start + block_size], positives[start : start + block_size]
        )
        rank_sum += float(r)
        pairs += int(n)
        ap_sum += float(a)
        non_finite += int(bad)
    if non_finite:
        raise ValueError(
            f"{non_finite} embedded distances are not finite: are the embeddings points of {manifold!r}?"
        )
    num_sources = len(sources) - pad
    return Reconstruction(
        mean_rank=rank_sum / pairs, map=ap_sum / num_sources, num_sources=num_sources, num_pairs=pairs
    )


# --- Graph reconstruction metrics of Sala, De Sa, Gu & Ré (2018) --------------------------------------------------
#
# These follow the reference code (HazyResearch/hyperbolics, ``utils/distortions.py``) on the *undirected* graph:
# distortion compares embedded distances with shortest-path lengths, MAP ranks the distance-1 neighbours of every
# node. Unlike ``closure_reconstruction`` above they never see the direction of an edge.


class Distortion(NamedTuple):
    """Result of :func:`distortion`."""

    average: float  # (1/n) Σ_i mean over the valid j of |d_emb(i, j)/scale − d_G(i, j)| / d_G(i, j)
    worst_case: float  # max(d/d_G) · max(d_G/d) over valid pairs, d = d_emb/scale; nan if there are none
    skipped_pairs: int  # ordered pairs (i, j), i ≠ j, left out because d_G or d_emb is 0, inf or nan


def _undirected_edges(edges, num_nodes: int) -> np.ndarray:
    """Validated (m, 2) int64 edges listed in both directions, self-loops and duplicates dropped, sorted."""
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
    return np.unique(np.concatenate([edges, edges[:, ::-1]]), axis=0)


def _finite_embeddings(embeddings) -> jax.Array:
    embeddings = jnp.asarray(embeddings)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must be an (n, D) array of points; got shape {embeddings.shape}")
    finite = np.asarray(jnp.all(jnp.isfinite(embeddings), axis=-1))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(f"embeddings hold non-finite values in {len(bad)} rows, the first at index {bad[0]}")
    return embeddings


def _default_block(rows: int, num_nodes: int, block_size: int | None) -> int:
    if block_size is None:
        return max(1, min(rows, _ELEMENTS_PER_BLOCK // num_nodes))
    if int(block_size) < 1:
        raise ValueError(f"block_size must be a positive integer; got {block_size}")
    return int(block_size)


def graph_distances(edges, num_nodes: int) -> np.ndarray:
    """Unweighted shortest-path lengths d_G(i, j) of the undirected graph given by ``edges``.

    d_G(i, j) = the least number of edges on a path between i and j; d_G(i, i) = 0; d_G(i, j) = inf when no path
    joins them (a disconnected graph or an isolated node). Edge direction, duplicates and self-loops are ignored.
    Computed by ``scipy.sparse.csgraph.shortest_path`` (BFS from every node, O(n·m) time).

    This is the dense (n, n) matrix, 8n² bytes: fine for the SDGR18 graphs up to Gr-QC (4,158 nodes, 138 MB) and
    not for WordNet (74,374 nodes, 44 GB). :func:`distortion` reads it one block of rows at a time, so a
    ``np.memmap`` of it works there.

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
    pairs = _undirected_edges(edges, num_nodes)
    adjacency = scipy.sparse.csr_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(num_nodes, num_nodes)
    )
    return scipy.sparse.csgraph.shortest_path(adjacency, directed=False, unweighted=True).astype(np.float64)


@functools.partial(jax.jit, static_argnums=0)
def _distortion_block(manifold, embeddings, rows, graph_rows, scale):
    """Over one block of rows (padded rows are -1): the sum of per-row mean relative errors, the number of valid
    pairs, the largest expansion d_emb/d_G, the largest contraction d_G/d_emb, and the number of negative d_G.

    Jitted once per (manifold, shapes); ``scale`` is traced, so changing it does not recompile.
    """
    num_nodes = embeddings.shape[0]
    valid_row = rows >= 0
    src = jnp.where(valid_row, rows, 0)
    d = manifold.dist(embeddings[src][:, None, :], embeddings[None, :, :]) / scale  # (b, n)
    g = graph_rows.astype(d.dtype)
    pair = valid_row[:, None] & (jnp.arange(num_nodes)[None, :] != src[:, None])  # the diagonal never counts
    # the reference skips a pair when either distance is 0, inf or nan ("bad" entries)
    valid = pair & jnp.isfinite(d) & (d != 0) & jnp.isfinite(g) & (g > 0)
    safe_d, safe_g = jnp.where(valid, d, 1), jnp.where(valid, g, 1)
    relative = jnp.where(valid, jnp.abs(safe_d - safe_g) / safe_g, 0)
    good = jnp.sum(valid, axis=1)
    row_mean = jnp.sum(relative, axis=1) / jnp.maximum(good, 1)  # a row with no valid pair adds 0, as there
    expansion = jnp.max(jnp.where(valid, safe_d / safe_g, 0))
    contraction = jnp.max(jnp.where(valid, safe_g / safe_d, 0))
    negative = jnp.sum(pair & (g < 0))
    return jnp.sum(row_mean), jnp.sum(good), expansion, contraction, negative


def distortion(
    embeddings, graph_dist, manifold, *, scale: float = 1.0, block_size: int | None = None
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

    Computed on device in blocks of rows: each call holds a (block, n) distance matrix and reads the matching
    rows of ``graph_dist``, never an n × n embedded-distance matrix.

    Args:
      embeddings: (n, D) points of ``manifold`` (distances are computed in their dtype).
      graph_dist: (n, n) graph distances d_G (e.g. :func:`graph_distances`); anything whose row slices
        ``graph_dist[a:b]`` give arrays (numpy, ``np.memmap``, jax) works. Negative entries are an error.
      manifold: a manifold value with ``dist(x, y)``.
      scale: the embedding's scale τ (combinatorial) or t (h-MDS): embedded distances are divided by it.
      block_size: rows per device call (default: sized to keep ~3e7 distances per call).

    Returns:
      :class:`Distortion` of Python numbers.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> distortion(jnp.array([[0.0], [2.0], [4.0]]), path, Euclidean(), scale=2.0)
    Distortion(average=0.0, worst_case=1.0, skipped_pairs=0)
    """
    embeddings = _finite_embeddings(embeddings)
    num_nodes = embeddings.shape[0]
    if not hasattr(graph_dist, "shape"):
        graph_dist = np.asarray(graph_dist)
    if tuple(graph_dist.shape) != (num_nodes, num_nodes):
        raise ValueError(
            f"graph_dist must be ({num_nodes}, {num_nodes}) for {num_nodes} embeddings; got {tuple(graph_dist.shape)}"
        )
    scale = float(scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number; got {scale}")
    block_size = _default_block(num_nodes, num_nodes, block_size)
    mean_sum = 0.0
    good = negative = 0
    expansion = contraction = 0.0
    for start in range(0, num_nodes, block_size):
        stop = min(start + block_size, num_nodes)
        rows = np.full(block_size, -1, np.int32)
        rows[: stop - start] = np.arange(start, stop)
        chunk = np.asarray(graph_dist[start:stop])
        graph_rows = np.zeros((block_size, num_nodes), chunk.dtype)
        graph_rows[: stop - start] = chunk
        m, g, e, c, neg = _distortion_block(manifold, embeddings, rows, graph_rows, scale)
        mean_sum += float(m)
        good += int(g)
        negative += int(neg)
        expansion, contraction = max(expansion, float(e)), max(contraction, float(c))
    if negative:
        raise ValueError(f"graph_dist holds {negative} negative off-diagonal entries; distances must be >= 0")
    return Distortion(
        average=mean_sum / num_nodes,
        worst_case=expansion * contraction if good else float("nan"),
        skipped_pairs=num_nodes * (num_nodes - 1) - good,
    )


def average_distortion(
    embeddings, graph_dist, manifold, *, scale: float = 1.0, block_size: int | None = None
) -> float:
    """d_avg = (1/n) Σ_i mean_{j ≠ i valid} |d_emb(i, j)/scale − d_G(i, j)| / d_G(i, j); see :func:`distortion`.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> average_distortion(jnp.array([[0.0], [1.0], [3.0]]), path, Euclidean())  # rows (0 + 1/2, 0 + 1, 1/2 + 1)/2
    0.5
    """
    return distortion(embeddings, graph_dist, manifold, scale=scale, block_size=block_size).average


def worst_case_distortion(
    embeddings, graph_dist, manifold, *, scale: float = 1.0, block_size: int | None = None
) -> float:
    """d_wc = max(d_emb/(scale · d_G)) · max(scale · d_G/d_emb) over valid pairs; see :func:`distortion`.

    >>> from geomrep.manifolds import Euclidean
    >>> path = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    >>> worst_case_distortion(jnp.array([[0.0], [1.0], [3.0]]), path, Euclidean())  # max 2/1 · max 1
    2.0
    """
    return distortion(embeddings, graph_dist, manifold, scale=scale, block_size=block_size).worst_case


def graph_map(embeddings, edges, manifold, *, block_size: int | None = None) -> float:
    """Mean average precision of the graph neighbours (Sala et al. 2018; ``utils/distortions.py``).

    On the undirected graph, with N_a the neighbours of a (d_G = 1) and R_{a,b} = {w ≠ a : d_emb(a, w) ≤
    d_emb(a, b)} the nodes no farther from a than b:

        MAP = (1/|A|) Σ_{a ∈ A} (1/|N_a|) Σ_{b ∈ N_a} |N_a ∩ R_{a,b}| / |R_{a,b}|,   A = {a : N_a ≠ ∅}.

    Tied distances all count in R_{a,b} (sklearn's average precision with ties grouped). Without ties this is
    what the reference computes; with ties the reference's value depends on ``argsort``'s order. The reference
    averages over all n nodes and asserts every node has a neighbour; here nodes without neighbours (isolated,
    or only self-loops) are left out of the mean, so |A| = n on the graphs it accepts. The node a itself is
    excluded by index (the reference drops the first sorted entry, assuming a is nearest to itself). ``scale``
    does not change a ranking, so there is none.

    This is the MAP of :func:`closure_reconstruction` on the symmetric edge list (the same kernel: memory
    O(block · n), time O(n² log(max degree))).

    Args:
      embeddings: (n, D) points of ``manifold`` (distances are computed in their dtype).
      edges: (m, 2) integer array of pairs (u, v) in [0, n); direction, duplicates and self-loops are ignored.
      manifold: a manifold value with ``dist(x, y)``.
      block_size: source nodes per device call (default: sized to keep ~3e7 distances per call).

    Returns:
      MAP as a Python float in (0, 1].

    >>> from geomrep.manifolds import Euclidean
    >>> edges = np.array([[0, 1], [1, 2]])
    >>> graph_map(jnp.array([[0.0], [1.0], [2.0]]), edges, Euclidean())
    1.0
    >>> graph_map(jnp.array([[0.0], [2.0], [1.0]]), edges, Euclidean())  # APs 1/2, 1 and 1/2 (a tie at node 2)
    0.6666666666666666
    """
    embeddings = _finite_embeddings(embeddings)
    pairs = _undirected_edges(edges, embeddings.shape[0])
    if len(pairs) == 0:
        raise ValueError("edges hold only self-loops: no node has a neighbour to rank")
    return closure_reconstruction(embeddings, pairs, manifold, block_size=block_size).map
