"""Grassmann layers as flax NNX modules (ONB view: points are n×p orthonormal bases, [NY23]; math in
:mod:`geomrep.nn.functional`). Offsets P and normals W are :class:`~geomrep.nn.parameters.ManifoldParam` on
``Grassmann(n, p)``.

>>> import jax.numpy as jnp
>>> from flax import nnx
>>> U = jnp.broadcast_to(jnp.eye(6)[:, :2], (4, 6, 2))
>>> fc = GrassmannFC(6, 2, 5, 2, rngs=nnx.Rngs(0))
>>> GrassmannMLR(5, 2, 3, rngs=nnx.Rngs(1))(fc(U)).shape
(4, 3)
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from flax import nnx

from geomrep.manifolds import Grassmann, grassmann
from geomrep.nn import functional as F
from geomrep.nn.parameters import ManifoldParam

__all__ = ["GrassmannMLR", "GrassmannFC"]


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _random_bases(key, shape, dtype, std):
    return grassmann.random(key, shape, dtype, std=std)


def _grassmann_params(rngs, count, n, p, dtype, weight_std):
    """Offsets P = I_{n,p}; normals W = Exp_{I_{n,p}}([0; B]) with B ~ N(0, weight_std²) (I_{n,p} if std = 0)."""
    manifold = Grassmann(n, p)
    dtype = jnp.dtype(dtype)
    offsets = ManifoldParam(jnp.broadcast_to(jnp.eye(n, p, dtype=dtype), (count, n, p)), manifold=manifold)
    if weight_std > 0:
        normals = _random_bases(rngs.params(), (count, n, p), dtype, float(weight_std))
    else:
        normals = jnp.broadcast_to(jnp.eye(n, p, dtype=dtype), (count, n, p))
    return offsets, ManifoldParam(normals, manifold=manifold)


def _check_sizes(cls, n, p):
    if not 1 <= p < n:
        raise ValueError(f"{cls}: subspace dimension p must satisfy 1 <= p < n; got n={n}, p={p}")


class GrassmannMLR(nnx.Module):
    """Gyro multiclass logistic regression on Gr(n, p): logits_k = ⟨⊖P_k ⊕ U, W_k⟩_gr ([NY23], gyro.md §B7).

    Offsets start at P_k = I_{n,p}, normals at Exp_{I_{n,p}}([0; B_k]) with B_k ~ N(0, weight_std²), default
    weight_std = 1/√(p(n−p)). Input (..., n, p) orthonormal bases → (..., K) logits.
    """

    def __init__(
        self, n: int, p: int, num_classes: int, *, weight_std=None, param_dtype=jnp.float32, rngs: nnx.Rngs
    ):
        _check_sizes("GrassmannMLR", n, p)
        std = 1.0 / math.sqrt(p * (n - p)) if weight_std is None else float(weight_std)
        self.offsets, self.normals = _grassmann_params(rngs, num_classes, n, p, param_dtype, std)

    def __call__(self, U):
        return F.grassmann_mlr_logits(U, self.offsets[...], self.normals[...])


class GrassmannFC(nnx.Module):
    """Gyro fully-connected layer Gr(n, p) → Gr(m, q) (see :func:`geomrep.nn.functional.grassmann_fc`): q(m−q)
    pairs (P_ij, W_ij) on ``Grassmann(n, p)``, initialised like :class:`GrassmannMLR`."""

    def __init__(
        self, n: int, p: int, m: int, q: int, *, weight_std=None, param_dtype=jnp.float32, rngs: nnx.Rngs
    ):
        _check_sizes("GrassmannFC", n, p)
        _check_sizes("GrassmannFC", m, q)
        self.out_shape = (int(m), int(q))
        std = 1.0 / math.sqrt(p * (n - p)) if weight_std is None else float(weight_std)
        self.offsets, self.normals = _grassmann_params(rngs, q * (m - q), n, p, param_dtype, std)

    def __call__(self, U):
        return F.grassmann_fc(U, self.offsets[...], self.normals[...], out_shape=self.out_shape)
