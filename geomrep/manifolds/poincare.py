"""The Poincaré ball 𝔻ⁿ_c = {x ∈ ℝⁿ : c‖x‖² < 1}, curvature −c, as pure ``jax.numpy`` functions.

Conventions (shared by all geomrep manifolds): points and tangent vectors live on the last axis and leading batch
axes broadcast; the curvature parameter ``c > 0`` is keyword-only (geoopt's ``k`` is −c); reductions return no
trailing axis unless ``keepdims=True``. The metric is g_x = λ_x² g_E with the conformal factor
λ_x = 2/(1 − c‖x‖²).

Every operation that can leave the ball ends with :func:`proj`, which keeps ‖x‖ ≤ (1 − eps)/√c with
eps = ``numerics.ball_eps(dtype)`` (4e-3 float32, 1e-5 float64). That caps the distance from the origin at
ln((2 − eps)/eps)/√c (6.2 in float32, 12.2 in float64); deeper hierarchies want float64, a smaller c, or the
Lorentz model (:mod:`geomrep.manifolds.lorentz`).

References:
    [G18] O. Ganea, G. Bécigneul, T. Hofmann, "Hyperbolic Neural Networks", NeurIPS 2018 (arXiv:1805.09112).
        §2.2 gyrovector operations (Möbius addition, scalar multiplication, distance); §2.3 exponential and
        logarithmic maps and parallel transport; §3.2 Möbius matrix-vector multiplication.
    [NK17] M. Nickel, D. Kiela, "Poincaré Embeddings for Learning Hierarchical Representations", NIPS 2017,
        eq. (1) (distance) and the Riemannian-gradient rescaling of §3 (1 − ‖θ‖²)²/4.
    [U08] A. Ungar, "Analytic Hyperbolic Geometry and Albert Einstein's Special Theory of Relativity", 2008
        (gyrogroup identities; closed-form gyration).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from geomrep.manifolds import numerics

__all__ = [
    "mobius_add",
    "mobius_sub",
    "mobius_scalar_mul",
    "mobius_matvec",
    "gyration",
    "lambda_x",
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


def _mobius_add(x, y, c):
    """Möbius addition without the final projection (used inside logmap/dist, where proj would cap lengths)."""
    x2 = numerics.sqnorm(x)
    y2 = numerics.sqnorm(y)
    xy = numerics.dot(x, y)
    num = (1.0 + 2.0 * c * xy + c * y2) * x + (1.0 - c * x2) * y
    denom = 1.0 + 2.0 * c * xy + (c * c) * x2 * y2
    return num / jnp.maximum(denom, numerics.min_norm(num.dtype))


def mobius_add(x, y, *, c=1.0):
    """Möbius addition x ⊕_c y ([G18] §2.2, Möbius addition; [U08]).

    x ⊕_c y = ((1 + 2c⟨x,y⟩ + c‖y‖²) x + (1 − c‖x‖²) y) / (1 + 2c⟨x,y⟩ + c²‖x‖²‖y‖²), then :func:`proj`.
    Not commutative; 0 is the identity and (−x) ⊕ (x ⊕ y) = y (left cancellation).

    Shapes: x (..., n), y (..., n) broadcast → (..., n).

    >>> x = jnp.array([0.1, 0.2]); y = jnp.array([-0.3, 0.05])
    >>> bool(jnp.allclose(mobius_add(-x, mobius_add(x, y)), y, atol=1e-6))
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    return proj(_mobius_add(x, y, c), c=c)


