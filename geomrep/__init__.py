"""geomrep: a pure-functional JAX framework for geometric representation learning.

Layers (imports go downward only): manifolds (L0) <- optim (L1) <- embed, data (L2) <- train (L3).
"""

from geomrep import manifolds, optim  # the L0/L1 core, so `import geomrep; geomrep.manifolds.poincare` works

__version__ = "0.1.0"

__all__ = ["manifolds", "optim", "__version__"]
