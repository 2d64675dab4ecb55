"""geomrep.nn (L2): neural-network layers on curved spaces as flax NNX modules.

Pure math lives in :mod:`geomrep.nn.functional` (jittable ``jax.numpy`` functions); the modules are thin
wrappers around it. Parameters on manifolds are :class:`ManifoldParam`; :func:`manifold_labels_of` turns a
module's parameter state into the label pytree that ``geomrep.optim`` retracts with.
"""

from geomrep.nn import functional
from geomrep.nn.hyperbolic import HyperbolicMLR, MobiusLinear
from geomrep.nn.parameters import ManifoldParam, manifold_labels_of

__all__ = [
    "HyperbolicMLR",
    "ManifoldParam",
    "MobiusLinear",
    "functional",
    "manifold_labels_of",
]
