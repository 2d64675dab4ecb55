"""Frozen manifold values that delegate to the function modules (``poincare``, ``lorentz``, ``euclidean``).

A value such as ``PoincareBall(c=1.0)`` is hashable and compares by value, so it can sit as a static leaf in a
label pytree parallel to the parameters (it is deliberately NOT a registered pytree node) and be closed over or
passed as a static argument to ``jax.jit``. All the math lives in the modules; the classes only bind ``c``.

>>> import jax.numpy as jnp
>>> ball = PoincareBall(c=1.0)
>>> round(float(ball.dist(jnp.zeros(2), jnp.array([0.5, 0.0]))), 6)
1.098612
>>> hash(ball) == hash(PoincareBall(1)), ball == PoincareBall(1.0)
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Protocol, runtime_checkable

import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import euclidean, grassmann, lorentz, poincare, spd, sphere, stiefel

__all__ = ["Manifold", "PoincareBall", "Lorentz", "Euclidean", "Sphere", "SPD", "Grassmann", "Stiefel"]


@runtime_checkable
class Manifold(Protocol):
    """The vocabulary every geomrep manifold value offers (used by ``geomrep.optim`` and ``geomrep.testing``).

    Points have ``point_ndim`` trailing axes (1 for vectors, 2 for matrix manifolds); reductions (``inner``,
    ``norm``, ``dist``, ``dist0``) return the batch shape.
    """

    name: ClassVar[str]

    def proj(self, x): ...
    def proju(self, x, u): ...
    def egrad2rgrad(self, x, g): ...
    def inner(self, x, u, v=None, *, keepdims: bool = False): ...
    def norm(self, x, u, *, keepdims: bool = False): ...
    def expmap(self, x, u): ...
    def logmap(self, x, y): ...
    def retr(self, x, u): ...
    def transp(self, x, y, v): ...
    def dist(self, x, y, *, keepdims: bool = False): ...
    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0): ...


def _validate_curvature(cls_name: str, c: Any) -> float:
    if isinstance(c, bool):
        raise TypeError(f"{cls_name}: curvature parameter c must be a python float, got bool {c!r}")
    try:
        value = float(c)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{cls_name}: curvature parameter c must be a python float (a static value, not a traced array); "
            f"got {type(c).__name__}"
        ) from err
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(
            f"{cls_name}: curvature parameter c must be > 0 and finite (the curvature is −c; geoopt's k is −c, "
            f"so k=-1.0 means c=1.0); got c={value!r}"
        )
    return value


@dataclasses.dataclass(frozen=True)
class PoincareBall:
    """The Poincaré ball of curvature −c (radius 1/√c); methods delegate to :mod:`geomrep.manifolds.poincare`.

    >>> PoincareBall(0.5)
    PoincareBall(c=0.5)
    """

    c: float = 1.0
    name: ClassVar[str] = "poincare"
    point_ndim: ClassVar[int] = 1

    def __post_init__(self):
        object.__setattr__(self, "c", _validate_curvature("PoincareBall", self.c))

    def ambient_dim(self, dim: int) -> int:
        """Number of coordinates of a point of the ``dim``-dimensional ball: ``dim``."""
        return int(dim)

    def proj(self, x):
        return poincare.proj(x, c=self.c)

    def proju(self, x, u):
        return poincare.proju(x, u, c=self.c)

    def egrad2rgrad(self, x, g):
        return poincare.egrad2rgrad(x, g, c=self.c)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return poincare.inner(x, u, v, c=self.c, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return poincare.norm(x, u, c=self.c, keepdims=keepdims)

    def expmap(self, x, u):
        return poincare.expmap(x, u, c=self.c)

    def logmap(self, x, y):
        return poincare.logmap(x, y, c=self.c)

    def expmap0(self, u):
        return poincare.expmap0(u, c=self.c)

    def logmap0(self, y):
        return poincare.logmap0(y, c=self.c)

    def retr(self, x, u):
        return poincare.retr(x, u, c=self.c)

    def transp(self, x, y, v):
        return poincare.transp(x, y, v, c=self.c)

    def dist(self, x, y, *, keepdims: bool = False):
        return poincare.dist(x, y, c=self.c, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return poincare.dist0(x, c=self.c, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return poincare.random(key, shape, dtype, c=self.c, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return poincare.origin(shape, dtype, c=self.c)

    def to_poincare(self, x):
        """Identity (already a ball point)."""
        return jnp.asarray(x)

    # Gyrovector operations (Ganea et al. 2018), bound to this c.
    def mobius_add(self, x, y):
        return poincare.mobius_add(x, y, c=self.c)

    def mobius_sub(self, x, y):
        return poincare.mobius_sub(x, y, c=self.c)

    def mobius_scalar_mul(self, r, x):
        return poincare.mobius_scalar_mul(r, x, c=self.c)

    def mobius_matvec(self, m, x):
        return poincare.mobius_matvec(m, x, c=self.c)

    def gyration(self, a, b, u):
        return poincare.gyration(a, b, u, c=self.c)

    def lambda_x(self, x, *, keepdims: bool = False):
        return poincare.lambda_x(x, c=self.c, keepdims=keepdims)


@dataclasses.dataclass(frozen=True)
class Lorentz:
    """The hyperboloid of curvature −c, time coordinate first; delegates to :mod:`geomrep.manifolds.lorentz`.

    Points of the ``dim``-dimensional model have ``dim + 1`` coordinates (``ambient_dim``).

    >>> Lorentz(2).ambient_dim(5)
    6
    """

    c: float = 1.0
    name: ClassVar[str] = "lorentz"
    point_ndim: ClassVar[int] = 1

    def __post_init__(self):
        object.__setattr__(self, "c", _validate_curvature("Lorentz", self.c))

    def ambient_dim(self, dim: int) -> int:
        """Number of coordinates of a point of the ``dim``-dimensional hyperboloid: ``dim + 1``."""
        return int(dim) + 1

    def proj(self, x):
        return lorentz.proj(x, c=self.c)

    def proju(self, x, u):
        return lorentz.proju(x, u, c=self.c)

    def egrad2rgrad(self, x, g):
        return lorentz.egrad2rgrad(x, g, c=self.c)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return lorentz.inner(x, u, v, c=self.c, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return lorentz.norm(x, u, c=self.c, keepdims=keepdims)

    def expmap(self, x, u):
        return lorentz.expmap(x, u, c=self.c)

    def logmap(self, x, y):
        return lorentz.logmap(x, y, c=self.c)

    def expmap0(self, u):
        return lorentz.expmap0(u, c=self.c)

    def logmap0(self, y):
        return lorentz.logmap0(y, c=self.c)

    def retr(self, x, u):
        return lorentz.retr(x, u, c=self.c)

    def transp(self, x, y, v):
        return lorentz.transp(x, y, v, c=self.c)

    def dist(self, x, y, *, keepdims: bool = False):
        return lorentz.dist(x, y, c=self.c, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return lorentz.dist0(x, c=self.c, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return lorentz.random(key, shape, dtype, c=self.c, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return lorentz.origin(shape, dtype, c=self.c)

    def to_poincare(self, x):
        """The isometric Poincaré-ball point x̃/(1 + √c x₀) (shape (..., dim))."""
        return lorentz.to_poincare(x, c=self.c)

    def from_poincare(self, p):
        return lorentz.from_poincare(p, c=self.c)

    def minkowski_dot(self, x, y, *, keepdims: bool = False):
        return lorentz.minkowski_dot(x, y, keepdims=keepdims)


@dataclasses.dataclass(frozen=True)
class Euclidean:
    """Flat ℝⁿ; delegates to :mod:`geomrep.manifolds.euclidean`.

    >>> Euclidean() == Euclidean(), Euclidean().name
    (True, 'euclidean')
    """

    name: ClassVar[str] = "euclidean"
    point_ndim: ClassVar[int] = 1

    def ambient_dim(self, dim: int) -> int:
        return int(dim)

    def proj(self, x):
        return euclidean.proj(x)

    def proju(self, x, u):
        return euclidean.proju(x, u)

    def egrad2rgrad(self, x, g):
        return euclidean.egrad2rgrad(x, g)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return euclidean.inner(x, u, v, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return euclidean.norm(x, u, keepdims=keepdims)

    def expmap(self, x, u):
        return euclidean.expmap(x, u)

    def logmap(self, x, y):
        return euclidean.logmap(x, y)

    def expmap0(self, u):
        return euclidean.expmap0(u)

    def logmap0(self, y):
        return euclidean.logmap0(y)

    def retr(self, x, u):
        return euclidean.retr(x, u)

    def transp(self, x, y, v):
        return euclidean.transp(x, y, v)

    def dist(self, x, y, *, keepdims: bool = False):
        return euclidean.dist(x, y, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return euclidean.dist0(x, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return euclidean.random(key, shape, dtype, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return euclidean.origin(shape, dtype)

    def to_poincare(self, x):
        """Identity (for plotting code that asks every manifold for ball coordinates)."""
        return jnp.asarray(x)


def _validate_sphere_curvature(c: Any) -> float:
    try:
        return _validate_curvature("Sphere", c)
    except ValueError:
        raise ValueError(
            f"Sphere: curvature parameter c must be > 0 and finite (the curvature is +c and the radius 1/√c; "
            f"geoopt's SphereProjection k is +c); got c={float(c)!r}"
        ) from None


@dataclasses.dataclass(frozen=True)
class Sphere:
    """The sphere of curvature +c (radius 1/√c) in ℝ^{dim+1}; delegates to :mod:`geomrep.manifolds.sphere`.

    Points of the ``dim``-dimensional sphere have ``dim + 1`` coordinates (``ambient_dim``); the reference point
    of ``origin``/``expmap0``/``logmap0``/``dist0`` is the north pole e₀/√c. ``to_poincare`` raises
    NotImplementedError (a sphere has no isometric ball model).

    >>> Sphere(0.5), Sphere().ambient_dim(2)
    (Sphere(c=0.5), 3)
    """

    c: float = 1.0
    name: ClassVar[str] = "sphere"
    point_ndim: ClassVar[int] = 1

    def __post_init__(self):
        object.__setattr__(self, "c", _validate_sphere_curvature(self.c))

    def ambient_dim(self, dim: int) -> int:
        """Number of coordinates of a point of the ``dim``-dimensional sphere: ``dim + 1``."""
        return int(dim) + 1

    def proj(self, x):
        return sphere.proj(x, c=self.c)

    def proju(self, x, u):
        return sphere.proju(x, u, c=self.c)

    def egrad2rgrad(self, x, g):
        return sphere.egrad2rgrad(x, g, c=self.c)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return sphere.inner(x, u, v, c=self.c, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return sphere.norm(x, u, c=self.c, keepdims=keepdims)

    def expmap(self, x, u):
        return sphere.expmap(x, u, c=self.c)

    def logmap(self, x, y):
        return sphere.logmap(x, y, c=self.c)

    def expmap0(self, u):
        return sphere.expmap0(u, c=self.c)

    def logmap0(self, y):
        return sphere.logmap0(y, c=self.c)

    def retr(self, x, u):
        return sphere.retr(x, u, c=self.c)

    def transp(self, x, y, v):
        return sphere.transp(x, y, v, c=self.c)

    def dist(self, x, y, *, keepdims: bool = False):
        return sphere.dist(x, y, c=self.c, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return sphere.dist0(x, c=self.c, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return sphere.random(key, shape, dtype, c=self.c, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return sphere.origin(shape, dtype, c=self.c)

    def to_poincare(self, x):
        """Not available: a sphere (positive curvature) has no isometric Poincaré-ball (hyperbolic) model."""
        raise NotImplementedError(
            "Sphere.to_poincare: a sphere has positive curvature and no isometric Poincaré-ball model; "
            "plot its ambient coordinates (or a stereographic projection) instead"
        )


# ---------------------------------------------------------------------------------------------------------------
# Matrix manifolds (issue 7): points are (..., n, n) or (..., n, p) arrays, point_ndim = 2.


def _validate_size(cls_name: str, field: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{cls_name}: {field} must be an int ≥ {minimum}, got {type(value).__name__} {value!r}"
        )
    if int(value) < minimum:
        raise ValueError(f"{cls_name}: {field} must be ≥ {minimum}, got {value}")
    return int(value)


class _MatrixShape:
    """``dim``/``point_shape`` for the contract suite: the dimension is fixed by the value's fields."""

    def point_shape(self, dim: int | None = None) -> tuple:
        if dim is not None and int(dim) != self.dim:
            raise ValueError(f"{self!r}: dimension is fixed to {self.dim} by the value, got dim={dim}")
        return self._point_shape


