"""Algebraic tasks and their representation theory (layer L2).

Exact, training-free part (Morwani et al. 2023 §6 and App. G; Chughtai et al. 2023 §3):

- :mod:`geomrep.algebra.groups`: finite groups as Cayley tables — ``cyclic``, ``dihedral``, ``symmetric``,
  ``alternating``, ``direct_product``, ``from_cayley_table`` (validated), ``klein_four``, ``quaternion``.
- :mod:`geomrep.algebra.irreps`: the real irreducible orthogonal representations of a finite group with their
  Frobenius–Schur type, and the character table (closed forms for Z_n, D_n, Young's orthogonal form for S_n,
  a generic numerical method for any small group).
- :mod:`geomrep.algebra.characters`: complex character tables and Frobenius–Schur indicators by Burnside's
  algorithm (an independent check of the irreps, and character tables beyond the generic method's size limit).
- :mod:`geomrep.algebra.fourier`: the group Fourier transform, its inverse, and the per-irrep (per-frequency
  for Z_n) power of weight vectors.

Tasks, models, margins and analysis build on these (see the other modules of this package).
Submodules are imported explicitly, e.g. ``from geomrep.algebra import groups``.
"""
