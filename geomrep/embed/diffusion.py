"""Hyperbolic diffusion embedding and distance (Lin, Coifman, Mishne & Talmon 2023, "Hyperbolic Diffusion
Embedding and Distance for Hierarchical Representation Learning", ICML; reference code
ya-wei-eileen-lin/HyperbolicDiffusionDistance ``hyperbolic_diffusion_distance.py``).

From a diffusion operator P (:mod:`geomrep.embed.diffusion_operators`: the graph heat kernel e^{−L} or the
density-normalised data kernel) and K dyadic scales t_k = 2^{−k}, k = 0..K−1:

1. the row densities p_i^{(k)} = P^{t_k}[i, :] (all K powers from one eigendecomposition);
2. x̂_i^{(k)} = √max(p_i^{(k)}, floor) (entrywise, floor = 1e-6): a Hellinger-type representation;
3. the point (x̂_i^{(k)}, z_k) of the upper half-space ℍ^{n+1}, at height z_k = 2^{k/2 − 2} (so 1/(2z_k) = 2^{1−k/2});
4. the half-space distance at a common height, d_k(i, j) = 2·asinh(‖x̂_i^{(k)} − x̂_j^{(k)}‖ / (2 z_k));
5. HDD(i, j) = Σ_k d_k(i, j): the ℓ₁ distance of the product manifold ∏_k ℍ^{n+1}.

The embedding itself (K points of dimension n + 1 per node: n²K numbers) is never stored: a
:class:`DiffusionEmbedding` holds the eigenpairs and materialises any block of rows at any scale on demand
(:func:`scale_densities`, :func:`half_space_points`). Distances come three ways:

- :func:`hdd_matrix`: all pairs, one scale at a time, each scale two symmetric n³ products
  (P^t = S Sᵀ with S = U diag(μ^{t/2}), then the Gram matrix X Xᵀ), memory ≈ 5 n² numbers, never n²K;
- :func:`hdd_rows`: a block of rows against every node, memory O((block + chunk) · n);
- :func:`hdd_pairs`: listed pairs, memory O(block · n), cost O(pairs · K · m · n): what the truncated
  (n > 10⁴) path is for.

Squared distances use the Gram form ‖x‖² + ‖y‖² − 2⟨x, y⟩, whose absolute error is ≈ eps·(‖x‖² + ‖y‖²) with
‖x̂‖² ≈ 1 (a density's mass, plus the floor). Measured against the float64 NumPy reference
(``scripts/benchmarks/diffusion_vs_numpy.py``): float64 ≤ 6e-10 relative on Sala's graphs; float32 ≤ 7e-3
relative at the worst pair (diseases; the float32 eigenvectors dominate), which leaves their MAP and
distortion unchanged to 4 decimals. :func:`hdd_pairs` forms differences directly and avoids the cancellation.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.embed.diffusion_operators import (
    DiffusionInputError,
    SpectralOperator,
    data_diffusion_operator,
    graph_heat_operator,
    operator_error_bound,
)
from geomrep.manifolds.numerics import safe_sqrt

__all__ = [
    "DEFAULT_DENSITY_FLOOR",
    "DiffusionEmbedding",
    "DiffusionInputError",
    "SpectralOperator",
    "data_diffusion_operator",
    "graph_heat_operator",
    "half_space_dist",
    "half_space_points",
    "hdd_error_bound",
    "hdd_matrix",
    "hdd_pairs",
    "hdd_rows",
    "hyperbolic_diffusion",
    "scale_densities",
]

#: Densities are floored here before the square root (the reference's TOL).
DEFAULT_DENSITY_FLOOR = 1e-6
_HI = jax.lax.Precision.HIGHEST
# elements of a (rows × n) block materialised per device call in hdd_rows / hdd_pairs
_BLOCK_ELEMENTS = 1 << 22


class DiffusionEmbedding(NamedTuple):
    """A multi-scale hyperbolic diffusion embedding, kept as the operator's eigenpairs plus the scales.

    Node i at scale k is the half-space point (x̂_i^{(k)}, z_k) ∈ ℍ^{n+1} with x̂_i^{(k)} = √max(P^{t_k}[i], floor).
    """

    operator: SpectralOperator
    times: np.ndarray  # (K,) t_k = 2^{-k}
    heights: np.ndarray  # (K,) z_k = 2^{k/2 - 2}
    floor: float  # density floor before the square root

    @property
    def num_scales(self) -> int:
        return len(self.times)

    @property
    def num_nodes(self) -> int:
        return self.operator.num_nodes

    @property
    def weights(self) -> np.ndarray:
        """(K,) 1/(2 z_k) = 2^{1 − k/2}: d_k = 2·asinh(weight_k · ‖x̂_i − x̂_j‖)."""
        return 0.5 / self.heights


def hyperbolic_diffusion(
    operator: SpectralOperator, num_scales: int, *, floor: float = DEFAULT_DENSITY_FLOOR
) -> DiffusionEmbedding:
    """The hyperbolic diffusion embedding of Lin et al. 2023 (§3, the embedding of Eq. for x̂_i^{(k)}) with
    K = ``num_scales`` dyadic scales t_k = 2^{−k} and heights z_k = 2^{k/2 − 2}, k = 0..K−1.

    Args:
      operator: from :func:`graph_heat_operator` or :func:`data_diffusion_operator`.
      num_scales: K ≥ 1 (the reference README: 3 for the balanced/phylo trees and diseases, 4 for CS PhD,
        10 for Gr-QC, 6 for Iris).
      floor: densities are floored at this value > 0 before the square root (1e-6; negative entries of
        e^{−tL} from rounding, and zeros, become √floor).

    Returns:
      :class:`DiffusionEmbedding` (no n²K array is formed).

    >>> op = graph_heat_operator(np.array([[0, 1], [1, 2], [1, 3]]), 4, dtype=jnp.float64)
    >>> emb = hyperbolic_diffusion(op, 3)
    >>> emb.times.tolist(), np.round(emb.weights, 6).tolist()
    ([1.0, 0.5, 0.25], [2.0, 1.414214, 1.0])
    """
    if not isinstance(operator, SpectralOperator):
        raise DiffusionInputError(
            f"operator must be a SpectralOperator (graph_heat_operator / data_diffusion_operator); got "
            f"{type(operator).__name__}"
        )
    if isinstance(num_scales, bool) or not isinstance(num_scales, (int, np.integer)) or num_scales < 1:
        raise DiffusionInputError(f"num_scales (K) must be a positive integer; got {num_scales!r}")
    floor = float(floor)
    if not np.isfinite(floor) or floor <= 0:
        raise DiffusionInputError(f"floor must be a positive finite number; got {floor}")
    k = np.arange(int(num_scales), dtype=np.float64)
    return DiffusionEmbedding(operator, 2.0**-k, 2.0 ** (k / 2 - 2), floor)


def hdd_error_bound(embedding: DiffusionEmbedding) -> float:
    """A bound on |HDD − HDD̃| for any pair, from the eigenpairs a truncated operator dropped (0 if none).

    With ε_k the entrywise bound of :func:`~geomrep.embed.diffusion_operators.operator_error_bound` at t_k,
    each coordinate of x̂ moves by ≤ min(√ε_k, ε_k/(2√floor)) (√ is 1/2-Hölder, and 1/(2√floor)-Lipschitz
    above the floor), so ‖Δx̂_i‖ ≤ √n · that, and 2·asinh(w·r) is 2w-Lipschitz in r:

        |ΔHDD(i, j)| ≤ Σ_k 2 w_k · 2√n · min(√ε_k, ε_k / (2√floor)).
    """
    op = embedding.operator
    total = 0.0
    for t, w in zip(embedding.times, embedding.weights, strict=True):
        eps = operator_error_bound(op, float(t))
        coordinate = min(np.sqrt(eps), eps / (2.0 * np.sqrt(embedding.floor)))
        total += 4.0 * float(w) * np.sqrt(op.num_nodes) * coordinate
    return float(total)


# --- kernels ------------------------------------------------------------------------------------------------------


def _densities(vectors_rows, vectors, log_mu, left_rows, right, t, floor):
    """x̂ = √max(diag(left_rows) · U_rows diag(μ^t) Uᵀ · diag(right), floor) for a block of rows."""
    p = jnp.matmul(vectors_rows * jnp.exp(t * log_mu), vectors.T, precision=_HI)
    return jnp.sqrt(jnp.maximum(left_rows[:, None] * p * right[None, :], floor))


def _symmetric_gram(a, blocks: int):
    """a · aᵀ from the upper block triangle: blocks(blocks + 1)/2 of the blocks² tile products, mirrored.

    XLA has no syrk; 4 × 4 tiles do 62.5% of the flops of one GEMM and each tile product is still large.
    The result is exactly symmetric.
    """
    n = a.shape[0]
    if blocks <= 1:
        return jnp.matmul(a, a.T, precision=_HI)
    size = -(-n // blocks)
    a = jnp.pad(a, ((0, size * blocks - n), (0, 0)))
    parts = [a[i * size : (i + 1) * size] for i in range(blocks)]
    tiles = {
        (i, j): jnp.matmul(parts[i], parts[j].T, precision=_HI)
        for i in range(blocks)
        for j in range(i, blocks)
    }
    rows = [
        jnp.concatenate([tiles[i, j] if i <= j else tiles[j, i].T for j in range(blocks)], axis=1)
        for i in range(blocks)
    ]
    return jnp.concatenate(rows, axis=0)[:n, :n]


def _tile_count(n: int) -> int:
    """Tiles per side for the symmetric products: more tiles save flops, smaller tiles run slower."""
    return 1 if n < 512 else (2 if n < 1024 else 4)


@functools.partial(jax.jit, static_argnames=("blocks",))
def _hdd_all_pairs(vectors, log_mu, left, right, times, weights, floor, *, blocks):
    """Σ_k 2·asinh(w_k ‖x̂_i^{(k)} − x̂_j^{(k)}‖) for all pairs; one scale per scan step (memory O(n²))."""
    n = vectors.shape[0]

    def scale(total, tw):
        t, w = tw
        s = vectors * jnp.exp(0.5 * t * log_mu)  # P^t = diag(left) S Sᵀ diag(right)
        x = jnp.sqrt(jnp.maximum(left[:, None] * _symmetric_gram(s, blocks) * right[None, :], floor))
        sq = jnp.sum(x * x, axis=1)
        d2 = jnp.maximum(sq[:, None] + sq[None, :] - 2.0 * _symmetric_gram(x, blocks), 0.0)
        return total + 2.0 * jnp.arcsinh(w * jnp.sqrt(d2)), None

    total, _ = jax.lax.scan(scale, jnp.zeros((n, n), vectors.dtype), (times, weights))
    return total.at[jnp.arange(n), jnp.arange(n)].set(0.0)


@jax.jit
def _hdd_block_vs_chunk(vectors, log_mu, left, right, times, weights, floor, rows, cols):
    """HDD between rows (b,) and cols (c,) of one operator: (b, c); each scale forms (b + c) × n densities."""

    def scale(total, tw):
        t, w = tw
        xr = _densities(vectors[rows], vectors, log_mu, left[rows], right, t, floor)
        xc = _densities(vectors[cols], vectors, log_mu, left[cols], right, t, floor)
        d2 = (
            jnp.sum(xr * xr, axis=1)[:, None]
            + jnp.sum(xc * xc, axis=1)[None, :]
            - 2.0 * jnp.matmul(xr, xc.T, precision=_HI)
        )
        return total + 2.0 * jnp.arcsinh(w * safe_sqrt(d2)), None

    total, _ = jax.lax.scan(scale, jnp.zeros((rows.shape[0], cols.shape[0]), vectors.dtype), (times, weights))
    return jnp.where(rows[:, None] == cols[None, :], 0.0, total)


@jax.jit
def _hdd_pair_block(vectors, log_mu, left, right, times, weights, floor, i, j):
    """HDD of the pairs (i[p], j[p]): (P,)."""

    def scale(total, tw):
        t, w = tw
        xi = _densities(vectors[i], vectors, log_mu, left[i], right, t, floor)
        xj = _densities(vectors[j], vectors, log_mu, left[j], right, t, floor)
        r = safe_sqrt(jnp.sum((xi - xj) ** 2, axis=1))  # direct differences: no Gram cancellation
        return total + 2.0 * jnp.arcsinh(w * r), None

    total, _ = jax.lax.scan(scale, jnp.zeros(i.shape[0], vectors.dtype), (times, weights))
    return total


def _arrays(embedding: DiffusionEmbedding):
    op = embedding.operator
    dtype = op.vectors.dtype
    return (
        op.vectors,
        op.log_eigenvalues,
        op.left,
        op.right,
        jnp.asarray(embedding.times, dtype),
        jnp.asarray(embedding.weights, dtype),
        jnp.asarray(embedding.floor, dtype),
    )


def _index_array(name: str, index, n: int) -> np.ndarray:
    index = np.asarray(index)
    if index.ndim == 0:
        index = index[None]
    if index.ndim != 1 or not (np.issubdtype(index.dtype, np.integer) or index.size == 0):
        raise DiffusionInputError(f"{name} must be a 1-d array of integer node ids; got shape {index.shape}")
    bad = (index < 0) | (index >= n)
    if bad.any():
        k = int(np.argmax(bad))
        raise DiffusionInputError(f"{name}[{k}] = {int(index[k])} is outside [0, {n})")
    return index.astype(np.int32)


# --- public distances and points ----------------------------------------------------------------------------------


def half_space_dist(x, y):
    """Distance of the upper half-space model ℍ^N (curvature −1), heights in the last coordinate:

        d(x, y) = arcosh(1 + ‖x − y‖² / (2 x_N y_N)) = 2·asinh(‖x − y‖ / (2√(x_N y_N)))

    (the second form is exact near 0; Lin et al. 2023, the distance of their half-space model). At a common
    height z it is 2·asinh(‖x̂ − ŷ‖/(2z)), the per-scale term of HDD. Broadcasts over leading axes.

    >>> round(float(half_space_dist(jnp.array([0.0, 1.0]), jnp.array([0.0, jnp.e]))), 12)  # vertical: log ratio
    1.0
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    r = jnp.sqrt(jnp.sum((x - y) ** 2, axis=-1))
    return 2.0 * jnp.arcsinh(r / (2.0 * jnp.sqrt(x[..., -1] * y[..., -1])))