@dataclasses.dataclass(frozen=True)
class SPD(_MatrixShape):
    """Symmetric positive-definite n×n matrices under ``metric`` ∈ {"ai", "le", "lc"}; delegates to
    :mod:`geomrep.manifolds.spd` (points (..., n, n); ``dim`` = n(n+1)/2; the gyro-origin is I).

    >>> SPD(3, "le"), SPD(3).dim
    (SPD(n=3, metric='le'), 6)
    """

    n: int
    metric: str = "ai"
    name: ClassVar[str] = "spd"
    point_ndim: ClassVar[int] = 2

    def __post_init__(self):
        object.__setattr__(self, "n", _validate_size("SPD", "n", self.n))
        object.__setattr__(self, "metric", spd.check_metric(self.metric))

    @property
    def dim(self) -> int:
        return self.n * (self.n + 1) // 2

    @property
    def _point_shape(self) -> tuple:
        return (self.n, self.n)

    def proj(self, x):
        return spd.proj(x)

    def proju(self, x, u):
        return spd.proju(x, u)

    def egrad2rgrad(self, x, g):
        return spd.egrad2rgrad(x, g, metric=self.metric)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return spd.inner(x, u, v, metric=self.metric, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return spd.norm(x, u, metric=self.metric, keepdims=keepdims)

    def expmap(self, x, u):
        return spd.expmap(x, u, metric=self.metric)

    def logmap(self, x, y):
        return spd.logmap(x, y, metric=self.metric)

    def expmap0(self, u):
        return spd.expmap0(u, metric=self.metric)

    def logmap0(self, y):
        return spd.logmap0(y, metric=self.metric)

    def retr(self, x, u):
        return spd.retr(x, u, metric=self.metric)

    def transp(self, x, y, v):
        return spd.transp(x, y, v, metric=self.metric)

    def dist(self, x, y, *, keepdims: bool = False):
        return spd.dist(x, y, metric=self.metric, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return spd.dist0(x, metric=self.metric, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return spd.random(key, shape, dtype, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return spd.origin(shape, dtype)

    # Gyrovector operations ([NY23]), bound to this metric.
    def gyro_add(self, x, y):
        return spd.gyro_add(x, y, metric=self.metric)

    def gyro_scalar_mul(self, t, x):
        return spd.gyro_scalar_mul(t, x, metric=self.metric)

    def gyro_inv(self, x):
        return spd.gyro_inv(x, metric=self.metric)

    def gyro_inv_add(self, x, y):
        return spd.gyro_inv_add(x, y, metric=self.metric)

    def gyro_inner(self, x, y, *, keepdims: bool = False):
        return spd.gyro_inner(x, y, metric=self.metric, keepdims=keepdims)

    def gyro_norm(self, x, *, keepdims: bool = False):
        return spd.gyro_norm(x, metric=self.metric, keepdims=keepdims)

    def gyro_angle(self, p, q, r):
        return spd.gyro_angle(p, q, r, metric=self.metric)

    def gyro_coords(self, x):
        return spd.gyro_coords(x, metric=self.metric)


_GRASSMANN_VIEWS = {"onb": "orthonormal bases U (n×p)", "pp": "projectors P = U Uᵀ (n×n)"}


@dataclasses.dataclass(frozen=True)
class Grassmann(_MatrixShape):
    """The Grassmann manifold Gr(n, p); delegates to :mod:`geomrep.manifolds.grassmann`.

    ``view="onb"`` (default): points are orthonormal bases (..., n, p), invariant under U → U R, tangent vectors
    are horizontal n×p matrices. ``view="pp"``: points are projectors (..., n, n), tangent vectors symmetric
    n×n matrices, metric ½⟨·,·⟩_F (the ``pp_`` functions). ``dim`` = p(n − p); the gyro-origin is I_{n,p}
    (resp. diag(I_p, 0)).

    >>> Grassmann(5, 2), Grassmann(5, 2).dim, Grassmann(5, 2, "pp").point_shape()
    (Grassmann(n=5, p=2, view='onb'), 6, (5, 5))
    """

    n: int
    p: int
    view: str = "onb"
    name: ClassVar[str] = "grassmann"
    point_ndim: ClassVar[int] = 2

    def __post_init__(self):
        n = _validate_size("Grassmann", "n", self.n)
        p = _validate_size("Grassmann", "p", self.p)
        if p > n:
            raise ValueError(f"Grassmann: p must be ≤ n, got n={n}, p={p}")
        if self.view not in _GRASSMANN_VIEWS:
            valid = ", ".join(f"{k!r} ({v})" for k, v in _GRASSMANN_VIEWS.items())
            raise ValueError(f"Grassmann: unknown view {self.view!r}; valid views are {valid}")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "p", p)

    @property
    def dim(self) -> int:
        return self.p * (self.n - self.p)

    @property
    def _point_shape(self) -> tuple:
        return (self.n, self.p) if self.view == "onb" else (self.n, self.n)

    @property
    def _pp(self) -> bool:
        return self.view == "pp"

    def proj(self, x):
        return grassmann.pp_proj(x, p=self.p) if self._pp else grassmann.proj(x)

    def proju(self, x, u):
        return grassmann.pp_proju(x, u) if self._pp else grassmann.proju(x, u)

    def egrad2rgrad(self, x, g):
        return grassmann.pp_egrad2rgrad(x, g) if self._pp else grassmann.egrad2rgrad(x, g)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        f = grassmann.pp_inner if self._pp else grassmann.inner
        return f(x, u, v, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        f = grassmann.pp_norm if self._pp else grassmann.norm
        return f(x, u, keepdims=keepdims)

    def expmap(self, x, u):
        return grassmann.pp_expmap(x, u) if self._pp else grassmann.expmap(x, u)

    def logmap(self, x, y):
        return grassmann.pp_logmap(x, y) if self._pp else grassmann.logmap(x, y)

    def expmap0(self, u):
        return self.expmap(self.origin(jnp.shape(u), jnp.asarray(u).dtype), u)

    def logmap0(self, y):
        return self.logmap(self.origin(jnp.shape(y), jnp.asarray(y).dtype), y)

    def retr(self, x, u):
        return grassmann.pp_expmap(x, u) if self._pp else grassmann.retr(x, u)

    def transp(self, x, y, v):
        return grassmann.pp_transp(x, y, v) if self._pp else grassmann.transp(x, y, v)

    def dist(self, x, y, *, keepdims: bool = False):
        f = grassmann.pp_dist if self._pp else grassmann.dist
        return f(x, y, keepdims=keepdims)

    def dist0(self, x, *, keepdims: bool = False):
        return self.dist(self.origin(jnp.shape(x), jnp.asarray(x).dtype), x, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        if self._pp:
            return grassmann.pp_random(key, shape, dtype, p=self.p, std=std)
        return grassmann.random(key, shape, dtype, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return grassmann.pp_origin(shape, self.p, dtype) if self._pp else grassmann.origin(shape, dtype)

    def to_projector(self, x):
        """The projector of a point (identity in the PP view); used to compare points up to U → U R."""
        return jnp.asarray(x) if self._pp else grassmann.to_projector(x)

    # Gyrovector operations ([NY23] ONB view; [N22] projector view).
    def gyro_add(self, x, y):
        return grassmann.pp_gyro_add(x, y, p=self.p) if self._pp else grassmann.gyro_add(x, y)

    def gyro_scalar_mul(self, t, x):
        return grassmann.pp_gyro_scalar_mul(t, x, p=self.p) if self._pp else grassmann.gyro_scalar_mul(t, x)

    def gyro_inv(self, x):
        return grassmann.pp_gyro_inv(x, p=self.p) if self._pp else grassmann.gyro_inv(x)

    def gyro_inner(self, x, y, *, keepdims: bool = False):
        if self._pp:
            return grassmann.pp_gyro_inner(x, y, p=self.p, keepdims=keepdims)
        return grassmann.gyro_inner(x, y, keepdims=keepdims)

    def gyro_norm(self, x, *, keepdims: bool = False):
        if self._pp:
            return grassmann.pp_gyro_norm(x, p=self.p, keepdims=keepdims)
        return grassmann.gyro_norm(x, keepdims=keepdims)


@dataclasses.dataclass(frozen=True)
class Stiefel(_MatrixShape):
    """The Stiefel manifold St(n, p) (orthonormal n×p matrices, embedded metric); delegates to
    :mod:`geomrep.manifolds.stiefel`. For BiMap weights. ``logmap``/``dist`` raise NotImplementedError (no closed
    form); ``transp`` is the projection transport. ``dim`` = np − p(p+1)/2.

    >>> Stiefel(4, 2), Stiefel(4, 2).dim
    (Stiefel(n=4, p=2), 5)
    """

    n: int
    p: int
    name: ClassVar[str] = "stiefel"
    point_ndim: ClassVar[int] = 2

    def __post_init__(self):
        n = _validate_size("Stiefel", "n", self.n)
        p = _validate_size("Stiefel", "p", self.p)
        if p > n:
            raise ValueError(f"Stiefel: p must be ≤ n, got n={n}, p={p}")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "p", p)

    @property
    def dim(self) -> int:
        return self.n * self.p - self.p * (self.p + 1) // 2

    @property
    def _point_shape(self) -> tuple:
        return (self.n, self.p)

    def proj(self, x):
        return stiefel.proj(x)

    def proju(self, x, u):
        return stiefel.proju(x, u)

    def egrad2rgrad(self, x, g):
        return stiefel.egrad2rgrad(x, g)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        return stiefel.inner(x, u, v, keepdims=keepdims)

    def norm(self, x, u, *, keepdims: bool = False):
        return stiefel.norm(x, u, keepdims=keepdims)

    def expmap(self, x, u):
        return stiefel.expmap(x, u)

    def logmap(self, x, y):
        return stiefel.logmap(x, y)

    def retr(self, x, u):
        return stiefel.retr(x, u)

    def transp(self, x, y, v):
        return stiefel.transp(x, y, v)

    def dist(self, x, y, *, keepdims: bool = False):
        return stiefel.dist(x, y, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        return stiefel.random(key, shape, dtype, std=std)

    def origin(self, shape, dtype=jnp.float32):
        return stiefel.origin(shape, dtype)
