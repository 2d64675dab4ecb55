"""The Grassmann manifold Gr(n, p) of p-dimensional subspaces of ℝⁿ, as pure ``jax.numpy`` functions, in two views:

- **ONB view** (unprefixed names): a point is an n×p matrix U with orthonormal columns (UᵀU = I), standing for
  span(U); U and U R (R ∈ O(p)) are the same point. Tangent vectors are *horizontal* n×p matrices H (UᵀH = 0);
  the metric is ⟨H₁, H₂⟩ = tr(H₁ᵀH₂). Every function returns the same subspace (and the same horizontal lift) for
  U and U R, so results are invariant under U → U R ([EAS98], [BZA24]).
- **Projector view** (``pp_`` names): a point is the orthogonal projector P = U Uᵀ (n×n), tangent vectors are
  symmetric V = P V (I − P) + (I − P) V P, and the metric is ½⟨V₁, V₂⟩_F, so that V = H Uᵀ + U Hᵀ ↔ H is an
  isometry between the views ([BZA24] §3).

Closed forms (Θ = principal angles; all matrix functions are of p×p symmetric PSD matrices, through
:mod:`geomrep.manifolds.spectral`, so gradients are exact at repeated and at zero angles — no SVD):

==========================  ==========================================================================
Exp_U(H)                    U cos(√(HᵀH)) + H sinc(√(HᵀH))                         ([EAS98] Thm 2.3)
Log_U(V)                    M atanc(MᵀM),  M = (V − U UᵀV)(UᵀV)⁻¹,  atanc(a) = arctan(√a)/√a
dist(U, V)                  ‖Θ‖₂ from sin²θ (SᵀS, S = V − U UᵀV) and cos²θ (CᵀC, C = UᵀV), see :func:`dist`
Γ_{U→V}(H)                  (H − U sinc(√A) ΔᵀH + Δ q(A) ΔᵀH) Qᵀ,  Δ = Log_U V, A = ΔᵀΔ,
                            q(a) = (cos√a − 1)/a, Q = Vᵀ Exp_U(Δ)   ([EAS98] eq. 2.68)
==========================  ==========================================================================

The formulas with M need UᵀV invertible: V must not contain a direction orthogonal to span(U) (a principal angle
of π/2, the cut locus, where the geodesic is not unique); the distance is defined there. Points drawn by :func:`random` with moderate ``std``
are far from it.

Gyrovector structure (ONB view of [NY23]; notes gyro.md §B4), with origin I_{n,p} = [I_p; 0]: Log_{I_{n,p}}(U) =
[0; B_U], B_U ∈ ℝ^{(n−p)×p}, and ω_U = [[0, −B_Uᵀ], [B_U, 0]] ∈ so(n):

    V ⊕ U = exp(ω_V) U,   t ⊗ U = exp(t ω_U) I_{n,p},   ⊖V = exp(−ω_V) I_{n,p},   ⟨U, V⟩_gr = tr(B_Uᵀ B_V).

exp(ω(B)) is applied in closed form with p×p matrix functions of A = BᵀB (push-through identity):
exp(ω)[X₁; X₂] = [cos√A X₁ − sinc√A Bᵀ X₂;  B sinc√A X₁ + X₂ + B q(A) Bᵀ X₂]. The PP view's operations are the
same ones conjugating projectors: P ⊕ Q = exp(ω_P) Q exp(−ω_P) ([N22] §4.2).

Bad input: kernels do not validate (they are jittable). :func:`check_orthonormal` is the boundary check: it raises
:class:`NotOrthonormalError` naming the offending basis and ‖UᵀU − I‖, or, with ``reorthonormalize=True``,
returns the QR re-orthonormalised bases with a warning.

>>> import jax.numpy as jnp
>>> U = jnp.eye(3)[:, :1]; V = jnp.array([[1.0], [1.0], [0.0]]) / jnp.sqrt(2.0)
>>> round(float(dist(U, V)), 6) == round(float(jnp.pi / 4), 6)
True

References:
    [EAS98] A. Edelman, T. Arias, S. Smith, "The geometry of algorithms with orthogonality constraints", SIAM J.
        Matrix Anal. Appl. 20, 1998 (§2.5: Grassmann exponential and parallel transport).
    [BZA24] T. Bendokat, R. Zimmermann, P.-A. Absil, "A Grassmann manifold handbook: basic geometry and
        computational aspects", Adv. Comput. Math. 50, 2024 (ONB/projector views, logarithm, Alg. 5.3).
    [N22] X. S. Nguyen, "The gyro-structure of some matrix manifolds", NeurIPS 2022.
    [NY23] X. S. Nguyen, S. Yang, "Building neural networks on matrix manifolds: a gyrovector space approach",
        ICML 2023.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import numerics, spectral

__all__ = [
    "NotOrthonormalError",
    "check_orthonormal",
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
    "to_projector",
    "from_projector",
    "exp_skew_apply",
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
    "pp_proj",
    "pp_proju",
    "pp_egrad2rgrad",
    "pp_inner",
    "pp_norm",
    "pp_expmap",
    "pp_logmap",
    "pp_transp",
    "pp_dist",
    "pp_origin",
    "pp_random",
    "pp_gyro_add",
    "pp_gyro_scalar_mul",
    "pp_gyro_inv",
    "pp_gyro_inner",
    "pp_gyro_norm",
]

_HI = jax.lax.Precision.HIGHEST


class NotOrthonormalError(ValueError):
    """A Grassmann/Stiefel basis given to a public entry point does not have orthonormal columns."""


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


def check_orthonormal(U, *, name: str = "U", atol: float | None = None, reorthonormalize: bool = False):
    """Boundary check: every basis of the batch ``U`` (..., n, p) has orthonormal columns, ‖UᵀU − I‖_max ≤ atol
    (default √eps of the dtype: 3.5e-4 float32, 1.5e-8 float64), and p ≤ n.

    By default a violation raises :class:`NotOrthonormalError` (a ValueError) naming the first offending batch
    index and its ‖UᵀU − I‖_max. With ``reorthonormalize=True`` the bases are replaced by the Q factor of their QR
    decomposition (the same subspace when U has full column rank) and a ``UserWarning`` says how many were
    changed; rank-deficient bases (no p-dimensional span) always raise. Eager (NumPy); returns a JAX array.

    >>> check_orthonormal(jnp.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    Traceback (most recent call last):
    ...
    geomrep.manifolds.grassmann.NotOrthonormalError: U does not have orthonormal columns: max |UᵀU − I| = 3 > 0.000345267 (re-orthonormalise with proj(U) or check_orthonormal(..., reorthonormalize=True))
    """
    U = numerics.as_float(U)
    if U.ndim < 2 or U.shape[-2] < U.shape[-1]:
        raise NotOrthonormalError(
            f"{name}: expected bases of shape (..., n, p) with p ≤ n, got shape {U.shape}"
        )
    a = np.asarray(U, np.float64).reshape((-1,) + U.shape[-2:])
    batch = U.shape[:-2]
    tol = float(np.finfo(np.dtype(U.dtype)).eps) ** 0.5 if atol is None else float(atol)

    def where(i):
        return f"{name}[{', '.join(str(int(k)) for k in np.unravel_index(i, batch))}]" if batch else name

    finite = np.all(np.isfinite(a), axis=(-1, -2))
    if not np.all(finite):
        raise NotOrthonormalError(f"{where(int(np.argmin(finite)))} has non-finite entries")
    gram = np.swapaxes(a, -1, -2) @ a
    err = np.abs(gram - np.eye(a.shape[-1])).max(axis=(-1, -2))
    bad = err > tol
    if not np.any(bad):
        return U
    i = int(np.argmax(err))
    sv = np.linalg.svd(a[bad], compute_uv=False)
    if np.any(sv[:, -1] <= 1e3 * np.finfo(np.dtype(U.dtype)).eps * sv[:, 0]):
        j = int(np.flatnonzero(bad)[int(np.argmin(sv[:, -1] / sv[:, 0]))])
        raise NotOrthonormalError(
            f"{where(j)} is rank deficient: its columns do not span a {a.shape[-1]}-dim subspace"
        )
    msg = (
        f"{where(i)} does not have orthonormal columns: max |UᵀU − I| = {err[i]:.6g} > {tol:.6g}"
        if int(bad.sum()) == 1 or not batch
        else f"{int(bad.sum())} bases of {name} do not have orthonormal columns (worst {where(i)}: "
        f"max |UᵀU − I| = {err[i]:.6g} > {tol:.6g})"
    )
    if not reorthonormalize:
        raise NotOrthonormalError(
            msg + " (re-orthonormalise with proj(U) or check_orthonormal(..., reorthonormalize=True))"
        )
    warnings.warn(msg + "; re-orthonormalised by QR", UserWarning, stacklevel=2)
    return proj(U)


# ---------------------------------------------------------------------------------------------------------------
# Scalar functions of a ≥ 0 (a = squared angle or tan²), smooth at 0, and their matrix versions.


def _branch(a, switch, taylor, direct):
    """``taylor(a)`` for |a| < ``switch``, ``direct(a_safe)`` otherwise (double where: no NaN leaks from the
    unused branch)."""
    small = jnp.abs(a) < switch
    a_safe = jnp.where(small, jnp.ones_like(a), a)
    return jnp.where(small, taylor(a), direct(a_safe))


def _eps(a):
    return float(jnp.finfo(a.dtype).eps)


def _sqrt0(a):
    return jnp.sqrt(jnp.maximum(a, 0.0))


# Values sin(√a)/√a and arctan(√a)/√a have no cancellation: only a = 0 needs the series (two terms are exact
# to rounding for a < √eps). Derivatives are differences of nearly equal terms near 0: they switch to a longer
# series where the rounding error of the direct form (≈ eps/a) exceeds the series' truncation error.


def _cos_sqrt(a):
    return jnp.cos(_sqrt0(a))


def _sinc_sqrt(a):
    """sin(√a)/√a."""
    return _branch(a, _eps(a) ** 0.5, lambda x: 1.0 - x / 6.0, lambda x: jnp.sin(_sqrt0(x)) / _sqrt0(x))


def _d_sinc_sqrt(a):
    """d/da sin(√a)/√a = (cos √a − sinc √a)/(2a); series Σ_k k(−a)^{k−1}/(2k+1)! to a³ (error ≈ 1.3e-7 a⁴)."""
    return _branch(
        a,
        (_eps(a) / 1.25e-7) ** 0.2,
        lambda x: -1.0 / 6.0 + x / 60.0 - x * x / 1680.0 + x**3 / 90720.0,
        lambda x: (jnp.cos(_sqrt0(x)) - _sinc_sqrt(x)) / (2.0 * x),
    )


def _d_cos_sqrt(a):
    return -0.5 * _sinc_sqrt(a)


def _q(a):
    """(cos √a − 1)/a = −½ sinc²(√a/2), cancellation-free."""
    return -0.5 * _sinc_sqrt(0.25 * a) ** 2


def _d_q(a):
    return -0.25 * _sinc_sqrt(0.25 * a) * _d_sinc_sqrt(0.25 * a)


def _atanc_sqrt(a):
    """arctan(√a)/√a."""
    return _branch(a, _eps(a) ** 0.5, lambda x: 1.0 - x / 3.0, lambda x: jnp.arctan(_sqrt0(x)) / _sqrt0(x))


def _d_atanc_sqrt(a):
    """d/da arctan(√a)/√a = (1/(1 + a) − atanc)/(2a); series Σ_k k(−a)^{k−1}/(2k+1) to a⁴ (error ≈ 0.45 a⁵)."""
    return _branch(
        a,
        (_eps(a) / 0.45) ** (1.0 / 6.0),
        lambda x: -1.0 / 3.0 + 2.0 * x / 5.0 - 3.0 * x * x / 7.0 + 4.0 * x**3 / 9.0 - 5.0 * x**4 / 11.0,
        lambda x: (1.0 / (1.0 + x) - _atanc_sqrt(x)) / (2.0 * x),
    )


def _blend(x):
    """Weight 1 for x ≤ 1/3, 0 for x ≥ 2/3, ½(1 + cos(π(3x − 1))) in between (C¹), and its derivative."""
    z = jnp.clip(3.0 * x - 1.0, 0.0, 1.0)
    inside = (z > 0) & (z < 1)
    return 0.5 * (1.0 + jnp.cos(jnp.pi * z)), jnp.where(inside, -1.5 * jnp.pi * jnp.sin(jnp.pi * z), 0.0)


def _asinc_sqrt(a):
    """arcsin(√a)/√a for 0 ≤ a < 1."""
    return _branch(a, _eps(a) ** 0.5, lambda x: 1.0 + x / 6.0, lambda x: jnp.arcsin(_sqrt0(x)) / _sqrt0(x))


def _theta_sq_from_sin_sq(s):
    """arcsin²(√s)·w(s): the share of θ² computed from sin²θ, used while s ≤ 2/3 (accurate, smooth)."""
    s_safe = jnp.clip(s, 0.0, 2.0 / 3.0)
    return jnp.arcsin(_sqrt0(s_safe)) ** 2 * _blend(s)[0]


def _d_theta_sq_from_sin_sq(s):
    s_safe = jnp.clip(s, 0.0, 2.0 / 3.0)
    w, dw = _blend(s)
    # d/ds arcsin²(√s) = arcsin(√s)/(√s √(1 − s)) = asinc(√s)/√(1 − s): 1 at s = 0
    return _asinc_sqrt(s_safe) / jnp.sqrt(1.0 - s_safe) * w + jnp.arcsin(_sqrt0(s_safe)) ** 2 * dw


def _theta_sq_from_cos_sq(c):
    """arccos²(√c)·(1 − w(1 − c)): the share of θ² computed from cos²θ, used while c ≤ 2/3."""
    c_safe = jnp.clip(c, 0.0, 2.0 / 3.0)
    return jnp.arccos(_sqrt0(c_safe)) ** 2 * (1.0 - _blend(1.0 - c)[0])


def _d_theta_sq_from_cos_sq(c):
    # d/dc arccos²(√c) = −arccos(√c)/(√c √(1 − c)): infinite at c = 0, where θ = π/2 and the distance itself has
    # a kink (the cut locus); c is floored so the gradient stays finite there.
    c_safe = jnp.clip(c, float(jnp.finfo(c.dtype).tiny) ** 0.5, 2.0 / 3.0)
    w, dw = _blend(1.0 - c)
    root = jnp.sqrt(c_safe)
    acos = jnp.arccos(root)
    return -acos / (root * jnp.sqrt(1.0 - c_safe)) * (1.0 - w) + acos**2 * dw


COS_SQRT = spectral._generic(_cos_sqrt, _d_cos_sqrt)
SINC_SQRT = spectral._generic(_sinc_sqrt, _d_sinc_sqrt)
Q_FN = spectral._generic(_q, _d_q)
ATANC_SQRT = spectral._generic(_atanc_sqrt, _d_atanc_sqrt)
THETA_SQ_SIN = spectral._generic(_theta_sq_from_sin_sq, _d_theta_sq_from_sin_sq)
THETA_SQ_COS = spectral._generic(_theta_sq_from_cos_sq, _d_theta_sq_from_cos_sq)


def _gram(H):
    """HᵀH, symmetrised."""
    return spectral.sym(_mm(_mT(H), H))


def _tan_matrix(U, V):
    """M = (V − U UᵀV)(UᵀV)⁻¹: horizontal at U, and MᵀM has eigenvalues tan²θ_i."""
    C = _mm(_mT(U), V)
    S = V - _mm(U, C)
    return _mT(jnp.linalg.solve(_mT(C), _mT(S)))


# ---------------------------------------------------------------------------------------------------------------
# ONB view.


def proj(X):
    """Orthonormal basis of span(X): the Q factor of X = QR with the signs fixed so that diag(R) > 0 (then proj
    fixes orthonormal bases exactly up to rounding).

    Shapes: X (..., n, p) → (..., n, p).

    >>> proj(jnp.array([[2.0], [0.0]])).tolist() == [[1.0], [0.0]]
    True
    """
    X = numerics.as_float(X)
    Q, R = jnp.linalg.qr(X)
    d = jnp.diagonal(R, axis1=-2, axis2=-1)
    signs = jnp.where(d < 0, -1.0, 1.0).astype(X.dtype)
    return Q * signs[..., None, :]


def proju(U, Z):
    """Horizontal projection (I − U Uᵀ) Z: the tangent (horizontal) part of an ambient n×p matrix.

    >>> proju(jnp.eye(2)[:, :1], jnp.array([[1.0], [2.0]])).tolist()
    [[0.0], [2.0]]
    """
    U, Z = numerics.as_float(U), numerics.as_float(Z)
    return Z - _mm(U, _mm(_mT(U), Z))


def egrad2rgrad(U, G):
    """Riemannian gradient (I − U Uᵀ) G of a function of the basis (canonical metric tr(H₁ᵀH₂)).

    For f(U) invariant under U → U R the Euclidean gradient is already horizontal; the projection removes the
    rest for functions that are not.
    """
    return proju(U, G)


def inner(U, H1, H2=None, *, keepdims: bool = False):
    """⟨H₁, H₂⟩_U = tr(H₁ᵀ H₂) (H₂ defaults to H₁). Shapes: (..., n, p) → (...) or (..., 1, 1) with keepdims."""
    H1 = numerics.as_float(H1)
    H2 = H1 if H2 is None else numerics.as_float(H2)
    shape = jnp.broadcast_shapes(jnp.shape(U), H1.shape, H2.shape)
    return jnp.broadcast_to(_fro_inner(H1, H2, keepdims), shape[:-2] + ((1, 1) if keepdims else ()))


def norm(U, H, *, keepdims: bool = False):
    """‖H‖_U = ‖H‖_F (zero gradient at H = 0)."""
    H = numerics.as_float(H)
    shape = jnp.broadcast_shapes(jnp.shape(U), H.shape)
    return jnp.broadcast_to(_fro_norm(H, keepdims), shape[:-2] + ((1, 1) if keepdims else ()))


def expmap(U, H):
    """Exp_U(H) = U cos(√(HᵀH)) + H sinc(√(HᵀH)) for horizontal H ([EAS98] Thm 2.3, written without the SVD
    H = O Σ Rᵀ: U R cos Σ Rᵀ + O sin Σ Rᵀ). Orthonormal to rounding; smooth at H = 0.

    Shapes: U, H (..., n, p) → (..., n, p).

    >>> U = jnp.eye(2)[:, :1]
    >>> bool(jnp.allclose(expmap(U, jnp.array([[0.0], [jnp.pi / 2]])), jnp.array([[0.0], [1.0]]), atol=1e-6))
    True
    """
    U, H = numerics.as_float(U), numerics.as_float(H)
    U, H = jnp.broadcast_arrays(U, H)
    c, s = spectral._apply((COS_SQRT, SINC_SQRT), _gram(H), ())
    return _mm(U, c) + _mm(H, s)


def retr(U, H):
    """Retraction proj(U + H) (QR). Cheaper than :func:`expmap` for large p; apply_updates uses expmap."""
    return proj(numerics.as_float(U) + numerics.as_float(H))


def logmap(U, V):
    """Log_U(V) = M atanc(MᵀM) with M = (V − U UᵀV)(UᵀV)⁻¹ ([BZA24] Alg. 5.3 without the SVD: M = O tan Θ Rᵀ,
    Log = O Θ Rᵀ). Horizontal at U, invariant under V → V R, and equal to 0 with a finite Jacobian at V = U.

    Needs UᵀV invertible (no principal angle of π/2). Shapes: U, V (..., n, p) → (..., n, p).
    """
    U, V = numerics.as_float(U), numerics.as_float(V)
    U, V = jnp.broadcast_arrays(U, V)
    M = _tan_matrix(U, V)
    (g,) = spectral._apply((ATANC_SQRT,), _gram(M), ())
    return _mm(M, g)


def _theta_sq_sum(sin_sq, cos_sq):
    """Σ θ_i² from two commuting symmetric matrices with eigenvalues sin²θ_i and cos²θ_i (same eigenvectors):
    tr φ₁(sin_sq) + tr φ₂(cos_sq), φ₁(s) = arcsin²(√s) w(s), φ₂(c) = arccos²(√c)(1 − w(1 − c)), w a C¹ switch
    from 1 (s ≤ 1/3) to 0 (s ≥ 2/3). Each θ_i is taken from the sine where it is small and from the cosine where it
    is near π/2, so every angle is accurate to rounding and nothing needs UᵀV to be invertible."""
    (a,) = spectral._apply((THETA_SQ_SIN,), sin_sq, ())
    (b,) = spectral._apply((THETA_SQ_COS,), cos_sq, ())
    return jnp.trace(a, axis1=-2, axis2=-1) + jnp.trace(b, axis1=-2, axis2=-1)


def dist(U, V, *, keepdims: bool = False):
    """Geodesic distance ‖Θ‖₂ = (Σ θ_i²)^{1/2} of the principal angles between span(U) and span(V).

    With C = UᵀV (cos θ) and S = V − U C (sin θ), Σ θ_i² = tr φ₁(SᵀS) + tr φ₂(CᵀC), where each angle is read
    from its sine while small and from its cosine near π/2 (a smooth switch): accurate to rounding relative to each
    angle (unlike arccos of σ(UᵀV) at small angles or arcsin at large ones) — except that an angle within δ of π/2
    that shares the eigendecomposition with a small angle is accurate to ≈ eps/(2δ) absolute (1e-10 for δ = 1e-6 in
    float64) — defined at the cut locus (an angle of π/2), zero gradient at U = V, exact gradients at repeated angles (Daleckii–Krein on p×p matrices).

    Shapes: U, V (..., n, p) → (...) (or (..., 1, 1) with ``keepdims``).
    """
    U, V = numerics.as_float(U), numerics.as_float(V)
    U, V = jnp.broadcast_arrays(U, V)
    C = _mm(_mT(U), V)
    S = V - _mm(U, C)
    out = numerics.safe_sqrt(_theta_sq_sum(_gram(S), _gram(C)))
    return out[..., None, None] if keepdims else out


def _exp_geodesic_and_q(U, D):
    A = _gram(D)
    return spectral._apply((COS_SQRT, SINC_SQRT, Q_FN), A, ())


def transp(U, V, H):
    """Parallel transport of the horizontal H at U to V along the geodesic ([EAS98] eq. 2.68):
    τH = H − U sinc(√A) ΔᵀH + Δ q(A) ΔᵀH (Δ = Log_U V, A = ΔᵀΔ, q(a) = (cos√a − 1)/a), expressed in V's basis:
    τH Qᵀ with Q = Vᵀ Exp_U(Δ) (the geodesic ends at V Q). Isometric; no SVD.

    Shapes: U, V, H (..., n, p) → (..., n, p).
    """
    U, V, H = (numerics.as_float(a) for a in (U, V, H))
    U, V, H = jnp.broadcast_arrays(U, V, H)
    D = logmap(U, V)
    c, s, q = _exp_geodesic_and_q(U, D)
    DtH = _mm(_mT(D), H)
    moved = H - _mm(U, s, DtH) + _mm(D, q, DtH)
    end = _mm(U, c) + _mm(D, s)
    return _mm(moved, _mT(_mm(_mT(V), end)))


def origin(shape, dtype=jnp.float32):
    """I_{n,p} = [I_p; 0] broadcast to ``shape`` (..., n, p)."""
    shape = tuple(shape)
    return jnp.broadcast_to(jnp.eye(shape[-2], shape[-1], dtype=dtype), shape)


def expmap0(H):
    """Exp_{I_{n,p}}(H) for H = [0; B]."""
    H = numerics.as_float(H)
    return expmap(origin(H.shape, H.dtype), H)


def logmap0(U):
    """Log_{I_{n,p}}(U) = [0; B_U]."""
    U = numerics.as_float(U)
    return logmap(origin(U.shape, U.dtype), U)


def dist0(U, *, keepdims: bool = False):
    """d(I_{n,p}, U) = ‖B_U‖_F = ‖U‖_gr."""
    U = numerics.as_float(U)
    return dist(origin(U.shape, U.dtype), U, keepdims=keepdims)


def random(key, shape, dtype=jnp.float32, *, std: float = 1.0):
    """Random points Exp_{I_{n,p}}([0; B]) with B ~ N(0, std²) entries (concentrated around I_{n,p} for small std;
    for a uniform point use ``proj`` of a Gaussian matrix). Shapes: ``shape`` is (..., n, p) with p ≤ n.

    >>> random(jax.random.key(0), (2, 5, 2)).shape
    (2, 5, 2)
    """
    shape = tuple(shape)
    if len(shape) < 2 or shape[-1] > shape[-2]:
        raise ValueError(
            f"geomrep.manifolds.grassmann.random: shape must end with (n, p), p ≤ n; got {shape}"
        )
    p = shape[-1]
    B = std * jax.random.normal(key, shape[:-2] + (shape[-2] - p, p), dtype=dtype)
    H = jnp.concatenate([jnp.zeros(shape[:-2] + (p, p), dtype), B], axis=-2)
    return proj(expmap0(H))


def to_projector(U):
    """P = U Uᵀ (the representation-independent point). Shapes: (..., n, p) → (..., n, n)."""
    U = numerics.as_float(U)
    return spectral.sym(_mm(U, _mT(U)))


def from_projector(P, p: int):
    """An orthonormal basis of the range of the projector P (its top-p eigenvectors; eigh, so not for
    differentiation through projectors with repeated eigenvalues — which projectors always have).

    Shapes: P (..., n, n) → (..., n, p).
    """
    _, vecs = spectral.eigh(numerics.as_float(P))
    return vecs[..., :, vecs.shape[-1] - int(p) :]


# ---------------------------------------------------------------------------------------------------------------
# Gyrovector operations, ONB view ([NY23]; notes §B4).


def _split(X, p):
    return X[..., :p, :], X[..., p:, :]


def _gyro_b(U):
    """B_U: Log_{I_{n,p}}(U) = [0; B_U], B_U = U₂U₁⁻¹ atanc((U₂U₁⁻¹)ᵀ(U₂U₁⁻¹)) (needs U₁ invertible)."""
    p = U.shape[-1]
    U1, U2 = _split(U, p)
    M2 = _mT(jnp.linalg.solve(_mT(U1), _mT(U2)))
    (g,) = spectral._apply((ATANC_SQRT,), _gram(M2), ())
    return _mm(M2, g)


def _exp_omega_apply(B, X):
    """exp(ω(B)) X with ω(B) = [[0, −Bᵀ], [B, 0]], for X (..., n, k): with A = BᵀB, c = cos√A, s = sinc√A,
    q = (cos√A − I)A⁻¹: [c X₁ − s Bᵀ X₂; B s X₁ + X₂ + B q Bᵀ X₂]."""
    p = B.shape[-1]
    c, s, q = spectral._apply((COS_SQRT, SINC_SQRT, Q_FN), _gram(B), ())
    X1, X2 = _split(X, p)
    BtX2 = _mm(_mT(B), X2)
    top = _mm(c, X1) - _mm(s, BtX2)
    bottom = _mm(B, _mm(s, X1) + _mm(q, BtX2)) + X2
    return jnp.concatenate([top, bottom], axis=-2)


def _exp_omega_origin(B):
    """exp(ω(B)) I_{n,p} = [cos√A; B sinc√A]."""
    c, s = spectral._apply((COS_SQRT, SINC_SQRT), _gram(B), ())
    return jnp.concatenate([c, _mm(B, s)], axis=-2)


def exp_skew_apply(B, X=None):
    """exp(ω(B)) X with ω(B) = [[0, −Bᵀ], [B, 0]] ∈ so(n), B ∈ ℝ^{(n−p)×p}, in closed form (p×p matrix functions
    only, exact gradients at B = 0); X (..., n, k) defaults to I_{n,p}, giving the point Exp_{I_{n,p}}([0; B]).

    The building block of the gyro operations (V ⊕ U = exp(ω(B_V)) U) and of models parametrised directly by B
    (e.g. knowledge-graph embeddings: exp(ω(B_r)) exp(ω(B_h)) I_{n,p} is relation r acting on head h).

    >>> B = jnp.array([[jnp.pi / 2]])
    >>> bool(jnp.allclose(exp_skew_apply(B), jnp.array([[0.0], [1.0]]), atol=1e-6))
    True
    """
    B = numerics.as_float(B)
    if X is None:
        return _exp_omega_origin(B)
    X = numerics.as_float(X)
    n = B.shape[-2] + B.shape[-1]
    if X.shape[-2] != n:
        raise ValueError(f"exp_skew_apply: X must have {n} rows (B is {B.shape[-2:]}), got shape {X.shape}")
    shape = jnp.broadcast_shapes(B.shape[:-2], X.shape[:-2])
    return _exp_omega_apply(
        jnp.broadcast_to(B, shape + B.shape[-2:]), jnp.broadcast_to(X, shape + X.shape[-2:])
    )


def gyro_coords(U):
    """B_U ∈ ℝ^{(n−p)×p} with Log_{I_{n,p}}(U) = [0; B_U]; ⟨U, V⟩_gr = tr(B_Uᵀ B_V). Invariant under U → U R."""
    return _gyro_b(numerics.as_float(U))


def gyro_add(V, U):
    """V ⊕ U = exp(ω_V) U (left gyrotranslation by V). Shapes: (..., n, p) → (..., n, p)."""
    V, U = numerics.as_float(V), numerics.as_float(U)
    shape = jnp.broadcast_shapes(V.shape, U.shape)
    B = _gyro_b(V)
    return _exp_omega_apply(jnp.broadcast_to(B, shape[:-2] + B.shape[-2:]), jnp.broadcast_to(U, shape))


def gyro_scalar_mul(t, U):
    """t ⊗ U = exp(t ω_U) I_{n,p}; ``t`` a scalar or an array broadcastable to U's batch shape."""
    U = numerics.as_float(U)
    t = jnp.asarray(t, U.dtype)
    return _exp_omega_origin(t[..., None, None] * _gyro_b(U))


def gyro_inv(U):
    """⊖U = exp(−ω_U) I_{n,p}."""
    return _exp_omega_origin(-_gyro_b(numerics.as_float(U)))


def gyro_inv_add(V, U):
    """⊖V ⊕ U = exp(−ω_V) U (moves V to I_{n,p})."""
    V, U = numerics.as_float(V), numerics.as_float(U)
    shape = jnp.broadcast_shapes(V.shape, U.shape)
    B = -_gyro_b(V)
    return _exp_omega_apply(jnp.broadcast_to(B, shape[:-2] + B.shape[-2:]), jnp.broadcast_to(U, shape))


def gyro_inner(U, V, *, keepdims: bool = False):
    """⟨U, V⟩_gr = tr(B_Uᵀ B_V)."""
    return _fro_inner(gyro_coords(U), gyro_coords(V), keepdims)


def gyro_norm(U, *, keepdims: bool = False):
    """‖U‖_gr = ‖B_U‖_F = d(I_{n,p}, U)."""
    return _fro_norm(gyro_coords(U), keepdims)


def gyro_angle(P, Q, R):
    """Gyroangle ∠QPR between ⊖P ⊕ Q and ⊖P ⊕ R (π/2 when one of them is the origin)."""
    a = gyro_coords(gyro_inv_add(P, Q))
    b = gyro_coords(gyro_inv_add(P, R))
    denom = _fro_norm(a, False) * _fro_norm(b, False)
    ok = denom > 0
    cos = jnp.where(ok, _fro_inner(a, b, False) / jnp.where(ok, denom, jnp.ones_like(denom)), 0.0)
    return jnp.arccos(jnp.clip(cos, -1.0, 1.0))


def hypergyroplane_margin(X, P, W):
    """⟨⊖P ⊕ X, W⟩_gr = tr(B_{⊖P⊕X}ᵀ B_W): the Grassmann MLR logit (template of notes §B7)."""
    return _fro_inner(gyro_coords(gyro_inv_add(P, X)), gyro_coords(W), False)


def hypergyroplane_dist(X, P, W):
    """Pseudo-gyrodistance |⟨⊖P ⊕ X, W⟩_gr| / ‖W‖_gr (0 when W is the origin)."""
    margin = hypergyroplane_margin(X, P, W)
    wn = gyro_norm(W)
    ok = wn > 0
    return jnp.where(ok, jnp.abs(margin) / jnp.where(ok, wn, jnp.ones_like(wn)), 0.0)


# ---------------------------------------------------------------------------------------------------------------
# Projector view ([BZA24] §3; notes §B5): points P = U Uᵀ, metric ½⟨V, W⟩_F.


def _expm_skew(Om):
    """exp(Ω) for skew-symmetric Ω: cos√(ΩᵀΩ) + Ω sinc√(ΩᵀΩ) (Ω² = −ΩᵀΩ)."""
    c, s = spectral._apply((COS_SQRT, SINC_SQRT), _gram(Om), ())
    return c + _mm(Om, s)


def _eye(P):
    return jnp.eye(P.shape[-1], dtype=P.dtype)


def pp_proj(X, *, p: int):
    """Nearest rank-p orthogonal projector to sym(X): V Vᵀ over its top-p eigenvectors V (eigh)."""
    return to_projector(from_projector(spectral.sym(numerics.as_float(X)), p))


def pp_proju(P, Z):
    """Tangent projection at the projector P: P S (I − P) + (I − P) S P with S = sym(Z)."""
    P, Z = numerics.as_float(P), numerics.as_float(Z)
    S = spectral.sym(Z)
    PS = _mm(P, S)
    return spectral.sym(PS + _mT(PS) - 2.0 * _mm(PS, P))


def pp_egrad2rgrad(P, G):
    """Riemannian gradient 2·pp_proju(P, G) (the metric is ½⟨·,·⟩_F)."""
    return 2.0 * pp_proju(P, G)


def pp_inner(P, V, W=None, *, keepdims: bool = False):
    """½⟨V, W⟩_F (W defaults to V)."""
    V = numerics.as_float(V)
    W = V if W is None else numerics.as_float(W)
    return 0.5 * _fro_inner(V, W, keepdims) + jnp.zeros_like(_fro_inner(P, P, keepdims))


def pp_norm(P, V, *, keepdims: bool = False):
    """(½‖V‖²_F)^{1/2}."""
    return (0.5**0.5) * _fro_norm(numerics.as_float(V), keepdims) + jnp.zeros_like(_fro_inner(P, P, keepdims))


def pp_expmap(P, V):
    """Exp_P(V) = exp(Ω) P exp(−Ω), Ω = [V, P] = VP − PV ([BZA24] Prop. 3.3)."""
    P, V = numerics.as_float(P), numerics.as_float(V)
    VP = _mm(V, P)
    E = _expm_skew(VP - _mT(VP))
    return spectral.sym(_mm(E, P, _mT(E)))


def _pp_log_half(P, Q):
    """Δ with Log_P(Q) = Δ + Δᵀ: Δ = T atanc(TᵀT), T = (I − P) Q P (PQP + I − P)⁻¹ (= H Uᵀ of the ONB view)."""
    P, Q = jnp.broadcast_arrays(P, Q)
    eye = _eye(P)
    QP = _mm(Q, P)
    PQP = spectral.sym(_mm(P, QP))
    T = _mT(jnp.linalg.solve(PQP + eye - P, _mT(QP - _mm(P, QP))))
    (g,) = spectral._apply((ATANC_SQRT,), _gram(T), ())
    return T, _mm(T, g)


def pp_logmap(P, Q):
    """Log_P(Q) = Δ + Δᵀ with Δ = T atanc(TᵀT), T = (I − P) Q P (PQP + I − P)⁻¹ — the projector form of the ONB
    logarithm (H Uᵀ + U Hᵀ); no eigendecomposition of P or Q, no non-symmetric matrix logarithm. Needs PQP to
    have rank p (no principal angle of π/2)."""
    P, Q = numerics.as_float(P), numerics.as_float(Q)
    _, D = _pp_log_half(P, Q)
    return D + _mT(D)


def pp_dist(P, Q, *, keepdims: bool = False):
    """Geodesic distance ‖Θ‖₂ between the ranges of P and Q, as :func:`dist` with n×n matrices: on range(Q),
    Q(I − P)Q has eigenvalues sin²θ_i and QPQ + (I − Q) cos²θ_i (the complement contributes sin² = 0, cos² = 1,
    i.e. θ = 0); both are formed as Gram matrices ((I − P)Q)ᵀ(I − P)Q and (PQ)ᵀPQ, so no digits cancel. Defined at the cut locus; exact gradients at repeated eigenvalues."""
    P, Q = numerics.as_float(P), numerics.as_float(Q)
    P, Q = jnp.broadcast_arrays(P, Q)
    # Gram matrices of (I − P)Q and PQ rather than Q − QPQ: no cancellation, so small angles keep full accuracy
    sin_part = Q - _mm(P, Q)
    cos_part = _mm(P, Q)
    out = numerics.safe_sqrt(_theta_sq_sum(_gram(sin_part), _gram(cos_part) + _eye(P) - Q))
    return out[..., None, None] if keepdims else out


def pp_transp(P, Q, V):
    """Parallel transport exp(Ω) V exp(−Ω) with Ω = [Log_P Q, P] (notes §B5; [BZA24] Prop. 3.5)."""
    P, Q, V = (numerics.as_float(a) for a in (P, Q, V))
    L = pp_logmap(P, Q)
    LP = _mm(L, P)
    E = _expm_skew(LP - _mT(LP))
    return spectral.sym(_mm(E, V, _mT(E)))


def pp_origin(shape, p: int, dtype=jnp.float32):
    """Ĩ = diag(I_p, 0) broadcast to ``shape`` (..., n, n)."""
    shape = tuple(shape)
    return jnp.broadcast_to(jnp.diag((jnp.arange(shape[-1]) < p).astype(dtype)), shape)


def pp_random(key, shape, dtype=jnp.float32, *, p: int, std: float = 1.0):
    """Projectors of :func:`random` bases: shape (..., n, n)."""
    shape = tuple(shape)
    return to_projector(random(key, shape[:-1] + (int(p),), dtype, std=std))


def _pp_b(P, p):
    """B_P from the projector: P₂₁ P₁₁⁻¹ atanc(·) (equal to B_U for P = U Uᵀ)."""
    P11 = P[..., :p, :p]
    P21 = P[..., p:, :p]
    M2 = _mT(jnp.linalg.solve(_mT(P11), _mT(P21)))
    (g,) = spectral._apply((ATANC_SQRT,), _gram(M2), ())
    return _mm(M2, g)


def _conj_omega(B, X):
    """exp(ω(B)) X exp(−ω(B)) for symmetric X (n×n)."""
    left = _exp_omega_apply(B, X)
    return spectral.sym(_mT(_exp_omega_apply(B, _mT(left))))


def pp_gyro_add(P, Q, *, p: int):
    """P ⊕ Q = exp(ω_P) Q exp(−ω_P) ([N22] §4.2)."""
    P, Q = numerics.as_float(P), numerics.as_float(Q)
    shape = jnp.broadcast_shapes(P.shape, Q.shape)
    B = _pp_b(P, int(p))
    return _conj_omega(jnp.broadcast_to(B, shape[:-2] + B.shape[-2:]), jnp.broadcast_to(Q, shape))


def pp_gyro_scalar_mul(t, P, *, p: int):
    """t ⊗ P = exp(t ω_P) Ĩ exp(−t ω_P)."""
    P = numerics.as_float(P)
    t = jnp.asarray(t, P.dtype)
    return to_projector(_exp_omega_origin(t[..., None, None] * _pp_b(P, int(p))))


def pp_gyro_inv(P, *, p: int):
    """⊖P = exp(−ω_P) Ĩ exp(ω_P)."""
    P = numerics.as_float(P)
    return to_projector(_exp_omega_origin(-_pp_b(P, int(p))))


def pp_gyro_inner(P, Q, *, p: int, keepdims: bool = False):
    """⟨P, Q⟩_gr = ½⟨Log_Ĩ P, Log_Ĩ Q⟩_F = tr(B_Pᵀ B_Q)."""
    P, Q = numerics.as_float(P), numerics.as_float(Q)
    return _fro_inner(_pp_b(P, int(p)), _pp_b(Q, int(p)), keepdims)


def pp_gyro_norm(P, *, p: int, keepdims: bool = False):
    """‖P‖_gr = ‖B_P‖_F."""
    return _fro_norm(_pp_b(numerics.as_float(P), int(p)), keepdims)
