"""The sphere 𝕊ⁿ_c = {x ∈ ℝⁿ⁺¹ : c‖x‖² = 1}, curvature +c, radius R = 1/√c, as pure ``jax.numpy`` functions.

Conventions (shared by all geomrep manifolds): points and tangent vectors live on the last axis (the ambient
ℝⁿ⁺¹, so an n-dimensional sphere has n + 1 coordinates) and leading batch axes broadcast; the curvature
parameter ``c > 0`` is keyword-only (geoopt's ``SphereProjection`` has k = +c); reductions return no trailing
axis unless ``keepdims=True``. The metric is the one induced by ℝⁿ⁺¹, so ``inner`` and ``norm`` are Euclidean
and T_x𝕊 = {u : ⟨x, u⟩ = 0}.

The sphere has no canonical origin; geomrep uses the "north pole" o = e₀/√c (:func:`origin`) and defines
:func:`expmap0`, :func:`logmap0` and :func:`dist0` there, as for the other manifolds.

Angles are θ = √c·d. Distances use the chord form θ = 2·atan2(‖x − y‖, ‖x + y‖) (the chords are 2R sin(θ/2) and
2R cos(θ/2)), which is accurate for nearby and for antipodal points, unlike arccos(c⟨x, y⟩), and has a finite
(zero) gradient at x = y.

Antipodal points (y = −x) are joined by infinitely many geodesics, so log_x(y) is not unique there.
:func:`logmap` then returns a vector of the right length (πR) along a fixed, documented tangent direction (the
coordinate axis least aligned with x), and :func:`transp` transports along that geodesic. Everything stays
finite.

References:
    [AMS08] P.-A. Absil, R. Mahony, R. Sepulchre, "Optimization Algorithms on Matrix Manifolds", 2008,
        §3.6.1 (tangent projection), §5.4 (exponential map of the sphere).
    [G19] A. Gu, F. Sala, B. Gunel, C. Ré, "Learning Mixed-Curvature Representations in Product Spaces",
        ICLR 2019 (spherical factors of product manifolds).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from geomrep.manifolds import numerics

__all__ = [
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
]


def _sqrt_c(c):
    return c**0.5


def _sinc(t):
    """sin(t)/t, equal to 1 at t = 0, with a two-term Taylor branch near 0 (double where, as in ``numerics``)."""
    small = jnp.abs(t) < float(jnp.finfo(t.dtype).eps) ** 0.25
    t_safe = jnp.where(small, jnp.ones_like(t), t)
    return jnp.where(small, 1.0 - (t * t) / 6.0, jnp.sin(t_safe) / t_safe)


def _origin_like(x, c):
    """The north pole e₀/√c broadcast to x's shape and dtype."""
    return jnp.zeros_like(x).at[..., 0].set(1.0 / _sqrt_c(c))


def proj(x, *, c=1.0):
    """Project onto the sphere: x/(√c‖x‖); the zero vector (no direction) goes to the north pole e₀/√c.

    Shapes: x (..., n + 1) → (..., n + 1).

    >>> proj(jnp.array([3.0, 4.0])).tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    x = numerics.as_float(x)
    n = numerics.safe_norm(x, keepdims=True)
    ok = n > numerics.min_norm(x.dtype)
    scaled = x / (_sqrt_c(c) * jnp.where(ok, n, jnp.ones_like(n)))
    return jnp.where(ok, scaled, _origin_like(x, c))


def proju(x, u, *, c=1.0):
    """Project u onto the tangent space at x: u − c⟨x, u⟩ x ([AMS08] §3.6.1; uses c‖x‖² = 1).

    Shapes: x (..., n + 1), u (..., n + 1) → (..., n + 1).

    >>> proju(jnp.array([1.0, 0.0]), jnp.array([2.0, 3.0])).tolist()
    [0.0, 3.0]
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return u - c * numerics.dot(x, u) * x


def egrad2rgrad(x, g, *, c=1.0):
    """Riemannian gradient from a Euclidean one: the tangent projection :func:`proju` (induced metric).

    Shapes: x (..., n + 1), g (..., n + 1) → (..., n + 1).

    >>> egrad2rgrad(jnp.array([0.0, 1.0]), jnp.array([1.0, 1.0])).tolist()
    [1.0, 0.0]
    """
    return proju(x, g, c=c)


def inner(x, u, v=None, *, c=1.0, keepdims: bool = False):
    """Riemannian inner product ⟨u, v⟩_x = ⟨u, v⟩ (the metric induced by ℝⁿ⁺¹; v defaults to u).

    Shapes: x, u, v (..., n + 1) → (...) (or (..., 1) with ``keepdims``).

    >>> float(inner(jnp.array([1.0, 0.0]), jnp.array([0.0, 3.0])))
    9.0
    """
    u = numerics.as_float(u)
    v = u if v is None else numerics.as_float(v)
    return numerics.dot(u, v, keepdims=keepdims)


