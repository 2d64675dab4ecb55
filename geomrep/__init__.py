"""geomrep: a pure-functional JAX framework for geometric representation learning.

Layers (imports go downward only): manifolds (L0) <- optim (L1) <- embed, data (L2) <- train (L3).
"""

__version__ = "0.1.0"
