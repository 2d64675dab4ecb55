"""Complex irreducible characters of a finite group by Burnside's algorithm, with Frobenius–Schur indicators.

This needs only the Cayley table and the conjugacy classes, never a representation, so it is cheap for any
group (O(|G|·r) to count, an r × r eigenproblem for r classes; O(r²) memory) and serves as
an independent check of :mod:`geomrep.algebra.irreps` (notes C2, "character table only").

Algorithm (Burnside 1911; Dixon 1967 is its modular variant). With classes C_1 = {e}, ..., C_r, representatives
z_k and class constants c_ijk = #{x ∈ C_i : x⁻¹z_k ∈ C_j}, every irreducible χ gives central characters
ω(C_i) = |C_i|χ(C_i)/χ(1) with ω(C_i)ω(C_j) = Σ_k c_ijk ω(C_k): ω is a common eigenvector of the matrices
(M_i)_{jk} = c_ijk, normalised by ω(C_1) = 1. A random combination Σ_i a_i M_i separates them; then

    χ(1)² = |G| / Σ_i |ω(C_i)|²/|C_i|,      χ(C_i) = χ(1)·ω(C_i)/|C_i|,

and the Frobenius–Schur indicator is ν(χ) = (1/|G|) Σ_g χ(g²) ∈ {1, 0, −1} (real, complex, quaternionic).

Example:
    >>> from geomrep.algebra import groups
    >>> t = burnside_character_table(groups.quaternion())
    >>> t.degrees.tolist(), t.indicators.tolist()
    ([1, 1, 1, 1, 2], [1, 1, 1, 1, -1])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from geomrep.algebra.groups import Group

__all__ = ["ComplexCharacterTable", "burnside_character_table"]

_MAX_DRAWS = 20
# Eigenvalues of the random class-matrix mix must be this far apart (relative to the largest).
_GAP_TOL = 1e-9
# The computed characters must be orthonormal to this tolerance.
_ORTHO_TOL = 1e-8


class ComplexCharacterTable(NamedTuple):
    """The complex irreducible characters on the conjugacy classes (columns = ``group.conjugacy_classes``).

    Rows: trivial first, then by degree, indicator (real, complex, quaternionic) and values.
    """

    values: np.ndarray  # complex128 (r, r): χ(C)
    degrees: np.ndarray  # int64 (r,): χ(1)
    indicators: np.ndarray  # int64 (r,): Frobenius–Schur ν(χ) ∈ {1, 0, −1}
    class_sizes: np.ndarray  # int64 (r,)


def _mixed_class_matrix(group: Group, a: np.ndarray) -> np.ndarray:
    """Σ_i a_i M_i with (M_i)_{jk} = c_ijk = #{x ∈ C_i : x⁻¹∘z_k ∈ C_j} (z_k the first element of class k),
    accumulated over the elements x directly: O(|G|·r) time, O(r²) memory (never the r³ constants)."""
    r = len(group.conjugacy_classes)
    cls = group.class_index
    mixed = np.zeros((r, r))
    weights = a[cls]
    for k, members in enumerate(group.conjugacy_classes):
        y = group.table[group.inverses, int(members[0])]  # x⁻¹∘z_k over all x
        mixed[:, k] = np.bincount(cls[y], weights=weights, minlength=r)
    return mixed


def burnside_character_table(group: Group, *, seed: int = 0) -> ComplexCharacterTable:
    """The complex character table of ``group`` by Burnside's algorithm (see the module docstring).

    Raises:
        ArithmeticError: no draw separated the characters (probability ~0; the message says so).
    """
    if not isinstance(group, Group):
        raise TypeError(f"burnside_character_table: expected a Group, got {type(group).__name__}")
    n = group.order
    sizes = np.array([len(c) for c in group.conjugacy_classes], dtype=np.int64)
    r = len(sizes)
    rng = np.random.default_rng(seed)
    for _ in range(_MAX_DRAWS):
        eigenvalues, vecs = np.linalg.eig(_mixed_class_matrix(group, rng.standard_normal(r)))
        # The M_i commute, so with a simple spectrum every eigenvector of the mix is a common eigenvector.
        gaps = np.abs(eigenvalues[:, None] - eigenvalues[None, :])
        np.fill_diagonal(gaps, np.inf)
        if r == 1 or gaps.min() > _GAP_TOL * (np.abs(eigenvalues).max() + 1.0):
            break
    else:
        raise ArithmeticError(
            f"{group.name}: Burnside's algorithm did not separate the characters in {_MAX_DRAWS} draws"
        )
    omega = vecs / vecs[0]  # ω(C_1) = ω({e}) = 1
    degrees = np.sqrt(n / np.sum(np.abs(omega) ** 2 / sizes[:, None], axis=0))
    values = (degrees[None, :] * omega / sizes[:, None]).T  # rows = characters
    degrees_int = np.rint(degrees).astype(np.int64)
    squares = group.class_index[group.table[np.arange(n), np.arange(n)]]
    reps = np.array([int(m[0]) for m in group.conjugacy_classes])
    square_class = squares[reps]
    indicators = np.real(values[:, square_class] @ sizes) / n
    indicators_int = np.rint(indicators).astype(np.int64)
    gram = (values * sizes) @ values.conj().T / n  # ⟨χ_i, χ_j⟩
    if (
        np.abs(degrees - degrees_int).max() > 1e-6
        or np.abs(indicators - indicators_int).max() > 1e-6
        or np.abs(gram - np.eye(r)).max() > _ORTHO_TOL
    ):
        raise ArithmeticError(
            f"{group.name}: Burnside's algorithm lost precision (non-integral degrees or indicators)"
        )
    trivial = np.argmin(np.abs(values - 1).max(axis=1))
    order = sorted(
        range(r),
        key=lambda i: (
            i != trivial,
            degrees_int[i],
            -indicators_int[i],
            tuple(-np.round(values[i].real, 8)),
            tuple(-np.round(values[i].imag, 8)),
        ),
    )
    return ComplexCharacterTable(
        values=values[order], degrees=degrees_int[order], indicators=indicators_int[order], class_sizes=sizes
    )
