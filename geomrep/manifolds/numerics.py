"""Per-dtype numerical constants and safe elementary functions shared by every manifold kernel.

This is geomrep's one numerics table. Each function is pure ``jax.numpy`` and dtype-preserving (float32 in gives
float32 out, also with ``jax_enable_x64`` on). Each has finite values *and* finite gradients on its whole domain,
including the points where the textbook formula divides 0 by 0 or has an infinite slope:

========================  ===========================================================================
``safe_norm(x)``          ‖x‖ with gradient 0 at x = 0 (a subgradient), exact elsewhere
``safe_sqrt(x)``          √max(x, 0) with gradient 0 at x ≤ 0
``artanh(x)``             input clipped to ±(1 − finfo(dtype).eps)
``arcosh(x)``             input clipped to ≥ 1; gradient at 1 is 1 instead of +∞
``tanh(x)``               input clipped to ±15 (geoopt's convention)
``sinhc, tanhc,``         sinh(x)/x, tanh(x)/x, artanh(x)/x, asinh(x)/x: equal to 1 at x = 0, with a
``artanhc, arsinhc``      two-term Taylor branch below ``finfo(dtype).eps ** 0.25`` so values and
                          gradients are exact to rounding near 0
========================  ===========================================================================

The "double where" trick used throughout: ``where(ok, f(where(ok, x, safe)), fallback)``. The inner ``where``
keeps the discarded branch away from its singularity, so its (multiplied-by-zero) gradient is finite and
cannot turn the selected gradient into NaN.

Per-dtype table
---------------
=========  ===========  ===========  ==============
dtype      ball_eps     min_norm     max_cosh_arg
=========  ===========  ===========  ==============
float64    1e-5         1e-15        350
float32    4e-3         1e-15        40
bfloat16   3e-2         1e-15        40
float16    1e-2         6.2e-5       1
=========  ===========  ===========  ==============

``ball_eps`` is geoopt's projection margin (``geoopt/manifolds/stereographic/math.py``): points of the Poincaré
ball are kept at norm ≤ (1 − eps)/√c, which caps the distance from the origin at ln((2 − eps)/eps)/√c: 12.2 for
float64, 6.2 for float32. float16/bfloat16 values are conservative guesses (untested by the paper references).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

__all__ = [
    "ball_eps",
    "min_norm",
    "max_cosh_arg",
    "tanh_clip",
    "safe_norm",
    "safe_sqrt",
    "artanh",
    "arcosh",
    "tanh",
    "sinhc",
    "tanhc",
    "artanhc",
    "arsinhc",
]

_BALL_EPS = {
    np.dtype(np.float64): 1e-5,
    np.dtype(np.float32): 4e-3,
    np.dtype(jnp.bfloat16): 3e-2,
    np.dtype(np.float16): 1e-2,
}

_MIN_NORM = {
    np.dtype(np.float64): 1e-15,
    np.dtype(np.float32): 1e-15,
    np.dtype(jnp.bfloat16): 1e-15,
    np.dtype(np.float16): 6.2e-5,  # float16's smallest normal number; 1e-15 would underflow to 0
}

#: Inputs of ``tanh`` are clipped to ±tanh_clip (geoopt's convention; tanh(15) = 1 − 1.9e-13).
tanh_clip = 15.0


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in _BALL_EPS:
        raise TypeError(
            f"geomrep.manifolds.numerics: unsupported dtype {dt}; use float64, float32, bfloat16 or float16"
        )
    return dt


def ball_eps(dtype) -> float:
    """Projection margin of the Poincaré ball for ``dtype``: points keep norm ≤ (1 − eps)/√c.

    4e-3 for float32 and 1e-5 for float64 (geoopt's values). The distance from the origin is then capped at
    ln((2 − eps)/eps)/√c.

    >>> ball_eps(jnp.float32), ball_eps(jnp.float64)
    (0.004, 1e-05)
    """
    return _BALL_EPS[_float_dtype(dtype)]


def min_norm(dtype) -> float:
    """Lower clamp for norms and denominators (1e-15 for float32/float64, as in geoopt).

    >>> min_norm(jnp.float64)
    1e-15
    """
    return _MIN_NORM[_float_dtype(dtype)]


def max_cosh_arg(dtype) -> float:
    """Largest argument fed to cosh/sinh by the Lorentz exponential map for ``dtype``.

    ``floor(ln(finfo.max)/2) − 4`` (float64: 350, float32: 40), so cosh(arg)² and products of two such
    coordinates stay finite. A hyperboloid point that far out (x₀ ≈ e^arg/2) is beyond what the dtype can
    resolve anyway; tangent vectors longer than this are shortened, never turned into inf/NaN.

    >>> max_cosh_arg(jnp.float32), max_cosh_arg(jnp.float64)
    (40.0, 350.0)
    """
    dt = _float_dtype(dtype)
    return float(max(math.floor(0.5 * math.log(float(jnp.finfo(dt).max))) - 4, 1))


def _small_arg(dtype) -> float:
    # Below this |x| the two-term Taylor expansions used by sinhc/tanhc/artanhc/arsinhc are exact to rounding:
    # their next terms are ≤ 2/15·x⁴ ≤ eps.
    return float(jnp.finfo(dtype).eps) ** 0.25


def as_float(x):
    """``x`` as a JAX array, cast to the default float dtype if it is not floating already (ints, bools)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def dot(x, y, keepdims: bool = True):
    """⟨x, y⟩ over the last axis (kept as a size-1 axis by default, for broadcasting against points)."""
    return jnp.sum(x * y, axis=-1, keepdims=keepdims)


def sqnorm(x, keepdims: bool = True):
    """‖x‖² over the last axis (kept as a size-1 axis by default)."""
    return dot(x, x, keepdims=keepdims)


def safe_norm(x, axis=-1, keepdims: bool = False):
    """Euclidean norm ‖x‖ along ``axis`` whose gradient is finite (zero) at x = 0.

    Uses the double-where trick, so values are exact (nothing is added under the square root).

    Shapes: ``x`` (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> import jax
    >>> float(safe_norm(jnp.array([3.0, 4.0])))
    5.0
    >>> jax.grad(safe_norm)(jnp.zeros(2)).tolist()
    [0.0, 0.0]
    """
    x = as_float(x)
    sq = jnp.sum(x * x, axis=axis, keepdims=keepdims)
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, jnp.ones_like(sq))), jnp.zeros_like(sq))


