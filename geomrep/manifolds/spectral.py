"""Spectral functions of symmetric matrices, F(X) = U f(Λ) Uᵀ, with gradients that stay finite at repeated eigenvalues.

Every matrix function geomrep needs (``logm``, ``expm``, ``sqrtm``, inverse square root, powers, inverse, the
ReEig clamp, ReEig followed by LogEig, or any scalar f with its derivative) goes through one eigendecomposition ``X = U Λ Uᵀ`` of the
symmetrised input ½(X + Xᵀ) and one custom JVP, the Daleckii–Krein formula [DK65; Bhatia, Matrix Analysis, Thm
V.3.3]::

    dF = U (L ∘ (Uᵀ dX_sym U)) Uᵀ,     L_ij = f[λ_i, λ_j] = (f(λ_i) − f(λ_j)) / (λ_i − λ_j),  L_ii = f'(λ_i)

L is the Loewner matrix of first divided differences. Its limit at λ_i = λ_j is f'(λ_i), which is what makes the
rule exact (and finite) at repeated eigenvalues — the identity, where layers are initialised, and diag(1, 1, 2).
``jnp.linalg.eigh``'s own derivative instead divides by λ_i − λ_j and is NaN/inf there (jax-ml/jax #669, #4646).
The rule is linear in dX, so reverse mode comes from JAX's transposition of it (L is symmetric, so the VJP has
the same form with the cotangent in place of dX).

Divided differences are evaluated without catastrophic cancellation for close eigenvalues a, b (d = a − b, all
exact at d = 0 through a double ``where``):

==============  ======================================================================  ====================
f               f[a, b]                                                                 used by
==============  ======================================================================  ====================
log x           log1p(x)/x · 1/m, x = |d|/m, m = min(a, b)                              :func:`sym_logm`
exp x           e^M · expm1(−|d|)/(−|d|), M = max(a, b)                                 :func:`sym_expm`
√x              1/(√a + √b)                                                             :func:`sym_sqrtm`
x^{-1/2}        −1/(√a √b (√a + √b))                                                    :func:`sym_invsqrtm`
x^{-1}          −1/(a b)                                                                :func:`sym_invm`
x^t             m^{t−1} · expm1(t log1p(x))/x, x = |d|/m                                :func:`sym_powm`
generic f       (f(a) − f(b))/d, or f'((a + b)/2) when |d| ≤ ε^{1/3} max(|a|, |b|, 1)   :func:`sym_funcm`
==============  ======================================================================  ====================

The generic switch point ε^{1/3} (ε = machine epsilon of the dtype) balances the rounding error of the difference
quotient (≈ ε|f|/|d|) against the midpoint rule's truncation error (≈ |f'''| d²/24): both are ≈ ε^{2/3}
relative (4e-11 in float64, 5e-6 in float32).

Domain: log, powers, inverse and inverse square root are defined on SPD matrices. Eigenvalues below √(smallest
positive normal) of the dtype (1.1e-19 float32, 1.5e-154 float64) are clamped to it, and exponentials are taken
of arguments clipped to ½·ln(largest float) (44 float32, 354 float64), so a matrix that is singular (or slightly
indefinite after float32 rounding) or a huge ``expm`` argument gives large but finite values, never NaN/inf. Use ``geomrep.manifolds.spd.check_spd`` at
public boundaries to reject such inputs with a message.

Shapes: X (..., n, n) → (..., n, n); leading axes are batch axes. All functions are jittable and dtype-preserving.
Only first derivatives are exact at repeated eigenvalues (the JVP rule itself is not differentiated again).

>>> import jax, jax.numpy as jnp
>>> X = jnp.eye(3)
>>> sym_logm(X).tolist() == jnp.zeros((3, 3)).tolist()
True
>>> g = jax.grad(lambda A: jnp.sum(sym_logm(A) ** 2 + sym_sqrtm(A)))(X)
>>> bool(jnp.all(jnp.isfinite(g)))
True

References:
    [DK65] Ju. L. Daleckii, S. G. Krein, "Integration and differentiation of functions of Hermitian operators
        and applications to the theory of perturbations", AMS Transl. (2) 47, 1965.
    [B97] R. Bhatia, "Matrix Analysis", Springer 1997, §V.3 (the Daleckii–Krein formula, Thm V.3.3).
    [I15] C. Ionescu, O. Vantzos, C. Sminchisescu, "Matrix backpropagation for deep networks with structured
        layers", ICCV 2015 (the same derivative written for SVD/eigh layers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import numerics

__all__ = [
    "sym",
    "eigh",
    "sym_funcm",
    "sym_logm",
    "sym_expm",
    "sym_sqrtm",
    "sym_invsqrtm",
    "sym_sqrtm_invsqrtm",
    "sym_invm",
    "sym_powm",
    "sym_clampm",
    "sym_clamped_logm",
    "loewner_matrix",
]


def sym(X):
    """Symmetric part ½(X + Xᵀ) of the last two axes.

    >>> sym(jnp.array([[1.0, 2.0], [0.0, 1.0]])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    X = numerics.as_float(X)
    return 0.5 * (X + jnp.swapaxes(X, -1, -2))


def eigh(X):
    """Eigenvalues (ascending, shape (..., n)) and eigenvectors (columns, (..., n, n)) of ½(X + Xᵀ).

    ``jnp.linalg.eigh`` with its symmetrisation; its derivative is NOT safe at repeated eigenvalues — differentiate
    the spectral functions of this module instead.
    """
    X = numerics.as_float(X)
    return jnp.linalg.eigh(X, symmetrize_input=True)


def _mT(X):
    return jnp.swapaxes(X, -1, -2)


def _reconstruct(U, values):
    """U diag(values) Uᵀ."""
    return jnp.matmul(U * values[..., None, :], _mT(U), precision=jax.lax.Precision.HIGHEST)


def _congruence(U, M):
    """Uᵀ M U."""
    hi = jax.lax.Precision.HIGHEST
    return jnp.matmul(jnp.matmul(_mT(U), M, precision=hi), U, precision=hi)


def _floor(dtype):
    """√(smallest positive normal): 1.1e-19 (float32), 1.5e-154 (float64). Eigenvalues are clamped to at least
    this before log, inverse and powers, so that 1/λ² (the divided difference of 1/x) is still finite."""
    return float(jnp.finfo(dtype).tiny) ** 0.5


def _max_exp_arg(dtype):
    """½·ln(largest float): 44 (float32), 354 (float64); exponentials are taken of arguments clipped to this."""
    return 0.5 * float(np.log(float(jnp.finfo(dtype).max)))


def _exp(z):
    return jnp.exp(jnp.minimum(z, _max_exp_arg(z.dtype)))


def _positive(lam):
    """Eigenvalues clamped to ≥ :func:`_floor` (keeps log, inverses and powers finite)."""
    return jnp.maximum(lam, _floor(lam.dtype))


# ---------------------------------------------------------------------------------------------------------------
# Eigenvalue functions: (f, divided difference, optional derivatives w.r.t. extra parameters).


@dataclasses.dataclass(frozen=True)
class _EigFun:
    """A scalar function applied to eigenvalues, its first divided difference f[a, b] (exact at a = b) and,
    for functions with a differentiable parameter t (``x^t``), ∂f/∂t."""

    f: Callable
    divdiff: Callable
    dparam: Callable | None = None


def _pairs(lam):
    return lam[..., :, None], lam[..., None, :]


def _log_f(lam):
    return jnp.log(_positive(lam))


def _log_dd(a, b):
    a, b = _positive(a), _positive(b)
    m = jnp.minimum(a, b)
    x = jnp.abs(a - b) / m  # ≥ 0; log(max/min) = log1p(x)
    zero = x == 0
    x_safe = jnp.where(zero, jnp.ones_like(x), x)
    return jnp.where(zero, jnp.ones_like(x), jnp.log1p(x_safe) / x_safe) / m


def _exp_dd(a, b):
    big = jnp.maximum(a, b)
    d = -jnp.abs(a - b)  # ≤ 0: expm1(d)/d ∈ (0, 1], e^max is the only large factor
    zero = d == 0
    d_safe = jnp.where(zero, -jnp.ones_like(d), d)
    return _exp(big) * jnp.where(zero, jnp.ones_like(d), jnp.expm1(d_safe) / d_safe)


def _sqrt_f(lam):
    return jnp.sqrt(jnp.maximum(lam, 0.0))


def _sqrt_dd(a, b):
    return 1.0 / (jnp.sqrt(_positive(a)) + jnp.sqrt(_positive(b)))


def _invsqrt_f(lam):
    return jax.lax.rsqrt(_positive(lam))


def _invsqrt_dd(a, b):
    ra, rb = jnp.sqrt(_positive(a)), jnp.sqrt(_positive(b))
    return -1.0 / (ra * rb * (ra + rb))


def _inv_f(lam):
    return 1.0 / _positive(lam)


def _inv_dd(a, b):
    return -1.0 / (_positive(a) * _positive(b))


def _exp_f(lam):
    return _exp(lam)


def _pow_f(lam, t):
    return _exp(t * jnp.log(_positive(lam)))


def _pow_dd(a, b, t):
    a, b = _positive(a), _positive(b)
    m = jnp.minimum(a, b)
    x = jnp.abs(a - b) / m
    zero = x == 0
    x_safe = jnp.where(zero, jnp.ones_like(x), x)
    growth = jnp.minimum(t * jnp.log1p(x_safe), _max_exp_arg(x.dtype))
    ratio = jnp.where(zero, t * jnp.ones_like(x), jnp.expm1(growth) / x_safe)
    return _exp((t - 1.0) * jnp.log(m)) * ratio


def _pow_dt(lam, t):
    loglam = jnp.log(_positive(lam))
    return _exp(t * loglam) * loglam


LOG = _EigFun(_log_f, _log_dd)
EXP = _EigFun(_exp_f, _exp_dd)
SQRT = _EigFun(_sqrt_f, _sqrt_dd)
INVSQRT = _EigFun(_invsqrt_f, _invsqrt_dd)
INV = _EigFun(_inv_f, _inv_dd)
POW = _EigFun(_pow_f, _pow_dd, _pow_dt)


def _generic(f, df):
    def divdiff(a, b):
        d = a - b
        # the scale is at least 1, so that two eigenvalues near 0 (f(a) − f(b) ≈ 0 in floating point while f' is
        # not) use the derivative, not a quotient that has cancelled to 0
        scale = jnp.maximum(jnp.maximum(jnp.abs(a), jnp.abs(b)), 1.0)
        close = jnp.abs(d) <= float(jnp.finfo(d.dtype).eps) ** (1.0 / 3.0) * scale
        d_safe = jnp.where(close, jnp.ones_like(d), d)
        quotient = (f(a) - f(b)) / d_safe
        return jnp.where(close, df(0.5 * (a + b)), quotient)

    return _EigFun(f, divdiff)


def loewner_matrix(lam, fun: _EigFun | None = None, *params):
    """The Loewner matrix L_ij = f[λ_i, λ_j] of first divided differences (L_ii = f'(λ_i)); ``fun`` defaults to log.

    Shapes: lam (..., n) → (..., n, n). Exposed for tests and for layers that assemble their own backward pass.

    >>> [round(v, 4) for v in loewner_matrix(jnp.array([1.0, 1.0, 2.0])).tolist()[0]]
    [1.0, 1.0, 0.6931]
    """
    fun = LOG if fun is None else fun
    a, b = _pairs(lam)
    return fun.divdiff(a, b, *(jnp.asarray(p)[..., None, None] for p in params))


# ---------------------------------------------------------------------------------------------------------------
# The one custom-JVP core.


def _apply(funs: tuple, X, params: tuple):
    """(U f₁(Λ) Uᵀ, U f₂(Λ) Uᵀ, ...) for the eigenvalue functions ``funs`` from one eigendecomposition.

    ``params`` are arrays broadcastable to X's batch shape (…,), shared by every function that takes them
    (only ``x^t`` does); they are differentiable.
    """

    @jax.custom_jvp
    def spectral(X, *params):
        lam, U = eigh(X)
        ps = tuple(p[..., None] for p in params)
        return tuple(_reconstruct(U, fun.f(lam, *ps)) for fun in funs)

    @spectral.defjvp
    def spectral_jvp(primals, tangents):
        X, *ps = primals
        dX, *dps = tangents
        lam, U = eigh(X)
        ps = tuple(p[..., None] for p in ps)
        dXr = _congruence(U, sym(dX))  # Uᵀ dX U
        a, b = _pairs(lam)
        pps = tuple(p[..., None] for p in ps)
        outs, douts = [], []
        for fun in funs:
            outs.append(_reconstruct(U, fun.f(lam, *ps)))
            inner = fun.divdiff(a, b, *pps) * dXr
            if fun.dparam is not None:
                dvals = fun.dparam(lam, *ps) * sum(dp[..., None] for dp in dps)
                inner = inner + dvals[..., None] * jnp.eye(lam.shape[-1], dtype=lam.dtype)
            hi = jax.lax.Precision.HIGHEST
            douts.append(jnp.matmul(jnp.matmul(U, inner, precision=hi), _mT(U), precision=hi))
        return tuple(outs), tuple(douts)

    X = numerics.as_float(X)
    batch = X.shape[:-2]
    params = tuple(jnp.broadcast_to(jnp.asarray(p, X.dtype), batch) for p in params)
    return spectral(X, *params)


def _check_square(X, name):
    X = numerics.as_float(X)
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise ValueError(f"{name}: expected symmetric matrices of shape (..., n, n), got shape {X.shape}")
    return X


def sym_funcm(X, f, df):
    """F(X) = U f(Λ) Uᵀ for any elementwise ``f`` with derivative ``df`` (both jnp-traceable, applied to the
    eigenvalues), with the Daleckii–Krein JVP; divided differences switch to ``df`` at the midpoint when
    |λ_i − λ_j| ≤ ε^{1/3}·max(|λ_i|, |λ_j|, 1) (see the module docstring; the 1 assumes f varies on a scale of
    order 1 near 0, true of the functions geomrep passes).

    Prefer the named functions (``sym_logm`` …): their divided differences are cancellation-free at any spacing.

    >>> X = jnp.diag(jnp.array([1.0, 4.0]))
    >>> sym_funcm(X, jnp.sqrt, lambda x: 0.5 / jnp.sqrt(x)).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    X = _check_square(X, "sym_funcm")
    return _apply((_generic(f, df),), X, ())[0]


def sym_logm(X):
    """Matrix logarithm of SPD X: U log(Λ) Uᵀ. Divided difference log1p(x)/x / min(a, b), x = |a − b|/min(a, b).

    >>> bool(jnp.allclose(sym_logm(jnp.diag(jnp.array([1.0, jnp.e]))), jnp.diag(jnp.array([0.0, 1.0]))))
    True
    """
    return _apply((LOG,), _check_square(X, "sym_logm"), ())[0]


def sym_expm(X):
    """Matrix exponential of symmetric X: U exp(Λ) Uᵀ. Divided difference e^{max}·expm1(−|d|)/(−|d|).

    >>> sym_expm(jnp.zeros((2, 2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _apply((EXP,), _check_square(X, "sym_expm"), ())[0]


def sym_sqrtm(X):
    """Principal square root of SPD X: U Λ^{1/2} Uᵀ. Divided difference 1/(√a + √b).

    >>> sym_sqrtm(jnp.diag(jnp.array([4.0, 9.0]))).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
    """
    return _apply((SQRT,), _check_square(X, "sym_sqrtm"), ())[0]


def sym_invsqrtm(X):
    """Inverse square root of SPD X: U Λ^{-1/2} Uᵀ. Divided difference −1/(√a√b(√a + √b)).

    >>> sym_invsqrtm(jnp.diag(jnp.array([4.0, 0.25]))).tolist()
    [[0.5, 0.0], [0.0, 2.0]]
    """
    return _apply((INVSQRT,), _check_square(X, "sym_invsqrtm"), ())[0]


def sym_sqrtm_invsqrtm(X):
    """(X^{1/2}, X^{-1/2}) from one eigendecomposition (what the affine-invariant metric needs together).

    >>> s, r = sym_sqrtm_invsqrtm(jnp.diag(jnp.array([4.0, 1.0])))
    >>> s.tolist(), r.tolist()
    ([[2.0, 0.0], [0.0, 1.0]], [[0.5, 0.0], [0.0, 1.0]])
    """
    return _apply((SQRT, INVSQRT), _check_square(X, "sym_sqrtm_invsqrtm"), ())


def sym_invm(X):
    """Inverse of SPD X through its eigendecomposition: U Λ^{-1} Uᵀ (symmetric to rounding, unlike ``inv``).

    >>> sym_invm(jnp.diag(jnp.array([2.0, 4.0]))).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return _apply((INV,), _check_square(X, "sym_invm"), ())[0]


def sym_powm(X, t):
    """Matrix power X^t = U Λ^t Uᵀ of SPD X, differentiable in X and in ``t``.

    ``t`` is a scalar or an array broadcastable to X's batch shape (…,) — one exponent per matrix. Divided
    difference m^{t−1}·expm1(t·log1p(x))/x with m = min(a, b), x = |a − b|/m; ∂/∂t = U Λ^t log Λ Uᵀ.

    >>> sym_powm(jnp.diag(jnp.array([4.0, 9.0])), 0.5).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
    """
    X = _check_square(X, "sym_powm")
    return _apply((POW,), X, (t,))[0]


def _clamp_dd(a, b, floor: float):
    """(max(a, ε) − max(b, ε)) / (a − b), exact; at a = b: 1 above the floor, 0 at or below it."""
    d = a - b
    zero = d == 0
    d_safe = jnp.where(zero, jnp.ones_like(d), d)
    step = (a > floor).astype(a.dtype)
    return jnp.where(zero, step, (jnp.maximum(a, floor) - jnp.maximum(b, floor)) / d_safe)


def sym_clampm(X, floor):
    """ReEig (Huang & Van Gool, AAAI 2017, eq. 6): U max(Λ, floor) Uᵀ, with the Loewner-matrix derivative.

    ``floor`` is a Python float (static). Divided differences (max(a, ε) − max(b, ε))/(a − b) are exact;
    at a = b the derivative is 1 above the floor and 0 below (geoopt/SPDNet use the same one-sided choice at a
    tie with the floor).

    >>> sym_clampm(jnp.diag(jnp.array([1e-6, 2.0])), 0.5).tolist()
    [[0.5, 0.0], [0.0, 2.0]]
    """
    X = _check_square(X, "sym_clampm")
    floor = float(floor)

    def f(lam):
        return jnp.maximum(lam, floor)

    def divdiff(a, b):
        return _clamp_dd(a, b, floor)

    return _apply((_EigFun(f, divdiff),), X, ())[0]


def sym_clamped_logm(X, floor):
    """LogEig ∘ ReEig in one eigendecomposition (Huang & Van Gool, AAAI 2017, eqs. 6 and 8): U log(max(Λ, ε)) Uᵀ.

    ReEig's output U max(Λ, ε) Uᵀ has X's eigenvectors, so its matrix logarithm is U log(max(Λ, ε)) Uᵀ: the same
    value as ``sym_logm(sym_clampm(X, ε))`` with one ``eigh`` instead of two. The derivative is the composition's
    too, by the chain rule for divided differences, g∘h[a, b] = g[h(a), h(b)] · h[a, b] with h = max(·, ε) and
    g = log: both factors are the cancellation-free ones of :func:`sym_clampm` and :func:`sym_logm` (so pairs
    both at or below the floor get 0, as in the composition). ``floor`` is a Python float > 0 (static).

    >>> [round(v, 4) for v in jnp.diagonal(sym_clamped_logm(jnp.diag(jnp.array([1e-6, 2.0])), 0.5)).tolist()]
    [-0.6931, 0.6931]
    """
    X = _check_square(X, "sym_clamped_logm")
    floor = float(floor)
    if not floor > 0:
        raise ValueError(f"sym_clamped_logm: floor must be > 0 (the log of the clamped eigenvalues); got {floor}")

    def f(lam):
        return jnp.log(jnp.maximum(lam, floor))

    def divdiff(a, b):
        return _log_dd(jnp.maximum(a, floor), jnp.maximum(b, floor)) * _clamp_dd(a, b, floor)

    return _apply((_EigFun(f, divdiff),), X, ())[0]