def scale_densities(embedding: DiffusionEmbedding, k: int, rows=None) -> jax.Array:
    """x̂^{(k)} = √max(P^{t_k}[rows], floor): (b, n), or (n, n) for all rows (n² numbers: one scale only)."""
    if not 0 <= int(k) < embedding.num_scales:
        raise DiffusionInputError(f"scale index k={k} is outside [0, {embedding.num_scales})")
    vectors, log_mu, left, right, times, _, floor = _arrays(embedding)
    n = embedding.num_nodes
    rows = np.arange(n, dtype=np.int32) if rows is None else _index_array("rows", rows, n)
    return _densities(vectors[rows], vectors, log_mu, left[rows], right, times[int(k)], floor)


def half_space_points(embedding: DiffusionEmbedding, k: int, rows=None) -> jax.Array:
    """The embedded points of scale k: (x̂_i^{(k)}, z_k) ∈ ℍ^{n+1}, shape (b, n + 1); see :func:`half_space_dist`."""
    x = scale_densities(embedding, k, rows)
    height = jnp.full((x.shape[0], 1), embedding.heights[int(k)], x.dtype)
    return jnp.concatenate([x, height], axis=1)


def hdd_matrix(embedding: DiffusionEmbedding) -> jax.Array:
    """All-pairs HDD(i, j) = Σ_k 2·asinh(2^{1−k/2} ‖x̂_i^{(k)} − x̂_j^{(k)}‖) (Lin et al. 2023, the HDD
    definition; the reference's ``hyperbolic_diffusion``), as an (n, n) array in the operator's dtype.

    One jitted scan over the K scales: per scale P^t = diag(left)·S Sᵀ·diag(right) with S = U diag(μ^{t/2})
    and the Gram matrix of x̂, both as symmetric tiled products; memory ≈ 5n² numbers whatever K is.
    Exactly symmetric with a zero diagonal. Use :func:`hdd_rows` or :func:`hdd_pairs` when n² does not fit.

    >>> op = graph_heat_operator(np.array([[0, 1], [1, 2], [1, 3]]), 4, dtype=jnp.float64)
    >>> d = hdd_matrix(hyperbolic_diffusion(op, 3))
    >>> bool(d[0, 2] == d[2, 0]), bool(jnp.isclose(d[0, 2], d[0, 3])), bool(d[0, 1] < d[0, 2])  # centre nearer
    (True, True, True)
    """
    n = embedding.num_nodes
    return _hdd_all_pairs(*_arrays(embedding), blocks=_tile_count(n))