def safe_sqrt(x):
    """√max(x, 0) with a finite gradient everywhere (0 for x ≤ 0).

    >>> import jax
    >>> float(safe_sqrt(4.0)), float(safe_sqrt(-1.0)), float(jax.grad(safe_sqrt)(0.0))
    (2.0, 0.0, 0.0)
    """
    x = as_float(x)
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, jnp.ones_like(x))), jnp.zeros_like(x))


def artanh(x):
    """artanh(x) with x clipped to ±(1 − finfo(dtype).eps), so values and gradients stay finite.

    The largest value is artanh(1 − eps): 18.4 (float64), 8.3 (float32).

    >>> float(artanh(0.5)) == float(jnp.arctanh(0.5))
    True
    >>> bool(jnp.isfinite(artanh(1.0)))
    True
    """
    x = as_float(x)
    bound = 1.0 - float(jnp.finfo(x.dtype).eps)
    return jnp.arctanh(jnp.clip(x, -bound, bound))


def arcosh(x):
    """arcosh(x) for x ≥ 1 (smaller inputs are clipped to 1), with a finite gradient at x = 1.

    Computed as log1p(z + √(z(z + 2))) with z = x − 1, which is accurate near 1, and as ln(2x) once
    1/(4x²) < eps. The true slope at 1 is +∞; here it is 1 there (the √ term contributes a zero subgradient).
    Prefer the asinh forms of distances (see ``poincare.dist``) when the argument is computed as 1 + small.

    >>> round(float(arcosh(jnp.cosh(2.0))), 12)
    2.0
    """
    x = as_float(x)
    z = jnp.maximum(x - 1.0, 0.0)
    large = z > 1.0 / float(jnp.finfo(x.dtype).eps) ** 0.5
    z_small = jnp.where(large, jnp.zeros_like(z), z)
    small_branch = jnp.log1p(z_small + safe_sqrt(z_small * (z_small + 2.0)))
    x_large = jnp.where(large, x, 2.0 * jnp.ones_like(x))
    large_branch = jnp.log(x_large) + math.log(2.0)
    return jnp.where(large, large_branch, small_branch)


def tanh(x):
    """tanh(x) with the input clipped to ±15 (geoopt's convention).

    >>> float(tanh(100.0)) == float(jnp.tanh(15.0))
    True
    """
    x = as_float(x)
    return jnp.tanh(jnp.clip(x, -tanh_clip, tanh_clip))


def _ratio(x, direct, taylor_coef):
    """``direct(x)/x`` away from 0 and ``1 + taylor_coef·x²`` near 0 (double where)."""
    x = as_float(x)
    small = jnp.abs(x) < _small_arg(x.dtype)
    x_safe = jnp.where(small, jnp.ones_like(x), x)
    return jnp.where(small, 1.0 + taylor_coef * (x * x), direct(x_safe) / x_safe)


def sinhc(x):
    """sinh(x)/x, equal to 1 at x = 0, with exact values and gradients near 0.

    Overflows to inf for |x| ≳ 710 (float64) / 89 (float32); callers clip with ``max_cosh_arg``.

    >>> float(sinhc(0.0))
    1.0
    """
    return _ratio(x, jnp.sinh, 1.0 / 6.0)


def tanhc(x):
    """tanh(x)/x (tanh's input clipped to ±15), equal to 1 at x = 0.

    >>> float(tanhc(0.0))
    1.0
    """
    return _ratio(x, tanh, -1.0 / 3.0)


def artanhc(x):
    """artanh(x)/x (artanh's input clipped to ±(1 − eps)), equal to 1 at x = 0.

    >>> float(artanhc(0.0))
    1.0
    """
    return _ratio(x, artanh, 1.0 / 3.0)


def arsinhc(x):
    """asinh(x)/x, equal to 1 at x = 0.

    >>> float(arsinhc(0.0))
    1.0
    """
    return _ratio(x, jnp.arcsinh, -1.0 / 6.0)
