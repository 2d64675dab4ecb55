"""The hyperboloid (Lorentz) model ℍⁿ_c = {x ∈ ℝⁿ⁺¹ : ⟨x, x⟩_L = −1/c, x₀ > 0}, curvature −c.

The time coordinate comes FIRST: x = (x₀, x̃) with ⟨x, y⟩_L = −x₀y₀ + ⟨x̃, ỹ⟩. Points and tangent vectors are
ambient (n + 1)-vectors on the last axis; leading batch axes broadcast; ``c > 0`` is keyword-only; reductions
return no trailing axis unless ``keepdims=True``. R = 1/√c is the radius; the origin is (R, 0, …, 0).

Numerics. A point is determined by its spatial part x̃ (x₀ = √(R² + ‖x̃‖²), which is what :func:`proj`
recomputes), and a tangent vector u ∈ T_xℍ by its spatial part ũ (u₀ = ⟨x̃, ũ⟩/x₀ from ⟨x, u⟩_L = 0). The
kernels :func:`dist`, :func:`dist0`, :func:`inner`, :func:`norm`, :func:`expmap`, :func:`logmap`,
:func:`logmap0` and :func:`transp` read only those spatial parts, through formulas free of catastrophic
cancellation, and write consistent time coordinates. So they stay accurate far from the origin (e.g. two points
30 units out and 1 unit apart, in float64, or 8 units out in float32), where the textbook arcosh(−c⟨x, y⟩_L),
√⟨x − y, x − y⟩_L and −u₀v₀ + ⟨ũ, ṽ⟩ lose every digit (their terms are ≈ e^{2d₀} and cancel). Consequences:
(1) inputs must be on the manifold / tangent (use :func:`proj` / :func:`proju`); the time coordinates given are
not read; (2) ambient gradients of these functions have a zero time component, which is fine: Riemannian
gradients do not depend on how a function is extended off the hyperboloid, and :func:`egrad2rgrad` of either
extension agrees. :func:`minkowski_dot`, :func:`proju` and :func:`egrad2rgrad` are the plain ambient formulas.
A limit no formula removes: a tangent vector at a point d₀ from the origin has ambient coordinates ≈ ‖u‖e^{d₀}, so
for long geodesics from far-out points (e.g. d₀ = 35, ‖u‖ = 70 in float64) its angular part is lost to rounding
and exp_x(log_x y) misses y; short steps (the optimizer's case) are accurate.

Range. Every point a kernel writes lies within √c·d(origin, x) ≤ D (12 for float32 and narrower types, 32 for
float64): the spatial part is shortened to √c‖x̃‖ ≤ sinh(D) if it would go farther. And :func:`expmap` /
:func:`expmap0` clip the step θ = √c‖u‖_L at A = ``numerics.max_cosh_arg(dtype)/2`` (20 / 175), so cosh(θ)·x̃
never overflows. Why D: the kernels above keep distances accurate at any range, but a tangent vector at a point
d₀ out has coordinates ≈ ‖u‖e^{d₀}, so what an optimizer does with them (the ambient egrad2rgrad, transports of
Adam's moment along its steps) carries a relative error ≈ ε·e^{d₀}; D keeps that near 2% (float32 ε = 1.2e-7,
e^12 = 1.6e5; float64 ε = 2.2e-16, e^32 = 7.9e13). Without a cap, Adam on the noun closure (every negative pair
pays a little for being close) walks points outward until those errors reach 100% and the moments turn to inf,
in float64 as in float32. The Poincaré ball has the same kind of cap in its projection eps (6.2 for float32,
12.2 for float64, in units of 1/√c).

References:
    [NK18] M. Nickel, D. Kiela, "Learning Continuous Hierarchies in the Lorentz Model of Hyperbolic Geometry",
        ICML 2018, §3: distance arcosh(−⟨x, y⟩_L), Riemannian gradient (flip the time sign, then project onto
        the tangent space), exponential map, and the isometry to the Poincaré ball (all for c = 1; here with
        curvature −c). Equation numbers are not quoted because we could not check them against the paper.
    [G18] Ganea et al., "Hyperbolic Neural Networks", NeurIPS 2018 (the Poincaré ball side of the isometry).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from geomrep.manifolds import numerics

__all__ = [
    "minkowski_dot",
    "inner",
    "norm",
    "proj",
    "proju",
    "egrad2rgrad",
    "expmap",
    "logmap",
    "expmap0",
    "logmap0",
    "retr",
    "transp",
    "dist",
    "dist0",
    "to_poincare",
    "from_poincare",
    "random",
    "origin",
]


def _time(x, c):
    """x₀ recomputed from the spatial part, √(1/c + ‖x̃‖²), keepdims."""
    return jnp.sqrt(1.0 / c + numerics.sqnorm(x[..., 1:]))


def _max_arg(dtype) -> float:
    """A = max_cosh_arg(dtype)/2: the longest step √c‖u‖_L of :func:`expmap` (see Range above)."""
    return 0.5 * numerics.max_cosh_arg(dtype)


def _max_range(dtype) -> float:
    """D: the largest √c·d(origin, x) of a point (see Range above)."""
    return 32.0 if jnp.finfo(dtype).bits > 32 else 12.0


def _with_time(spatial, c):
    """The point with spatial part ``spatial`` shortened to √c‖x̃‖ ≤ sinh(D) (see Range above), time first."""
    cap = math.sinh(_max_range(spatial.dtype)) / c**0.5
    size = numerics.safe_norm(spatial, keepdims=True)
    spatial = spatial * jnp.where(size > cap, cap / jnp.where(size > cap, size, 1.0), 1.0)
    return jnp.concatenate([jnp.sqrt(1.0 / c + numerics.sqnorm(spatial)), spatial], axis=-1)


def _chord2(x, y, c, keepdims=True):
    """Q = ⟨x − y, x − y⟩_L for points on the hyperboloid, from the spatial parts, without cancellation.

    With a = ‖x̃‖, b = ‖ỹ‖, x₀ = √(R² + a²), y₀ = √(R² + b²), x̂ = x̃/a, r = (a + b)/(x₀ + y₀):
        ‖x̃ − ỹ‖² = (a − b)² + ab‖x̂ − ŷ‖²  and  x₀ − y₀ = (a − b) r, so
        Q = ab‖x̂ − ŷ‖² + (a − b)² (1 − r)(1 + r),  1 − r = (R²/(x₀ + a) + R²/(y₀ + b))/(x₀ + y₀).
    Both terms are ≥ 0 and each factor is computed to relative precision. (Per-pair scalars are kept without a
    trailing axis: XLA's CPU fusions of (..., 1)-shaped epilogues are several times slower.)
    """
    xs, ys = x[..., 1:], y[..., 1:]
    r2 = 1.0 / c
    tiny = numerics.min_norm(jnp.result_type(xs, ys))
    sx = numerics.sqnorm(xs, keepdims=False)
    sy = numerics.sqnorm(ys, keepdims=False)
    a = numerics.safe_sqrt(sx)
    b = numerics.safe_sqrt(sy)
    x0 = jnp.sqrt(r2 + sx)
    y0 = jnp.sqrt(r2 + sy)
    x_hat = xs / jnp.maximum(a, tiny)[..., None]
    y_hat = ys / jnp.maximum(b, tiny)[..., None]
    angular = a * b * numerics.sqnorm(x_hat - y_hat, keepdims=False)
    sum0 = x0 + y0
    one_minus_r = (r2 / (x0 + a) + r2 / (y0 + b)) / sum0
    one_plus_r = 1.0 + (a + b) / sum0
    q = angular + (a - b) ** 2 * one_minus_r * one_plus_r
    return q[..., None] if keepdims else q


def _dist_from_chord2(q, c):
    sqrt_c = c**0.5
    return (2.0 / sqrt_c) * jnp.arcsinh(0.5 * sqrt_c * numerics.safe_sqrt(q))


def _tangent_inner(x, u, v, c, keepdims=True):
    """⟨u, v⟩_L for u, v ∈ T_xℍ from the spatial parts (u₀ = ⟨x̃, ũ⟩/x₀ is implied), without cancellation.

    ⟨u, v⟩_L = ⟨ũ, ṽ⟩ − ⟨x̃, ũ⟩⟨x̃, ṽ⟩/x₀² = ⟨ũ⊥, ṽ⊥⟩ + (x̂·ũ)(x̂·ṽ) R²/x₀², where x̂ = x̃/‖x̃‖ and ũ⊥ = ũ − (x̂·ũ)x̂.
    The naive −u₀v₀ + ⟨ũ, ṽ⟩ cancels terms ≈ x₀²‖u‖²_L for radial u at points far from the origin.
    """
    xs, us, vs = x[..., 1:], u[..., 1:], v[..., 1:]
    a = numerics.safe_norm(xs, keepdims=True)
    x_hat = xs / jnp.maximum(a, numerics.min_norm(jnp.result_type(xs, us, vs)))
    pu = jnp.sum(x_hat * us, axis=-1, keepdims=True)
    pv = jnp.sum(x_hat * vs, axis=-1, keepdims=True)
    perp = jnp.sum((us - pu * x_hat) * (vs - pv * x_hat), axis=-1, keepdims=True)
    r2 = 1.0 / c
    result = perp + pu * pv * (r2 / (r2 + a * a))
    return result if keepdims else result[..., 0]


def _with_tangent_time(x, spatial, c):
    """Complete a spatial part to a tangent vector at x: u₀ = ⟨x̃, ũ⟩/x₀."""
    u0 = jnp.sum(x[..., 1:] * spatial, axis=-1, keepdims=True) / _time(x, c)
    return jnp.concatenate([u0, spatial], axis=-1)


def minkowski_dot(x, y, *, keepdims: bool = False):
    """Minkowski (Lorentzian) inner product ⟨x, y⟩_L = −x₀y₀ + Σᵢ₌₁ⁿ xᵢyᵢ (time coordinate first).

    Shapes: x (..., n+1), y (..., n+1) broadcast → (...) (or (..., 1) with ``keepdims``).

    >>> float(minkowski_dot(jnp.array([1.0, 0.0]), jnp.array([1.0, 0.0])))
    -1.0
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    spatial = jnp.sum(x[..., 1:] * y[..., 1:], axis=-1, keepdims=keepdims)
    time = x[..., :1] * y[..., :1]
    return spatial - (time if keepdims else time[..., 0])


def inner(x, u, v=None, *, c=1.0, keepdims: bool = False):
    """Riemannian inner product on T_xℍ: the Minkowski product ⟨u, v⟩_L of tangent vectors (v defaults to u).

    u and v must be tangent at x; only their spatial parts are read (u₀ = ⟨x̃, ũ⟩/x₀ is implied), through
    ⟨u, v⟩_L = ⟨ũ⊥, ṽ⊥⟩ + (x̂·ũ)(x̂·ṽ)/(c x₀²) with x̂ = x̃/‖x̃‖, ũ⊥ = ũ − (x̂·ũ)x̂. This equals
    ``minkowski_dot(u, v)`` on T_xℍ but keeps full relative precision far from the origin, where the plain
    −u₀v₀ + ⟨ũ, ṽ⟩ cancels terms ≈ x₀²‖u‖²_L. Use :func:`minkowski_dot` for arbitrary ambient vectors.

    Shapes: x, u, v (..., n+1) → (...) (or (..., 1) with ``keepdims``).

    >>> float(inner(origin((2,)), jnp.array([0.0, 2.0])))
    4.0
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    v = u if v is None else numerics.as_float(v)
    return _tangent_inner(x, u, v, c, keepdims=keepdims)


def norm(x, u, *, c=1.0, keepdims: bool = False):
    """Riemannian norm ‖u‖_x = √⟨u, u⟩_L of a tangent vector (see :func:`inner`), finite gradient at u = 0.

    Shapes: x, u (..., n+1) → (...) (or (..., 1) with ``keepdims``).

    >>> float(norm(origin((3,)), jnp.array([0.0, 3.0, 4.0])))
    5.0
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return numerics.safe_sqrt(_tangent_inner(x, u, u, c, keepdims=keepdims))


def proj(x, *, c=1.0):
    """Project onto the hyperboloid by recomputing the time coordinate: x₀ = √(1/c + ‖x̃‖²).

    Shapes: x (..., n+1) → (..., n+1).

    >>> proj(jnp.array([5.0, 0.0, 0.0])).tolist()
    [1.0, 0.0, 0.0]
    """
    x = numerics.as_float(x)
    return _with_time(x[..., 1:], c)


def proju(x, u, *, c=1.0):
    """Project an ambient vector onto T_xℍ = {u : ⟨x, u⟩_L = 0}: u + c⟨x, u⟩_L x ([NK18] §3, curvature −c).

    Shapes: x (..., n+1), u (..., n+1) → (..., n+1).

    >>> proju(origin((2,)), jnp.array([3.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return u + c * minkowski_dot(x, u, keepdims=True) * x


def egrad2rgrad(x, g, *, c=1.0):
    """Riemannian gradient from a Euclidean (ambient) one: proju(x, diag(−1, 1, …, 1) g) ([NK18] §3).

    Shapes: x (..., n+1), g (..., n+1) → (..., n+1).

    >>> egrad2rgrad(origin((2,)), jnp.array([3.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    x, g = numerics.as_float(x), numerics.as_float(g)
    flipped = jnp.concatenate([-g[..., :1], g[..., 1:]], axis=-1)
    return proju(x, flipped, c=c)


def expmap(x, u, *, c=1.0):
    """Exponential map exp_x(u) = cosh(√c‖u‖_L) x + sinh(√c‖u‖_L) u/(√c‖u‖_L) ([NK18] §3), then :func:`proj`.

    u must be tangent at x: only its spatial part is read (as in :func:`inner`, whose cancellation-free norm
    gives θ = √c‖u‖_L). Evaluated with sinhc so it is smooth at u = 0. θ is clipped at
    A = ``numerics.max_cosh_arg(dtype)/2`` (float32: 20, float64: 175); longer vectors are shortened to that length
    instead of overflowing.

    Shapes: x (..., n+1), u (..., n+1) → (..., n+1).

    >>> x = origin((3,)); u = jnp.array([0.0, 0.3, -0.2])
    >>> bool(jnp.allclose(logmap(x, expmap(x, u)), u, atol=1e-6))
    True
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    sqrt_c = c**0.5
    theta = sqrt_c * norm(x, u, c=c, keepdims=True)
    limit = _max_arg(theta.dtype)
    clipped = theta > limit
    shrink = jnp.where(clipped, limit / jnp.where(clipped, theta, 1.0), 1.0)
    theta = jnp.minimum(theta, limit)
    spatial = jnp.cosh(theta) * x[..., 1:] + (numerics.sinhc(theta) * shrink) * u[..., 1:]
    return _with_time(spatial, c)


def logmap(x, y, *, c=1.0):
    """Logarithmic map log_x(y) = d(x, y) · w/‖w‖_L with w = y + c⟨x, y⟩_L x ([NK18] §3, curvature −c).

    On the hyperboloid c⟨x, y⟩_L = −1 − cQ/2 with Q = ⟨x − y, x − y⟩_L, and ‖w‖_L = sinh(√c d)/√c, so
    log_x(y) = w̃' / sinhc(√c d) with w̃' = (ỹ − x̃) − (cQ/2) x̃, Q from the cancellation-free form of :func:`dist`.
    The time coordinate is then set to ⟨x̃, w̃⟩/x₀, so the result lies exactly in T_xℍ.

    Shapes: x (..., n+1), y (..., n+1) → (..., n+1).

    >>> x = expmap0(jnp.array([0.0, 0.5, 0.1]))
    >>> bool(jnp.allclose(logmap(x, x), 0.0))
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    sqrt_c = c**0.5
    q = _chord2(x, y, c)
    d = _dist_from_chord2(q, c)
    xs = x[..., 1:]
    ws = (y[..., 1:] - xs) - (0.5 * c) * q * xs
    ws = ws / numerics.sinhc(sqrt_c * d)
    return _with_tangent_time(x, ws, c)


def expmap0(u, *, c=1.0):
    """Exponential map at the origin o = (1/√c, 0, …, 0): (cosh(√c‖ũ‖)/√c, sinh(√c‖ũ‖) ũ/(√c‖ũ‖)).

    The time coordinate of u is ignored (tangent vectors at o have u₀ = 0; this equals expmap(o, proju(o, u))).
    √c‖ũ‖ is clipped at A = ``numerics.max_cosh_arg(dtype)/2`` as in :func:`expmap`.

    Shapes: u (..., n+1) → (..., n+1).

    >>> expmap0(jnp.zeros(3)).tolist()
    [1.0, 0.0, 0.0]
    """
    u = numerics.as_float(u)
    sqrt_c = c**0.5
    us = u[..., 1:]
    theta = sqrt_c * numerics.safe_norm(us, keepdims=True)
    limit = _max_arg(theta.dtype)
    clipped = theta > limit
    shrink = jnp.where(clipped, limit / jnp.where(clipped, theta, 1.0), 1.0)
    spatial = us * (numerics.sinhc(jnp.minimum(theta, limit)) * shrink)
    return _with_time(spatial, c)


def logmap0(y, *, c=1.0):
    """Logarithmic map at the origin: (0, ỹ · asinh(√c‖ỹ‖)/(√c‖ỹ‖)).

    Since ỹ = sinh(√c d) ŷ/√c for a point at distance d from o. Smooth at y = o.

    Shapes: y (..., n+1) → (..., n+1).

    >>> u = jnp.array([0.0, 0.3, -0.2])
    >>> bool(jnp.allclose(logmap0(expmap0(u)), u, atol=1e-6))
    True
    """
    y = numerics.as_float(y)
    ys = y[..., 1:]
    spatial = ys * numerics.arsinhc(c**0.5 * numerics.safe_norm(ys, keepdims=True))
    return jnp.concatenate([jnp.zeros_like(y[..., :1]), spatial], axis=-1)


def retr(x, u, *, c=1.0):
    """Retraction: the exponential map (already followed by :func:`proj`), as in [NK18]'s RSGD.

    Shapes: x (..., n+1), u (..., n+1) → (..., n+1).

    >>> retr(origin((2,)), jnp.zeros(2)).tolist()
    [1.0, 0.0]
    """
    return expmap(x, u, c=c)


def transp(x, y, v, *, c=1.0):
    """Parallel transport of v ∈ T_xℍ along the geodesic to y: v + c⟨y, v⟩_L/(1 − c⟨x, y⟩_L) (x + y).

    Evaluated without cancellation: 1 − c⟨x, y⟩_L = 2 + cQ/2 with Q = ⟨x − y, x − y⟩_L (as in :func:`dist`),
    and, writing ṽ = ṽ⊥ + p x̂ (p = ⟨x̂, ṽ⟩; v₀ = ap/x₀ since v is tangent at x; only ṽ is read), a = ‖x̃‖, b = ‖ỹ‖,

        ⟨y, v⟩_L = ⟨ỹ, ṽ⊥⟩ + p (⟨ỹ, x̂⟩ − a y₀/x₀) = b⟨ŷ − x̂, ṽ⊥⟩ + p (R²(b² − a²)/(x₀(b x₀ + a y₀)) − b‖x̂ − ŷ‖²/2).

    The naive ⟨ỹ, ṽ⟩ − y₀v₀ cancels terms ≈ p·a, leaving ≈ p·a/x₀² (relative error ε·e^{2d₀} at a point d₀ from
    the origin), and ⟨ỹ, ṽ⊥⟩ without the explicit ŷ − x̂ keeps ε·b·p of the rounding of ṽ⊥; repeated transports
    of Adam's first moment (float32, d₀ ≈ 9) amplified those into inf. The remaining error is ε·e^{d₀}/d(x, y).
    The time coordinate of the result is set from tangency at y.
    Preserves inner products and maps T_xℍ onto T_yℍ.

    Shapes: x, y, v (..., n+1) broadcast → (..., n+1).

    >>> x = origin((3,)); y = expmap0(jnp.array([0.0, 1.0, 0.5])); v = jnp.array([0.0, -0.3, 0.7])
    >>> bool(jnp.allclose(norm(y, transp(x, y, v)), norm(x, v)))
    True
    """
    x, y, v = numerics.as_float(x), numerics.as_float(y), numerics.as_float(v)
    xs, ys, vs = x[..., 1:], y[..., 1:], v[..., 1:]
    x0 = _time(x, c)
    y0 = _time(y, c)
    a = numerics.safe_norm(xs, keepdims=True)
    b = numerics.safe_norm(ys, keepdims=True)
    # Near the origin (‖x̃‖, ‖ỹ‖ ≤ R) the plain form loses at most a factor 2 and is smooth at x̃ = 0, where x̂ is not.
    far = (a > c**-0.5) & (b > c**-0.5)
    x_hat = xs / jnp.where(far, a, 1.0)
    y_hat = ys / jnp.where(far, b, 1.0)
    p = jnp.sum(x_hat * vs, axis=-1, keepdims=True)  # radial part of ṽ: ṽ = ṽ⊥ + p x̂
    denom = jnp.where(far, x0 * (b * x0 + a * y0), 1.0)
    radial = (1.0 / c) * (b - a) * (b + a) / denom - 0.5 * b * numerics.sqnorm(x_hat - y_hat)
    y_dot_v = jnp.where(
        far,
        b * jnp.sum((y_hat - x_hat) * (vs - p * x_hat), axis=-1, keepdims=True) + p * radial,
        jnp.sum(((ys - xs) - ((b - a) * (b + a) / ((x0 + y0) * x0)) * xs) * vs, axis=-1, keepdims=True),
    )
    coef = c * y_dot_v / (2.0 + 0.5 * c * _chord2(x, y, c))
    spatial = vs + coef * (xs + ys)
    return _with_tangent_time(y, spatial, c)


def dist(x, y, *, c=1.0, keepdims: bool = False):
    """Geodesic distance d(x, y) = arcosh(−c⟨x, y⟩_L)/√c ([NK18] §3, curvature −c).

    Evaluated as d = (2/√c) asinh((√c/2)·√Q) with Q = ⟨x − y, x − y⟩_L ≥ 0 (from cosh(√c d) = −c⟨x, y⟩_L
    = 1 + cQ/2 and cosh 2a = 1 + 2 sinh² a). Q is computed from the spatial parts without cancellation (see
    the module docstring): Q = ab‖x̂ − ŷ‖² + (a − b)²(1 − r²), a = ‖x̃‖, b = ‖ỹ‖, r = (a + b)/(x₀ + y₀). The
    gradient at x = y is finite (zero, through ``safe_sqrt``).

    Shapes: x (..., n+1), y (..., n+1) broadcast → (...) (or (..., 1) with ``keepdims``).

    >>> y = expmap0(jnp.array([0.0, 2.0, 0.0]))
    >>> round(float(dist(origin((3,)), y)), 6)
    2.0
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    return _dist_from_chord2(_chord2(x, y, c, keepdims=keepdims), c)


def dist0(x, *, c=1.0, keepdims: bool = False):
    """Distance from the origin o = (1/√c, 0, …, 0): asinh(√c‖x̃‖)/√c (= arcosh(√c x₀)/√c on ℍ).

    Shapes: x (..., n+1) → (...) (or (..., 1) with ``keepdims``).

    >>> round(float(dist0(expmap0(jnp.array([0.0, 3.0, 4.0])))), 5)
    5.0
    """
    x = numerics.as_float(x)
    sqrt_c = c**0.5
    return jnp.arcsinh(sqrt_c * numerics.safe_norm(x[..., 1:], keepdims=keepdims)) / sqrt_c


def to_poincare(x, *, c=1.0):
    """Isometry to the Poincaré ball of the same curvature: p = x̃/(1 + √c x₀) ([NK18] §3).

    x₀ is recomputed from x̃, i.e. p = x̃/(1 + √(1 + c‖x̃‖²)). The result is not projected by
    ``poincare.proj``: points farther out than the ball's eps allows keep their (rounded) position.

    Shapes: x (..., n+1) → (..., n).

    >>> to_poincare(origin((3,))).tolist()
    [0.0, 0.0]
    """
    x = numerics.as_float(x)
    xs = x[..., 1:]
    return xs / (1.0 + jnp.sqrt(1.0 + c * numerics.sqnorm(xs)))


def from_poincare(p, *, c=1.0):
    """Inverse of :func:`to_poincare`: x̃ = 2p/(1 − c‖p‖²), x₀ = √(1/c + ‖x̃‖²).

    The denominator is clamped ≥ ``min_norm``.

    Shapes: p (..., n) → (..., n+1).

    >>> from_poincare(jnp.zeros(2)).tolist()
    [1.0, 0.0, 0.0]
    """
    p = numerics.as_float(p)
    denom = jnp.maximum(1.0 - c * numerics.sqnorm(p), numerics.min_norm(p.dtype))
    return _with_time(2.0 * p / denom, c)


def random(key, shape, dtype=jnp.float32, *, c=1.0, std=1.0):
    """Random points expmap0((0, std·g)), g ~ N(0, I_n). ``shape``'s last axis is the AMBIENT dim n + 1.

    >>> x = random(jax.random.key(0), (4, 3))
    >>> x.shape, bool(jnp.allclose(minkowski_dot(x, x), -1.0, atol=1e-4))
    ((4, 3), True)
    """
    shape = tuple(shape)
    if len(shape) == 0 or shape[-1] < 2:
        raise ValueError(f"lorentz.random: shape must end with the ambient dim n + 1 ≥ 2, got {shape}")
    spatial = std * jax.random.normal(key, shape[:-1] + (shape[-1] - 1,), dtype=dtype)
    return expmap0(jnp.concatenate([jnp.zeros(shape[:-1] + (1,), dtype), spatial], axis=-1), c=c)


def origin(shape, dtype=jnp.float32, *, c=1.0):
    """The origin (1/√c, 0, …, 0), broadcast to ``shape`` (..., n+1).

    >>> origin((3,), c=4.0).tolist()
    [0.5, 0.0, 0.0]
    """
    shape = tuple(shape)
    point = jnp.zeros(shape[-1:], dtype=dtype).at[0].set(1.0 / c**0.5)
    return jnp.broadcast_to(point, shape)
