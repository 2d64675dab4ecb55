"""Public checkers for the gyrovector-space laws ([NY23] §2, Ungar 2008), usable on any value with the gyro
vocabulary (``gyro_add, gyro_scalar_mul, gyro_inv, gyro_norm, dist, random``; optionally ``origin, expmap, transp,
logmap0`` for the construction law and ``to_projector`` for spaces whose points are equivalence classes).

Laws checked, for random points P, Q and scalars s, t:

====================  =========================================================================
``left_cancellation``  ⊖P ⊕ (P ⊕ Q) = Q
``left_inverse``       ⊖P ⊕ P = I (the origin)
``unit_scalar``        1 ⊗ P = P
``scalar_assoc``       t ⊗ (s ⊗ P) = (ts) ⊗ P
``inverse_scalar``     (−1) ⊗ P = ⊖P
``gyrodistance``       ‖⊖P ⊕ Q‖_gr = dist(P, Q)
``construction``       P ⊕ Q = Exp_P(Γ_{I→P}(Log_I Q))       (the generic definition, notes §B0)
``commutativity``      P ⊕ Q = Q ⊕ P                          (only with ``commutative=True``: SPD LE, LC)
====================  =========================================================================

Point equalities are measured as ‖a − b‖_F / (1 + ‖b‖_F) on the arrays, or on their projectors U Uᵀ when the value
has ``to_projector`` (Grassmann bases are defined up to U → U R); scalar equalities as |a − b| / (1 + |b|).

>>> import jax, jax.numpy as jnp
>>> from geomrep.manifolds import SPD
>>> check_gyro_laws(SPD(3, "le"), dtype=jnp.float32, key=jax.random.key(0), n=4, commutative=True)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.testing._compile import quick_jit

__all__ = ["GYRO_TOLERANCES", "LAWS", "gyro_law_errors", "check_gyro_laws"]

#: The laws, in the order of the table above (and of failure messages).
LAWS = (
    "left_cancellation",
    "left_inverse",
    "unit_scalar",
    "scalar_assoc",
    "inverse_scalar",
    "gyrodistance",
    "construction",
    "commutativity",
)

#: Per-dtype tolerance on the scaled errors of :func:`check_gyro_laws`.
GYRO_TOLERANCES = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


def _canonical(space, x):
    return space.to_projector(x) if hasattr(space, "to_projector") else x


def _point_err(space, a, b):
    a, b = _canonical(space, a), _canonical(space, b)
    num = jnp.sqrt(jnp.sum((a - b) ** 2, axis=(-2, -1)))
    return num / (1.0 + jnp.sqrt(jnp.sum(b * b, axis=(-2, -1))))


def _scalar_err(a, b):
    return jnp.abs(a - b) / (1.0 + jnp.abs(b))


def gyro_law_errors(space, P, Q, s, t, *, commutative: bool = False):
    """Scaled errors of every law (a dict of arrays with the batch shape; jittable with ``space`` static).

    Shapes: P, Q (..., a, b) points; s, t (...) scalars.
    """
    add, mul, inv = space.gyro_add, space.gyro_scalar_mul, space.gyro_inv
    s = jnp.asarray(s, P.dtype)
    t = jnp.asarray(t, P.dtype)
    out = {}
    out["left_cancellation"] = _point_err(space, add(inv(P), add(P, Q)), Q)
    if hasattr(space, "origin"):
        out["left_inverse"] = _point_err(space, add(inv(P), P), space.origin(P.shape, P.dtype))
    out["unit_scalar"] = _point_err(space, mul(jnp.ones_like(s), P), P)
    out["scalar_assoc"] = _point_err(space, mul(t, mul(s, P)), mul(t * s, P))
    out["inverse_scalar"] = _point_err(space, mul(-jnp.ones_like(s), P), inv(P))
    out["gyrodistance"] = _scalar_err(space.gyro_norm(add(inv(P), Q)), space.dist(P, Q))
    if all(hasattr(space, name) for name in ("origin", "expmap", "transp", "logmap0")):
        eye = space.origin(P.shape, P.dtype)
        built = space.expmap(P, space.transp(eye, P, space.logmap0(Q)))
        out["construction"] = _point_err(space, built, add(P, Q))
    if commutative:
        out["commutativity"] = _point_err(space, add(P, Q), add(Q, P))
    return out


@functools.cache
def _compiled(space, commutative, shape, dtype):
    """Draw the points and scalars and evaluate every law in one compiled function (std and the scalar range
    are traced, so hypothesis-style sweeps over them reuse it)."""

    def draw_and_check(key, std, scalar_range):
        kp, kq, ks = jax.random.split(key, 3)
        P = space.random(kp, shape, dtype, std=std)
        Q = space.random(kq, shape, dtype, std=std)
        s, t = jax.random.uniform(ks, (2, shape[0]), P.dtype, -1.0, 1.0) * scalar_range
        return gyro_law_errors(space, P, Q, s, t, commutative=commutative)

    return quick_jit(draw_and_check)


def check_gyro_laws(
    space,
    *,
    dtype=jnp.float64,
    key=None,
    n: int = 8,
    std: float = 0.3,
    commutative: bool = False,
    scalar_range: float = 2.0,
    tol=None,
):
    """Draw ``n`` random pairs (P, Q) with ``space.random(key, shape, dtype, std=std)`` and scalars
    s, t ∈ [−scalar_range, scalar_range]; raise AssertionError naming every law that fails, with its worst batch
    index and error.

    On spaces with a finite injectivity radius (Grassmann: principal angles < π/2) t ⊗ (s ⊗ P) = (ts) ⊗ P holds
    only while |s|·θ_max(P) stays inside it: keep ``std·scalar_range`` small there.

    ``tol`` defaults to :data:`GYRO_TOLERANCES` (1e-10 float64, 1e-4 float32). ``space`` must be hashable (the
    computation is jitted with it static) and have ``point_shape()`` or be given points by
    :func:`gyro_law_errors` directly.
    """
    key = jax.random.key(0) if key is None else key
    shape = (n,) + tuple(space.point_shape())
    # float64 requests give float32 when jax_enable_x64 is off: judge what is computed
    dtype = np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    compiled = _compiled(space, commutative, shape, dtype)
    tol = GYRO_TOLERANCES[dtype] if tol is None else float(tol)
    errors = compiled(key, jnp.asarray(std, dtype), jnp.asarray(scalar_range, dtype))
    failures = []
    for law in [name for name in LAWS if name in errors]:
        err = np.asarray(errors[law], np.float64)
        bad = ~(err <= tol)
        if np.any(bad):
            i = int(np.argmax(np.where(np.isnan(err), np.inf, err)))
            failures.append(
                f"law {law!r} fails: worst scaled error {err[i]:.3g} at index {i} > tolerance {tol:.3g} "
                f"({int(bad.sum())} of {err.size} fail)"
            )
    if failures:
        raise AssertionError(f"check_gyro_laws({space!r}, dtype={dtype.name}): " + "; ".join(failures))
