"""Symmetric positive-definite matrices Sym⁺(n) under three metrics, with their gyrovector calculus, as pure
``jax.numpy`` functions.

``metric`` (keyword-only, a Python string) selects the Riemannian metric:

=======  ========================  =================================================================================
metric   name                      g_P(V, W)
=======  ========================  =================================================================================
``ai``   affine-invariant          tr(P⁻¹ V P⁻¹ W)  (geoopt's AIM, no ½)                           [P06]
``le``   log-Euclidean             ⟨D log_P[V], D log_P[W]⟩_F                                        [A07]
``lc``   log-Cholesky              ⟨Dφ_P[V], Dφ_P[W]⟩_F,  φ(P) = ⌊L⌋ + log 𝔻L,  L = chol P             [L19]
=======  ========================  =================================================================================

(⌊·⌋ is the strictly lower triangle, 𝔻 the diagonal.) LE and LC are flat: log and φ are isometries onto
Euclidean spaces (Sym(n) and lower-triangular matrices), so every map is Euclidean in those coordinates. AI is
invariant under congruence P ↦ A P Aᵀ; its maps are evaluated with the Cholesky factor L of the base point
(Exp_P(V) = L exp(L⁻¹ V L⁻ᵀ) Lᵀ, which equals P^{1/2} exp(P^{-1/2} V P^{-1/2}) P^{1/2}).

Gyrovector operations (Nguyen & Yang 2023 [NY23]; Nguyen 2022 [N22]) are the generic construction from
(Exp, Log, Γ) with the identity I as origin (notes gyro.md §B0):

    P ⊕ Q = Exp_P(Γ_{I→P}(Log_I Q)),   t ⊗ P = Exp_I(t Log_I P),   ⊖P = Exp_I(−Log_I P),
    ⟨P, Q⟩_gr = ⟨Log_I P, Log_I Q⟩_I,  ‖P‖_gr = ‖Log_I P‖_I,   ‖⊖P ⊕ Q‖_gr = dist(P, Q),

in closed form:

=======  =================================  ============  ==========  =============================
metric   P ⊕ Q                              t ⊗ P         ⊖P          ⊖P ⊕ X (:func:`gyro_inv_add`)
=======  =================================  ============  ==========  =============================
ai       P^{1/2} Q P^{1/2}                  P^t           P⁻¹         P^{-1/2} X P^{-1/2}
le       exp(log P + log Q)  (commutative)  P^t           P⁻¹         exp(log X − log P)
lc       φ⁻¹(φ(P) + φ(Q))                   φ⁻¹(t φ(P))   φ⁻¹(−φ(P))  φ⁻¹(φ(X) − φ(P))
=======  =================================  ============  ==========  =============================

For LC the diagonal of φ holds log 𝔻L, so P ⊕ Q = Chol⁻¹(⌊L⌋ + ⌊K⌋ + 𝔻L 𝔻K) (K = chol Q), i.e. φ(P ⊕ Q) =
φ(P) + φ(Q): LC gyro-addition is vector addition in φ coordinates (commutative). The gyro inner product is
⟨log P, log Q⟩_F for AI and LE and ⟨φ(P), φ(Q)⟩_F for LC (:func:`gyro_coords` returns those coordinates).

Hypergyroplanes H_{W,P} = {X : ⟨⊖P ⊕ X, W⟩_gr = 0} give the MLR logit ⟨⊖P ⊕ X, W⟩_gr
(:func:`hypergyroplane_margin`) and the pseudo-gyrodistance |⟨⊖P ⊕ X, W⟩_gr| / ‖W‖_gr
(:func:`hypergyroplane_dist`; [NY23] Thms 2.23–2.25 as cited by Chen 2026; it is the true point-to-plane
distance for the flat LE and LC metrics, a surrogate for AI).

Conventions: points and tangent vectors are (..., n, n) arrays, leading axes broadcast; tangent vectors are
symmetric matrices; ``inner``/``norm``/``dist`` return the batch shape, or (..., 1, 1) with ``keepdims=True``.
Matrix functions go through :mod:`geomrep.manifolds.spectral`, whose gradients are exact at repeated eigenvalues
(the identity). Derivatives with respect to the *base point* of the LE ``inner``, ``transp``, ``expmap``,
``logmap`` and ``egrad2rgrad`` use ``eigh``'s own derivative and are not protected at repeated eigenvalues of the
base point (derivatives with respect to V, Q and every gyro operation and distance are).

Kernels do not validate (they are jittable); :func:`check_spd` is the boundary check that names the offending
matrix and its smallest eigenvalue.

>>> import jax.numpy as jnp
>>> P = jnp.diag(jnp.array([1.0, 4.0])); Q = jnp.diag(jnp.array([2.0, 1.0]))
>>> gyro_add(P, Q, metric="ai").tolist()
[[2.0, 0.0], [0.0, 4.0]]
>>> round(float(dist(P, Q, metric="le")), 6) == round(float(jnp.hypot(jnp.log(2.0), jnp.log(4.0))), 6)
True

References:
    [P06] X. Pennec, P. Fillard, N. Ayache, "A Riemannian framework for tensor computing", IJCV 66, 2006
        (affine-invariant Exp/Log, eqs. 3–4).
    [A07] V. Arsigny, P. Fillard, X. Pennec, N. Ayache, "Geometric means in a novel vector space structure on
        symmetric positive-definite matrices", SIAM J. Matrix Anal. Appl. 29, 2007 (log-Euclidean metric).
    [L19] Z. Lin, "Riemannian geometry of symmetric positive definite matrices via Cholesky decomposition",
        SIAM J. Matrix Anal. Appl. 40, 2019 (Props. 4, 8; parallel transport §4).
    [N22] X. S. Nguyen, "The gyro-structure of some matrix manifolds", NeurIPS 2022.
    [NY23] X. S. Nguyen, S. Yang, "Building neural networks on matrix manifolds: a gyrovector space approach",
        ICML 2023 (gyro operations §2, hypergyroplanes and MLR §3).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular

from geomrep.manifolds import numerics, spectral

__all__ = [
    "METRICS",
    "NotSPDError",
    "check_spd",
    "check_metric",
    "proj",
    "proju",
    "egrad2rgrad",
    "inner",
    "norm",
    "expmap",
    "logmap",
    "expmap0",
    "logmap0",
    "retr",
    "transp",
    "dist",
    "dist0",
    "random",
    "origin",
    "gyro_add",
    "gyro_scalar_mul",
    "gyro_inv",
    "gyro_inv_add",
    "gyro_inner",
    "gyro_norm",
    "gyro_angle",
    "gyro_coords",
    "hypergyroplane_margin",
    "hypergyroplane_dist",
    "log_cholesky",
    "log_cholesky_inv",
]

#: The metrics this module implements, with their names.
METRICS = {"ai": "affine-invariant", "le": "log-Euclidean", "lc": "log-Cholesky"}

_HI = jax.lax.Precision.HIGHEST


class NotSPDError(ValueError):
    """A matrix given to a public entry point is not symmetric positive definite (raised by :func:`check_spd`)."""


def check_metric(metric) -> str:
    """Return ``metric`` if it names an implemented metric; otherwise raise a ValueError listing the valid ones.

    >>> check_metric("le")
    'le'
    """
    if not isinstance(metric, str) or metric not in METRICS:
        valid = ", ".join(f"{k!r} ({v})" for k, v in METRICS.items())
        raise ValueError(f"geomrep.manifolds.spd: unknown metric {metric!r}; valid metrics are {valid}")
    return metric


def check_spd(X, *, name: str = "X", symmetry_rtol: float | None = None):
    """Boundary check: every matrix of the batch ``X`` (..., n, n) is finite, symmetric and positive definite.

    Raises :class:`NotSPDError` (a ValueError) naming the first offending batch index: for asymmetry the largest
    relative entry |X − Xᵀ|/max|X| (tolerance ``symmetry_rtol``, default √eps of the dtype: 3.5e-4 float32,
    1.5e-8 float64); for indefiniteness the smallest eigenvalue (and the largest, for scale). Eager (NumPy), not
    jittable: call it where data enter (loaders, layer constructors, tests), not inside kernels.
    Returns ``X`` as a JAX array so it can be used inline.

    >>> import jax.numpy as jnp
    >>> check_spd(jnp.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, -0.5]]]))
    Traceback (most recent call last):
    ...
    geomrep.manifolds.spd.NotSPDError: X[1] is not positive definite: smallest eigenvalue -0.5 (largest 1)
    """
    X = numerics.as_float(X)
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise NotSPDError(f"{name}: expected SPD matrices of shape (..., n, n), got shape {X.shape}")
    a = np.asarray(X, dtype=np.float64).reshape((-1,) + X.shape[-2:])
    batch = X.shape[:-2]

    def where(i):
        return f"{name}[{', '.join(str(int(k)) for k in np.unravel_index(i, batch))}]" if batch else name

    finite = np.all(np.isfinite(a), axis=(-1, -2))
    if not np.all(finite):
        i = int(np.argmin(finite))
        raise NotSPDError(f"{where(i)} has non-finite entries")
    rtol = float(np.finfo(np.dtype(X.dtype)).eps) ** 0.5 if symmetry_rtol is None else float(symmetry_rtol)
    scale = np.maximum(np.abs(a).max(axis=(-1, -2)), np.finfo(np.float64).tiny)
    asym = np.abs(a - np.swapaxes(a, -1, -2)).max(axis=(-1, -2)) / scale
    if np.any(asym > rtol):
        i = int(np.argmax(asym))
        raise NotSPDError(
            f"{where(i)} is not symmetric: max |X − Xᵀ| / max |X| = {asym[i]:.3g} > {rtol:.3g} "
            "(symmetrise it with (X + Xᵀ)/2 if the asymmetry is rounding)"
        )
    lam = np.linalg.eigvalsh(0.5 * (a + np.swapaxes(a, -1, -2)))
    bad = lam[:, 0] <= 0
    if np.any(bad):
        i = int(np.argmax(bad))
        raise NotSPDError(
            f"{where(i)} is not positive definite: smallest eigenvalue {lam[i, 0]:.6g} (largest {lam[i, -1]:.6g})"
        )
    return X


def _mT(A):
    return jnp.swapaxes(A, -1, -2)


def _mm(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = jnp.matmul(out, m, precision=_HI)
    return out


def _fro_inner(A, B, keepdims):
    return jnp.sum(A * B, axis=(-2, -1), keepdims=keepdims)


def _fro_norm(A, keepdims):
    sq = jnp.sum(A * A, axis=(-2, -1), keepdims=keepdims)
    ok = sq > 0
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, sq, jnp.ones_like(sq))), jnp.zeros_like(sq))


def _eye_like(X):
    return jnp.broadcast_to(jnp.eye(X.shape[-1], dtype=X.dtype), X.shape)


def _chol(P):
    return jnp.linalg.cholesky(spectral.sym(P))


def _whiten(L, A):
    """L⁻¹ A L⁻ᵀ for symmetric A (symmetrised), by two triangular solves."""
    L, A = jnp.broadcast_arrays(L, A)
    B = solve_triangular(L, A, lower=True)
    return spectral.sym(solve_triangular(L, _mT(B), lower=True))


def _color(L, A):
    """L A Lᵀ (symmetrised)."""
    return spectral.sym(_mm(L, A, _mT(L)))


def _strict_lower(A):
    return jnp.tril(A, -1)


def _diag(A):
    return jnp.diagonal(A, axis1=-2, axis2=-1)


def _with_diag(strict, d):
    """strict (strictly lower) + diag(d)."""
    return strict + d[..., None] * jnp.eye(d.shape[-1], dtype=d.dtype)


def _as_pair(*arrays):
    return tuple(numerics.as_float(a) for a in arrays)


# ---------------------------------------------------------------------------------------------------------------
# Log-Cholesky coordinates.


def log_cholesky(P):
    """φ(P) = ⌊L⌋ + diag(log diag L), L = chol P: the LC isometry onto lower-triangular matrices ([L19] §3).

    >>> log_cholesky(jnp.diag(jnp.array([1.0, jnp.e ** 2]))).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    L = _chol(numerics.as_float(P))
    return _with_diag(_strict_lower(L), jnp.log(_diag(L)))


