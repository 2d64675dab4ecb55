"""Hyperbolic layers of Ganea et al. 2018 as flax NNX modules (the math is in :mod:`geomrep.nn.functional`).

Ball-valued parameters (Möbius biases, MLR offsets p_k) are :class:`~geomrep.nn.parameters.ManifoldParam` on
``PoincareBall(c)``; train them with ``geomrep.optim.radam/rsgd`` and the labels of
:func:`~geomrep.nn.parameters.manifold_labels_of`.

>>> import jax.numpy as jnp
>>> from flax import nnx
>>> layer = MobiusLinear(3, 2, rngs=nnx.Rngs(0))
>>> mlr = HyperbolicMLR(2, 4, rngs=nnx.Rngs(1))
>>> mlr(layer(jnp.full((5, 3), 0.1))).shape
(5, 4)
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from geomrep.manifolds import PoincareBall
from geomrep.nn import functional as F
from geomrep.nn.parameters import ManifoldParam

__all__ = ["MobiusLinear", "HyperbolicMLR"]

_default_init = nnx.initializers.lecun_normal()


class MobiusLinear(nnx.Module):
    """y = (M ⊗_c x) ⊕_c b ([G18] §3.2); ``b`` is a point of ``PoincareBall(c)`` (a ManifoldParam, init 0).

    Args:
      in_features, out_features: sizes of x and y.
      c: curvature parameter (the ball has curvature −c).
      use_bias: add the hyperbolic bias b.
      param_dtype: dtype of the parameters (pass float64 explicitly under x64; float32 by default).
      kernel_init: initializer of M, stored with shape (out_features, in_features).
      rngs: ``nnx.Rngs``.

    Input (..., in_features) ball points → (..., out_features) ball points.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        c: float = 1.0,
        use_bias: bool = True,
        param_dtype=jnp.float32,
        kernel_init=_default_init,
        rngs: nnx.Rngs,
    ):
        self.manifold = PoincareBall(c)
        kernel = kernel_init(rngs.params(), (in_features, out_features), param_dtype)
        self.weight = nnx.Param(kernel.T)
        self.bias = (
            ManifoldParam(jnp.zeros((out_features,), param_dtype), manifold=self.manifold)
            if use_bias
            else None
        )

    def __call__(self, x):
        bias = None if self.bias is None else self.bias[...]
        return F.mobius_linear(x, self.weight[...], bias, c=self.manifold.c)


class HyperbolicMLR(nnx.Module):
    """Hyperbolic multiclass logistic regression ([G18] §3.1): logits (..., num_classes) of ball points.

    Parameters: offsets p_k (a ManifoldParam on ``PoincareBall(c)``, init at the origin) and normals a'_k at
    the origin (Euclidean, init N(0, 1/in_features)); see :func:`geomrep.nn.functional.hyperbolic_mlr_logits`.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        c: float = 1.0,
        param_dtype=jnp.float32,
        normal_init=_default_init,
        rngs: nnx.Rngs,
    ):
        self.manifold = PoincareBall(c)
        self.offsets = ManifoldParam(
            jnp.zeros((num_classes, in_features), param_dtype), manifold=self.manifold
        )
        self.normals = nnx.Param(normal_init(rngs.params(), (in_features, num_classes), param_dtype).T)

    def __call__(self, x):
        return F.hyperbolic_mlr_logits(x, self.offsets[...], self.normals[...], c=self.manifold.c)