def norm(x, u, *, c=1.0, keepdims: bool = False):
    """Riemannian norm ‖u‖_x = ‖u‖ (finite gradient at u = 0).

    Shapes: x, u (..., n + 1) → (...) (or (..., 1) with ``keepdims``).

    >>> float(norm(jnp.array([1.0, 0.0, 0.0]), jnp.array([0.0, 3.0, 4.0])))
    5.0
    """
    return numerics.safe_norm(numerics.as_float(u), keepdims=keepdims)


def expmap(x, u, *, c=1.0):
    """Exponential map exp_x(u) = cos(√c‖u‖) x + sin(√c‖u‖) u/(√c‖u‖) ([AMS08] §5.4), then :func:`proj`.

    u must be tangent at x. Evaluated with sinc(√c‖u‖) = sin(√c‖u‖)/(√c‖u‖), smooth at u = 0. Any step length
    is allowed (the geodesic wraps around the sphere; the final projection removes rounding drift).

    Shapes: x (..., n + 1), u (..., n + 1) → (..., n + 1).

    >>> x = jnp.array([1.0, 0.0]); u = jnp.array([0.0, jnp.pi / 2])
    >>> bool(jnp.allclose(expmap(x, u), jnp.array([0.0, 1.0]), atol=1e-6))
    True
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    t = _sqrt_c(c) * numerics.safe_norm(u, keepdims=True)
    return proj(jnp.cos(t) * x + _sinc(t) * u, c=c)


def logmap(x, y, *, c=1.0):
    """Logarithmic map log_x(y) = d(x, y) w/‖w‖ with w = proju(x, y − x) (length d, pointing towards y).

    Evaluated as w · θ/(√c‖w‖) with θ = √c d(x, y) from the chord form of :func:`dist` (so ‖log_x y‖ equals
    ``dist(x, y)`` to rounding), and as w itself when w = 0; log_x(x) = 0 with finite gradients.

    Antipodal y (θ = π): every tangent direction gives a minimizing geodesic, so log_x(y) is not unique. When
    sin θ < √eps(dtype) and θ > π/2 (y within ≈ 1.5e-8·R (float64) or 3.5e-4·R (float32) of −x, where w is
    dominated by rounding) this returns d(x, y)·e with e a fixed unit tangent vector at x: the coordinate axis
    least aligned with x, projected onto T_x and normalized. That is a valid logarithm (exp_x of it is ≈ y, up to
    the √eps-sized offset) and it is finite and tangent; its direction jumps at that threshold, as the
    logarithm must somewhere near the cut locus.

    Shapes: x (..., n + 1), y (..., n + 1) → (..., n + 1).

    >>> x = jnp.array([1.0, 0.0]); y = jnp.array([0.0, 1.0])
    >>> bool(jnp.allclose(logmap(x, y), jnp.array([0.0, jnp.pi / 2])))
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    x, y = jnp.broadcast_arrays(x, y)
    w = proju(x, y - x, c=c)
    theta = _sqrt_c(c) * dist(x, y, c=c, keepdims=True)
    s = _sqrt_c(c) * numerics.safe_norm(w, keepdims=True)
    # (Nearly) antipodal: w is rounding noise, so use a fixed tangent direction instead (see the docstring).
    antipodal = (s < float(jnp.finfo(s.dtype).eps) ** 0.5) & (theta > 0.5 * jnp.pi)
    ok = (s > 0) & ~antipodal
    ratio = jnp.where(ok, theta / jnp.where(ok, s, jnp.ones_like(s)), jnp.ones_like(s))
    fallback = _fallback_direction(x) * (theta / _sqrt_c(c))
    return jnp.where(antipodal, fallback, w * ratio)


def _fallback_direction(x):
    """A unit tangent vector at x: the coordinate axis least aligned with x, projected and normalized."""
    k = jnp.argmin(jnp.abs(x), axis=-1)
    e = jax.nn.one_hot(k, x.shape[-1], dtype=x.dtype)
    x_hat = x / jnp.maximum(numerics.safe_norm(x, keepdims=True), numerics.min_norm(x.dtype))
    t = e - numerics.dot(x_hat, e) * x_hat
    return t / jnp.maximum(numerics.safe_norm(t, keepdims=True), numerics.min_norm(x.dtype))


