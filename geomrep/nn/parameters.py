"""Parameters that live on a manifold, and the label pytree that tells ``geomrep.optim`` how to move them.

A layer declares such a parameter as ``ManifoldParam(value, manifold=SPD(n, "ai"))``: an ``nnx.Param`` (so
``nnx.split(model, nnx.Param)``, ``nnx.Optimizer(..., wrt=nnx.Param)`` and checkpoints treat it like any other
parameter) carrying the manifold value as metadata. :func:`manifold_labels_of` reads that metadata back into the
label pytree ``geomrep.optim`` wants: one manifold value per parameter, ``Euclidean()`` for plain ``nnx.Param``.

>>> import jax, jax.numpy as jnp
>>> from flax import nnx
>>> from geomrep.manifolds import PoincareBall
>>> from geomrep.optim import apply_updates, radam
>>> class Layer(nnx.Module):
...     def __init__(self):
...         self.bias = ManifoldParam(jnp.zeros(2), manifold=PoincareBall(1.0))
...         self.weight = nnx.Param(jnp.ones((2, 2)))
>>> graphdef, params = nnx.split(Layer(), nnx.Param)
>>> labels = manifold_labels_of(params)
>>> labels["bias"], labels["weight"]
(PoincareBall(c=1.0), Euclidean())
>>> tx = radam(0.1, labels)
>>> updates, _ = tx.update(jax.tree.map(jnp.ones_like, params), tx.init(params), params)
>>> new = apply_updates(params, updates, labels)          # bias moved by the exponential map of the ball
>>> bool(jnp.linalg.norm(new["bias"][...]) < 1.0)
True
"""

from __future__ import annotations

import jax
from flax import nnx

from geomrep.manifolds import Euclidean

__all__ = ["ManifoldParam", "manifold_labels_of"]


class ManifoldParam(nnx.Param):
    """An ``nnx.Param`` whose value is a point (or a batch of points) of ``manifold``.

    Construct with the manifold as keyword metadata: ``ManifoldParam(value, manifold=Stiefel(30, 15))``.
    The value's trailing ``manifold.point_ndim`` axes are one point; leading axes are independent points
    (e.g. K class parameters ``[K, n, n]`` on ``SPD(n, metric)``). The metadata is static: it survives
    ``nnx.split``/``nnx.merge`` and jit, and is not saved in checkpoints (the module definition recreates it).
    """

    def __init__(self, value, *, manifold, **metadata):
        if manifold is None:
            raise ValueError("ManifoldParam needs a manifold value, e.g. manifold=PoincareBall(1.0)")
        super().__init__(value, manifold=manifold, **metadata)


def _is_variable(x) -> bool:
    return isinstance(x, nnx.Variable)


def manifold_labels_of(params, default=None):
    """The ``geomrep.optim`` label pytree of an ``nnx.State`` (or of a module): one manifold per parameter.

    Args:
      params: an ``nnx.State`` such as the second result of ``nnx.split(model, nnx.Param)``, or an
        ``nnx.Module`` (its ``nnx.Param`` state is used).
      default: manifold for plain (non-manifold) parameters; ``Euclidean()`` when None.

    Returns:
      A tree with the structure of ``params`` in which every variable is replaced by its manifold value
      (``ManifoldParam``'s ``manifold`` metadata, ``default`` otherwise). It is a prefix of ``params``, which is
      what ``geomrep.optim.radam/rsgd`` and ``geomrep.optim.apply_updates`` take.
    """
    if isinstance(params, nnx.Module):
        params = nnx.state(params, nnx.Param)
    default = Euclidean() if default is None else default

    def label(variable):
        if not _is_variable(variable):
            raise TypeError(
                "manifold_labels_of expects an nnx.State of variables (e.g. nnx.split(model, nnx.Param)[1]); "
                f"found a bare {type(variable).__name__} leaf"
            )
        return variable.get_metadata().get("manifold", default)

    return jax.tree.map(label, params, is_leaf=_is_variable)
