"""Grassmann layers as flax NNX modules (ONB view: points are n×p orthonormal bases, [NY23]; math in
:mod:`geomrep.nn.functional`). Offsets P are :class:`~geomrep.nn.parameters.ManifoldParam` on ``Grassmann(n, p)``;
normals are Euclidean tangent coordinates A ∈ ℝ^{(n−p)×p} at I_{n,p} (see
:func:`geomrep.nn.functional.grassmann_mlr_logits` for why).

>>> import jax.numpy as jnp
>>> from flax import nnx
>>> U = jnp.broadcast_to(jnp.eye(6)[:, :2], (4, 6, 2))
>>> fc = GrassmannFC(6, 2, 5, 2, rngs=nnx.Rngs(0))
>>> GrassmannMLR(5, 2, 3, rngs=nnx.Rngs(1))(fc(U)).shape
(4, 3)
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from geomrep.manifolds import Grassmann
from geomrep.nn import functional as F
from geomrep.nn.parameters import ManifoldParam

__all__ = ["GrassmannMLR", "GrassmannFC"]


def _grassmann_params(rngs, count, n, p, dtype, weight_std):
    """Offsets P = I_{n,p} (ManifoldParams on Grassmann(n, p)); normals A ~ N(0, weight_std²) in the chart at
    I_{n,p} (Euclidean, shape (count, n − p, p))."""
    dtype = jnp.dtype(dtype)
    offsets = ManifoldParam(
        jnp.broadcast_to(jnp.eye(n, p, dtype=dtype), (count, n, p)), manifold=Grassmann(n, p)
    )
    normals = weight_std * jax.random.normal(rngs.params(), (count, n - p, p), dtype)
    return offsets, nnx.Param(normals)


def _check_sizes(cls, n, p):
    if not 1 <= p < n:
        raise ValueError(f"{cls}: subspace dimension p must satisfy 1 <= p < n; got n={n}, p={p}")


class GrassmannMLR(nnx.Module):
    """Gyro multiclass logistic regression on Gr(n, p): logits_k = ⟨⊖P_k ⊕ U, W_k⟩_gr ([NY23], gyro.md §B7).

    Offsets start at P_k = I_{n,p}; normals A_k (tangent coordinates at I_{n,p}) at N(0, weight_std²) entries,
    default weight_std = 1/√(p(n−p)). Input (..., n, p) orthonormal bases → (..., K) logits.
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
