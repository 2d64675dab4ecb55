"""Pure math of geomrep's neural-network layers: jittable ``jax.numpy`` functions, no flax.

The modules in :mod:`geomrep.nn` are thin NNX wrappers around these. Hyperbolic layers follow Ganea et al. 2018
([G18]) on the Poincaré ball of :mod:`geomrep.manifolds.poincare`.

SPD layers: SPDNet's BiMap / ReEig / LogEig (Huang & Van Gool 2017, [HV17]) and the gyro-MLR / gyro-FC of
Nguyen & Yang 2023 ([NY23]) and Nguyen et al. 2024 ([MMNN++]) for the affine-invariant ("ai"), log-Euclidean
("le") and log-Cholesky ("lc") metrics, following the generic construction of gyro.md §B0: every logit is
⟨⊖P ⊕ X, W⟩_gr = ⟨Log_I(⊖P ⊕ X), Log_I(W)⟩_I, evaluated by the closed forms of §B1–B3. Matrix functions go
through :mod:`geomrep.manifolds.spectral` (finite gradients at repeated eigenvalues, e.g. X = I).

References:
    [HV17] Z. Huang, L. Van Gool, "A Riemannian Network for SPD Matrix Learning", AAAI 2017: the BiMap, ReEig
        and LogEig layers (equation numbers not checked: the paper text was not available here).
    [NY23] X. S. Nguyen, S. Yang, "Building Neural Networks on Matrix Manifolds: A Gyrovector Space Approach",
        ICML 2023 (gyro-MLR on SPD: logit_k = ⟨⊖P_k ⊕ X, W_k⟩_gr; its Thms. 2.23–2.25 give the pseudo-
        gyrodistances for AI, LE and LC, as cited by later work).
    [MMNN++] X. S. Nguyen, S. Yang, A. Histace, "Matrix Manifold Neural Networks++", ICLR 2024 (SPD gyro-FC;
        restated in Chen 2026, Thm. G.1 — see gyro.md §B6).
    [BZA24] T. Bendokat, R. Zimmermann, P.-A. Absil, "A Grassmann manifold handbook", Adv. Comput. Math. 50,
        2024 (the exponential at I_{n,p}).
    [G18] O. Ganea, G. Bécigneul, T. Hofmann, "Hyperbolic Neural Networks", NeurIPS 2018 (arXiv:1805.09112).
        §3.1 hyperbolic multiclass logistic regression; §3.2 Möbius matrix-vector multiplication, bias
        translation and pointwise non-linearities (φ^⊗). Formulas as restated in gyro.md §B8.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from geomrep.manifolds import grassmann, numerics, poincare, spd, spectral

__all__ = [
    "mobius_linear",
    "mobius_pointwise",
    "hyperbolic_mlr_logits",
    "bimap",
    "reeig",
    "logeig",
    "sym_to_vec",
    "spd_mlr_logits",
    "spd_gyro_fc",
    "num_fc_outputs",
    "grassmann_mlr_logits",
    "grassmann_fc",
]

_HI = jax.lax.Precision.HIGHEST


# ---------------------------------------------------------------------------------------------------------
# Hyperbolic (Poincaré ball) layers, [G18]
# ---------------------------------------------------------------------------------------------------------


def mobius_linear(x, weight, bias=None, *, c=1.0):
    """Möbius linear layer y = (M ⊗_c x) ⊕_c b ([G18] §3.2, "Möbius matrix-vector multiplication" and "bias
    translation").

    Shapes: x (..., in); weight M (out, in); bias b (out,) a point of the ball of curvature −c, or None → (..., out).

    >>> import jax.numpy as jnp
    >>> y = mobius_linear(jnp.array([0.1, -0.2]), jnp.eye(2), jnp.zeros(2))
    >>> bool(jnp.allclose(y, jnp.array([0.1, -0.2]), atol=1e-6))
    True
    """
    y = poincare.mobius_matvec(weight, x, c=c)
    if bias is not None:
        y = poincare.mobius_add(y, jnp.asarray(bias, y.dtype), c=c)
    return y


def mobius_pointwise(fn, x, *, c=1.0):
    """Möbius version of a pointwise non-linearity φ^⊗_c(x) = exp₀(φ(log₀ x)) ([G18] §3.2).

    Shapes: x (..., n) → (..., n); ``fn`` maps (..., n) → (..., n) (e.g. ``jax.nn.relu``).

    >>> import jax, jax.numpy as jnp
    >>> y = mobius_pointwise(jax.nn.relu, jnp.array([0.3, -0.2]))
    >>> float(y[1]), bool(y[0] > 0)
    (0.0, True)
    """
    return poincare.expmap0(fn(poincare.logmap0(x, c=c)), c=c)


def hyperbolic_mlr_logits(x, p, a, *, c=1.0):
    """Logits of hyperbolic multiclass logistic regression ([G18] §3.1).

    logit_k(x) = (λ_{p_k}‖a_k‖/√c) · asinh( 2√c ⟨z_k, a_k⟩ / ((1 − c‖z_k‖²) ‖a_k‖) ),   z_k = (−p_k) ⊕_c x,

    the signed distance of x to the gyroplane through p_k with normal a_k ∈ T_{p_k}, times λ_{p_k}‖a_k‖. As in
    [G18] §3.1 the normal is stored at the origin and moved to p_k by parallel transport,
    a_k = (λ₀/λ_{p_k}) a'_k, so a'_k is a free Euclidean parameter and λ_{p_k}‖a_k‖ = 2‖a'_k‖. With
    t = ‖a'_k‖ this is logit_k = (2/√c) t asinh(2√c⟨z_k, a'_k⟩ / ((1 − c‖z_k‖²) t)); t is clamped
    ≥ ``min_norm`` (the logit → 0 as a'_k → 0).

    Shapes: x (..., d) ball points; p (K, d) ball points (the offsets p_k); a (K, d) normals a'_k at the origin
    → (..., K).

    >>> import jax.numpy as jnp
    >>> p = jnp.zeros((2, 2)); a = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    >>> logits = hyperbolic_mlr_logits(jnp.array([0.5, 0.0]), p, a)
    >>> round(float(logits[0]), 6) == round(2 * float(jnp.arcsinh(2 * 0.5 / 0.75)), 6), float(logits[1])
    (True, 0.0)
    """
    x = numerics.as_float(x)
    p = jnp.asarray(p, x.dtype)
    a = jnp.asarray(a, x.dtype)
    sqrt_c = c**0.5
    z = poincare.mobius_add(-p, x[..., None, :], c=c)  # (..., K, d), projected so 1 − c‖z‖² ≥ ~2 ball_eps
    t = jnp.maximum(numerics.safe_norm(a), numerics.min_norm(x.dtype))  # (K,)
    za = jnp.sum(z * a, axis=-1)
    denom = jnp.maximum(1.0 - c * numerics.sqnorm(z, keepdims=False), numerics.min_norm(x.dtype))
    return (2.0 / sqrt_c) * t * jnp.arcsinh(2.0 * sqrt_c * za / (denom * t))


# ---------------------------------------------------------------------------------------------------------
# SPD layers: SPDNet [HV17] and gyro layers [NY23, MMNN++]
# ---------------------------------------------------------------------------------------------------------


def _check_class_params(name, X, P, W):
    """Static shape check: P, W are (K, *point) with the point shape of X's trailing two axes."""
    point = X.shape[-2:]
    if X.ndim < 2 or P.ndim != 3 or P.shape != W.shape or P.shape[1:] != point:
        raise ValueError(
            f"{name}: inputs (..., {', '.join(map(str, point))}) need parameters P, W of shape (K, "
            f"{', '.join(map(str, point))}); got P {P.shape}, W {W.shape}"
        )


def bimap(X, W):
    """BiMap layer Y = Wᵀ X W ([HV17]), W ∈ St(n_in, n_out) (orthonormal columns).

    Shapes: X (..., n_in, n_in); W (n_in, n_out) → (..., n_out, n_out). SPD in, SPD out (W has full column rank).

    >>> import jax.numpy as jnp
    >>> bimap(jnp.eye(3), jnp.eye(3)[:, :2]).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    X = numerics.as_float(X)
    W = jnp.asarray(W, X.dtype)
    return jnp.matmul(jnp.matmul(W.T, X, precision=_HI), W, precision=_HI)


def reeig(X, *, eps=1e-4):
    """ReEig layer U max(Λ, ε) Uᵀ ([HV17]); ε is a Python float (1e-4 in SPDNet practice).

    Gradients use the Daleckii–Krein rule of :func:`geomrep.manifolds.spectral.sym_clampm` (finite at X = I).

    Shapes: X (..., n, n) → (..., n, n).
    """
    return spectral.sym_clampm(X, eps)


def logeig(X, *, floor: float | None = None):
    """LogEig layer U log(Λ) Uᵀ ([HV17]): the matrix logarithm, mapping SPD to its tangent space at I.

    ``floor=ε`` computes LogEig(ReEig_ε(X)) = U log(max(Λ, ε)) Uᵀ, the end of every SPDNet, from one
    eigendecomposition instead of two (same value and gradient: :func:`geomrep.manifolds.spectral.sym_clamped_logm`).

    Shapes: X (..., n, n) → (..., n, n).
    """
    if floor is None:
        return spectral.sym_logm(X)
    return spectral.sym_clamped_logm(X, floor)


def sym_to_vec(S):
    """Isometric vectorisation of symmetric matrices: the upper triangle (row-major), off-diagonals × √2.

    ‖sym_to_vec(S)‖₂ = ‖S‖_F. Shapes: S (..., n, n) → (..., n(n+1)/2).

    >>> import jax.numpy as jnp
    >>> [round(v, 6) for v in sym_to_vec(jnp.array([[1.0, 2.0], [2.0, 3.0]])).tolist()]
    [1.0, 2.828427, 3.0]
    """
    S = numerics.as_float(S)
    n = S.shape[-1]
    rows, cols = jnp.triu_indices(n)
    scale = jnp.where(rows == cols, 1.0, math.sqrt(2.0)).astype(S.dtype)
    return S[..., rows, cols] * scale


def spd_mlr_logits(X, P, W, *, metric):
    """SPD gyro-MLR logits ([NY23]; gyro.md §B0, §B7): logit_k(X) = ⟨⊖P_k ⊕ X, W_k⟩_gr.

    With ⟨A, B⟩_gr = ⟨Log_I A, Log_I B⟩_I (W_k enters through Log_I) the closed forms are

    * ``"ai"``: ⟨log(P_k^{-1/2} X P_k^{-1/2}), log W_k⟩_F  (one logm per input and class);
    * ``"le"``: ⟨log X − log P_k, log W_k⟩_F               (one logm per input: LogEig + linear);
    * ``"lc"``: ⟨φ(X) − φ(P_k), φ(W_k)⟩_F, φ(S) = ⌊chol S⌋ + log 𝔻(chol S)   (one Cholesky per input).

    The logit is ‖W_k‖_gr times the signed pseudo-gyrodistance of X to the hypergyroplane
    {X : ⟨⊖P_k ⊕ X, W_k⟩_gr = 0}; for LE and LC it is the true geodesic distance (both metrics are flat).
    This is :func:`geomrep.manifolds.spd.hypergyroplane_margin` broadcast over the K classes (for LE and LC the
    chart of X is computed once per input and shared by the classes).

    Args:
      X: (..., n, n) SPD inputs.
      P: (K, n, n) SPD offsets P_k.
      W: (K, n, n) SPD normals W_k (W_k = I gives the zero logit).
      metric: "ai", "le" or "lc" (keyword-only; anything else raises a ValueError listing them).

    Returns:
      (..., K) logits.

    >>> import jax.numpy as jnp
    >>> X = jnp.diag(jnp.array([jnp.e, 1.0])); I = jnp.eye(2)[None]
    >>> [round(float(spd_mlr_logits(X, I, X[None], metric=m)[0]), 6) for m in ("ai", "le", "lc")]
    [1.0, 1.0, 0.25]
    """
    X = numerics.as_float(X)
    P = jnp.asarray(P, X.dtype)
    W = jnp.asarray(W, X.dtype)
    _check_class_params("spd_mlr_logits", X, P, W)
    return spd.hypergyroplane_margin(X[..., None, :, :], P, W, metric=metric)


def num_fc_outputs(m: int) -> int:
    """Number of gyro-MLR logits (= (P, W) pairs) of an SPD gyro-FC layer with m×m outputs: m(m+1)/2."""
    return m * (m + 1) // 2


def _fc_size(d: int) -> int:
    m = int(round((math.sqrt(8 * d + 1) - 1) / 2))
    if num_fc_outputs(m) != d:
        raise ValueError(f"spd_gyro_fc: {d} (P, W) pairs is not m(m+1)/2 for any output size m")
    return m


def spd_gyro_fc(X, P, W, *, metric):
    """SPD gyro fully-connected layer ([MMNN++]; gyro.md §B6), SPD(n) → SPD(m).

    The m(m+1)/2 logits v_ij = ⟨⊖P_ij ⊕ X, W_ij⟩_gr (1 ≤ j ≤ i ≤ m, in ``jnp.tril_indices(m)`` order) are the
    coordinates of the output in an orthonormal basis of the tangent space at I:

    * ``"ai"`` (β = 0) and ``"le"``: Y = exp(V), V_ii = v_ii, V_ij = V_ji = v_ij/√2;
    * ``"lc"``: Y = φ⁻¹(V) = K Kᵀ, K lower-triangular with K_ii = exp(v_ii), K_ij = v_ij (i > j).

    Both are Exp_I of Σ v_ij E_ij over an orthonormal basis (E_ij) of T_I for the metric.

    Args:
      X: (..., n, n) SPD inputs.
      P, W: (m(m+1)/2, n, n) SPD parameters.
      metric: "ai", "le" or "lc".

    Returns:
      (..., m, m) SPD outputs (I when every W_ij = I).
    """
    m = _fc_size(jnp.shape(P)[0])
    v = spd_mlr_logits(X, P, W, metric=metric)
    rows, cols = jnp.tril_indices(m)
    V = jnp.zeros((*v.shape[:-1], m, m), v.dtype).at[..., rows, cols].set(v)
    if metric == "lc":  # φ(Y) = V
        return spd.log_cholesky_inv(V)
    lower = jnp.tril(V, -1) / math.sqrt(2.0)
    diag = jnp.diagonal(V, axis1=-2, axis2=-1)[..., None] * jnp.eye(m, dtype=V.dtype)
    return spd.expmap0(lower + jnp.swapaxes(lower, -1, -2) + diag, metric=metric)


# ---------------------------------------------------------------------------------------------------------
# Grassmann layers (ONB view of [NY23]; gyro.md §B4, §B7)
# ---------------------------------------------------------------------------------------------------------


def grassmann_mlr_logits(U, P, A):
    """Grassmann gyro-MLR logits logit_k(U) = ⟨⊖P_k ⊕ U, W_k⟩_gr = tr(B_{⊖P_k ⊕ U}ᵀ A_k) (gyro.md §B4, §B7).

    B_V is the chart of :func:`geomrep.manifolds.grassmann.gyro_coords` (Log_{I_{n,p}} V = [0; B_V]) and
    ⊖P ⊕ U = exp(−ω_P) U. The normal enters through its chart A_k = B_{W_k} ∈ ℝ^{(n−p)×p}, a tangent vector at
    I_{n,p} stored directly (as [G18] stores the hyperbolic MLR normal at the origin): on the compact
    Grassmannian ‖B_W‖_F = d(I_{n,p}, W) ≤ (π/2)√p, which would cap every logit, while A_k is unbounded. Any
    W_k gives A_k = ``grassmann.gyro_coords(W_k)``. Invariant under U → U R (R ∈ O(p)); needs the top p×p block
    of ⊖P_k ⊕ U invertible (no principal angle of π/2 to I_{n,p}).

    Shapes: U (..., n, p) orthonormal bases; P (K, n, p) bases; A (K, n − p, p) → (..., K).

    >>> import jax.numpy as jnp
    >>> from geomrep.manifolds import grassmann
    >>> I = jnp.eye(3)[:, :1]; U = jnp.array([[1.0], [1.0], [0.0]]) / jnp.sqrt(2.0)
    >>> logit = grassmann_mlr_logits(U, I[None], grassmann.gyro_coords(U)[None])
    >>> round(float(logit[0]), 6) == round(float((jnp.pi / 4) ** 2), 6)
    True
    """
    U = numerics.as_float(U)
    P = jnp.asarray(P, U.dtype)
    A = jnp.asarray(A, U.dtype)
    n, p = U.shape[-2:]
    if P.ndim != 3 or P.shape[1:] != (n, p) or A.shape != (P.shape[0], n - p, p):
        raise ValueError(
            f"grassmann_mlr_logits: inputs (..., {n}, {p}) need offsets P of shape (K, {n}, {p}) and normals A of "
            f"shape (K, {n - p}, {p}); got P {P.shape}, A {A.shape}"
        )
    B = grassmann.gyro_coords(grassmann.gyro_inv_add(P, U[..., None, :, :]))  # (..., K, n − p, p)
    return jnp.sum(B * A, axis=(-2, -1))


def grassmann_fc(U, P, A, *, out_shape):
    """Grassmann gyro fully-connected layer Gr(n, p) → Gr(m, q): the construction of the SPD gyro-FC (gyro.md
    §B6) on the Grassmannian (derived, not from a paper).

    The q(m−q) logits v_ij = tr(B_{⊖P_ij ⊕ U}ᵀ A_ij) (:func:`grassmann_mlr_logits`, row-major over the (m−q)×q
    block) form V ∈ ℝ^{(m−q)×q}, and the output is the subspace whose graph chart at I_{m,q} is V:

        Y = span([I_q; V]) = Exp_{I_{m,q}}([0; B]),   B = V atanc(VᵀV) = O arctan(Σ) Rᵀ  (V = O Σ Rᵀ),

    so gyro_coords(Y) = B ≈ V near I_{m,q} (arctan σ = σ + O(σ³)). Unlike the SPD case, Exp_{I_{m,q}} is
    not injective on the whole tangent space: with B = V (taking the logits as the coordinates themselves) any
    singular value past π/2 crosses the cut locus, where the next layer's Log/gyro_coords jumps (θ → θ − π)
    and the layer folds onto itself; the arctan keeps every principal angle of Y to I_{m,q} below π/2 and makes
    V ↦ Y a diffeomorphism onto the chart (the map of ``grassmann.logmap``, inverted).

    Shapes: U (..., n, p); P (q(m−q), n, p); A (q(m−q), n − p, p); out_shape = (m, q) → (..., m, q) bases.
    """
    m, q = (int(k) for k in out_shape)
    if not 1 <= q < m:
        raise ValueError(f"grassmann_fc: out_shape (m, q) needs 1 <= q < m; got {out_shape}")
    if jnp.shape(P)[0] != q * (m - q):
        raise ValueError(
            f"grassmann_fc: {jnp.shape(P)[0]} (P, A) pairs, but out_shape {(m, q)} needs q(m-q) = {q * (m - q)}"
        )
    v = grassmann_mlr_logits(U, P, A)
    V = v.reshape(*v.shape[:-1], m - q, q)
    VtV = spectral.sym(jnp.matmul(jnp.swapaxes(V, -1, -2), V, precision=_HI))
    (g,) = spectral._apply((grassmann.ATANC_SQRT,), VtV, ())  # atanc(VᵀV): exact gradients at V = 0
    return grassmann.exp_skew_apply(jnp.matmul(V, g, precision=_HI))
