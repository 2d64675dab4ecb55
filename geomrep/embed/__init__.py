"""Embedding methods and their metrics (layer L2).

- :mod:`geomrep.embed.poincare`: Poincaré / Lorentz / Euclidean embeddings of a transitive closure trained with
  negative sampling (Nickel & Kiela 2017; Nickel & Kiela 2018 for the Lorentz model).
- :mod:`geomrep.embed.metrics`: reconstruction metrics: ``closure_reconstruction`` (mean rank and MAP of a
  transitive closure, NK17's protocol), ``link_prediction`` (the same ranking of held-out pairs, filtered) and
  the graph metrics of Sala et al. 2018 (``graph_map``, ``average_distortion``, ``worst_case_distortion``,
  ``graph_distances``).
- :mod:`geomrep.embed.hmds`: h-MDS (Sala et al. 2018): a hyperbolic embedding of a distance matrix from the top
  eigenpairs of −cosh(t·D), exact when the distances are hyperbolic; ``pga_reduce`` truncates the rank.
- :mod:`geomrep.embed.plots`: pictures of embeddings in the Poincaré disk.
"""