def mobius_sub(x, y, *, c=1.0):
    """Möbius subtraction x ⊖_c y = x ⊕_c (−y) ([G18] §2.2).

    Shapes: x (..., n), y (..., n) → (..., n).

    >>> x = jnp.array([0.1, 0.2])
    >>> bool(jnp.allclose(mobius_sub(x, x), 0.0))
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    return mobius_add(x, -y, c=c)


def mobius_scalar_mul(r, x, *, c=1.0):
    """Möbius scalar multiplication r ⊗_c x ([G18] §2.2, Möbius scalar multiplication).

    r ⊗_c x = (1/√c) tanh(r artanh(√c‖x‖)) x/‖x‖, and r ⊗_c 0 = 0; then :func:`proj`. Evaluated as
    x · r · tanhc(r·artanh(√c‖x‖)) · artanhc(√c‖x‖) so it is smooth at x = 0 (where its Jacobian is r·I).
    Satisfies (r + s) ⊗ x = (r ⊗ x) ⊕ (s ⊗ x), r ⊗ (s ⊗ x) = (rs) ⊗ x and 1 ⊗ x = x.

    Shapes: r scalar or an array broadcastable to x's batch shape ``x.shape[:-1]``; x (..., n) → (..., n).

    >>> x = jnp.array([0.3, -0.2])
    >>> bool(jnp.allclose(mobius_scalar_mul(2.0, x), mobius_add(x, x), atol=1e-6))
    True
    """
    x = numerics.as_float(x)
    r = jnp.asarray(r, dtype=x.dtype)[..., None]
    sqrt_c = _sqrt_c(c)
    scaled_norm = sqrt_c * numerics.safe_norm(x, keepdims=True)
    a = numerics.artanh(scaled_norm)
    return proj(x * (r * numerics.tanhc(r * a) * numerics.artanhc(scaled_norm)), c=c)


def mobius_matvec(m, x, *, c=1.0):
    """Möbius matrix-vector multiplication M ⊗_c x ([G18] §3.2).

    M ⊗_c x = (1/√c) tanh((‖Mx‖/‖x‖) artanh(√c‖x‖)) Mx/‖Mx‖, and 0 when Mx = 0; then :func:`proj`.
    Evaluated as Mx · artanhc(√c‖x‖) · tanhc(√c‖Mx‖ artanhc(√c‖x‖)), smooth at x = 0 and Mx = 0.
    The product uses ``precision=HIGHEST`` (TPU matmuls default to bf16 passes).

    Shapes: m (out, in) (or batched (..., out, in)); x (..., in) → (..., out), i.e. ``x @ m.T`` for a batch.

    >>> m = jnp.eye(2); x = jnp.array([0.3, -0.2])
    >>> bool(jnp.allclose(mobius_matvec(m, x), x, atol=1e-6))
    True
    """
    x = numerics.as_float(x)
    m = jnp.asarray(m, dtype=x.dtype)
    mx = jnp.matmul(m, x[..., None], precision=jax.lax.Precision.HIGHEST)[..., 0]
    sqrt_c = _sqrt_c(c)
    ratio = numerics.artanhc(sqrt_c * numerics.safe_norm(x, keepdims=True))
    s = sqrt_c * numerics.safe_norm(mx, keepdims=True) * ratio
    return proj(mx * (ratio * numerics.tanhc(s)), c=c)


def gyration(a, b, u, *, c=1.0):
    """Gyration gyr[a, b]u = ⊖(a ⊕ b) ⊕ (a ⊕ (b ⊕ u)) ([G18] §2.2; closed form from [U08]).

    With k = −c: gyr[a,b]u = u + 2(α a + β b)/δ where
    α = −k²⟨a,u⟩‖b‖² − k⟨b,u⟩ + 2k²⟨a,b⟩⟨b,u⟩, β = −k²⟨b,u⟩‖a‖² + k⟨a,u⟩,
    δ = 1 − 2k⟨a,b⟩ + k²‖a‖²‖b‖². A gyration is a Euclidean isometry (rotation) of u, so no projection.
    Gyro-commutativity: a ⊕ b = gyr[a, b](b ⊕ a).

    Shapes: a, b, u (..., n) broadcast → (..., n).

    >>> a = jnp.array([0.1, 0.2]); b = jnp.array([-0.3, 0.1])
    >>> bool(jnp.allclose(mobius_add(a, b), gyration(a, b, mobius_add(b, a)), atol=1e-6))
    True
    """
    a, b, u = numerics.as_float(a), numerics.as_float(b), numerics.as_float(u)
    k = -c
    a2 = numerics.sqnorm(a)
    b2 = numerics.sqnorm(b)
    ab = numerics.dot(a, b)
    au = numerics.dot(a, u)
    bu = numerics.dot(b, u)
    alpha = -(k * k) * au * b2 - k * bu + 2.0 * (k * k) * ab * bu
    beta = -(k * k) * bu * a2 + k * au
    delta = 1.0 - 2.0 * k * ab + (k * k) * a2 * b2
    return u + 2.0 * (alpha * a + beta * b) / jnp.maximum(delta, numerics.min_norm(u.dtype))


def lambda_x(x, *, c=1.0, keepdims: bool = False):
    """Conformal factor λ_x = 2/(1 − c‖x‖²) ([G18] §2.1; the metric is λ_x² g_E).

    The denominator is clamped ≥ ``min_norm(dtype)``.

    Shapes: x (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> float(lambda_x(jnp.zeros(3)))
    2.0
    """
    x = numerics.as_float(x)
    denom = 1.0 - c * numerics.sqnorm(x, keepdims=keepdims)
    return 2.0 / jnp.maximum(denom, numerics.min_norm(x.dtype))


def proj(x, *, c=1.0):
    """Project onto the ball: rescale rows with ‖x‖ > (1 − eps)/√c to that norm (geoopt's ``project``).

    eps = ``numerics.ball_eps(x.dtype)``: 4e-3 (float32), 1e-5 (float64). Other rows are returned unchanged.

    Shapes: x (..., n) → (..., n).

    >>> x = proj(jnp.array([3.0, 4.0], jnp.float32))
    >>> round(float(jnp.linalg.norm(x)), 6)
    0.996
    """
    x = numerics.as_float(x)
    max_norm = (1.0 - numerics.ball_eps(x.dtype)) / _sqrt_c(c)
    n = jnp.maximum(numerics.safe_norm(x, keepdims=True), numerics.min_norm(x.dtype))
    return jnp.where(n > max_norm, x * (max_norm / n), x)


def proju(x, u, *, c=1.0):
    """Project u onto the tangent space at x: the identity (T_x𝔻 = ℝⁿ).

    Shapes: x (..., n), u (..., n) → u.

    >>> proju(jnp.zeros(2), jnp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return numerics.as_float(u)


def egrad2rgrad(x, g, *, c=1.0):
    """Riemannian gradient from a Euclidean one: g / λ_x² = g (1 − c‖x‖²)²/4 ([NK17] §3).

    Shapes: x (..., n), g (..., n) → (..., n).

    >>> egrad2rgrad(jnp.zeros(2), jnp.ones(2)).tolist()
    [0.25, 0.25]
    """
    x, g = numerics.as_float(x), numerics.as_float(g)
    factor = (1.0 - c * numerics.sqnorm(x)) ** 2 / 4.0
    return g * factor


def inner(x, u, v=None, *, c=1.0, keepdims: bool = False):
    """Riemannian inner product ⟨u, v⟩_x = λ_x² ⟨u, v⟩ (v defaults to u).

    Shapes: x, u, v (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> float(inner(jnp.zeros(2), jnp.array([1.0, 0.0])))
    4.0
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    v = u if v is None else numerics.as_float(v)
    return lambda_x(x, c=c, keepdims=keepdims) ** 2 * numerics.dot(u, v, keepdims=keepdims)


def norm(x, u, *, c=1.0, keepdims: bool = False):
    """Riemannian norm ‖u‖_x = λ_x ‖u‖ (finite gradient at u = 0).

    Shapes: x, u (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> float(norm(jnp.zeros(2), jnp.array([3.0, 4.0])))
    10.0
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return lambda_x(x, c=c, keepdims=keepdims) * numerics.safe_norm(u, keepdims=keepdims)


def expmap(x, u, *, c=1.0):
    """Exponential map exp_x(u) = x ⊕_c (tanh(√c λ_x‖u‖/2) u/(√c‖u‖)) ([G18] §2.3, exp map lemma).

    Evaluated with u·(λ_x/2)·tanhc(√c λ_x‖u‖/2), smooth at u = 0; ends with :func:`proj`.

    Shapes: x (..., n), u (..., n) → (..., n).

    >>> x = jnp.array([0.1, -0.2]); u = jnp.array([0.3, 0.1])
    >>> bool(jnp.allclose(logmap(x, expmap(x, u)), u, atol=1e-5))
    True
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    sqrt_c = _sqrt_c(c)
    half_lam = 0.5 * lambda_x(x, c=c, keepdims=True)
    t = sqrt_c * half_lam * numerics.safe_norm(u, keepdims=True)
    second = u * (half_lam * numerics.tanhc(t))
    return proj(_mobius_add(x, second, c), c=c)


def logmap(x, y, *, c=1.0):
    """Logarithmic map log_x(y) = (2/(√c λ_x)) artanh(√c‖−x ⊕ y‖) (−x ⊕ y)/‖−x ⊕ y‖ ([G18] §2.3).

    Evaluated as w·(2/λ_x)·artanhc(√c‖w‖) with w = −x ⊕_c y (unprojected), so log_x(x) = 0 with finite
    gradients.

    Shapes: x (..., n), y (..., n) → (..., n).

    >>> x = jnp.array([0.1, -0.2])
    >>> bool(jnp.allclose(logmap(x, x), 0.0))
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    w = _mobius_add(-x, y, c)
    lam = lambda_x(x, c=c, keepdims=True)
    return w * ((2.0 / lam) * numerics.artanhc(_sqrt_c(c) * numerics.safe_norm(w, keepdims=True)))


def expmap0(u, *, c=1.0):
    """Exponential map at the origin: exp_0(u) = tanh(√c‖u‖) u/(√c‖u‖) ([G18] §2.3), then :func:`proj`.

    Shapes: u (..., n) → (..., n).

    >>> bool(jnp.allclose(expmap0(jnp.zeros(2)), 0.0))
    True
    """
    u = numerics.as_float(u)
    return proj(u * numerics.tanhc(_sqrt_c(c) * numerics.safe_norm(u, keepdims=True)), c=c)


def logmap0(y, *, c=1.0):
    """Logarithmic map at the origin: log_0(y) = artanh(√c‖y‖) y/(√c‖y‖) ([G18] §2.3).

    Shapes: y (..., n) → (..., n).

    >>> y = jnp.array([0.3, 0.4])
    >>> bool(jnp.allclose(expmap0(logmap0(y)), y, atol=1e-6))
    True
    """
    y = numerics.as_float(y)
    return y * numerics.artanhc(_sqrt_c(c) * numerics.safe_norm(y, keepdims=True))


def retr(x, u, *, c=1.0):
    """First-order retraction proj(x + u) (geoopt's ``retr``; NK17's RSGD update).

    Shapes: x (..., n), u (..., n) → (..., n).

    >>> retr(jnp.zeros(2), jnp.array([0.25, 0.0])).tolist()
    [0.25, 0.0]
    """
    x, u = numerics.as_float(x), numerics.as_float(u)
    return proj(x + u, c=c)


def transp(x, y, v, *, c=1.0):
    """Parallel transport of v ∈ T_x𝔻 to T_y𝔻: (λ_x/λ_y) gyr[y, −x] v ([G18] §2.3, parallel transport).

    Preserves the Riemannian norm: ‖transp(x, y, v)‖_y = ‖v‖_x.

    Shapes: x, y, v (..., n) broadcast → (..., n).

    >>> x = jnp.array([0.1, 0.2]); y = jnp.array([-0.4, 0.3]); v = jnp.array([1.0, -2.0])
    >>> bool(jnp.allclose(norm(y, transp(x, y, v)), norm(x, v)))
    True
    """
    x, y, v = numerics.as_float(x), numerics.as_float(y), numerics.as_float(v)
    scale = lambda_x(x, c=c, keepdims=True) / lambda_x(y, c=c, keepdims=True)
    return gyration(y, -x, v, c=c) * scale


def dist(x, y, *, c=1.0, keepdims: bool = False):
    """Geodesic distance ([NK17] eq. (1) for c = 1; [G18] §2.2 d_c = (2/√c) artanh(√c‖−x ⊕_c y‖)).

    Evaluated as d(x, y) = (2/√c) asinh(√c‖x − y‖ / √((1 − c‖x‖²)(1 − c‖y‖²))), which equals
    arcosh(1 + 2c‖x − y‖²/((1 − c‖x‖²)(1 − c‖y‖²)))/√c (use cosh 2a = 1 + 2 sinh² a). It costs three
    squared norms, one square root and one asinh per pair, is accurate for nearby points (no arcosh of
    1 + tiny), and has a finite (zero) gradient at x = y (the square root is ``safe_sqrt``). The factors
    1 − c‖·‖² are clamped ≥ ``min_norm``.

    Shapes: x (..., n), y (..., n) broadcast → (...) (or (..., 1) with ``keepdims``).

    >>> round(float(dist(jnp.zeros(2), jnp.array([0.5, 0.0]))), 6) == round(2 * float(jnp.arctanh(0.5)), 6)
    True
    """
    x, y = numerics.as_float(x), numerics.as_float(y)
    sqrt_c = _sqrt_c(c)
    tiny = numerics.min_norm(jnp.result_type(x, y))
    alpha = jnp.maximum(1.0 - c * numerics.sqnorm(x, keepdims=keepdims), tiny)
    beta = jnp.maximum(1.0 - c * numerics.sqnorm(y, keepdims=keepdims), tiny)
    ratio = c * numerics.sqnorm(x - y, keepdims=keepdims) / (alpha * beta)
    return (2.0 / sqrt_c) * jnp.arcsinh(numerics.safe_sqrt(ratio))


def dist0(x, *, c=1.0, keepdims: bool = False):
    """Distance from the origin: d(0, x) = (2/√c) artanh(√c‖x‖).

    Shapes: x (..., n) → (...) (or (..., 1) with ``keepdims``).

    >>> round(float(dist0(jnp.array([0.5, 0.0]))), 6) == round(2 * float(jnp.arctanh(0.5)), 6)
    True
    """
    x = numerics.as_float(x)
    sqrt_c = _sqrt_c(c)
    return (2.0 / sqrt_c) * numerics.artanh(sqrt_c * numerics.safe_norm(x, keepdims=keepdims))


def random(key, shape, dtype=jnp.float32, *, c=1.0, std=1.0):
    """Random points exp_0(std·g), g ~ N(0, I), projected onto the ball.

    Shapes: ``shape`` is the full output shape (..., n).

    >>> x = random(jax.random.key(0), (4, 3))
    >>> x.shape, bool(jnp.all(jnp.linalg.norm(x, axis=-1) < 1.0))
    ((4, 3), True)
    """
    u = std * jax.random.normal(key, shape, dtype=dtype)
    return expmap0(u, c=c)


def origin(shape, dtype=jnp.float32, *, c=1.0):
    """The origin 0 of the ball (the identity of ⊕), broadcast to ``shape`` (..., n).

    >>> origin((2, 3)).shape
    (2, 3)
    """
    return jnp.zeros(shape, dtype=dtype)
