"""SPD layers as flax NNX modules: SPDNet's BiMap / ReEig / LogEig ([HV17]) and the gyro-FC / gyro-MLR of
Nguyen & Yang ([NY23], [MMNN++]) for the metrics "ai", "le" and "lc" (math in :mod:`geomrep.nn.functional`).

Manifold-valued parameters are :class:`~geomrep.nn.parameters.ManifoldParam`: BiMap weights on
``Stiefel(n_in, n_out)``, gyro offsets P and normals W on ``SPD(n, metric)``. Train with ``geomrep.optim`` and
the labels of :func:`~geomrep.nn.parameters.manifold_labels_of`. References are listed in
:mod:`geomrep.nn.functional`.

>>> import jax.numpy as jnp
>>> from flax import nnx
>>> rngs = nnx.Rngs(0)
>>> X = jnp.broadcast_to(jnp.eye(5), (4, 5, 5))
>>> H = ReEig()(BiMap(5, 3, rngs=rngs)(X))
>>> SPDGyroMLR(2, 7, metric="le", rngs=rngs)(SPDGyroFC(3, 2, metric="le", rngs=rngs)(H)).shape
(4, 7)
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from flax import nnx

from geomrep.manifolds import SPD, Stiefel, spd
from geomrep.nn import functional as F
from geomrep.nn.parameters import ManifoldParam

__all__ = ["BiMap", "ReEig", "LogEig", "SPDGyroMLR", "SPDGyroFC"]


class BiMap(nnx.Module):
    """Y = Wᵀ X W ([HV17]): SPD(in_dim) → SPD(out_dim), W a ``Stiefel(in_dim, out_dim)`` ManifoldParam.

    W is initialised with orthonormal columns (``nnx.initializers.orthogonal``); out_dim ≤ in_dim.
    """

    def __init__(self, in_dim: int, out_dim: int, *, param_dtype=jnp.float32, rngs: nnx.Rngs):
        if not 1 <= out_dim <= in_dim:
            raise ValueError(f"BiMap: need 1 <= out_dim <= in_dim; got in_dim={in_dim}, out_dim={out_dim}")
        self.weight = ManifoldParam(
            _orthogonal(rngs.params(), (in_dim, out_dim), jnp.dtype(param_dtype)),
            manifold=Stiefel(in_dim, out_dim),
        )

    def __call__(self, X):
        return F.bimap(X, self.weight[...])


class ReEig(nnx.Module):
    """U max(Λ, eps) Uᵀ ([HV17]); ``eps`` = 1e-4 as in SPDNet."""

    def __init__(self, eps: float = 1e-4):
        self.eps = float(eps)

    def __call__(self, X):
        return F.reeig(X, eps=self.eps)


class LogEig(nnx.Module):
    """Matrix logarithm U log(Λ) Uᵀ ([HV17]); ``vectorize=True`` returns the isometric upper-triangle
    vector (n(n+1)/2 entries, off-diagonals × √2) ready for a linear layer.

    ``floor=ε`` folds a preceding ``ReEig(ε)`` in: ``LogEig(floor=ε)(X)`` equals ``LogEig()(ReEig(ε)(X))``
    (value and gradient) with one eigendecomposition instead of two.
    """

    def __init__(self, vectorize: bool = False, floor: float | None = None):
        self.vectorize = bool(vectorize)
        self.floor = None if floor is None else float(floor)

    def __call__(self, X):
        L = F.logeig(X, floor=self.floor)
        return F.sym_to_vec(L) if self.vectorize else L


# Initialisers run once per layer; jitted so that building a module does not dispatch dozens of eager ops.
_orthogonal = jax.jit(nnx.initializers.orthogonal(), static_argnums=(1, 2))


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _random_spd(key, shape, dtype, std):
    return spd.random(key, shape, dtype, std=std)


def _spd_params(rngs, count, n, metric, dtype, weight_std):
    """Offsets P = I and normals W = exp(S), S symmetric with N(0, weight_std²) entries (W = I if weight_std = 0)."""
    manifold = SPD(n, metric)
    dtype = jnp.dtype(dtype)
    offsets = ManifoldParam(jnp.broadcast_to(jnp.eye(n, dtype=dtype), (count, n, n)), manifold=manifold)
    if weight_std > 0:
        normals = _random_spd(rngs.params(), (count, n, n), dtype, float(weight_std))
    else:
        normals = jnp.broadcast_to(jnp.eye(n, dtype=dtype), (count, n, n))
    return offsets, ManifoldParam(normals, manifold=manifold)


class SPDGyroMLR(nnx.Module):
    """Gyro multiclass logistic regression on SPD(n) ([NY23]): logits_k = ⟨⊖P_k ⊕ X, W_k⟩_gr.

    Args:
      n: input matrix size.
      num_classes: K.
      metric: "ai", "le" or "lc".
      weight_std: normals start at W_k = exp(S_k), S_k symmetric with N(0, weight_std²) entries; default 1/n
        (logits of order ‖log X‖/n); 0 starts at W_k = I (all logits 0). Offsets start at P_k = I.
      param_dtype: dtype of P and W.

    Input (..., n, n) SPD → (..., K) logits.
    """

    def __init__(
        self,
        n: int,
        num_classes: int,
        *,
        metric: str,
        weight_std: float | None = None,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.metric = spd.check_metric(metric)
        std = 1.0 / n if weight_std is None else float(weight_std)
        self.offsets, self.normals = _spd_params(rngs, num_classes, n, metric, param_dtype, std)

    def __call__(self, X):
        return F.spd_mlr_logits(X, self.offsets[...], self.normals[...], metric=self.metric)


class SPDGyroFC(nnx.Module):
    """Gyro fully-connected layer SPD(in_dim) → SPD(out_dim) ([MMNN++]; see :func:`geomrep.nn.functional.spd_gyro_fc`).

    out_dim(out_dim+1)/2 pairs (P_ij, W_ij) on ``SPD(in_dim, metric)``: P_ij = I, W_ij = exp(S_ij) with
    N(0, weight_std²) entries, default weight_std = 1/√(in_dim(in_dim+1)/2) (LeCun-style: the logits, i.e. the
    output's tangent coordinates at I, have variance ≈ ‖log X‖²/dim).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        metric: str,
        weight_std: float | None = None,
        param_dtype=jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.metric = spd.check_metric(metric)
        std = 1.0 / math.sqrt(in_dim * (in_dim + 1) / 2) if weight_std is None else float(weight_std)
        count = F.num_fc_outputs(out_dim)
        self.offsets, self.normals = _spd_params(rngs, count, in_dim, metric, param_dtype, std)

    def __call__(self, X):
        return F.spd_gyro_fc(X, self.offsets[...], self.normals[...], metric=self.metric)
