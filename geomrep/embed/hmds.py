"""h-MDS: hyperbolic multidimensional scaling (Sala, De Sa, Gu & Ré 2018, "Representation Tradeoffs for
Hyperbolic Embeddings", ICML; reference code HazyResearch/hyperbolics ``hMDS/hmds-simple.jl``).

Given distances d_ij and a scale t > 0, h-MDS finds points of the hyperboloid ℍᵏ (curvature −1) whose distances
are t·d_ij, with no optimisation: for points x_i = (x₀ᵢ, x̃ᵢ) ∈ ℍʳ, the Lorentz Gram matrix is

    ⟨x_i, x_j⟩_L = −x₀ᵢx₀ⱼ + ⟨x̃ᵢ, x̃ⱼ⟩ = −cosh d_H(x_i, x_j),   i.e.   −Y = X̃X̃ᵀ − x₀x₀ᵀ,  Y = cosh(t·D),

so −Y has exactly r positive eigenvalues and one negative one. Keeping the positive eigenpairs gives X̃ up to an
orthogonal map of ℝʳ, and x₀ = √(1 + ‖x̃‖²) completes the points (exact recovery, up to an isometry).

- :func:`hmds` runs it from a distance matrix (dense ``eigh`` or a top-k Lanczos ``eigsh``).
- :func:`pga_reduce` truncates an existing hyperboloid embedding the same way, from its own Gram matrix, in
  O(n·r²) without forming an n × n matrix.

Everything here is host-side NumPy/SciPy in float64 (eigen-solvers are LAPACK/ARPACK; the n × n work is one
``cosh`` and one eigen-solve), and returns NumPy float64 arrays whatever ``jax_enable_x64`` says. The outputs
are ordinary geomrep points: ``hyperboloid`` rows are points of :mod:`geomrep.manifolds.lorentz` (time
coordinate first) and ``poincare`` rows points of :mod:`geomrep.manifolds.poincare` (c = 1), so the graph
metrics of :mod:`geomrep.embed.metrics` take them directly, with ``scale=result.scale``.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

__all__ = ["HMDSResult", "hmds", "pga_reduce"]

# Entries of the input are checked for symmetry and a zero diagonal to this tolerance, relative to max(D).
_INPUT_RTOL = 1e-6
# cosh(x) overflows float64 for x > ~710.47.
_COSH_MAX_ARG = float(np.arccosh(np.finfo(np.float64).max))
# Beyond this distance from the ball's centre a float64 Poincaré coordinate resolves distances to only
# ≈ eps·e^{d}/2 ≈ 1e-3 (and ‖p‖ rounds to 1 at d ≈ 37); the hyperboloid coordinates keep full precision.
_POINCARE_RESOLUTION_LIMIT = 30.0
# An eigenvalue counts as positive (negative) above tol = factor·n·eps·‖Y‖_∞ (below −tol).
_RANK_TOL_FACTOR = 10.0
# ``solver="auto"`` takes the top-k Lanczos path from this size on, when dim is small against n.
_EIGSH_MIN_N = 2000
_EIGSH_MAX_DIM_FRACTION = 0.1


class HMDSResult(NamedTuple):
    """Result of :func:`hmds` and :func:`pga_reduce`.

    Embedded distances are t·d: the recovered distance of i and j is d_H(x_i, x_j)/scale.
    """

    poincare: np.ndarray  # (n, dim) float64 Poincaré-ball coordinates (c = 1), p = x̃/(1 + x₀)
    hyperboloid: np.ndarray  # (n, dim + 1) float64 hyperboloid points (x₀, x̃), time coordinate first
    eigenvalues: np.ndarray  # (k,) the kept positive eigenvalues of −cosh(t·D), descending; k ≤ dim
    num_positive: int  # eigenvalues > tol among those computed (eigsh computes only the top dim)
    num_negative: int | None  # eigenvalues < −tol (1 for exactly hyperbolic data); None when not computed
    scale: float  # t
    solver: str  # the eigen-solver that ran: "eigh", "eigsh" or "gram" (pga_reduce)


def _first_pair(mask: np.ndarray) -> tuple[int, int]:
    """The first (i, j) in row-major order where ``mask`` is True (argmax stops at the first True)."""
    i, j = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return int(i), int(j)


def _exactly_symmetric(d: np.ndarray, tile: int = 128) -> bool:
    """d == dᵀ, compared tile by tile: ~6x faster than ``array_equal(d, d.T)``, whose transposed read misses cache."""
    n = d.shape[0]
    for i in range(0, n, tile):
        for j in range(i, n, tile):
            if not np.array_equal(d[i : i + tile, j : j + tile], d[j : j + tile, i : i + tile].T):
                return False
    return True


def _validated_distances(distances) -> np.ndarray:
    """(n, n) float64 distances, symmetrised with a zero diagonal, or a ValueError naming the first bad pair."""
    d = np.asarray(distances)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] == 0:
        raise ValueError(f"distances must be a non-empty square (n, n) matrix; got shape {d.shape}")
    if not (np.issubdtype(d.dtype, np.floating) or np.issubdtype(d.dtype, np.integer)):
        raise ValueError(f"distances must be real numbers; got dtype {d.dtype}")
    owned = d.dtype != np.float64 or not isinstance(distances, np.ndarray)  # d is not the caller's array
    d = np.asarray(d, dtype=np.float64)
    finite = np.isfinite(d)
    if not finite.all():
        i, j = _first_pair(~finite)
        hint = " (a disconnected graph: embed each component separately)" if np.isinf(d[i, j]) else ""
        raise ValueError(f"distances[{i}, {j}] = {d[i, j]} is not finite{hint}")
    tol = _INPUT_RTOL * float(d.max(initial=0.0))
    diagonal = np.abs(np.diagonal(d))
    if (diagonal > tol).any():
        i = int(np.argmax(diagonal > tol))
        raise ValueError(f"distances[{i}, {i}] = {d[i, i]} must be 0 (the diagonal of a distance matrix)")
    negative = d < 0
    np.fill_diagonal(negative, False)
    if negative.any():
        i, j = _first_pair(negative)
        raise ValueError(f"distances[{i}, {j}] = {d[i, j]} is negative")
    if not _exactly_symmetric(d):
        asymmetric = np.abs(d - d.T) > tol
        if asymmetric.any():
            i, j = _first_pair(np.triu(asymmetric))
            raise ValueError(
                f"distances is not symmetric: distances[{i}, {j}] = {d[i, j]} but distances[{j}, {i}] = "
                f"{d[j, i]} (tolerance {tol:.3g} = {_INPUT_RTOL:g}·max distance)"
            )
        d, owned = 0.5 * (d + d.T), True
    if diagonal.any():
        d = d if owned else d.copy()
        np.fill_diagonal(d, 0.0)
    return d


def _top_eigenpairs(m: np.ndarray, dim: int, solver: str):
    """Top-``dim`` eigenpairs of the symmetric m, descending, plus the full spectrum when it was computed."""
    n = m.shape[0]
    if solver == "eigsh":
        try:
            # a fixed start vector keeps the result reproducible (ARPACK's default one is random)
            v0 = np.random.default_rng(0).standard_normal(n)
            values, vectors = scipy.sparse.linalg.eigsh(m, k=dim, which="LA", v0=v0)
        except scipy.sparse.linalg.ArpackNoConvergence:
            warnings.warn(
                "hmds: eigsh did not converge; falling back to the dense eigh", RuntimeWarning, stacklevel=3
            )
            solver = "eigh"
        else:
            order = np.argsort(values)[::-1]
            return values[order], vectors[:, order], None, "eigsh"
    spectrum, vectors = scipy.linalg.eigh(m, overwrite_a=True, check_finite=False, driver="evd")
    return spectrum[::-1][:dim], vectors[:, ::-1][:, :dim], spectrum, "eigh"


def _lift(values: np.ndarray, vectors: np.ndarray, dim: int, tol: float):
    """Spatial coordinates U₊Λ₊^{1/2} from the eigenpairs with λ > tol, zero-padded to ``dim`` columns."""
    keep = values > tol
    values, vectors = values[keep], vectors[:, keep]
    # a deterministic sign: each kept eigenvector's largest entry is positive
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])])
    spatial = np.zeros((vectors.shape[0], dim))
    spatial[:, : len(values)] = vectors * (signs * np.sqrt(values))
    return spatial, values


def _points(spatial: np.ndarray):
    """Hyperboloid (x₀, x̃) and Poincaré x̃/(1 + x₀) coordinates; the formula of ``lorentz.to_poincare``."""
    time = np.sqrt(1.0 + np.einsum("ij,ij->i", spatial, spatial))[:, None]
    return np.concatenate([time, spatial], axis=1), spatial / (1.0 + time)


def _checked_result(spatial, values, num_positive, num_negative, scale, solver, dim, caller) -> HMDSResult:
    if len(values) < dim:
        warnings.warn(
            f"{caller}: only {len(values)} positive eigenvalues (of the {dim} asked for) above the numerical "
            f"tolerance; columns {len(values)}..{dim - 1} of the embedding are zero (the points lie in a "
            f"{len(values)}-dimensional totally geodesic subspace)",
            RuntimeWarning,
            stacklevel=3,
        )
    hyperboloid, poincare = _points(spatial)
    if not (np.isfinite(hyperboloid).all() and np.isfinite(poincare).all()):
        raise ValueError(
            f"{caller}: the embedding overflows float64 at scale {scale:g}; use a smaller scale (cosh(scale·d) "
            "grows like e^(scale·d)/2)"
        )
    radius = float(np.arcsinh(np.sqrt(np.max(np.sum(spatial * spatial, axis=1), initial=0.0))))
    if radius > _POINCARE_RESOLUTION_LIMIT:
        warnings.warn(
            f"{caller}: points lie up to {radius:.1f} from the centre; their float64 Poincaré coordinates resolve "
            f"distances only to ≈ {np.finfo(np.float64).eps * np.exp(radius) / 2:.1g} (the hyperboloid "
            "coordinates keep full precision). A smaller scale shrinks the embedding.",
            RuntimeWarning,
            stacklevel=3,
        )
    return HMDSResult(
        poincare=poincare,
        hyperboloid=hyperboloid,
        eigenvalues=values,
        num_positive=int(num_positive),
        num_negative=None if num_negative is None else int(num_negative),
        scale=float(scale),
        solver=solver,
    )


def _validated_dim_scale(dim, scale) -> tuple[int, float]:
    """``(int(dim), float(scale))``, or a ValueError naming the bad one."""
    dim = int(dim)
    if dim < 1:
        raise ValueError(f"dim must be a positive integer; got {dim}")
    scale = float(scale)
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive finite number; got {scale}")
    return dim, scale


def hmds(distances, dim: int, *, scale: float = 1.0, solver: str = "auto") -> HMDSResult:
    """h-MDS (Sala et al. 2018, h-MDS section; reference code ``hMDS/hmds-simple.jl``).

    With D the (n, n) distances and t = ``scale``:

    1. Y = cosh(t·D) (entrywise); for points of ℍʳ, −Y = X̃X̃ᵀ − x₀x₀ᵀ is their Lorentz Gram matrix.
    2. The top-``dim`` eigenpairs (λ_k, u_k) of −Y with λ_k > tol = 10·n·eps·‖Y‖_∞ give the spatial coordinates
       X̃ = U₊Λ₊^{1/2} (n, dim); x₀ = √(1 + ‖x̃‖²).
    3. Poincaré coordinates p = x̃/(1 + x₀) (as :func:`geomrep.manifolds.lorentz.to_poincare`); the recovered
       distance is d_H(x_i, x_j)/t.

    **Exactness.** If D is the distance matrix of points of ℍʳ (curvature −1) and ``dim`` ≥ r, the recovered
    distances equal D up to rounding, with either solver (measured: ≤ 5e-14 relative on the tests' clouds in
    ℍ², ℍ³ and ℍ⁵ of diameter ≈ 7–8; the tests assert the issue's 1e-6). The positive eigenspace of −Y is
    unique, so the output is the isometric copy of the points centred so that Σᵢ x₀ᵢ x̃ᵢ = 0: the
    stationarity condition of μ ↦ Σᵢ cosh² d(μ, x_i) at μ = origin, a "pseudo-Euclidean mean".

    **Dimension reduction (PGA-style).** With ``dim`` < the number of positive eigenvalues, only the top
    ``dim`` eigen-directions are kept: each centred point keeps its coordinates along them and drops the others,
    then x₀ is recomputed, which places it on the totally geodesic ℍ^dim through the centre spanned by those
    directions. This is the PCA-like truncation the paper relates to principal geodesic analysis (PGA) and
    bounds with a perturbation analysis (whose constants we have not checked); it is not the geodesic
    (nearest-point) projection, nor claimed to optimise PGA's objective. :func:`pga_reduce` applies the same
    truncation to points already on the hyperboloid.

    **Numerics.** cosh(t·d) overflows float64 for t·d > 710 (a ValueError suggests a smaller scale), and the
    dynamic range of Y grows like e^{t·max D}: large t·max D costs precision on small distances. Points that
    end up farther than 30 from the centre have Poincaré coordinates that resolve distances only to
    ≈ eps·e^{d}/2 (a RuntimeWarning says so; ``hyperboloid`` keeps full precision). If fewer than ``dim``
    eigenvalues are positive (e.g. exactly ℍʳ data with ``dim`` > r, or n ≤ ``dim``), the positive ones are
    kept, the remaining columns are zero (still exact points of ℍ^dim) and a RuntimeWarning says so.

    Args:
      distances: (n, n) array-like: symmetric (to 1e-6·max D), non-negative, finite, zero diagonal; anything
        else is a ValueError naming the first offending pair (e.g. inf from a disconnected graph). A matrix
        asymmetric within the tolerance is symmetrised.
      dim: the embedding dimension k ≥ 1 (the rank kept).
      scale: t > 0; embedded distances are t·D.
      solver: "eigh" (dense LAPACK, full spectrum: exact ``num_positive``/``num_negative``), "eigsh" (ARPACK
        Lanczos for the top ``dim`` eigenpairs, ``which="LA"``; needs dim < n − 1; falls back to eigh with a
        warning if it does not converge), or "auto": eigsh when n ≥ 2000 and dim ≤ n/10, else eigh.

    Returns:
      :class:`HMDSResult`: ``poincare`` (n, dim), ``hyperboloid`` (n, dim + 1), the kept ``eigenvalues``
      (descending), ``num_positive``, ``num_negative`` (None with eigsh), ``scale`` and ``solver``.

    >>> path = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])  # three points on a geodesic
    >>> result = hmds(path, dim=1)
    >>> result.num_positive, result.num_negative
    (1, 1)
    >>> np.round(np.abs(result.poincare[:, 0]), 6)  # the middle one at the centre, the others tanh(1/2) away
    array([0.462117, 0.      , 0.462117])
    """
    d = _validated_distances(distances)
    n = d.shape[0]
    dim, scale = _validated_dim_scale(dim, scale)
    if solver == "auto":
        solver = "eigsh" if n >= _EIGSH_MIN_N and dim <= _EIGSH_MAX_DIM_FRACTION * n else "eigh"
    elif solver not in ("eigh", "eigsh"):
        raise ValueError(f"solver must be 'auto', 'eigh' or 'eigsh'; got {solver!r}")
    if solver == "eigsh" and dim >= n - 1:
        raise ValueError(f"solver='eigsh' needs dim < n - 1 = {n - 1}; got dim={dim} (use solver='eigh')")
    largest = scale * float(d.max(initial=0.0))
    if largest > _COSH_MAX_ARG:
        raise ValueError(
            f"cosh(scale·max D) = cosh({largest:.4g}) overflows float64 (limit {_COSH_MAX_ARG:.1f}); use "
            f"scale < {_COSH_MAX_ARG / (largest / scale):.4g}. Float64 precision is lost well before that: keep "
            "scale·max D in the tens."
        )
    minus_y = np.cosh(d if scale == 1.0 else scale * d)
    np.negative(minus_y, out=minus_y)
    # ‖Y‖_∞ ≥ ‖Y‖₂ (Y is entrywise positive); spurious eigenvalues of exactly low-rank −Y measure ≤ 4·eps·‖Y‖_∞
    # at n = 3 and ≤ 0.02·n·eps·‖Y‖_∞ at n ≥ 60, true ones ≥ 1e9 times more (tests' data)
    tol = _RANK_TOL_FACTOR * n * np.finfo(np.float64).eps * float(np.max(-minus_y.sum(axis=1)))
    if not np.isfinite(tol):
        raise ValueError(
            f"the row sums of cosh(scale·D) overflow float64 at scale {scale:g}; use a smaller scale"
        )
    values, vectors, spectrum, solver = _top_eigenpairs(minus_y, dim, solver)
    spatial, kept = _lift(values, vectors, dim, tol)
    if spectrum is None:
        num_positive, num_negative = int(np.sum(values > tol)), None
    else:
        num_positive, num_negative = int(np.sum(spectrum > tol)), int(np.sum(spectrum < -tol))
    return _checked_result(spatial, kept, num_positive, num_negative, scale, solver, dim, "hmds")


def pga_reduce(points, dim: int, *, scale: float = 1.0) -> HMDSResult:
    """PGA-style reduction of hyperboloid points to ℍ^dim: h-MDS truncation of their own Lorentz Gram matrix.

    For points x_i ∈ ℍʳ (rows of X, time coordinate first) the Lorentz Gram matrix G = X J Xᵀ,
    J = diag(−1, 1, …, 1), is −cosh d_H(x_i, x_j), the matrix h-MDS decomposes. With the thin QR factorisation
    X = QR, G = Q (R J Rᵀ) Qᵀ, so its eigenpairs come from the (r+1) × (r+1) matrix R J Rᵀ = V M Vᵀ: the
    eigenvectors are QV and the kept spatial coordinates X̃ = (QV)₊M₊^{1/2} over the top-``dim`` positive
    eigenvalues; x₀ = √(1 + ‖x̃‖²). Cost O(n·r²), no n × n matrix.

    It equals :func:`hmds` on the points' distance matrix (up to an isometry, and rounding): with ``dim`` ≥ r
    the output is an isometric copy of the points, centred so that Σᵢ x₀ᵢ x̃ᵢ = 0; with ``dim`` < r it is the
    truncation described in :func:`hmds` (Sala et al. 2018's PCA-like reduction, not an optimiser of PGA's
    objective). The time coordinates given are not read: x₀ is recomputed from x̃, as in
    :func:`geomrep.manifolds.lorentz.proj`. Accuracy: the Gram entries are formed from the coordinates, so they
    carry an absolute error ≈ eps·x₀ᵢx₀ⱼ; points far from the origin (x₀ large) but close together lose
    precision that :func:`hmds` on accurate distances would keep.

    Args:
      points: (n, r + 1) hyperboloid points of curvature −1 (e.g. ``hmds(...).hyperboloid``), finite.
      dim: the target dimension k ≥ 1.
      scale: the scale t of the embedding the points come from, carried into the result (embedded distances are
        t·d, so the recovered distance is d_H/t); it does not change the computation.

    Returns:
      :class:`HMDSResult` with ``solver="gram"`` and exact ``num_positive``/``num_negative`` (of G's nonzero
      spectrum).

    >>> from geomrep.manifolds import lorentz
    >>> x = np.array(lorentz.expmap0(np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 0.5]])))
    >>> reduced = pga_reduce(x, dim=1)
    >>> reduced.hyperboloid.shape, reduced.num_positive, reduced.num_negative
    ((3, 2), 2, 1)
    """
    x = np.asarray(points)
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] == 0:
        raise ValueError(
            f"points must be a non-empty (n, r + 1) array of hyperboloid points; got shape {x.shape}"
        )
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise ValueError(f"points[{i}] is not finite")
    dim, scale = _validated_dim_scale(dim, scale)
    spatial_in = x[:, 1:]
    x = np.concatenate([np.sqrt(1.0 + np.einsum("ij,ij->i", spatial_in, spatial_in))[:, None], spatial_in], 1)
    q, r = np.linalg.qr(x)
    small = r.copy()
    small[:, 0] = -small[:, 0]  # R J
    small = small @ r.T
    spectrum, v = np.linalg.eigh(0.5 * (small + small.T))
    # the same tolerance as hmds: 10·n·eps·‖G‖_∞, with ‖G‖_∞ ≤ max_i x₀ᵢ·Σⱼ x₀ⱼ·2 (|G_ij| = cosh d ≤ 2x₀ᵢx₀ⱼ)
    n = x.shape[0]
    tol = _RANK_TOL_FACTOR * n * np.finfo(np.float64).eps * 2.0 * float(x[:, 0].max() * x[:, 0].sum())
    order = np.argsort(spectrum)[::-1][:dim]
    spatial, kept = _lift(spectrum[order], q @ v[:, order], dim, tol)
    num_positive, num_negative = int(np.sum(spectrum > tol)), int(np.sum(spectrum < -tol))
    return _checked_result(spatial, kept, num_positive, num_negative, scale, "gram", dim, "pga_reduce")
