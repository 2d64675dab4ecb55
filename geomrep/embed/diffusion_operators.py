"""Diffusion operators of hyperbolic diffusion (Lin, Coifman, Mishne & Talmon 2023, "Hyperbolic Diffusion
Embedding and Distance for Hierarchical Representation Learning", ICML; reference code
ya-wei-eileen-lin/HyperbolicDiffusionDistance ``diffusion_operator_util.py``).

Both operators are kept in one spectral form, from **one** symmetric eigendecomposition, so that any power
P^t (t > 0) costs one matrix product and the K dyadic scales reuse the same eigenpairs:

    P^t = diag(left) · U · diag(exp(t · log μ)) · Uᵀ · diag(right),          U (n, m) orthonormal columns.

- :func:`graph_heat_operator`: the graph heat kernel e^{−tL}. L = D − A (default) or the normalised Laplacian
  D^{−1/2}(D − A)D^{−1/2}; L = UΛUᵀ, log μ = −Λ, left = right = 1. For L = D − A the rows of e^{−tL} sum to 1.
- :func:`data_diffusion_operator`: the density-normalised data kernel. With dist the pairwise cosine or
  Euclidean distances, W = exp(−dist/σ), d = W·1 and the α-normalisation K = D_d^{−α} W D_d^{−α}; q = K·1 and
  M = q^{−1/2} K q^{−1/2} = ΨΛΨᵀ. Then P = q^{−1}K (a Markov matrix) and P^t = q^{−1/2} Ψ Λ^t Ψᵀ q^{1/2}:
  left = q^{−1/2}, right = q^{1/2}, log μ = log max(Λ, eigenvalue_floor). The floor (1e-6, as the reference)
  makes fractional powers of the non-positive eigenvalues defined.

Dense path (n ≤ 10⁴ by default): a full ``jnp.linalg.eigh`` in the requested dtype (jitted; LAPACK on CPU).
Truncated path (``num_eigenpairs`` = m < n, the default above 10⁴): the m eigenpairs with the largest μ from
SciPy's ARPACK Lanczos ``eigsh`` in float64 (shift-invert on the sparse Laplacian for graphs; a matrix-free
kernel product in row blocks for data, memory O(block · n)). The first dropped μ_{m+1} is kept in
``SpectralOperator.dropped_log_eigenvalue``: every entry of the truncated P^t differs from the full one by at
most μ_{m+1}^t · max(left) · max(right) (:func:`operator_error_bound`).
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import scipy.sparse.linalg

__all__ = [
    "DENSE_LIMIT",
    "DEFAULT_TRUNCATED_EIGENPAIRS",
    "DiffusionInputError",
    "SpectralOperator",
    "data_diffusion_operator",
    "graph_heat_operator",
    "operator_error_bound",
]

#: Largest n for which the full eigendecomposition is taken by default (n × n float64 is 800 MB at 10⁴).
DENSE_LIMIT = 10_000
#: Eigenpairs kept by default above DENSE_LIMIT.
DEFAULT_TRUNCATED_EIGENPAIRS = 256
#: Eigenvalues of the data operator's M are floored here before fractional powers (the reference's TOL).
DEFAULT_EIGENVALUE_FLOOR = 1e-6
DISTANCES = ("cosine", "euclidean", "sqeuclidean")
# rows of the kernel evaluated per device call in the matrix-free product (memory ≈ block · n numbers)
_KERNEL_BLOCK_ELEMENTS = 1 << 22


class DiffusionInputError(ValueError):
    """Input a diffusion operator cannot be built from; the message names the argument and the index."""


class SpectralOperator(NamedTuple):
    """P^t = diag(left) · vectors · diag(exp(t · log_eigenvalues)) · vectorsᵀ · diag(right), for any t > 0."""

    vectors: jax.Array  # (n, m) orthonormal columns U (m = n on the dense path)
    log_eigenvalues: jax.Array  # (m,) log μ ≤ 0 (−λ of the Laplacian; log of the floored eigenvalues of M)
    left: jax.Array  # (n,) row scaling (ones for graphs; q^{-1/2} for data)
    right: jax.Array  # (n,) column scaling (ones for graphs; q^{1/2} for data)
    kind: str  # "laplacian", "normalized_laplacian" or "data"
    solver: str  # "eigh" (full spectrum) or "eigsh" (top m)
    dropped_log_eigenvalue: float  # log μ_{m+1}, the largest dropped; -inf when nothing was dropped
    num_components: int  # connected components of the graph (of the kernel's support for data: 1)

    @property
    def num_nodes(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dtype(self):
        return self.vectors.dtype


def operator_error_bound(operator: SpectralOperator, t: float) -> float:
    """max_ij |P^t_ij − P̃^t_ij| ≤ μ_{m+1}^t · max(left) · max(right) for the truncated P̃ (0 on the dense path).

    The dropped part is diag(left) U_d diag(μ_d^t) U_dᵀ diag(right), and |Σ_l U_il U_jl μ_l^t| ≤ μ_{m+1}^t
    because the rows of the full orthogonal U have norm 1 (Cauchy–Schwarz).
    """
    if operator.dropped_log_eigenvalue == -np.inf:
        return 0.0
    scale = float(jnp.max(operator.left)) * float(jnp.max(operator.right))
    return float(np.exp(t * operator.dropped_log_eigenvalue)) * scale


def _resolve_dtype(dtype):
    """The requested float dtype (default: float64 when x64 is on, else float32); float64 needs x64."""
    if dtype is None:
        return jnp.dtype(jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    dt = jnp.dtype(dtype)
    if dt not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise DiffusionInputError(f"dtype must be float32 or float64; got {dt}")
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise DiffusionInputError(
            "dtype=float64 needs jax_enable_x64 (jax.config.update('jax_enable_x64', True)) before any array is made"
        )
    return dt


def _num_eigenpairs(num_eigenpairs, n: int) -> int | None:
    """None for the full spectrum, else the number m < n of eigenpairs to keep."""
    if num_eigenpairs is None:
        return None if n <= DENSE_LIMIT else min(DEFAULT_TRUNCATED_EIGENPAIRS, n - 2)
    m = int(num_eigenpairs)
    if m < 1:
        raise DiffusionInputError(f"num_eigenpairs must be a positive integer; got {num_eigenpairs}")
    if m >= n - 1:
        return None  # ARPACK needs m + 1 < n: take the full spectrum instead
    return m


def _check_floor(name: str, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise DiffusionInputError(f"{name} must be a positive finite number; got {value}")
    return value


# --- graphs ------------------------------------------------------------------------------------------------------


def _adjacency(edges, num_nodes: int, weights) -> scipy.sparse.csr_matrix:
    """Symmetric sparse adjacency (float64): self-loops dropped, a repeated pair is one edge (largest weight)."""
    num_nodes = int(num_nodes)
    if num_nodes < 2:
        raise DiffusionInputError(f"num_nodes must be at least 2; got {num_nodes}")
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0:
        raise DiffusionInputError(f"edges must be a non-empty (m, 2) integer array; got shape {edges.shape}")
    if not np.issubdtype(edges.dtype, np.integer):
        raise DiffusionInputError(f"edges must hold integer node ids; got dtype {edges.dtype}")
    edges = edges.astype(np.int64)
    out = (edges < 0) | (edges >= num_nodes)
    if out.any():
        row = int(np.argmax(out.any(axis=1)))
        raise DiffusionInputError(f"edges[{row}] = {edges[row].tolist()} is outside [0, {num_nodes})")
    if weights is None:
        weights = np.ones(len(edges))
    else:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(edges),):
            raise DiffusionInputError(f"weights must have shape ({len(edges)},); got {weights.shape}")
        bad = ~np.isfinite(weights) | (weights <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DiffusionInputError(f"weights[{i}] = {weights[i]} must be positive and finite")
    keep = edges[:, 0] != edges[:, 1]  # a self-loop adds w to D and to A: no effect on D − A
    edges, weights = edges[keep], weights[keep]
    if len(edges) == 0:
        raise DiffusionInputError("edges hold only self-loops: the graph has no edge to diffuse along")
    # one undirected edge per node pair: (u, v) and (v, u), and repeats, are the same edge (largest weight kept)
    key = np.minimum(edges[:, 0], edges[:, 1]) * num_nodes + np.maximum(edges[:, 0], edges[:, 1])
    order = np.argsort(key, kind="stable")
    key, weights = key[order], weights[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    key, weights = key[starts], np.maximum.reduceat(weights, starts)
    u, v = np.divmod(key, num_nodes)
    adjacency = scipy.sparse.coo_matrix(
        (np.concatenate([weights, weights]), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(num_nodes, num_nodes),
    ).tocsr()
    return adjacency


def _laplacian(adjacency: scipy.sparse.csr_matrix, normalized: bool) -> scipy.sparse.csr_matrix:
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    laplacian = scipy.sparse.diags(degree) - adjacency
    if normalized:
        # an isolated node (degree 0) keeps a zero row: its heat kernel row is e_i, as for L = D − A
        scale = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
        laplacian = scipy.sparse.diags(scale) @ laplacian @ scipy.sparse.diags(scale)
    return scipy.sparse.csr_matrix(laplacian)


@jax.jit
def _eigh(matrix):
    values, vectors = jnp.linalg.eigh(matrix, symmetrize_input=True)
    return values, vectors


def _lanczos_start(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(n)  # a fixed start vector: reproducible ARPACK runs


def graph_heat_operator(
    edges,
    num_nodes: int,
    *,
    weights=None,
    normalized: bool = False,
    num_eigenpairs: int | None = None,
    dtype=None,
) -> SpectralOperator:
    """Spectral form of the graph heat kernel e^{−tL} (Lin et al. 2023, §4 "graph" setting; reference
    ``diffusion_operator_graph`` with its transpose fixed: P^t = U e^{−tΛ} Uᵀ, not U e^{−tΛ} U).

    L = D − A with A the symmetric weighted adjacency (``normalized=False``, the default and the reference's)
    or L = D^{−1/2}(D − A)D^{−1/2} (``normalized=True``; the rows of e^{−tL} then do not sum to 1). Edges are
    undirected; self-loops are dropped (they cancel in D − A); a node pair listed more than once (in either
    direction) is one edge, with the largest of its weights.

    **Disconnected graphs** work per component: L is block diagonal, so is e^{−tL}, and every row is a density
    on its own component. A RuntimeWarning says how many components there are; ``num_components`` records it.
    HDD between nodes of different components is finite (their densities are floored, disjoint vectors) but
    carries no graph information. An isolated node's row of e^{−tL} is e_i.

    Args:
      edges: (E, 2) integer node ids in [0, num_nodes).
      num_nodes: n ≥ 2 (ids that never occur are isolated nodes).
      weights: optional (E,) positive edge weights (default 1).
      normalized: use the normalised Laplacian.
      num_eigenpairs: m; None = the full spectrum for n ≤ 10⁴ (dense ``eigh`` in ``dtype``), else m = 256.
        With m < n − 1 the m smallest Laplacian eigenpairs come from ARPACK (shift-invert, float64) and the
        (m+1)-th eigenvalue bounds the truncation error (:func:`operator_error_bound`).
      dtype: float32 or float64 (default: float64 when ``jax_enable_x64`` is on).

    Returns:
      :class:`SpectralOperator` with ``kind`` "laplacian" or "normalized_laplacian".

    >>> op = graph_heat_operator(np.array([[0, 1], [1, 2]]), 3, dtype=jnp.float64)
    >>> heat = (op.vectors * jnp.exp(op.log_eigenvalues)) @ op.vectors.T  # e^{-L} for t = 1
    >>> np.allclose(heat.sum(axis=1), 1.0), np.allclose(heat, heat.T)
    (True, True)
    """
    dtype = _resolve_dtype(dtype)
    adjacency = _adjacency(edges, num_nodes, weights)
    n = adjacency.shape[0]
    num_components, _ = scipy.sparse.csgraph.connected_components(adjacency, directed=False)
    if num_components > 1:
        warnings.warn(
            f"the graph has {num_components} connected components: the heat kernel acts on each separately, "
            "and HDD between nodes of different components is finite but carries no graph information",
            RuntimeWarning,
            stacklevel=2,
        )
    laplacian = _laplacian(adjacency, normalized)
    kind = "normalized_laplacian" if normalized else "laplacian"
    m = _num_eigenpairs(num_eigenpairs, n)
    if m is None:
        values, vectors = _eigh(jnp.asarray(laplacian.toarray(), dtype))
        values = jnp.maximum(values, 0.0)  # L is positive semi-definite; clip rounding below 0
        ones = jnp.ones(n, dtype)
        return SpectralOperator(vectors, -values, ones, ones, kind, "eigh", -np.inf, int(num_components))
    # the m + 1 smallest eigenvalues of the PSD L, nearest the shift −σ: shift-invert keeps ARPACK fast
    shift = -1e-3 * max(1.0, float(laplacian.diagonal().mean()))
    values, vectors = scipy.sparse.linalg.eigsh(
        laplacian.tocsc(), k=m + 1, sigma=shift, which="LM", v0=_lanczos_start(n)
    )
    order = np.argsort(values)
    values, vectors = np.maximum(values[order], 0.0), vectors[:, order]
    ones = jnp.ones(n, dtype)
    return SpectralOperator(
        jnp.asarray(vectors[:, :m], dtype),
        jnp.asarray(-values[:m], dtype),
        ones,
        ones,
        kind,
        "eigsh",
        float(-values[m]),
        int(num_components),
    )


# --- point clouds ------------------------------------------------------------------------------------------------


def _validated_points(points) -> np.ndarray:
    x = np.asarray(points)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise DiffusionInputError(f"points must be an (n, d) array with n ≥ 2 and d ≥ 1; got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DiffusionInputError(f"points must be real numbers; got dtype {x.dtype}")
    x = x.astype(np.float64)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise DiffusionInputError(f"points[{i}] is not finite: {x[i].tolist()[:8]}")
    return x


def _pairwise_distance(x, y, distance: str):
    """(a, b) distances between rows of x (a, d) and y (b, d); cosine rows must be unit vectors already."""
    hi = jax.lax.Precision.HIGHEST
    if distance == "cosine":
        return jnp.clip(1.0 - jnp.matmul(x, y.T, precision=hi), 0.0, 2.0)
    sq = (
        jnp.sum(x * x, axis=1)[:, None]
        + jnp.sum(y * y, axis=1)[None, :]
        - 2.0 * jnp.matmul(x, y.T, precision=hi)
    )
    sq = jnp.maximum(sq, 0.0)
    return sq if distance == "sqeuclidean" else jnp.sqrt(sq)


def _kernel_rows(chunk, rows, points, sigma, distance):
    """W[rows] = exp(−dist(chunk, points)/σ) with the self-distance set to exactly 0 (W_ii = 1)."""
    dist = _pairwise_distance(chunk, points, distance)
    dist = jnp.where(rows[:, None] == jnp.arange(points.shape[0])[None, :], 0.0, dist)
    return jnp.exp(-dist / sigma)


@functools.partial(jax.jit, static_argnames=("distance",))
def _dense_data_spectrum(points, sigma, alpha, *, distance):
    """Eigenpairs of M = q^{-1/2} K q^{-1/2} and q, from the dense kernel (n ≤ DENSE_LIMIT)."""
    n = points.shape[0]
    w = _kernel_rows(points, jnp.arange(n), points, sigma, distance)
    inv = jnp.sum(w, axis=1) ** -alpha
    k = inv[:, None] * w * inv[None, :]
    q = jnp.sum(k, axis=1)
    root = jnp.sqrt(q)
    values, vectors = jnp.linalg.eigh(k / root[:, None] / root[None, :], symmetrize_input=True)
    return values, vectors, q


@functools.partial(jax.jit, static_argnames=("distance", "block"))
def _scaled_kernel_product(points, row_scale, col_scale, vectors, sigma, *, distance, block):
    """diag(row_scale) · W · diag(col_scale) · vectors, with W built ``block`` rows at a time (never n × n)."""
    n = points.shape[0]
    pad = (-n) % block
    padded = jnp.pad(points, ((0, pad), (0, 0)))
    rows = jnp.arange(n + pad).reshape(-1, block)
    scaled = col_scale[:, None] * vectors

    def product(args):
        chunk, index = args
        return jnp.matmul(
            _kernel_rows(chunk, index, points, sigma, distance), scaled, precision=jax.lax.Precision.HIGHEST
        )

    out = jax.lax.map(product, (padded.reshape(-1, block, points.shape[1]), rows))
    return row_scale[:, None] * out.reshape(-1, vectors.shape[1])[:n]


def data_diffusion_operator(
    points,
    *,
    distance: str = "cosine",
    sigma: float = 2.0,
    alpha: float = 1.0,
    num_eigenpairs: int | None = None,
    eigenvalue_floor: float = DEFAULT_EIGENVALUE_FLOOR,
    small_eigenvalues: str = "floor",
    dtype=None,
) -> SpectralOperator:
    """Spectral form of the density-normalised diffusion operator of a point cloud (Lin et al. 2023, §4
    "data" setting, after Coifman & Lafon 2006; reference ``diffusion_operator_normalized_data``).

    1. dist_ij: cosine distance 1 − ⟨x_i, x_j⟩/(‖x_i‖‖x_j‖) (the reference's choice), Euclidean ‖x_i − x_j‖, or
       squared Euclidean ‖x_i − x_j‖² (then W is the Gaussian kernel exp(−‖x_i − x_j‖²/σ)).
    2. W = exp(−dist/σ); d = W·1; K = D_d^{−α} W D_d^{−α} (α = 1 in the reference code: density removed).
    3. q = K·1, M = q^{−1/2} K q^{−1/2} = ΨΛΨᵀ (symmetric), μ = max(Λ, eigenvalue_floor);
       P = q^{−1}K has P^t = q^{−1/2} Ψ diag(μ^t) Ψᵀ q^{1/2}: rows of P^t sum to 1 (exactly before flooring).

    Handling of awkward input: a non-finite coordinate is an error naming the row; under cosine distance a zero
    vector has no direction, and is an error naming the row (use distance="euclidean" for such data).
    **Small eigenvalues and duplicates.** Fractional powers amplify small eigenvalues: μ^t → 1 as t → 0 for
    any μ > 0. With ``small_eigenvalues="floor"`` (the reference's rule) every eigenvalue below
    ``eigenvalue_floor`` becomes the floor, whose power (1e-6)^{2^{−k}} is 0.65 at k = 5: the kernel's null
    directions then weigh in at fine scales. Duplicate points are the visible case: x_i = x_j makes
    e_i − e_j a null vector of M, so with the floor their HDD is positive (≈ 1.5 at K = 6) and grows with K.
    ``small_eigenvalues="drop"`` gives eigenvalues ≤ ``eigenvalue_floor`` the power 0 instead (0^t = 0, and
    negative λ^t is not real): duplicates then get identical rows of P^t and HDD ≈ 0 (exactly 0 in exact
    arithmetic; ≲ √eps from the Gram form of :func:`~geomrep.embed.diffusion.hdd_matrix`). Nothing is NaN either way.

    Args:
      points: (n, d) array, n ≥ 2.
      distance: "cosine" (default), "euclidean" or "sqeuclidean".
      sigma: the kernel scale σ > 0 (2 in the reference).
      alpha: the density normalisation exponent α ≥ 0 (0: none; 1/2: Fokker–Planck; 1: Laplace–Beltrami).
      num_eigenpairs: m; None = the full spectrum for n ≤ 10⁴, else 256. With m < n − 1 the top m + 1
        eigenpairs of M come from ARPACK on a matrix-free kernel product (memory O(block · n)).
      eigenvalue_floor: the threshold for small eigenvalues (1e-6 in the reference).
      small_eigenvalues: "floor" (μ = max(λ, eigenvalue_floor), the reference) or "drop" (μ = λ above the
        threshold, else the mode is left out: μ^t = 0).
      dtype: float32 or float64 (default: float64 when ``jax_enable_x64`` is on).

    Returns:
      :class:`SpectralOperator` with ``kind="data"``.

    >>> op = data_diffusion_operator(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), dtype=jnp.float64)
    >>> p = op.left[:, None] * ((op.vectors * jnp.exp(op.log_eigenvalues)) @ op.vectors.T) * op.right[None]
    >>> np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    True
    """
    dtype = _resolve_dtype(dtype)
    if distance not in DISTANCES:
        raise DiffusionInputError(f"distance must be one of {list(DISTANCES)}; got {distance!r}")
    sigma = _check_floor("sigma", sigma)
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise DiffusionInputError(f"alpha must be a finite number ≥ 0; got {alpha}")
    eigenvalue_floor = _check_floor("eigenvalue_floor", eigenvalue_floor)
    if small_eigenvalues not in ("floor", "drop"):
        raise DiffusionInputError(f"small_eigenvalues must be 'floor' or 'drop'; got {small_eigenvalues!r}")

    def log_powers(values):
        """log μ: μ^t = exp(t log μ); −inf gives μ^t = 0 for every t > 0."""
        xp = jnp if isinstance(values, jax.Array) else np
        if small_eigenvalues == "floor":
            return xp.log(xp.maximum(values, eigenvalue_floor))
        return xp.where(values > eigenvalue_floor, xp.log(xp.maximum(values, eigenvalue_floor)), -xp.inf)

    x = _validated_points(points)
    n = x.shape[0]
    if distance == "cosine":
        norms = np.linalg.norm(x, axis=1)
        zero = norms == 0
        if zero.any():
            i = int(np.argmax(zero))
            raise DiffusionInputError(
                f"points[{i}] is the zero vector: its cosine distance to anything is undefined; remove it or "
                "use distance='euclidean'"
            )
        x = x / norms[:, None]
    m = _num_eigenpairs(num_eigenpairs, n)
    if m is None:
        values, vectors, q = _dense_data_spectrum(
            jnp.asarray(x, dtype), jnp.asarray(sigma, dtype), jnp.asarray(alpha, dtype), distance=distance
        )
        root = jnp.sqrt(q)
        return SpectralOperator(vectors, log_powers(values), 1.0 / root, root, "data", "eigh", -np.inf, 1)
    # truncated path: ARPACK in float64 (when x64 is on) on a matrix-free product, memory O(block · n)
    work = jnp.dtype(jnp.float64) if jax.config.jax_enable_x64 else dtype
    pts, sig = jnp.asarray(x, work), jnp.asarray(sigma, work)
    block = max(1, min(n, _KERNEL_BLOCK_ELEMENTS // n))
    product = functools.partial(_scaled_kernel_product, pts, distance=distance, block=block)
    ones = jnp.ones(n, work)
    degree = product(ones, ones, ones[:, None], sig)[:, 0]  # d = W·1 ≥ 1 (W_ii = 1)
    inv = degree**-alpha
    q = product(inv, inv, ones[:, None], sig)[:, 0]  # q = K·1 > 0
    scale = inv / jnp.sqrt(q)  # M = diag(scale) · W · diag(scale)

    def apply(v):
        v = jnp.asarray(np.asarray(v, np.float64).reshape(n, -1), work)
        return np.asarray(product(scale, scale, v, sig), np.float64)

    operator = scipy.sparse.linalg.LinearOperator((n, n), matvec=apply, matmat=apply, dtype=np.float64)
    values, vectors = scipy.sparse.linalg.eigsh(operator, k=m + 1, which="LA", v0=_lanczos_start(n))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    log_mu = log_powers(values)
    root = np.sqrt(np.asarray(q, np.float64))
    return SpectralOperator(
        jnp.asarray(vectors[:, :m], dtype),
        jnp.asarray(log_mu[:m], dtype),
        jnp.asarray(1.0 / root, dtype),
        jnp.asarray(root, dtype),
        "data",
        "eigsh",
        float(log_mu[m]),
        1,
    )
