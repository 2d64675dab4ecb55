"""Embedding methods and their metrics (layer L2).

- :mod:`geomrep.embed.poincare`: Poincaré / Lorentz / Euclidean embeddings of a transitive closure trained with
  negative sampling (Nickel & Kiela 2017; Nickel & Kiela 2018 for the Lorentz model).
- :mod:`geomrep.embed.metrics`: reconstruction metrics (mean rank and MAP of a closure, the reference protocol).
- :mod:`geomrep.embed.plots`: pictures of embeddings in the Poincaré disk.
"""