def hdd_rows(embedding: DiffusionEmbedding, rows, *, chunk_size: int | None = None) -> jax.Array:
    """HDD from each node in ``rows`` to every node: (b, n), in column chunks (memory O((b + chunk) · n)).

    Each chunk recomputes the chunk's densities, so the whole matrix this way costs about n/b times
    :func:`hdd_matrix`: use it for a few rows, or when n² does not fit.
    """
    n = embedding.num_nodes
    rows = _index_array("rows", rows, n)
    chunk = int(chunk_size) if chunk_size else max(1, min(n, _BLOCK_ELEMENTS // n))
    if chunk < 1:
        raise DiffusionInputError(f"chunk_size must be a positive integer; got {chunk_size}")
    arrays = _arrays(embedding)
    parts = []
    for start in range(0, n, chunk):
        cols = np.arange(start, start + chunk, dtype=np.int32)
        valid = min(chunk, n - start)
        cols[valid:] = 0  # fixed shapes: one compilation; padding columns are dropped below
        parts.append(_hdd_block_vs_chunk(*arrays, rows, cols)[:, :valid])
    return jnp.concatenate(parts, axis=1)


def hdd_pairs(embedding: DiffusionEmbedding, i, j, *, block_size: int | None = None) -> jax.Array:
    """HDD(i[p], j[p]) for listed pairs: (P,). Memory O(block · n); the squared norms are formed from the
    differences directly (no Gram cancellation), so this is also the most accurate form.

    >>> op = graph_heat_operator(np.array([[0, 1], [1, 2], [1, 3]]), 4, dtype=jnp.float64)
    >>> emb = hyperbolic_diffusion(op, 3)
    >>> np.allclose(hdd_pairs(emb, [0, 0], [1, 2]), hdd_matrix(emb)[0, 1:3])
    True
    """
    n = embedding.num_nodes
    i, j = _index_array("i", i, n), _index_array("j", j, n)
    if i.shape != j.shape:
        raise DiffusionInputError(f"i and j must have the same length; got {len(i)} and {len(j)}")
    block = int(block_size) if block_size else max(1, min(max(len(i), 1), _BLOCK_ELEMENTS // (2 * n)))
    if block < 1:
        raise DiffusionInputError(f"block_size must be a positive integer; got {block_size}")
    arrays = _arrays(embedding)
    parts = []
    for start in range(0, len(i), block):
        bi = np.zeros(block, np.int32)
        bj = np.zeros(block, np.int32)
        valid = min(block, len(i) - start)
        bi[:valid], bj[:valid] = i[start : start + valid], j[start : start + valid]
        parts.append(_hdd_pair_block(*arrays, bi, bj)[:valid])
    if not parts:
        return jnp.zeros(0, embedding.operator.dtype)
    return jnp.concatenate(parts)
