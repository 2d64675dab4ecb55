"""Product manifolds M₁ × … × M_k of geomrep manifold values (mixed-curvature spaces, Gu et al. ICLR 2019).

A point of ``Product(factors, dims)`` is the concatenation, on the last axis, of one point of each factor in that
factor's ambient coordinates: factor i of dimension ``dims[i]`` takes ``factors[i].ambient_dim(dims[i])``
coordinates (a 2-D ball 2, a 2-D sphere 3, a 2-D hyperboloid 3). Every map splits the last axis, applies the
factor's map and concatenates. The metric is the product metric:

    ⟨u, v⟩_x = Σᵢ ⟨uᵢ, vᵢ⟩_{xᵢ},   ‖u‖_x = √⟨u, u⟩_x,   d(x, y) = √(Σᵢ dᵢ(xᵢ, yᵢ)²).

>>> import jax.numpy as jnp
>>> from geomrep.manifolds import Euclidean, PoincareBall, Sphere
>>> m = Product((PoincareBall(1.0), Sphere(1.0), Euclidean()), (2, 2, 3))
>>> m.ambient_size, m.ambient_dim(7)
(8, 8)
>>> x = m.origin((8,)); y = x.at[-1].set(3.0).at[0].set(0.5)
>>> round(float(m.dist(x, y)), 6) == round(float(jnp.hypot(2 * jnp.arctanh(0.5), 3.0)), 6)
True

References:
    [G19] A. Gu, F. Sala, B. Gunel, C. Ré, "Learning Mixed-Curvature Representations in Product Spaces",
        ICLR 2019 (§3: product manifolds, the ℓ₂ product distance).
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from geomrep.manifolds import numerics
from geomrep.manifolds.base import Manifold

__all__ = ["Product"]


def _validate_dim(d: Any, i: int) -> int:
    if isinstance(d, bool):
        raise TypeError(f"Product: dims[{i}] must be an int ≥ 1, got bool {d!r}")
    try:
        value = operator.index(d)
    except TypeError as err:
        raise TypeError(f"Product: dims[{i}] must be an int ≥ 1, got {type(d).__name__} {d!r}") from err
    if value < 1:
        raise ValueError(f"Product: dims[{i}] must be ≥ 1, got {value}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class Product:
    """The product manifold ``factors[0] × factors[1] × …`` with factor i of dimension ``dims[i]``.

    A frozen, hashable value (a static leaf in label pytrees, like ``PoincareBall``). ``factors`` are manifold
    values with point_ndim 1 and an ``ambient_dim`` method (``PoincareBall``, ``Lorentz``, ``Sphere``,
    ``Euclidean``, or another ``Product``); ``dims`` are their intrinsic dimensions (ints ≥ 1). Lists are
    converted to tuples. ``origin``/``expmap0``/``logmap0``/``dist0`` need every factor to provide them (all
    geomrep manifolds do). There is no ``to_poincare``.

    Points have ``ambient_size`` = Σᵢ ``factors[i].ambient_dim(dims[i])`` coordinates; the manifold's
    dimension is ``dim`` = Σ ``dims``, and ``ambient_dim(dim)`` accepts only that value.

    >>> from geomrep.manifolds import Euclidean, Lorentz
    >>> Product([Lorentz(1.0), Euclidean()], [2, 3])
    Product(factors=(Lorentz(c=1.0), Euclidean()), dims=(2, 3))
    """

    factors: tuple
    dims: tuple
    name: ClassVar[str] = "product"
    point_ndim: ClassVar[int] = 1

    def __post_init__(self):
        factors = tuple(self.factors) if isinstance(self.factors, (list, tuple)) else None
        if factors is None:
            raise TypeError(
                f"Product: factors must be a tuple of manifold values, got {type(self.factors).__name__}"
            )
        dims = tuple(self.dims) if isinstance(self.dims, (list, tuple)) else None
        if dims is None:
            raise TypeError(f"Product: dims must be a tuple of ints ≥ 1, got {type(self.dims).__name__}")
        if not factors:
            raise ValueError("Product: needs at least one factor")
        if len(factors) != len(dims):
            raise ValueError(f"Product: got {len(factors)} factors but {len(dims)} dims; they must match")
        for i, f in enumerate(factors):
            if isinstance(f, type) or not isinstance(f, Manifold) or not hasattr(f, "ambient_dim"):
                raise TypeError(
                    f"Product: factors[{i}] must be a manifold value with the geomrep vocabulary and an "
                    f"ambient_dim method (e.g. PoincareBall(1.0), Sphere(1.0), Euclidean()); got {f!r}"
                )
            if int(getattr(f, "point_ndim", 1)) != 1:
                raise ValueError(f"Product: factors[{i}] = {f!r} has point_ndim != 1 (only vector manifolds)")
            try:
                hash(f)
            except TypeError as err:
                raise TypeError(f"Product: factors[{i}] = {f!r} must be hashable (a frozen value)") from err
        dims = tuple(_validate_dim(d, i) for i, d in enumerate(dims))
        object.__setattr__(self, "factors", factors)
        object.__setattr__(self, "dims", dims)

    # -- sizes ---------------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Intrinsic dimension Σ ``dims``."""
        return sum(self.dims)

    @property
    def sizes(self) -> tuple:
        """Ambient coordinates of each factor: ``factors[i].ambient_dim(dims[i])``."""
        return tuple(int(f.ambient_dim(d)) for f, d in zip(self.factors, self.dims, strict=True))

    @property
    def ambient_size(self) -> int:
        """Number of coordinates of a point: Σ ``sizes``."""
        return sum(self.sizes)

    def ambient_dim(self, dim: int) -> int:
        """``ambient_size``; ``dim`` must equal the product's dimension Σ ``dims`` (it is fixed by the value)."""
        if int(dim) != self.dim:
            raise ValueError(
                f"{self!r}: dimension is fixed by dims to {self.dim} (sum of dims), got dim={dim}"
            )
        return self.ambient_size

    def _split(self, x):
        x = numerics.as_float(x)
        if x.ndim < 1 or x.shape[-1] != self.ambient_size:
            raise ValueError(
                f"{self!r}: expected points/vectors with last axis {self.ambient_size} "
                f"(factor sizes {self.sizes}), got shape {x.shape}"
            )
        offsets = []
        total = 0
        for s in self.sizes[:-1]:
            total += s
            offsets.append(total)
        return jnp.split(x, offsets, axis=-1)

    def _map(self, fn, *arrays):
        parts = [self._split(a) for a in arrays]
        outs = [fn(f, *ps) for f, *ps in zip(self.factors, *parts, strict=True)]
        return jnp.concatenate(outs, axis=-1)

    def _reduce_sum(self, fn, *arrays, keepdims):
        """Σᵢ fn(factor_i, parts…) with keepdims=True, squeezed unless ``keepdims``."""
        parts = [self._split(a) for a in arrays]
        total = sum(fn(f, *ps) for f, *ps in zip(self.factors, *parts, strict=True))
        return total if keepdims else total[..., 0]

    # -- vocabulary ----------------------------------------------------------------------------------------

    def proj(self, x):
        """Per-factor projection. Shapes: (..., ambient_size) → same."""
        return self._map(lambda f, a: f.proj(a), x)

    def proju(self, x, u):
        """Per-factor tangent projection."""
        x, u = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(u))
        return self._map(lambda f, a, b: f.proju(a, b), x, u)

    def egrad2rgrad(self, x, g):
        """Per-factor Riemannian gradient (the product metric is block-diagonal)."""
        x, g = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(g))
        return self._map(lambda f, a, b: f.egrad2rgrad(a, b), x, g)

    def inner(self, x, u, v=None, *, keepdims: bool = False):
        """⟨u, v⟩_x = Σᵢ ⟨uᵢ, vᵢ⟩_{xᵢ} (v defaults to u). Shapes: (..., ambient_size) → (...)."""
        u = numerics.as_float(u)
        v = u if v is None else numerics.as_float(v)
        x, u, v = jnp.broadcast_arrays(numerics.as_float(x), u, v)
        return self._reduce_sum(
            lambda f, a, b, c: f.inner(a, b, c, keepdims=True), x, u, v, keepdims=keepdims
        )

    def norm(self, x, u, *, keepdims: bool = False):
        """‖u‖_x = √⟨u, u⟩_x (finite gradient at u = 0). Shapes: (..., ambient_size) → (...)."""
        return numerics.safe_sqrt(self.inner(x, u, keepdims=keepdims))

    def expmap(self, x, u):
        """exp_x(u) = (exp_{xᵢ}(uᵢ))ᵢ."""
        x, u = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(u))
        return self._map(lambda f, a, b: f.expmap(a, b), x, u)

    def logmap(self, x, y):
        """log_x(y) = (log_{xᵢ}(yᵢ))ᵢ (each factor's conventions, e.g. antipodal sphere points, apply)."""
        x, y = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(y))
        return self._map(lambda f, a, b: f.logmap(a, b), x, y)

    def retr(self, x, u):
        """Per-factor retraction."""
        x, u = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(u))
        return self._map(lambda f, a, b: f.retr(a, b), x, u)

    def transp(self, x, y, v):
        """Per-factor parallel transport (the product connection)."""
        x, y, v = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(y), numerics.as_float(v))
        return self._map(lambda f, a, b, c: f.transp(a, b, c), x, y, v)

    def dist(self, x, y, *, keepdims: bool = False):
        """d(x, y) = √(Σᵢ dᵢ(xᵢ, yᵢ)²) (finite, zero gradient at x = y). Shapes: (..., ambient_size) → (...)."""
        x, y = jnp.broadcast_arrays(numerics.as_float(x), numerics.as_float(y))
        parts = zip(self.factors, self._split(x), self._split(y), strict=True)
        ds = jnp.concatenate([f.dist(a, b, keepdims=True) for f, a, b in parts], axis=-1)
        return numerics.safe_norm(ds, keepdims=keepdims)

    def origin(self, shape, dtype=jnp.float32):
        """Concatenation of the factors' origins; ``shape`` is (..., ambient_size)."""
        shape = tuple(shape)
        if not shape or shape[-1] != self.ambient_size:
            raise ValueError(f"{self!r}: origin shape must end with {self.ambient_size}, got {shape}")
        outs = [f.origin(shape[:-1] + (s,), dtype) for f, s in zip(self.factors, self.sizes, strict=True)]
        return jnp.concatenate(outs, axis=-1)

    def expmap0(self, u):
        """(expmap0ᵢ(uᵢ))ᵢ = exp_origin(u)."""
        return self._map(lambda f, a: f.expmap0(a), u)

    def logmap0(self, y):
        """(logmap0ᵢ(yᵢ))ᵢ = log_origin(y)."""
        return self._map(lambda f, a: f.logmap0(a), y)

    def dist0(self, x, *, keepdims: bool = False):
        """d(origin, x) = √(Σᵢ dist0ᵢ(xᵢ)²)."""
        parts = zip(self.factors, self._split(x), strict=True)
        ds = jnp.concatenate([f.dist0(a, keepdims=True) for f, a in parts], axis=-1)
        return numerics.safe_norm(ds, keepdims=keepdims)

    def random(self, key, shape, dtype=jnp.float32, *, std: float = 1.0):
        """Each factor's ``random`` (independent keys, same ``std``); ``shape`` is (..., ambient_size)."""
        shape = tuple(shape)
        if not shape or shape[-1] != self.ambient_size:
            raise ValueError(f"{self!r}: random shape must end with {self.ambient_size}, got {shape}")
        keys = jax.random.split(key, len(self.factors))
        outs = [
            f.random(k, shape[:-1] + (s,), dtype, std=std)
            for f, k, s in zip(self.factors, keys, self.sizes, strict=True)
        ]
        return jnp.concatenate(outs, axis=-1)
