"""Burnside's character table: orthogonality, degrees, Frobenius–Schur indicators, and agreement with the
characters of the real irreps built by geomrep.algebra.irreps (an independent method)."""

import numpy as np
import pytest

from geomrep.algebra import characters, groups
from geomrep.algebra import irreps as ir

KIND_OF_INDICATOR = {1: "real", 0: "complex", -1: "quaternionic"}

GROUPS = {
    "S3": lambda: groups.symmetric(3),
    "S4": lambda: groups.symmetric(4),
    "S5": lambda: groups.symmetric(5),
    "S6": lambda: groups.symmetric(6),
    "A4": lambda: groups.alternating(4),
    "A5": lambda: groups.alternating(5),
    "D8": lambda: groups.dihedral(8),
    "D9": lambda: groups.dihedral(9),
    "Q8": groups.quaternion,
    "Z7": lambda: groups.cyclic(7),
    "Z2^3": lambda: groups.direct_product(groups.klein_four(), groups.cyclic(2)),
    "S3xZ3": lambda: groups.direct_product(groups.symmetric(3), groups.cyclic(3)),
    "Q8xZ3": lambda: groups.direct_product(groups.quaternion(), groups.cyclic(3)),
}


def _real_rows(table: characters.ComplexCharacterTable) -> list[tuple]:
    """The real-irrep characters implied by the complex table: χ, χ + χ̄ (once per pair) and 2χ."""
    rows = set()
    for chi, nu in zip(table.values, table.indicators, strict=True):
        real = {1: chi.real, 0: 2 * chi.real, -1: 2 * chi.real}[int(nu)]
        rows.add((*np.round(real, 8).tolist(), KIND_OF_INDICATOR[int(nu)]))
    return sorted(rows)


@pytest.mark.parametrize("name", list(GROUPS))
def test_burnside_table_is_orthonormal_and_matches_the_irreps(name):
    g = GROUPS[name]()
    t = characters.burnside_character_table(g)
    n, sizes = g.order, t.class_sizes
    r = len(g.conjugacy_classes)
    assert t.values.shape == (r, r)
    assert np.allclose((t.values * sizes) @ t.values.conj().T / n, np.eye(r), atol=1e-10)  # rows
    assert np.allclose(t.values.conj().T @ t.values, np.diag(n / sizes), atol=1e-9)  # columns
    assert int(np.sum(t.degrees**2)) == n
    assert np.allclose(t.values[:, 0], t.degrees) and np.allclose(t.values[0], 1.0)
    real_table = ir.character_table(g)
    from_irreps = sorted(
        (*np.round(v, 8).tolist(), kind) for v, kind in zip(real_table.values, real_table.kinds, strict=True)
    )
    assert _real_rows(t) == from_irreps


def test_known_degrees_and_indicators():
    q = characters.burnside_character_table(groups.quaternion())
    assert q.degrees.tolist() == [1, 1, 1, 1, 2] and q.indicators.tolist() == [1, 1, 1, 1, -1]
    a4 = characters.burnside_character_table(groups.alternating(4))
    assert a4.degrees.tolist() == [1, 1, 1, 3] and a4.indicators.tolist() == [1, 0, 0, 1]
    s6 = characters.burnside_character_table(groups.symmetric(6))
    assert s6.degrees.tolist() == [1, 1, 5, 5, 5, 5, 9, 9, 10, 10, 16] and set(s6.indicators.tolist()) == {1}


def test_character_table_falls_back_to_burnside_beyond_the_generic_limit(monkeypatch):
    g = groups.from_cayley_table(groups.alternating(4).table, name="A4-bare")
    ir._irreps_cached.cache_clear()
    expected = ir.character_table(g)  # from the generic method's irreps
    monkeypatch.setattr(ir, "GENERIC_MAX_ORDER", 5)
    ir._irreps_cached.cache_clear()
    with pytest.raises(ir.GroupTooLargeError, match="GENERIC_MAX_ORDER = 5"):
        ir.irreps(g)
    t = ir.character_table(g)
    assert t.names == expected.names == ("trivial", "2d", "3d")
    assert t.kinds == expected.kinds == ("real", "complex", "real")
    assert np.allclose(t.values, expected.values, atol=1e-10)
    assert np.array_equal(t.class_sizes, expected.class_sizes)
    ir._irreps_cached.cache_clear()


def test_bad_input():
    with pytest.raises(TypeError, match="Group"):
        characters.burnside_character_table(np.eye(3))
