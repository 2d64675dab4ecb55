"""geomrep.nn (L2): neural-network layers on curved spaces as flax NNX modules.

Pure math lives in :mod:`geomrep.nn.functional` (jittable ``jax.numpy`` functions); the modules are thin
wrappers around it:

- hyperbolic (Ganea et al. 2018): :class:`MobiusLinear`, :class:`HyperbolicMLR`;
- SPD (Huang & Van Gool 2017; Nguyen & Yang 2023; Nguyen et al. 2024): :class:`BiMap`, :class:`ReEig`,
  :class:`LogEig`, :class:`SPDGyroFC`, :class:`SPDGyroMLR` (metric "ai" | "le" | "lc");
- Grassmann (ONB view): :class:`GrassmannFC`, :class:`GrassmannMLR`.

Parameters on manifolds are :class:`ManifoldParam`; :func:`manifold_labels_of` turns a module's parameter state
into the label pytree that ``geomrep.optim`` retracts with::

    graphdef, params = nnx.split(model, nnx.Param)
    labels = manifold_labels_of(params)
    tx = geomrep.optim.radam(1e-2, labels)
    ...
    params = geomrep.optim.apply_updates(params, updates, labels)
"""

from geomrep.nn import functional
from geomrep.nn.grassmann import GrassmannFC, GrassmannMLR
from geomrep.nn.hyperbolic import HyperbolicMLR, MobiusLinear
from geomrep.nn.parameters import ManifoldParam, manifold_labels_of
from geomrep.nn.spd import BiMap, LogEig, ReEig, SPDGyroFC, SPDGyroMLR

__all__ = [
    "BiMap",
    "GrassmannFC",
    "GrassmannMLR",
    "HyperbolicMLR",
    "LogEig",
    "ManifoldParam",
    "MobiusLinear",
    "ReEig",
    "SPDGyroFC",
    "SPDGyroMLR",
    "functional",
    "manifold_labels_of",
]