def log_cholesky_inv(M):
    """φ⁻¹(M) = K Kᵀ with K = ⌊M⌋ + diag(exp diag M) (only the lower triangle of M is read).

    >>> log_cholesky_inv(jnp.zeros((2, 2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    M = numerics.as_float(M)
    d = jnp.exp(jnp.minimum(_diag(M), spectral._max_exp_arg(M.dtype) / 2))
    K = _with_diag(_strict_lower(M), d)
    return spectral.sym(_mm(K, _mT(K)))


def _lc_dphi(L, V):
    """Dφ_P[V] (lower triangular) at P = L Lᵀ: with X = L (A)_½, A = L⁻¹VL⁻ᵀ, (A)_½ = ⌊A⌋ + ½𝔻A ([L19] Prop. 4),
    Dφ_P[V] = ⌊X⌋ + 𝔻X / 𝔻L."""
    A = _whiten(L, V)
    X = _mm(L, _with_diag(_strict_lower(A), 0.5 * _diag(A)))
    return _with_diag(_strict_lower(X), _diag(X) / _diag(L))


def _lc_dphi_inv(L, M):
    """(Dφ_P)⁻¹[M] for lower-triangular M at P = L Lᵀ: X = ⌊M⌋ + 𝔻L 𝔻M, V = L Xᵀ + X Lᵀ."""
    L, M = jnp.broadcast_arrays(L, M)
    X = _with_diag(_strict_lower(M), _diag(L) * _diag(M))
    XLt = _mm(X, _mT(L))
    return XLt + _mT(XLt)


def _lc_phi_from_chol(L):
    return _with_diag(_strict_lower(L), jnp.log(_diag(L)))


# ---------------------------------------------------------------------------------------------------------------
# Log-Euclidean: D log through one eigendecomposition of the base point.


def _le_frame(P):
    """(U, log λ, Loewner matrix of log at λ) of P = U diag(λ) Uᵀ."""
    lam, U = spectral.eigh(P)
    L = spectral.loewner_matrix(lam, spectral.LOG)
    return U, jnp.log(jnp.maximum(lam, spectral._floor(lam.dtype))), L


def _in_frame(U, A):
    return _mm(_mT(U), A, U)


def _out_frame(U, A):
    return spectral.sym(_mm(U, A, _mT(U)))


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary of a Riemannian manifold.


def proj(X):
    """Nearest SPD matrix (Frobenius) with a per-matrix eigenvalue floor: U max(Λ, ε·max(λ_max, 1)) Uᵀ of
    sym(X), ε = 8·finfo(dtype).eps (1e-6 in float32, 1.8e-15 in float64).

    The floor keeps the result invertible in the dtype, so log, Cholesky and inverses of it are finite. Points
    already on the manifold (with condition number below 1/ε) are fixed to rounding. Metric-independent.

    Shapes: X (..., n, n) → (..., n, n).

    >>> bool(jnp.allclose(proj(jnp.array([[1.0, 2.0], [0.0, -1.0]])), jnp.array([[1.2071, 0.5], [0.5, 0.2071]]), atol=1e-4))
    True
    """
    X = numerics.as_float(X)
    lam, U = spectral.eigh(X)
    eps = 8.0 * float(jnp.finfo(X.dtype).eps)
    floor = eps * jnp.maximum(lam[..., -1:], 1.0)
    return spectral.sym(spectral._reconstruct(U, jnp.maximum(lam, floor)))


def proju(P, U):
    """Project onto the tangent space Sym(n) at P: sym(U) = ½(U + Uᵀ) (every metric).

    >>> proju(jnp.eye(2), jnp.array([[0.0, 2.0], [0.0, 0.0]])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    P, U = _as_pair(P, U)
    return jnp.broadcast_to(spectral.sym(U), jnp.broadcast_shapes(P.shape, U.shape))


def _tangent_coords(P, U, metric):
    """An isometric image of the tangent vector U at P in a Frobenius space: ⟨U, V⟩_P = ⟨c(U), c(V)⟩_F."""
    if metric == "ai":
        return _whiten(_chol(P), U)
    if metric == "le":
        Uf, _, L = _le_frame(P)
        return _out_frame(Uf, L * _in_frame(Uf, spectral.sym(U)))
    return _lc_dphi(_chol(P), spectral.sym(U))


def inner(P, U, V=None, *, metric, keepdims: bool = False):
    """Riemannian inner product ⟨U, V⟩_P of the metric (V defaults to U).

    ai: tr(P⁻¹UP⁻¹V) = ⟨L⁻¹UL⁻ᵀ, L⁻¹VL⁻ᵀ⟩_F; le: ⟨D log_P U, D log_P V⟩_F; lc: ⟨Dφ_P U, Dφ_P V⟩_F.

    Shapes: P, U, V (..., n, n) → (...) (or (..., 1, 1) with ``keepdims``).

    >>> round(float(inner(2.0 * jnp.eye(2), jnp.eye(2), metric="ai")), 6)
    0.5
    """
    check_metric(metric)
    P, U = _as_pair(P, U)
    if V is None:
        cu = _tangent_coords(P, U, metric)
        return _fro_inner(cu, cu, keepdims)
    V = numerics.as_float(V)
    shape = jnp.broadcast_shapes(U.shape, V.shape)
    both = _tangent_coords(
        P[..., None, :, :], jnp.stack([jnp.broadcast_to(U, shape), jnp.broadcast_to(V, shape)], -3), metric
    )
    return _fro_inner(both[..., 0, :, :], both[..., 1, :, :], keepdims)


def norm(P, U, *, metric, keepdims: bool = False):
    """Riemannian norm ‖U‖_P (finite, zero gradient at U = 0).

    Shapes: P, U (..., n, n) → (...) (or (..., 1, 1) with ``keepdims``).

    >>> float(norm(jnp.eye(2), jnp.diag(jnp.array([3.0, 4.0])), metric="le"))
    5.0
    """
    check_metric(metric)
    P, U = _as_pair(P, U)
    return _fro_norm(_tangent_coords(P, U, metric), keepdims)


def egrad2rgrad(P, G, *, metric):
    """Riemannian gradient from a Euclidean gradient G (any square matrix; its symmetric part is used).

    ai: P sym(G) P ([P06]); le: (D log_P)⁻² sym(G) = U (Uᵀ sym(G) U / L²) Uᵀ with L the Loewner matrix of log
    at P's eigenvalues (D log_P is self-adjoint); lc: (Dφ_P)⁻¹[(Dφ_P⁻¹)* sym G], i.e. with B = 2 sym(G) L and
    X = ⌊B⌋ + 𝔻L² 𝔻B, the gradient L Xᵀ + X Lᵀ.

    Shapes: P, G (..., n, n) → (..., n, n).

    >>> egrad2rgrad(2.0 * jnp.eye(2), jnp.eye(2), metric="ai").tolist()
    [[4.0, 0.0], [0.0, 4.0]]
    """
    check_metric(metric)
    P, G = _as_pair(P, G)
    G = spectral.sym(G)
    if metric == "ai":
        return spectral.sym(_mm(P, G, P))
    if metric == "le":
        Uf, _, L = _le_frame(P)
        return _out_frame(Uf, _in_frame(Uf, G) / (L * L))
    L = _chol(P)
    L, G = jnp.broadcast_arrays(L, G)
    B = 2.0 * _mm(G, L)
    X = _with_diag(_strict_lower(B), _diag(L) ** 2 * _diag(B))
    XLt = _mm(X, _mT(L))
    return XLt + _mT(XLt)


def expmap(P, V, *, metric):
    """Riemannian exponential Exp_P(V).

    ai: L exp(L⁻¹VL⁻ᵀ) Lᵀ = P^{1/2} exp(P^{-1/2} V P^{-1/2}) P^{1/2} ([P06] eq. 3);
    le: exp(log P + D log_P[V]) ([A07]); lc: φ⁻¹(φ(P) + Dφ_P[V]) ([L19] Prop. 8).

    Shapes: P, V (..., n, n) → (..., n, n).

    >>> bool(jnp.allclose(expmap(jnp.eye(2), jnp.diag(jnp.array([0.0, 1.0])), metric="lc"), jnp.diag(jnp.array([1.0, jnp.e]))))
    True
    """
    check_metric(metric)
    P, V = _as_pair(P, V)
    V = spectral.sym(V)
    if metric == "ai":
        L = _chol(P)
        return _color(L, spectral.sym_expm(_whiten(L, V)))
    if metric == "le":
        Uf, loglam, L = _le_frame(P)
        logp = _out_frame(Uf, loglam[..., None, :] * jnp.eye(loglam.shape[-1], dtype=loglam.dtype))
        return spectral.sym_expm(logp + _out_frame(Uf, L * _in_frame(Uf, V)))
    L = _chol(P)
    return log_cholesky_inv(_lc_phi_from_chol(L) + _lc_dphi(L, V))


def logmap(P, Q, *, metric):
    """Riemannian logarithm Log_P(Q), the inverse of :func:`expmap`.

    ai: L log(L⁻¹QL⁻ᵀ) Lᵀ ([P06] eq. 4); le: (D log_P)⁻¹[log Q − log P]; lc: (Dφ_P)⁻¹[φ(Q) − φ(P)].

    Shapes: P, Q (..., n, n) → (..., n, n).

    >>> logmap(jnp.eye(2), jnp.diag(jnp.array([1.0, jnp.e])), metric="ai").round(6).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    check_metric(metric)
    P, Q = _as_pair(P, Q)
    if metric == "ai":
        L = _chol(P)
        return _color(L, spectral.sym_logm(_whiten(L, Q)))
    if metric == "le":
        Uf, loglam, L = _le_frame(P)
        diff = _in_frame(Uf, spectral.sym_logm(Q)) - loglam[..., None, :] * jnp.eye(
            loglam.shape[-1], dtype=loglam.dtype
        )
        return _out_frame(Uf, diff / L)
    L = _chol(P)
    return _lc_dphi_inv(L, log_cholesky(Q) - _lc_phi_from_chol(L))


def retr(P, V, *, metric):
    """A retraction. ai: the second-order retraction P + V + ½ V P⁻¹ V (= ½P + ½(P + V)P⁻¹(P + V), always SPD);
    le and lc: :func:`expmap` (LC's needs only a Cholesky factorisation).

    Shapes: P, V (..., n, n) → (..., n, n).
    """
    check_metric(metric)
    P, V = _as_pair(P, V)
    V = spectral.sym(V)
    if metric != "ai":
        return expmap(P, V, metric=metric)
    L = _chol(P)
    L, V = jnp.broadcast_arrays(L, V)
    W = solve_triangular(L, V, lower=True)  # L⁻¹V; V P⁻¹ V = (L⁻¹V)ᵀ(L⁻¹V)
    return spectral.sym(P + V + 0.5 * _mm(_mT(W), W))


def transp(P, Q, V, *, metric):
    """Parallel transport Γ_{P→Q}(V) along the geodesic from P to Q.

    ai: E V Eᵀ with E = (Q P⁻¹)^{1/2} = L M^{1/2} L⁻¹, M = L⁻¹QL⁻ᵀ ([P06]; Sra & Hosseini 2015 eq. 3.4);
    le: (D log_Q)⁻¹ ∘ D log_P; lc: (Dφ_Q)⁻¹ ∘ Dφ_P ([L19] §4).

    Shapes: P, Q, V (..., n, n) → (..., n, n).
    """
    check_metric(metric)
    P, Q, V = (numerics.as_float(a) for a in (P, Q, V))
    V = spectral.sym(V)
    if metric == "ai":
        L = _chol(P)
        root = spectral.sym_sqrtm(_whiten(L, Q))
        return _color(L, _mm(root, _whiten(L, V), root))
    if metric == "le":
        Up, _, Lp = _le_frame(P)
        Uq, _, Lq = _le_frame(Q)
        return _out_frame(Uq, _in_frame(Uq, _out_frame(Up, Lp * _in_frame(Up, V))) / Lq)
    return _lc_dphi_inv(_chol(Q), _lc_dphi(_chol(P), V))


def dist(P, Q, *, metric, keepdims: bool = False):
    """Geodesic distance.

    ai: ‖log(L⁻¹QL⁻ᵀ)‖_F = (Σ log² λ_i(P⁻¹Q))^{1/2}; le: ‖log P − log Q‖_F; lc: ‖φ(P) − φ(Q)‖_F.
    Gradients are finite at P = Q (zero) and at repeated eigenvalues.

    Shapes: P, Q (..., n, n) → (...) (or (..., 1, 1) with ``keepdims``).

    >>> round(float(dist(jnp.eye(2), jnp.diag(jnp.array([1.0, jnp.e ** 2])), metric="ai")), 6)
    2.0
    """
    check_metric(metric)
    P, Q = _as_pair(P, Q)
    if metric == "ai":
        return _fro_norm(spectral.sym_logm(_whiten(_chol(P), Q)), keepdims)
    if metric == "le":
        return _fro_norm(spectral.sym_logm(P) - spectral.sym_logm(Q), keepdims)
    return _fro_norm(log_cholesky(P) - log_cholesky(Q), keepdims)


def origin(shape, dtype=jnp.float32):
    """The identity matrix I (the gyro-origin of every metric) broadcast to ``shape`` (..., n, n)."""
    shape = tuple(shape)
    return jnp.broadcast_to(jnp.eye(shape[-1], dtype=dtype), shape)


def expmap0(V, *, metric):
    """Exp_I(V): exp V (ai, le); φ⁻¹(⌊V⌋ + ½𝔻V) (lc).

    >>> expmap0(jnp.zeros((2, 2)), metric="ai").tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    check_metric(metric)
    V = spectral.sym(numerics.as_float(V))
    if metric == "lc":
        return log_cholesky_inv(_with_diag(_strict_lower(V), 0.5 * _diag(V)))
    return spectral.sym_expm(V)


def logmap0(P, *, metric):
    """Log_I(P): log P (ai, le); ⌊K⌋ + ⌊K⌋ᵀ + 2 log 𝔻K with K = chol P (lc).

    >>> logmap0(jnp.diag(jnp.array([1.0, jnp.e])), metric="le").round(6).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    check_metric(metric)
    P = numerics.as_float(P)
    if metric == "lc":
        K = _chol(P)
        low = _strict_lower(K)
        return _with_diag(low + _mT(low), 2.0 * jnp.log(_diag(K)))
    return spectral.sym_logm(P)


def dist0(P, *, metric, keepdims: bool = False):
    """d(I, P) = ‖P‖_gr: ‖log P‖_F (ai, le), ‖φ(P)‖_F (lc)."""
    return gyro_norm(P, metric=metric, keepdims=keepdims)


def random(key, shape, dtype=jnp.float32, *, std: float = 1.0):
    """Random SPD matrices exp(S), S symmetric with independent N(0, std²) entries (a log-normal law around I).

    Shapes: ``shape`` is the full output shape (..., n, n). Metric-independent.

    >>> random(jax.random.key(0), (3, 4, 4)).shape
    (3, 4, 4)
    """
    shape = tuple(shape)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"geomrep.manifolds.spd.random: shape must end with (n, n), got {shape}")
    A = std * jax.random.normal(key, shape, dtype=dtype)
    S = jnp.tril(A) + jnp.tril(A, -1).swapaxes(-1, -2)
    return spectral.sym_expm(S)


# ---------------------------------------------------------------------------------------------------------------
# Gyrovector operations ([N22], [NY23]).


def gyro_coords(P, *, metric):
    """Coordinates c(P) with ⟨P, Q⟩_gr = ⟨c(P), c(Q)⟩_F: log P (ai, le), φ(P) (lc, lower triangular).

    For LE and LC they are a global isometry (c(⊖P ⊕ X) = c(X) − c(P)), which is how the MLR of those metrics
    reduces to LogEig/log-Cholesky + linear.

    >>> gyro_coords(jnp.diag(jnp.array([jnp.e, 1.0])), metric="ai").round(6).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    check_metric(metric)
    P = numerics.as_float(P)
    if metric == "lc":
        return log_cholesky(P)
    return spectral.sym_logm(P)


def gyro_add(P, Q, *, metric):
    """Gyro-addition P ⊕ Q = Exp_P(Γ_{I→P}(Log_I Q)) ([NY23] §2; notes §B1–B3).

    ai: P^{1/2} Q P^{1/2}; le: exp(log P + log Q); lc: Chol⁻¹(⌊L⌋ + ⌊K⌋ + 𝔻L 𝔻K). LE and LC are commutative.

    Shapes: P, Q (..., n, n) → (..., n, n).

    >>> bool(jnp.allclose(gyro_add(jnp.eye(2), jnp.diag(jnp.array([2.0, 3.0])), metric="lc"), jnp.diag(jnp.array([2.0, 3.0]))))
    True
    """
    check_metric(metric)
    P, Q = _as_pair(P, Q)
    if metric == "ai":
        root = spectral.sym_sqrtm(P)
        return spectral.sym(_mm(root, Q, root))
    if metric == "le":
        return spectral.sym_expm(spectral.sym_logm(P) + spectral.sym_logm(Q))
    return log_cholesky_inv(log_cholesky(P) + log_cholesky(Q))


def gyro_scalar_mul(t, P, *, metric):
    """Gyro scalar multiplication t ⊗ P = Exp_I(t Log_I P): P^t (ai, le); Chol⁻¹(t⌊L⌋ + 𝔻L^t) (lc).

    ``t`` is a scalar or an array broadcastable to P's batch shape (one factor per matrix); differentiable.

    Shapes: t (...) or scalar, P (..., n, n) → (..., n, n).

    >>> gyro_scalar_mul(2.0, jnp.diag(jnp.array([2.0, 3.0])), metric="ai").round(4).tolist()
    [[4.0, 0.0], [0.0, 9.0]]
    """
    check_metric(metric)
    P = numerics.as_float(P)
    t = jnp.asarray(t, P.dtype)
    if metric == "lc":
        return log_cholesky_inv(t[..., None, None] * log_cholesky(P))
    batch = jnp.broadcast_shapes(t.shape, P.shape[:-2])
    return spectral.sym_powm(jnp.broadcast_to(P, batch + P.shape[-2:]), jnp.broadcast_to(t, batch))


def gyro_inv(P, *, metric):
    """Gyro-inverse ⊖P = Exp_I(−Log_I P): P⁻¹ (ai, le); Chol⁻¹(−⌊L⌋ + 𝔻L⁻¹) (lc).

    Shapes: P (..., n, n) → (..., n, n).

    >>> gyro_inv(jnp.diag(jnp.array([2.0, 4.0])), metric="le").tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    check_metric(metric)
    P = numerics.as_float(P)
    if metric == "lc":
        return log_cholesky_inv(-log_cholesky(P))
    return spectral.sym_invm(P)


def gyro_inv_add(P, X, *, metric):
    """⊖P ⊕ X, the gyrovector from P to X (left gyrotranslation moving P to I), in closed form:
    P^{-1/2} X P^{-1/2} (ai); exp(log X − log P) (le); φ⁻¹(φ(X) − φ(P)) (lc).

    Shapes: P, X (..., n, n) → (..., n, n).

    >>> gyro_inv_add(jnp.diag(jnp.array([4.0, 1.0])), jnp.diag(jnp.array([4.0, 2.0])), metric="ai").tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    check_metric(metric)
    P, X = _as_pair(P, X)
    if metric == "ai":
        root = spectral.sym_invsqrtm(P)
        return spectral.sym(_mm(root, X, root))
    if metric == "le":
        return spectral.sym_expm(spectral.sym_logm(X) - spectral.sym_logm(P))
    return log_cholesky_inv(log_cholesky(X) - log_cholesky(P))


def gyro_inner(P, Q, *, metric, keepdims: bool = False):
    """Gyro inner product ⟨P, Q⟩_gr = ⟨Log_I P, Log_I Q⟩_I = ⟨c(P), c(Q)⟩_F (c = :func:`gyro_coords`).

    Shapes: P, Q (..., n, n) → (...) (or (..., 1, 1) with ``keepdims``).

    >>> float(gyro_inner(jnp.eye(2) * jnp.e, jnp.eye(2) * jnp.e, metric="le"))
    2.0
    """
    check_metric(metric)
    P, Q = _as_pair(P, Q)
    return _fro_inner(gyro_coords(P, metric=metric), gyro_coords(Q, metric=metric), keepdims)


def gyro_norm(P, *, metric, keepdims: bool = False):
    """Gyronorm ‖P‖_gr = ‖c(P)‖_F = d(I, P) (finite, zero gradient at P = I).

    >>> float(gyro_norm(jnp.eye(3), metric="lc"))
    0.0
    """
    check_metric(metric)
    return _fro_norm(gyro_coords(numerics.as_float(P), metric=metric), keepdims)


def gyro_angle(P, Q, R, *, metric):
    """The gyroangle ∠QPR at P between the gyrovectors ⊖P ⊕ Q and ⊖P ⊕ R (Ungar; [NY23] §2):

        cos ∠QPR = ⟨⊖P⊕Q, ⊖P⊕R⟩_gr / (‖⊖P⊕Q‖_gr ‖⊖P⊕R‖_gr),   in [0, π].

    When Q = P or R = P (a zero gyrovector) the angle is undefined and π/2 is returned (cosine 0).

    Shapes: P, Q, R (..., n, n) → (...).

    >>> I = jnp.eye(2)
    >>> round(float(gyro_angle(I, jnp.diag(jnp.array([2.0, 1.0])), jnp.diag(jnp.array([1.0, 2.0])), metric="le")), 6)
    1.570796
    """
    check_metric(metric)
    P, Q, R = (numerics.as_float(a) for a in (P, Q, R))
    a = gyro_coords(gyro_inv_add(P, Q, metric=metric), metric=metric)
    b = gyro_coords(gyro_inv_add(P, R, metric=metric), metric=metric)
    denom = _fro_norm(a, False) * _fro_norm(b, False)
    ok = denom > 0
    cos = jnp.where(ok, _fro_inner(a, b, False) / jnp.where(ok, denom, jnp.ones_like(denom)), 0.0)
    return jnp.arccos(jnp.clip(cos, -1.0, 1.0))


def hypergyroplane_margin(X, P, W, *, metric):
    """⟨⊖P ⊕ X, W⟩_gr: the signed MLR logit of X for the hypergyroplane with offset P and normal W ([NY23] §3).

    ai: ⟨log(P^{-1/2} X P^{-1/2}), log W⟩_F; le: ⟨log X − log P, log W⟩_F; lc: ⟨φ(X) − φ(P), φ(W)⟩_F.
    Broadcasts: pass X[..., None, :, :] against P, W of shape (K, n, n) for K classes.

    Shapes: X, P, W (..., n, n) → (...).

    >>> I = jnp.eye(2)
    >>> round(float(hypergyroplane_margin(jnp.e * I, I, jnp.e * I, metric="lc")), 6)
    0.5
    """
    check_metric(metric)
    X, P, W = (numerics.as_float(a) for a in (X, P, W))
    w = gyro_coords(W, metric=metric)
    if metric == "ai":
        v = gyro_coords(gyro_inv_add(P, X, metric=metric), metric=metric)
    else:
        v = gyro_coords(X, metric=metric) - gyro_coords(P, metric=metric)
    return _fro_inner(v, w, False)


def hypergyroplane_dist(X, P, W, *, metric):
    """Pseudo-gyrodistance |⟨⊖P ⊕ X, W⟩_gr| / ‖W‖_gr from X to the hypergyroplane H_{W,P} ([NY23] Thms 2.23–2.25).

    Equal to the geodesic distance to the plane for le and lc (flat metrics); a surrogate for ai. W = I (no
    normal) gives 0/0: the result is then 0.

    Shapes: X, P, W (..., n, n) → (...).
    """
    margin = hypergyroplane_margin(X, P, W, metric=metric)
    wn = gyro_norm(W, metric=metric)
    ok = wn > 0
    return jnp.where(ok, jnp.abs(margin) / jnp.where(ok, wn, jnp.ones_like(wn)), 0.0)
