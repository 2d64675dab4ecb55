"""Hyperbolic triangles (curvature −1) solved without cancellation, for sides of any length.

Two sides x, y ≥ 0 meeting at an angle θ determine the triangle. With s = sin(θ/2), c = cos(θ/2):

- :func:`third_side`, the law of cosines cosh d = cosh x cosh y − sinh x sinh y cos θ, rewritten as

      2 cosh d = e^{x+y} W,   W = p + q + (1 − p)(1 − q) s²,   p = e^{−2x}, q = e^{−2y},

  so that d = x + y + ln((W + √(A·B))/2) with A = (e^{−x} − e^{−y})² + (1 − p)(1 − q)s² = W − 2e^{−x−y} and
  B = W + 2e^{−x−y}. Every sum has non-negative terms: there is no cancellation, nothing overflows, and the
  relative error stays at a few ulps even for sides of thousands (where cosh overflows float64) — as long as
  d itself is not much smaller than x + y, which never happens in a Sarkar embedding (d ≥ (x + y)/(1 + ε)).
- :func:`far_angle`, the angle γ at the far end of side x (between side x and the third side), from the
  four-part formula cosh x cos θ = sinh x coth y − sin θ cot γ, scaled by 2e^{−x}:

      γ = atan2(2 e^{−x} s c,  (h + s²) − e^{−2x} (h + c²)),   h = 1/(e^{2y} − 1),

  again free of overflow (γ ≈ e^{−x} sin θ/(1 − cos θ) → 0 for long x, to full relative precision).

Inputs are passed with their exponentials e^{−x}, e^{−y} precomputed (the callers keep them in tables) and s², or
(s, c) for the angle. Pure ``jax.numpy``; dtype-preserving; the combinatorial construction uses float64.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["far_angle", "third_side"]


def third_side(x, y, exp_neg_x, exp_neg_y, sin2_half_angle):
    """Third side d of a hyperbolic triangle with sides x, y ≥ 0 at angle θ (law of cosines, no cancellation).

    cosh d = cosh x cosh y − sinh x sinh y cos θ; see the module docstring for the form used.

    Args:
      x, y: side lengths (broadcastable arrays).
      exp_neg_x, exp_neg_y: e^{−x}, e^{−y}.
      sin2_half_angle: sin²(θ/2) ∈ [0, 1], e.g. ‖u − v‖²/4 for unit vectors u, v along the two sides.

    Returns:
      d ≥ 0, broadcast shape. d = |x − y| at θ = 0, x + y at θ = π.

    >>> import numpy as np
    >>> x, y, t = 1.2, 0.7, 1.1
    >>> d = third_side(x, y, np.exp(-x), np.exp(-y), np.sin(t / 2) ** 2)
    >>> bool(np.isclose(np.cosh(d), np.cosh(x) * np.cosh(y) - np.sinh(x) * np.sinh(y) * np.cos(t)))
    True
    """
    p, q = exp_neg_x * exp_neg_x, exp_neg_y * exp_neg_y
    spread = (1 - p) * (1 - q) * sin2_half_angle
    w = p + q + spread
    cross = 2 * exp_neg_x * exp_neg_y
    a = (exp_neg_x - exp_neg_y) ** 2 + spread  # = w − cross, formed without cancellation
    return x + y + jnp.log(0.5 * (w + jnp.sqrt(a * (w + cross))))


def far_angle(x, y, exp_neg_x, sin_half_angle, cos_half_angle):
    """Angle γ ∈ [0, π] at the far end of side x, in a triangle with sides x, y > 0 at angle θ.

    From cot γ = (sinh x coth y − cosh x cos θ)/sin θ (the hyperbolic four-part formula), in the overflow-free
    form of the module docstring.

    Args:
      x, y: side lengths, y > 0 (for y = 0 the far vertex is the triangle's apex and γ = 0 by convention).
      exp_neg_x: e^{−x}.
      sin_half_angle, cos_half_angle: sin(θ/2), cos(θ/2) ≥ 0 (θ ∈ [0, π]).

    Returns:
      γ (broadcast shape).

    >>> import numpy as np
    >>> x, y, t = 0.9, 1.3, 1.0
    >>> g = float(far_angle(x, y, np.exp(-x), np.sin(t / 2), np.cos(t / 2)))
    >>> cot = (np.sinh(x) / np.tanh(y) - np.cosh(x) * np.cos(t)) / np.sin(t)
    >>> bool(np.isclose(1 / np.tan(g), cot))
    True
    """
    positive = y > 0
    h = 1.0 / jnp.expm1(2 * jnp.where(positive, y, 1.0))
    s2, c2 = sin_half_angle * sin_half_angle, cos_half_angle * cos_half_angle
    along = (h + s2) - exp_neg_x * exp_neg_x * (h + c2)
    across = 2 * exp_neg_x * sin_half_angle * cos_half_angle
    return jnp.where(positive, jnp.arctan2(across, along), 0.0)
