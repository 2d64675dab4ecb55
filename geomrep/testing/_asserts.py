"""Point and tangent-vector checks: jittable violation measures plus the eager asserts built on them."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import lorentz, numerics


def _eps(dtype) -> float:
    return float(jnp.finfo(dtype).eps)


def _point_ndim(manifold) -> int:
    return int(getattr(manifold, "point_ndim", 1))


def _point_axes(manifold):
    return tuple(range(-_point_ndim(manifold), 0))


def _manifold_label(manifold) -> str:
    return repr(manifold)


def default_point_atol(manifold, dtype) -> float:
    """Default tolerance of :func:`assert_on_manifold` for ``manifold`` and ``dtype``.

    Poincaré ball: 0 (points must satisfy √c‖x‖ < 1 strictly). Lorentz: 64·eps on the relative violation
    |⟨x,x⟩_L + 1/c| / (x₀² + ‖x̃‖²). Euclidean: none needed (only finiteness). Other manifolds: √eps on the
    relative projection residual ‖proj(x) − x‖ / (1 + ‖x‖).
    """
    name = getattr(manifold, "name", None)
    if name == "poincare":
        return 0.0
    if name == "lorentz":
        return 64.0 * _eps(dtype)
    if name == "euclidean":
        return 0.0
    return math.sqrt(_eps(dtype))


def default_tangent_atol(manifold, dtype) -> float:
    """Default tolerance of :func:`assert_tangent`: √eps on a relative residual (see ``tangent_violation``)."""
    return math.sqrt(_eps(dtype))


def point_violation(manifold, x):
    """Per-point violation of the manifold constraint (jittable) and auxiliary values for the message.

    Returns ``(violation, aux)``: ``violation`` has the batch shape; larger is worse; NaN/inf points get +inf.
    The point fails when ``violation > atol`` (for the ball: when ``√c‖x‖ − 1 ≥ atol``).
    """
    x = jnp.asarray(x)
    name = getattr(manifold, "name", None)
    axes = _point_axes(manifold)
    finite = jnp.all(jnp.isfinite(x), axis=axes)
    if name == "poincare":
        scaled = math.sqrt(manifold.c) * jnp.sqrt(jnp.sum(x * x, axis=-1))
        violation = scaled - 1.0
        aux = {"norm": jnp.sqrt(jnp.sum(x * x, axis=-1))}
    elif name == "lorentz":
        mdot = lorentz.minkowski_dot(x, x)
        scale = jnp.sum(x * x, axis=-1)
        rel = jnp.abs(mdot + 1.0 / manifold.c) / jnp.maximum(scale, numerics.min_norm(x.dtype))
        # A point on the lower sheet (x₀ < 0) is never valid, whatever its Minkowski norm.
        violation = jnp.where(x[..., 0] > 0, rel, jnp.inf)
        aux = {"mdot": mdot, "x0": x[..., 0]}
    elif name == "euclidean":
        violation = jnp.full(finite.shape, -1.0, dtype=x.dtype)
        aux = {}
    else:
        residual = jnp.sqrt(jnp.sum((manifold.proj(x) - x) ** 2, axis=axes))
        size = jnp.sqrt(jnp.sum(x * x, axis=axes))
        violation = residual / (1.0 + size)
        aux = {"residual": residual}
    violation = jnp.where(finite, violation, jnp.inf)
    return violation, aux


def tangent_violation(manifold, x, u):
    """Per-vector violation of the tangent-space constraint at x (jittable); see :func:`assert_tangent`."""
    x = jnp.asarray(x)
    u = jnp.asarray(u)
    name = getattr(manifold, "name", None)
    axes = _point_axes(manifold)
    batch = jnp.broadcast_shapes(x.shape, u.shape)
    finite = jnp.all(
        jnp.isfinite(jnp.broadcast_to(x, batch)) & jnp.isfinite(jnp.broadcast_to(u, batch)), axis=axes
    )
    if name == "lorentz":
        mdot = lorentz.minkowski_dot(x, u)
        scale = jnp.sqrt(jnp.sum(x * x, axis=-1)) * jnp.sqrt(jnp.sum(u * u, axis=-1))
        violation = jnp.abs(mdot) / jnp.maximum(scale, numerics.min_norm(x.dtype))
        aux = {"mdot": mdot}
    elif name in ("poincare", "euclidean"):
        violation = jnp.full(finite.shape, -1.0, dtype=jnp.result_type(x, u))
        aux = {}
    else:
        residual = jnp.sqrt(jnp.sum((manifold.proju(x, u) - u) ** 2, axis=axes))
        size = jnp.sqrt(jnp.sum(u * u, axis=axes))
        violation = residual / jnp.maximum(size, numerics.min_norm(residual.dtype))
        aux = {"residual": residual}
    violation = jnp.where(finite, violation, jnp.inf)
    return violation, aux


def _worst(violation):
    v = np.asarray(violation, dtype=np.float64)
    if v.ndim == 0:
        return (), float(v)
    flat = int(np.argmax(np.where(np.isnan(v), np.inf, v)))
    index = tuple(int(i) for i in np.unravel_index(flat, v.shape))
    return index, float(v[index])


def _count_bad(violation, atol, strict_ge):
    v = np.asarray(violation, dtype=np.float64)
    bad = (v >= atol) if strict_ge else (v > atol)
    return int(np.sum(bad | np.isnan(v))), bad


def report_point_violation(manifold, violation, aux, atol, *, what="point", context=""):
    """Raise AssertionError naming the worst point if any violation exceeds ``atol`` (numpy side)."""
    name = getattr(manifold, "name", None)
    strict_ge = name == "poincare"  # ‖x‖ = 1/√c is already outside the open ball
    n_bad, _ = _count_bad(violation, atol, strict_ge)
    if n_bad == 0:
        return
    index, value = _worst(violation)
    total = max(int(np.size(violation)), 1)
    prefix = f"{context}: " if context else ""
    if not np.isfinite(value):
        detail = f"{what} at index {index} is not finite (or, for Lorentz, lies on the lower sheet x₀ ≤ 0)"
    elif name == "poincare":
        nrm = float(np.asarray(aux["norm"])[index])
        bound = 1.0 / math.sqrt(manifold.c)
        detail = f"{what} at index {index} has norm {nrm:.6g} ≥ 1/√c = {bound:.6g}"
        if atol:
            detail += f" (+ atol {atol:.3g})"
    elif name == "lorentz":
        mdot = float(np.asarray(aux["mdot"])[index])
        detail = (
            f"{what} at index {index} has ⟨x,x⟩_L = {mdot:.6g} but the hyperboloid needs −1/c = "
            f"{-1.0 / manifold.c:.6g} (relative violation {value:.3g} > atol {atol:.3g})"
        )
    else:
        residual = float(np.asarray(aux["residual"])[index])
        detail = (
            f"{what} at index {index} is off the manifold: ‖proj(x) − x‖ = {residual:.3g} "
            f"(relative {value:.3g} > atol {atol:.3g})"
        )
    raise AssertionError(
        f"{prefix}{_manifold_label(manifold)}: {detail}; {n_bad} of {total} {what}s fail (worst shown)"
    )


def report_tangent_violation(manifold, violation, aux, atol, *, what="tangent vector", context=""):
    """Raise AssertionError naming the worst tangent vector if any violation exceeds ``atol`` (numpy side)."""
    n_bad, _ = _count_bad(violation, atol, strict_ge=False)
    if n_bad == 0:
        return
    index, value = _worst(violation)
    total = max(int(np.size(violation)), 1)
    prefix = f"{context}: " if context else ""
    name = getattr(manifold, "name", None)
    if not np.isfinite(value):
        detail = f"{what} at index {index} (or its base point) is not finite"
    elif name == "lorentz":
        mdot = float(np.asarray(aux["mdot"])[index])
        detail = (
            f"{what} at index {index} has ⟨x,u⟩_L = {mdot:.3g}, but tangent vectors satisfy ⟨x,u⟩_L = 0 "
            f"(relative {value:.3g} > atol {atol:.3g})"
        )
    else:
        residual = float(np.asarray(aux["residual"])[index])
        detail = (
            f"{what} at index {index} is not tangent: ‖proju(x,u) − u‖ = {residual:.3g} "
            f"(relative {value:.3g} > atol {atol:.3g})"
        )
    raise AssertionError(
        f"{prefix}{_manifold_label(manifold)}: {detail}; {n_bad} of {total} {what}s fail (worst shown)"
    )


def _maybe_jitted(fn, manifold, *arrays):
    """Evaluate ``fn(manifold, *arrays)`` under a jit cached per (manifold, shapes) when the manifold is hashable
    (one small compile instead of dozens of eager primitive compiles), eagerly otherwise."""
    try:
        hash(manifold)
    except TypeError:
        return fn(manifold, *arrays)
    return _JITTED[fn](manifold, *arrays)


def assert_on_manifold(manifold, x, *, atol=None):
    """Assert that every point of the batch ``x`` lies on ``manifold`` (eager; raises AssertionError).

    The message names the index of the worst offending point and its violation, e.g.
    ``PoincareBall(c=1.0): point at index (3,) has norm 1.02 ≥ 1/√c = 1``.

    Checks: Poincaré ball √c‖x‖ < 1 (+ atol); Lorentz |⟨x,x⟩_L + 1/c| / (x₀² + ‖x̃‖²) ≤ atol and x₀ > 0;
    Euclidean: finite; any other manifold: ‖proj(x) − x‖ / (1 + ‖x‖) ≤ atol. Non-finite points always fail.
    ``atol=None`` uses :func:`default_point_atol`.

    >>> import jax.numpy as jnp
    >>> from geomrep.manifolds import PoincareBall
    >>> assert_on_manifold(PoincareBall(1.0), jnp.array([[0.1, 0.2], [0.5, 0.5]]))
    """
    x = jnp.asarray(x)
    if atol is None:
        atol = default_point_atol(manifold, x.dtype)
    violation, aux = _maybe_jitted(point_violation, manifold, x)
    report_point_violation(manifold, violation, aux, atol)


def assert_tangent(manifold, x, u, *, atol=None):
    """Assert that every vector of ``u`` is tangent to ``manifold`` at the matching point of ``x``.

    Lorentz: |⟨x,u⟩_L| / (‖x‖‖u‖) ≤ atol. Poincaré ball and Euclidean (every vector is tangent): finiteness.
    Any other manifold: ‖proju(x,u) − u‖ / ‖u‖ ≤ atol. ``atol=None`` uses :func:`default_tangent_atol`.

    >>> import jax.numpy as jnp
    >>> from geomrep.manifolds import Lorentz
    >>> assert_tangent(Lorentz(1.0), jnp.array([1.0, 0.0]), jnp.array([0.0, 2.0]))
    """
    x = jnp.asarray(x)
    u = jnp.asarray(u)
    if atol is None:
        atol = default_tangent_atol(manifold, jnp.result_type(x, u))
    violation, aux = _maybe_jitted(tangent_violation, manifold, x, u)
    report_tangent_violation(manifold, violation, aux, atol)


_JITTED = {
    point_violation: jax.jit(point_violation, static_argnums=0),
    tangent_violation: jax.jit(tangent_violation, static_argnums=0),
}
