"""Sarkar's combinatorial construction: hyperbolic embeddings of trees and graphs with distortion ≤ 1 + ε.

Sala, De Sa, Gu & Ré (2018), "Representation Tradeoffs for Hyperbolic Embeddings" (ICML), §3 and Algorithm 1,
after Sarkar (2011), "Low distortion Delaunay embedding of trees in hyperbolic plane"; reference code
HazyResearch/hyperbolics ``combinatorial/comb.jl``, ``utilities.jl``, ``rdim.jl``.

The construction
----------------
A graph is replaced by its BFS tree (:func:`geomrep.embed.rooted_tree.bfs_tree`, rooted at the node of largest
degree, as the reference does). The root sits at the origin of ℍʳ (curvature −1). Every node v is moved to the
origin by an isometry; its c children and the direction back to its parent are then spread evenly over the unit
sphere of directions (r = 2: the c + 1 angles θ_parent + 2πk/(c + 1), k = 0..c; the root's c children at 2πk/c;
r > 2: :func:`geomrep.embed.sphere_codes.spread_directions`), and each child is placed at hyperbolic distance τ·w
along its direction (w the edge length, 1 when unweighted). Which child takes which direction is free; by default
subtrees joined by graph edges that the tree drops take adjacent ones
(:func:`geomrep.embed.rooted_tree.order_children_by_graph`). Tree distances d_T are then reproduced with

    d_T(u, v)/(1 + ε) ≤ d_H(u, v)/τ ≤ d_T(u, v)        (worst-case distortion ≤ 1 + ε)

for the scale τ of :func:`sarkar_scale` (the reference's ``get_emb_par``, quoted there).

Representation: a product of local isometries, not coordinates
-------------------------------------------------------------
A node at hyperbolic distance D from the origin has Poincaré norm tanh(D/2), i.e. 1 − ‖x‖ ≈ 2e^{−D}: the deepest
WordNet node at ε = 0.1 sits at D ≈ 2,000, which needs ≈ 2,900 bits (the notes' table; the reference runs with
8,192). Here each node instead keeps its place relative to every ancestor g, in g's own frame (the frame that
the chain of pure translations along the tree path from the root gives g):

    factors[v, k] = (D, e^{−D}, u)   with   D = d_H(g, v),  u ∈ S^{r−1} the direction of v seen from g,
                                            g = the ancestor of v at depth k   (D = 0 for g = v)

built bottom-up by solving one hyperbolic triangle per (node, ancestor) pair
(:mod:`geomrep.embed.hyperbolic_triangles`). The distance of two nodes a, b with lowest common ancestor ℓ at
depth k is then one more triangle at ℓ:

    d_H(a, b) = third_side(D_a, D_b, e^{−D_a}, e^{−D_b}, ‖u_a − u_b‖²/4),   (D_a, u_a) = factors[a, k], ...

Every step is cancellation-free in float64, so distances carry ~1e-15 relative error at any depth (against the
mpmath construction, :mod:`geomrep.embed.combinatorial_mp`: ≤ 8e-16 on the phylogenetic tree at ε = 0.1, depth
50, distances up to ~5,000, where the coordinates need 4,000 bits), and all-pairs rows are a vectorised
JAX kernel: two table gathers and one triangle per pair. This is what makes the WordNet graph's 5.5·10⁹ pairs
feasible; per-pair arbitrary precision is not.

Two outputs
-----------
- :class:`CombinatorialEmbedding`: the full-precision embedding, with ``dist_rows(rows)`` (the contract of
  :mod:`geomrep.embed.metrics`' distance sources) and ``pair_distances(u, v)``; ``mp_points()`` gives its
  arbitrary-precision Poincaré coordinates (bits from depth and τ, or ``precision_bits``).
- ``emb.poincare``: float64 Poincaré coordinates. At the ε-scale most deep nodes cannot be represented; those
  are reported (``emb.saturated``, a warning) and pulled back onto the largest float64 radius, never NaN/inf.
  ``tau="float64"`` picks the largest scale that fits float64 instead (the reference's ``-a``).

Trees vs graphs: :func:`tree_embedding` refuses a non-tree (:class:`~geomrep.embed.rooted_tree.NotATreeError`);
:func:`combinatorial_embedding` takes any graph. A disconnected graph embeds every component, joined through a
virtual hub at the origin (see :func:`geomrep.embed.rooted_tree.bfs_tree`); pairs in different components have
d_G = ∞ and the metrics skip them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.embed.hyperbolic_triangles import far_angle, third_side
from geomrep.embed.rooted_tree import (
    RootedTree,
    bfs_tree,
    check_tree,
    order_children_by_graph,
    validate_edges,
)
from geomrep.embed.sphere_codes import align_first, spread_directions

__all__ = [
    "FLOAT64_MAX_RADIUS",
    "CombinatorialEmbedding",
    "combinatorial_embedding",
    "float64_scale",
    "required_precision_bits",
    "sarkar_scale",
    "tree_embedding",
]

#: Largest distance from the origin a float64 Poincaré coordinate resolves: beyond 53·ln 2 ≈ 36.7 the norm
#: tanh(D/2) is within 2 ulps of 1 (1 − tanh(D/2) ≈ 2e^{−D} ≤ 2^{−52}) and rounds towards the boundary.
FLOAT64_MAX_RADIUS = 53 * math.log(2.0)
# Extra bits of the automatic mpmath precision beyond the requirement (distances then exact to float64).
_AUTO_EXTRA_BITS = 40
# Pairs per kernel call in dist_rows (a block of rows × all nodes), and at most this many rows.
_PAIRS_PER_CALL = 1 << 22
_MAX_ROWS_PER_CALL = 64
# Kernel shapes are padded up to multiples of these, so that similar trees share compiled code (nodes only up to
# _PAD_NODES_UP_TO: larger graphs keep their exact n, so rows come back without a copy).
_NODE_BUCKET = 256
_DEPTH_BUCKET = 8
_PAD_NODES_UP_TO = 8192


def _bucket(size: int, step: int) -> int:
    return -(-size // step) * step


def sarkar_scale(eps: float, max_degree: int, min_length: float = 1.0) -> float:
    """Scale τ that gives worst-case distortion ≤ 1 + ε (Sala et al. 2018, §3; reference ``get_emb_par``).

    With Δ the largest degree of the tree and w the shortest edge length:

        β = π/(1.2Δ),  v = −2 ln tan(β/2),  α = 2π/Δ − 2β,  ν = −2 ln tan(α/2),
        τ = max((1 + ε)/ε · v, ν)/w.

    Args:
      eps: ε > 0.
      max_degree: Δ ≥ 1.
      min_length: w > 0.

    Returns:
      τ as a float.

    >>> round(sarkar_scale(0.1, 4), 2), round(sarkar_scale(1.0, 4), 2)  # the 40-node balanced tree
    (23.77, 4.32)
    """
    eps = float(eps)
    if not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a positive number (the distortion bound 1 + eps); got {eps}")
    if int(max_degree) < 1:
        raise ValueError(f"max_degree must be >= 1; got {max_degree}")
    min_length = float(min_length)
    if not math.isfinite(min_length) or min_length <= 0:
        raise ValueError(f"min_length must be positive; got {min_length}")
    beta = math.pi / (1.2 * max_degree)
    v = -2.0 * math.log(math.tan(beta / 2))
    alpha = 2.0 * math.pi / max_degree - 2.0 * beta
    nu = -2.0 * math.log(math.tan(alpha / 2))
    return max((1.0 + eps) / eps * v, nu) / min_length


def float64_scale(weighted_height: float) -> float:
    """Largest scale whose Poincaré coordinates fit float64, as the reference's ``-a`` option computes it.

    τ = ln((1 + r)/(1 − r))/(1.3 ℓ) with r = 1 − 2⁻⁵³ (the largest float64 below 1) and ℓ the weighted height of
    the tree, so the deepest node sits at distance ≤ ln(2⁵⁴ − 1)/1.3 ≈ 28.8 from the origin.

    >>> round(float64_scale(10.0), 4)
    2.8791
    """
    weighted_height = float(weighted_height)
    if weighted_height <= 0:
        return 1.0
    return math.log(2.0**54 - 1.0) / (1.3 * weighted_height)


def required_precision_bits(tau: float, weighted_height: float, height: int, eps: float | None) -> int:
    """Mantissa bits that the arbitrary-precision coordinates need for this embedding.

    A node at distance D from the origin has 1 − ‖x‖ ≈ 2e^{−D}, so holding it takes log₂(e)·D bits (the notes'
    1.44·τ·ℓ), and every coordinate-based distance loses as many. On top come log₂(1/ε) (distances must be
    resolved well below ε), log₂(height + 1) for the rounding accumulated down the tree, and 24 bits, so that at
    this precision rounding moves any distance by less than ε·2⁻²⁰ relatively.

    >>> required_precision_bits(23.77, 3.0, 3, 0.1)  # 40-node balanced tree, ε = 0.1 (notes: 103 + guard)
    133
    """
    eps = 1.0 if eps is None else min(float(eps), 1.0)
    bits = math.log2(math.e) * tau * weighted_height + math.log2(1.0 / eps) + math.log2(height + 1)
    return math.ceil(bits) + 24


# --- the construction ---------------------------------------------------------------------------------------------


def _child_directions(tree: RootedTree, dim: int) -> np.ndarray:
    """(N, dim) direction of every node as seen from its parent, in the parent's frame (0 at the root).

    The root's c children take :func:`spread_directions` (c, dim); a non-root node with c children takes the
    c + 1 directions of ``spread_directions(c + 1, dim)`` reflected so that the first points back at its parent
    (−direction of the node itself, in the node's own frame), and gives its children the other c, by slot.
    """
    n = tree.num_nodes
    directions = np.zeros((n, dim))
    order, parent = tree.order, tree.parent
    # BFS lists each node's children consecutively: first child of p = position of its run in order[1:]
    children = order[1:]
    first_child = np.full(n, -1, np.int64)
    if len(children):
        run = np.concatenate([[True], parent[children][1:] != parent[children][:-1]])
        first_child[parent[children][run]] = np.flatnonzero(run)
    root = tree.root
    count = int(tree.num_children[root])
    if count:
        directions[children[:count]] = spread_directions(count, dim)
    depth = tree.depth
    internal = order[(tree.num_children[order] > 0) & (order != root)]
    # level by level: a node's own direction is known before its children are placed
    for level in range(1, int(depth.max())):
        nodes = internal[depth[internal] == level]
        counts = tree.num_children[nodes]
        for c in np.unique(counts):
            group = nodes[counts == c]
            sets = align_first(
                spread_directions(int(c) + 1, dim)[None], -directions[group]
            )  # (g, c + 1, dim)
            slots = first_child[group][:, None] + np.arange(int(c))[None, :]  # (g, c) indices into children
            directions[children[slots.reshape(-1)]] = sets[:, 1:, :].reshape(-1, dim)
    return directions


def _lift(x, exp_neg_x, u_child, y, exp_neg_y, e):
    """Distance and direction of a node seen from g, given it at (y, e) from g's child c, c at (x, u_child) from g.

    Frames are related by a pure translation along the edge g–c, so g is at direction −u_child from c and
    directions orthogonal to the edge are shared. θ = angle at c between −u_child and e; γ = angle at g, and
    the direction from g is cos γ·u_child + sin γ·(unit part of e orthogonal to u_child).
    """
    sin_half = jnp.linalg.norm(u_child + e, axis=-1) / 2  # |(−u) − e|/2 = sin(θ/2)
    cos_half = jnp.linalg.norm(e - u_child, axis=-1) / 2  # |(−u) + e|/2 = cos(θ/2)
    distance = third_side(x, y, exp_neg_x, exp_neg_y, sin_half * sin_half)
    gamma = far_angle(x, y, exp_neg_x, sin_half, cos_half)
    across = (
        e - jnp.sum(e * u_child, axis=-1, keepdims=True) * u_child
    )  # component of e orthogonal to the edge
    norm = jnp.linalg.norm(across, axis=-1, keepdims=True)
    across = jnp.where(norm > 0, across / jnp.where(norm > 0, norm, 1.0), 0.0)
    direction = jnp.cos(gamma)[..., None] * u_child + jnp.sin(gamma)[..., None] * across
    direction = direction / jnp.linalg.norm(direction, axis=-1, keepdims=True)
    return distance, direction


@jax.jit
def _factor_table(table, depth, ancestors, edge, directions):
    """(N, height + 1, 2 + dim): factors[v, k] = (D, e^{−D}, u) of v seen from its ancestor at depth k.

    ``table`` comes in holding (0, 1, 0) everywhere (an argument, not a constant: XLA would fold a constant table
    of WordNet's size at compile time, slowly).

    Built for offsets j = depth(v) − k = 1, 2, ... over all nodes at once (one jitted loop, one compilation per
    tree shape): j = 1 is the edge itself, and j → j + 1 solves the triangle (ancestor at depth k − 1, its child
    toward v, v) with :func:`_lift`. Entries with k > depth(v) are unused and hold (0, 1, 0).
    """
    n, width = ancestors.shape
    nodes = jnp.arange(n)
    k = jnp.maximum(depth - 1, 0)
    first = jnp.concatenate([edge[:, None], jnp.exp(-edge)[:, None], directions], axis=1)
    table = table.at[nodes, k].set(jnp.where((depth >= 1)[:, None], first, table[nodes, k]))

    def step(offset, table):
        valid = depth >= offset
        k = jnp.clip(depth - offset, 0, width - 2)
        c = jnp.where(valid, ancestors[nodes, k + 1], 0)
        below = table[nodes, k + 1]
        d, u = _lift(edge[c], jnp.exp(-edge[c]), directions[c], below[:, 0], below[:, 1], below[:, 2:])
        new = jnp.concatenate([d[:, None], jnp.exp(-d)[:, None], u], axis=1)
        return table.at[nodes, k].set(jnp.where(valid[:, None], new, table[nodes, k]))

    return jax.lax.fori_loop(2, width, step, table)


def _pair_distance(fa, fb):
    """d_H from the factors (D, e^{−D}, u_1, ..., u_r) of two nodes seen from their lowest common ancestor.

    ``fa``, ``fb``: sequences of 2 + r same-shaped arrays, one per field (struct-of-arrays: XLA vectorises the
    arithmetic over the pairs, which an interleaved last axis of size 2 + r prevents).
    """
    gap = sum((a - b) ** 2 for a, b in zip(fa[2:], fb[2:], strict=True))
    return third_side(fa[0], fb[0], fa[1], fb[1], gap / 4)


@jax.jit
def _rows_kernel(lo, hi, src_columns, columns, position):
    """(B, n) distances from B sources to the n graph nodes, and (B,) the number of non-finite ones per row.

    lo, hi: (B, W) preorder range [lo, hi) of each source's ancestor at depth k (empty, −1, below its depth; W ≥
    height + 1); the depth of lca(a, b) is the number of k ≥ 1 whose range holds b's preorder position (the root,
    k = 0, holds everything). src_columns: 2 + r arrays (B, W), the sources' factors; columns: 2 + r arrays
    (W, n), everyone's factors; position: (n,) preorder positions.
    """
    n = position.shape[0]
    width = lo.shape[1]
    p = position[None, :, None]
    k = jnp.sum((lo[:, None, 1:] <= p) & (p < hi[:, None, 1:]), axis=-1, dtype=jnp.int32)  # (B, n)
    target = k * n + jnp.arange(n, dtype=jnp.int32)[None, :]
    source = jnp.arange(lo.shape[0], dtype=jnp.int32)[:, None] * width + k
    fb = [c.reshape(-1).at[target].get(mode="promise_in_bounds") for c in columns]
    fa = [c.reshape(-1).at[source].get(mode="promise_in_bounds") for c in src_columns]
    d = _pair_distance(fa, fb)
    return d, jnp.sum(~jnp.isfinite(d), axis=1)  # the check is fused here: no second pass over the rows


@jax.jit
def _pairs_kernel(anc_u, anc_v, columns_u, columns_v):
    """(P,) distances of node pairs; anc_*: (P, height + 1) ancestor ids (−1 padded); columns_*: 2 + r arrays
    (P, height + 1) of factors."""
    k = jnp.sum((anc_u[:, 1:] == anc_v[:, 1:]) & (anc_u[:, 1:] >= 0), axis=-1)[:, None]
    fa = [jnp.take_along_axis(c, k, axis=1)[:, 0] for c in columns_u]
    fb = [jnp.take_along_axis(c, k, axis=1)[:, 0] for c in columns_v]
    return _pair_distance(fa, fb)


def _check_nodes(ids, n: int, name: str) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.size == 0:
        ids = ids.astype(np.int64)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must hold integer node ids; got dtype {ids.dtype}")
    ids = ids.astype(np.int64).reshape(-1)
    bad = np.flatnonzero((ids < 0) | (ids >= n))
    if len(bad):
        raise ValueError(f"{name}[{bad[0]}] = {ids[bad[0]]} is not a node id in [0, {n})")
    return ids


@dataclasses.dataclass(frozen=True, eq=False)
class CombinatorialEmbedding:
    """A combinatorial (Sarkar) embedding in ℍ^dim, kept exactly as products of local isometries.

    Embedded distances are τ times tree distances up to the factor 1 + ε: ``dist_rows`` and ``pair_distances``
    return d_H (curvature −1, not divided by τ); pass ``scale=emb.scale`` to the metrics.
    """

    tree: RootedTree  # the BFS tree (with a virtual hub as root when the graph is disconnected)
    scale: float  # τ
    eps: float | None  # the ε that set τ (None when τ was given)
    dim: int
    directions: np.ndarray  # (N, dim) direction of each node from its parent, in the parent's frame
    factors: np.ndarray  # (N, height + 1, 2 + dim) see the module docstring
    precision_bits: int  # bits of the arbitrary-precision coordinates (mp_points)

    def __repr__(self) -> str:
        return (
            f"CombinatorialEmbedding(num_nodes={self.num_nodes}, dim={self.dim}, scale={self.scale:.6g}, "
            f"eps={self.eps}, root={self.root}, height={self.tree.height}, precision_bits={self.precision_bits})"
        )

    @property
    def num_nodes(self) -> int:
        """n, the graph's nodes (the virtual hub of a disconnected graph is not one)."""
        return self.tree.num_graph_nodes

    @property
    def root(self) -> int:
        """The node at the origin (the virtual hub, id n, for a disconnected graph)."""
        return self.tree.root

    @property
    def tree_edges(self) -> np.ndarray:
        """(m, 2) edges (parent, child) of the BFS tree between graph nodes (hub edges left out)."""
        edges = self.tree.edges
        return edges[(edges < self.num_nodes).all(axis=1)]

    @functools.cached_property
    def _source_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per node, padded to the kernel's depth bucket W: [lo, hi) the preorder range of its ancestor at depth
        k (−1, an empty range, below its depth), (N, W) int32 each; its factors, (2 + dim, N, W) float64."""
        tree = self.tree
        n, width = tree.ancestors.shape
        cols = _bucket(width, _DEPTH_BUCKET)
        anc = np.full((n, cols), -1, np.int64)
        anc[:, :width] = tree.ancestors
        safe = np.maximum(anc, 0)
        lo = np.where(anc >= 0, tree.preorder_position[safe], -1).astype(np.int32)
        hi = np.where(anc >= 0, tree.preorder_position[safe] + tree.subtree_size[safe], -1).astype(np.int32)
        factors = np.zeros((2 + self.dim, n, cols))
        factors[:, :, :width] = np.moveaxis(self.factors, 2, 0)
        return lo, hi, factors

    @functools.cached_property
    def _device_tables(self):
        """Everyone's factors as 2 + dim columns (W, n_pad), preorder positions (n_pad,) (padding: −5, in no
        range), and the largest rows per kernel call. Small graphs are padded to the node bucket (shared compiled
        kernels); large ones are not (their rows come back without a copy)."""
        n = self.num_nodes
        padded = _bucket(n, _NODE_BUCKET) if n <= _PAD_NODES_UP_TO else n
        _, _, factors = self._source_tables
        columns = np.zeros((2 + self.dim, factors.shape[2], padded))
        columns[:, :, :n] = np.swapaxes(factors[:, :n], 1, 2)
        columns[1, :, n:] = 1.0  # e^{−0} for the padding, which is dropped anyway
        position = np.full(padded, -5, np.int32)
        position[:n] = self.tree.preorder_position[:n]
        block = max(1, min(_MAX_ROWS_PER_CALL, _PAIRS_PER_CALL // padded))
        block = 1 << (block.bit_length() - 1)
        with jax.enable_x64(True):
            return [jnp.asarray(c) for c in columns], jnp.asarray(position), block

    def dist_rows(self, rows) -> np.ndarray:
        """d_H from each node in ``rows`` to every node: (len(rows), n) float64.

        Exact to ~1e-15 relative at any depth (no arbitrary precision needed); memory O(len(rows)·n).
        Satisfies the distance-source contract of :mod:`geomrep.embed.metrics` (pass ``scale=emb.scale``).
        Rows go through the kernel in power-of-two blocks (at most ``_PAIRS_PER_CALL`` pairs per call); a single
        block comes back as a view of the kernel's output, without a copy.

        >>> emb = tree_embedding(np.array([[0, 1], [1, 2]]), 3, eps=0.5)
        >>> (emb.dist_rows([0, 2]) / emb.scale).round(2).tolist()
        [[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]
        """
        n = self.num_nodes
        rows = _check_nodes(rows, n, "rows")
        columns, position, largest = self._device_tables
        lo, hi, factors = self._source_tables
        if n > _PAD_NODES_UP_TO:  # large graphs: no more padded rows than needed
            block = min(largest, 1 << max(len(rows) - 1, 0).bit_length())
        else:  # small ones: one block shape, one compiled kernel
            block = largest
        pieces = []
        with jax.enable_x64(True):
            for start in range(0, max(len(rows), 1), block):
                chunk = rows[start : start + block]
                if len(chunk) == 0:
                    break
                padded = np.concatenate([chunk, np.full(block - len(chunk), chunk[0])])
                src = [jnp.asarray(f[padded]) for f in factors]
                d, bad = _rows_kernel(
                    jnp.asarray(lo[padded]), jnp.asarray(hi[padded]), src, columns, position
                )
                d, bad = np.asarray(d)[: len(chunk), :n], np.asarray(bad)[: len(chunk)]
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    j = int(np.flatnonzero(~np.isfinite(d[i]))[0])
                    raise FloatingPointError(
                        f"embedded distance from node {chunk[i]} to node {j} is {d[i, j]}: two branches leave "
                        "their common ancestor in the same direction (τ far too small for this tree?)"
                    )
                pieces.append(d)
        if len(pieces) == 1 and pieces[0].flags.c_contiguous:
            return pieces[0]  # a view of the kernel's output: no copy
        return np.concatenate(pieces) if pieces else np.empty((0, n))

    def pair_distances(self, u, v) -> np.ndarray:
        """d_H(u_i, v_i) for the given node pairs: (P,) float64, exact like :meth:`dist_rows`.

        >>> emb = tree_embedding(np.array([[0, 1], [1, 2], [1, 3]]), 4, eps=0.1)
        >>> d = emb.pair_distances([0, 2], [2, 3]) / emb.scale
        >>> bool(np.all((d <= 2) & (d >= 2 / 1.1)))
        True
        """
        n = self.num_nodes
        u, v = _check_nodes(u, n, "u"), _check_nodes(v, n, "v")
        if u.shape != v.shape:
            raise ValueError(f"u and v must have the same length; got {len(u)} and {len(v)}")
        anc, fields = self.tree.ancestors, range(2 + self.dim)
        size = 1 << max(len(u) - 1, 0).bit_length()  # padded to a power of two: few compiled shapes
        u_pad, v_pad = np.pad(u, (0, size - len(u))), np.pad(v, (0, size - len(v)))
        with jax.enable_x64(True):
            out = np.asarray(
                _pairs_kernel(
                    jnp.asarray(anc[u_pad]),
                    jnp.asarray(anc[v_pad]),
                    [jnp.asarray(self.factors[u_pad, :, f]) for f in fields],
                    [jnp.asarray(self.factors[v_pad, :, f]) for f in fields],
                )
            )[: len(u)]
        bad = np.flatnonzero(~np.isfinite(out))
        if len(bad):
            raise FloatingPointError(
                f"embedded distance of pair {bad[0]} (nodes {u[bad[0]]}, {v[bad[0]]}) is {out[bad[0]]}: two branches "
                "leave their common ancestor in the same direction (τ far too small for this tree?)"
            )
        return out

    @property
    def root_distance(self) -> np.ndarray:
        """(n,) exact d_H of every node from the origin (the root, or the hub of a disconnected graph)."""
        return self.factors[: self.num_nodes, 0, 0].copy()

    @functools.cached_property
    def saturated(self) -> np.ndarray:
        """(n,) bool: nodes farther from the origin than float64 Poincaré coordinates resolve (> 36.7)."""
        return self.root_distance > FLOAT64_MAX_RADIUS

    @functools.cached_property
    def poincare(self) -> np.ndarray:
        """(n, dim) float64 Poincaré-ball coordinates (c = 1) of the nodes: x = tanh(D/2)·u.

        Saturated nodes (``self.saturated``, distance from the origin > ``FLOAT64_MAX_RADIUS``) cannot be told
        apart from the boundary in float64: they are kept on their true direction at the largest radius that
        float64 resolves, and a ``UserWarning`` reports how many (use ``tau="float64"`` to avoid it). Every
        row has norm < 1; nothing is NaN or inf.
        """
        distance = self.root_distance
        radius = np.tanh(np.minimum(distance, FLOAT64_MAX_RADIUS) / 2)
        points = radius[:, None] * self.factors[: self.num_nodes, 0, 2:]
        norm2 = np.sum(points * points, axis=1)
        while (outside := norm2 >= 1.0).any():  # rounding of the product may land on the boundary
            points[outside] *= 1.0 - 2.0**-52
            norm2 = np.sum(points * points, axis=1)
        count = int(self.saturated.sum())
        if count:
            warnings.warn(
                f"{count} of {self.num_nodes} nodes lie farther than {FLOAT64_MAX_RADIUS:.1f} from the origin "
                f"(up to {distance.max():.4g}) and cannot be represented in float64 Poincaré coordinates: they are "
                "clipped to the largest float64 radius along their direction (emb.saturated marks them). Use "
                "emb.dist_rows for exact distances, or tau='float64' for coordinates that fit.",
                UserWarning,
                stacklevel=2,
            )
        points.flags.writeable = False
        return points

    def mp_points(self, precision_bits: int | None = None, nodes=None):
        """Poincaré coordinates in arbitrary precision (:class:`~geomrep.embed.combinatorial_mp.MPPoints`).

        See :func:`geomrep.embed.combinatorial_mp.mp_points`.
        """
        from geomrep.embed.combinatorial_mp import mp_points

        return mp_points(self, precision_bits=precision_bits, nodes=nodes)


def _build(tree: RootedTree, *, eps, tau, dim, precision_bits) -> CombinatorialEmbedding:
    dim = int(dim)
    if dim < 2:
        raise ValueError(f"dim must be >= 2; got {dim}")
    if tau is None:
        lengths = tree.length[tree.parent >= 0]
        tau = sarkar_scale(eps, max(tree.max_degree, 1), lengths.min() if len(lengths) else 1.0)
    elif isinstance(tau, str):
        if tau != "float64":
            raise ValueError(f"tau must be a positive number or 'float64'; got {tau!r}")
        tau = float64_scale(tree.weighted_height)
    else:
        tau = float(tau)
        if not math.isfinite(tau) or tau <= 0:
            raise ValueError(f"tau must be a positive finite number or 'float64'; got {tau}")
    needed = required_precision_bits(tau, tree.weighted_height, tree.height, eps)
    if precision_bits is None:
        precision_bits = needed + _AUTO_EXTRA_BITS
    else:
        precision_bits = int(precision_bits)
        if precision_bits < needed:
            raise ValueError(
                f"precision_bits={precision_bits} is too low for this embedding: τ = {tau:.6g} over a tree of "
                f"weighted height {tree.weighted_height:g} needs at least {needed} bits "
                f"(log2(e)·τ·height = {math.log2(math.e) * tau * tree.weighted_height:.0f} to hold the deepest "
                f"node, plus guard bits for eps = {eps}); the automatic choice is {needed + _AUTO_EXTRA_BITS}"
            )
    directions = _child_directions(tree, dim)
    # padded to bucketed shapes (extra nodes have depth 0 and never update), so trees of similar size share one
    # compiled kernel
    n, width = tree.ancestors.shape
    rows, cols = _bucket(n, _NODE_BUCKET), _bucket(width, _DEPTH_BUCKET)
    ancestors = np.zeros((rows, cols), np.int64)
    ancestors[:n, :width] = tree.ancestors
    table = np.zeros((rows, cols, 2 + dim))
    table[:, :, 1] = 1.0
    with jax.enable_x64(True):
        factors = _factor_table(
            jnp.asarray(table),
            jnp.asarray(np.pad(tree.depth, (0, rows - n))),
            jnp.asarray(ancestors),
            jnp.asarray(np.pad(tau * tree.length, (0, rows - n))),
            jnp.asarray(np.pad(directions, ((0, rows - n), (0, 0)))),
        )
        factors = np.asarray(factors)[:n, :width]
    return CombinatorialEmbedding(
        tree=tree,
        scale=float(tau),
        eps=None if eps is None else float(eps),
        dim=dim,
        directions=directions,
        factors=factors,
        precision_bits=int(precision_bits),
    )


def _check_scale_args(eps, tau):
    if (eps is None) == (tau is None):
        raise ValueError(
            "give exactly one of eps (τ from Sarkar's bound: distortion <= 1 + eps) or tau (a number, or 'float64' "
            f"for the largest scale whose coordinates fit float64); got eps={eps!r}, tau={tau!r}"
        )
    if eps is not None:
        eps = float(eps)
        if not math.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps must be a positive number (the distortion bound 1 + eps); got {eps}")
    return eps


def combinatorial_embedding(
    edges,
    num_nodes: int,
    *,
    eps: float | None = None,
    tau: float | str | None = None,
    dim: int = 2,
    root: int | None = None,
    precision_bits: int | None = None,
    weights=None,
    child_order: str = "graph",
) -> CombinatorialEmbedding:
    """Combinatorial embedding of a graph through its BFS tree (Sala et al. 2018, Algorithm 1 / ``comb.jl``).

    The tree distances of the BFS tree are reproduced within 1 + ε (graph distances only where they agree with
    the tree's). Self-loops and repeated edges are ignored; a disconnected graph is embedded component by
    component around a virtual hub (see :func:`geomrep.embed.rooted_tree.bfs_tree`, which warns).

    Which child of a node takes which of its evenly spaced directions is free in the construction.
    ``child_order="graph"`` (default) puts subtrees joined by the edges that the tree drops side by side
    (:func:`geomrep.embed.rooted_tree.order_children_by_graph`), which raises graph MAP; ``"bfs"`` keeps BFS
    discovery order (increasing node id), the reference code's choice. Both give the same tree guarantee.

    Args:
      edges: (m, 2) integer node ids in [0, num_nodes), undirected.
      num_nodes: n.
      eps: ε > 0: τ = :func:`sarkar_scale` (worst-case distortion ≤ 1 + ε on the tree).
      tau: instead of eps: a positive scale, or ``"float64"`` for :func:`float64_scale` (the reference's ``-a``).
      dim: r ≥ 2 (2: Sarkar's planar construction; more: children on a sphere, :mod:`~geomrep.embed.sphere_codes`).
      root: the node placed at the origin (default: the node of largest degree, as in the reference).
      precision_bits: bits of ``mp_points`` (default :func:`required_precision_bits` + 40); too few raises
        ValueError with the number needed. The float64 factor representation never needs it.
      weights: optional (m,) positive edge lengths (default 1).
      child_order: ``"graph"`` or ``"bfs"`` (above).

    Returns:
      :class:`CombinatorialEmbedding`.

    >>> edges = np.array([[0, 1], [1, 2], [2, 0], [2, 3]])
    >>> emb = combinatorial_embedding(edges, 4, eps=0.1)
    >>> emb.root, emb.tree_edges.tolist()
    (2, [[2, 0], [2, 1], [2, 3]])
    """
    eps = _check_scale_args(eps, tau)
    if child_order not in ("graph", "bfs"):
        raise ValueError(f"child_order must be 'graph' or 'bfs'; got {child_order!r}")
    tree = bfs_tree(edges, num_nodes, root=root, weights=weights, hub_stretch=eps if eps is not None else 1.0)
    if child_order == "graph":
        tree = order_children_by_graph(tree, edges)
    return _build(tree, eps=eps, tau=tau, dim=dim, precision_bits=precision_bits)


def tree_embedding(
    edges,
    num_nodes: int,
    *,
    eps: float | None = None,
    tau: float | str | None = None,
    dim: int = 2,
    root: int | None = None,
    precision_bits: int | None = None,
    weights=None,
) -> CombinatorialEmbedding:
    """Combinatorial embedding of a tree; like :func:`combinatorial_embedding` but the input must be a tree.

    Raises :class:`~geomrep.embed.rooted_tree.NotATreeError` (a ValueError) naming the first self-loop, repeated
    edge or cycle-closing row, or the disconnection, instead of silently taking a BFS tree.

    >>> emb = tree_embedding(np.array([[0, 1], [0, 2], [0, 3]]), 4, eps=1.0, dim=3)
    >>> d = emb.dist_rows([1])[0] / emb.scale
    >>> bool(np.all(d[[0, 2, 3]] <= [1, 2, 2])) and bool(np.all(d[[0, 2, 3]] >= [0.5, 1, 1]))
    True
    """
    eps = _check_scale_args(eps, tau)
    edges, weights = validate_edges(edges, num_nodes, weights)
    check_tree(edges, num_nodes)
    tree = bfs_tree(edges, num_nodes, root=root, weights=weights)
    return _build(tree, eps=eps, tau=tau, dim=dim, precision_bits=precision_bits)