def origin(shape, dtype=jnp.float32, *, c=1.0):
    """The north pole o = e₀/√c (geomrep's reference point on the sphere), broadcast to ``shape`` (..., n + 1).

    >>> origin((2, 3)).tolist()
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    return _origin_like(jnp.zeros(shape, dtype=dtype), c)


def expmap0(u, *, c=1.0):
    """Exponential map at the north pole: exp_o(u) with o = e₀/√c (u tangent at o: u₀ = 0).

    Shapes: u (..., n + 1) → (..., n + 1).

    >>> bool(jnp.allclose(expmap0(jnp.zeros(3)), origin((3,))))
    True
    """
    u = numerics.as_float(u)
    return expmap(_origin_like(u, c), u, c=c)


def logmap0(y, *, c=1.0):
    """Logarithmic map at the north pole: log_o(y) with o = e₀/√c (antipodes: see :func:`logmap`).

    Shapes: y (..., n + 1) → (..., n + 1).

    >>> y = proj(jnp.array([1.0, 0.5, -0.2]))
    >>> bool(jnp.allclose(expmap0(logmap0(y)), y, atol=1e-6))
    True
    """
    y = numerics.as_float(y)
    return logmap(_origin_like(y, c), y, c=c)


def retr(x, u, *, c=1.0):
    """First-order retraction proj(x + u).

    Shapes: x (..., n + 1), u (..., n + 1) → (..., n + 1).

    >>> retr(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])).tolist()
    [0.7071067690849304, 0.7071067690849304]
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return proj(x + u, c=c)


def transp(x, y, v, *, c=1.0):
    """Parallel transport of v ∈ T_x𝕊 to T_y𝕊 along the minimizing geodesic from x to y.

    With u = log_x(y), θ = √c‖u‖ and e = u/‖u‖, the component of v along e is rotated in the plane (x̂, e)
    (x̂ = √c x) and the rest is unchanged: P(v) = v + ⟨e, v⟩(−sin θ x̂ + (cos θ − 1) e), evaluated without
    divisions as P(v) = v − c⟨u, v⟩ (sinc(θ) x + ½ sinc(θ/2)² u). It is an isometry T_x → T_y. For the
    classical closed form v − c⟨y, v⟩/(1 + c⟨x, y⟩)(x + y) this is the same map, but it stays finite (and an
    isometry) at antipodal points, where it follows the geodesic chosen by :func:`logmap`.

    Shapes: x, y, v (..., n + 1) broadcast → (..., n + 1).

    >>> x = jnp.array([1.0, 0.0, 0.0]); y = jnp.array([0.0, 1.0, 0.0])
    >>> bool(jnp.allclose(transp(x, y, jnp.array([0.0, 1.0, 0.0])), jnp.array([-1.0, 0.0, 0.0]), atol=1e-6))
    True
    >>> transp(x, y, jnp.array([0.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    x, y, v = numerics.as_float(x), numerics.as_float(y), numerics.as_float(v)
    u = logmap(x, y, c=c)
    theta = _sqrt_c(c) * numerics.safe_norm(u, keepdims=True)
    half = _sinc(0.5 * theta)
    return v - c * numerics.dot(u, v) * (_sinc(theta) * x + (0.5 * half * half) * u)


def dist(x, y, *, c=1.0, keepdims: bool = False):
    """Geodesic distance d(x, y) = (2/√c) atan2(‖x − y‖, ‖x + y‖) = arccos(c⟨x, y⟩)/√c, in [0, π/√c].

    The chord form is accurate near 0 and near π (where arccos is ill-conditioned) and has a finite (zero)
    gradient at x = y; d(x, −x) = π/√c.

    Shapes: x (..., n + 1), y (..., n + 1) broadcast → (...) (or (..., 1) with ``keepdims``).

    >>> round(float(dist(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))), 6) == round(float(jnp.pi / 2), 6)
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    a = numerics.safe_norm(x - y, keepdims=keepdims)
    b = numerics.safe_norm(x + y, keepdims=keepdims)
    return (2.0 / _sqrt_c(c)) * jnp.arctan2(a, b)


def dist0(x, *, c=1.0, keepdims: bool = False):
    """Distance from the north pole o = e₀/√c: d(o, x), as :func:`dist`.

    Shapes: x (..., n + 1) → (...) (or (..., 1) with ``keepdims``).

    >>> round(float(dist0(jnp.array([-1.0, 0.0]))), 6) == round(float(jnp.pi), 6)
    True
    """
    x = numerics.as_float(x)
    return dist(_origin_like(x, c), x, c=c, keepdims=keepdims)


def random(key, shape, dtype=jnp.float32, *, c=1.0, std=1.0):
    """Random points exp_o(std·g) around the north pole (wrapped normal), g ~ N(0, I) on T_o𝕊 (g₀ = 0).

    Like the other manifolds' ``random``, the points cluster at distance ≈ std·√n from the reference point. For
    (nearly) uniform points on the sphere use ``proj(jax.random.normal(key, shape), c=c)`` instead.

    Shapes: ``shape`` is the full output shape (..., n + 1).

    >>> x = random(jax.random.key(0), (4, 3))
    >>> x.shape, bool(jnp.allclose(jnp.linalg.norm(x, axis=-1), 1.0, atol=1e-6))
    ((4, 3), True)
    """
    g = std * jax.random.normal(key, shape, dtype=dtype)
    g = g.at[..., 0].set(0.0)
    return expmap0(g, c=c)
