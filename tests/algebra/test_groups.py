"""Groups: every constructor yields a group (hypothesis over random triples), the stated conventions hold, and
tables that are not groups are refused with the axiom and the elements named."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.algebra import groups
from geomrep.algebra.groups import CayleyTableError

CONSTRUCTORS = {
    "cyclic": (groups.cyclic, range(1, 13)),
    "dihedral": (groups.dihedral, range(1, 13)),
    "symmetric": (groups.symmetric, range(1, 6)),
    "alternating": (groups.alternating, range(1, 6)),
}


def _group(family: str, n: int) -> groups.Group:
    if family == "product":
        return groups.direct_product(groups.symmetric(3), groups.cyclic(n))
    return CONSTRUCTORS[family][0](n)


@st.composite
def group_and_elements(draw):
    family = draw(st.sampled_from([*CONSTRUCTORS, "product"]))
    ns = range(1, 5) if family == "product" else CONSTRUCTORS[family][1]
    g = _group(family, draw(st.sampled_from(list(ns))))
    a, b, c = (draw(st.integers(0, g.order - 1)) for _ in range(3))
    return g, a, b, c


@settings(max_examples=200, deadline=None)
@given(group_and_elements())
def test_group_axioms_hold_for_constructed_groups(args):
    g, a, b, c = args
    t = g.table
    assert t[t[a, b], c] == t[a, t[b, c]]
    assert t[g.identity, a] == a and t[a, g.identity] == a
    assert t[a, g.inverses[a]] == g.identity and t[g.inverses[a], a] == g.identity
    # a's class contains b∘a∘b⁻¹, and a^order(a) = e
    assert g.class_index[t[t[b, a], g.inverses[b]]] == g.class_index[a]
    power = g.identity
    for _ in range(int(g.element_orders[a])):
        power = t[power, a]
    assert power == g.identity


@pytest.mark.parametrize(
    "g",
    [
        groups.symmetric(4),
        groups.dihedral(6),
        groups.alternating(5),
        groups.quaternion(),
        groups.klein_four(),
    ],
    ids=lambda g: g.name,
)
def test_tables_are_latin_squares_and_associative_exhaustively(g):
    n = g.order
    t = g.table
    assert all(sorted(row) == list(range(n)) for row in t.tolist())
    assert all(sorted(col) == list(range(n)) for col in t.T.tolist())
    assert np.array_equal(
        t[t, :][np.arange(n)[:, None, None], np.arange(n)[None, :, None], np.arange(n)],
        t[:, t][np.arange(n)[:, None, None], np.arange(n)[None, :, None], np.arange(n)],
    )


def test_orders_and_class_counts():
    expected = {  # (order, number of conjugacy classes)
        "Z7": (7, 7), "D5": (10, 4), "D6": (12, 6), "S3": (6, 3), "S4": (24, 5), "S5": (120, 7),
        "S6": (720, 11), "A4": (12, 4), "A5": (60, 5), "Q8": (8, 5), "V4": (4, 4), "S3xZ3": (18, 9),
    }  # fmt: skip
    built = [
        groups.cyclic(7),
        groups.dihedral(5),
        groups.dihedral(6),
        groups.symmetric(3),
        groups.symmetric(4),
        groups.symmetric(5),
        groups.symmetric(6),
        groups.alternating(4),
        groups.alternating(5),
        groups.quaternion(),
        groups.klein_four(),
        groups.direct_product(groups.symmetric(3), groups.cyclic(3)),
    ]
    got = {g.name: (g.order, len(g.conjugacy_classes)) for g in built}
    assert got == expected
    for g in built:
        assert sum(len(c) for c in g.conjugacy_classes) == g.order
        assert list(g.conjugacy_classes[0]) == [g.identity]
        assert all(g.order % len(c) == 0 for c in g.conjugacy_classes)


def test_s5_class_sizes_are_the_cycle_type_counts():
    g = groups.symmetric(5)
    # cycle types 1⁵, 2, 2², 3, 3·2, 4, 5 have 1, 10, 15, 20, 20, 30, 24 elements
    assert sorted(len(c) for c in g.conjugacy_classes) == [1, 10, 15, 20, 20, 24, 30]


def test_permutations_compose_as_functions():
    g = groups.symmetric(4)
    perms = g.permutations
    assert perms.shape == (24, 4)
    assert [tuple(p) for p in perms.tolist()] == list(itertools.permutations(range(4)))
    for a, b in itertools.product(range(24), repeat=2):
        assert perms[g.table[a, b]].tolist() == perms[a][perms[b]].tolist()  # (σ∘τ)(x) = σ(τ(x))
    assert g.labels[g.identity] == "e" and g.identity == 0


def test_alternating_is_the_even_permutations():
    g = groups.alternating(5)
    assert g.order == 60
    inversions = [
        sum(p[i] > p[j] for i in range(5) for j in range(i + 1, 5)) for p in g.permutations.tolist()
    ]
    assert all(k % 2 == 0 for k in inversions)


def test_dihedral_convention_matches_affine_maps_of_zn():
    n = 7
    g = groups.dihedral(n)

    def as_map(i):  # r^k s^e acts on Z_n as x ↦ k + (−1)^e x
        k, e = i % n, i // n
        return tuple((k + (-1) ** e * x) % n for x in range(n))

    maps = [as_map(i) for i in range(2 * n)]
    assert len(set(maps)) == 2 * n
    for a, b in itertools.product(range(2 * n), repeat=2):
        assert maps[g.table[a, b]] == tuple(maps[a][maps[b][x]] for x in range(n))
    assert g.labels[:3] == ("e", "r", "r^2") and g.labels[n] == "s" and g.labels[n + 1] == "r s"


def test_cyclic_and_product_tables():
    z = groups.cyclic(5)
    assert np.array_equal(z.table, (np.arange(5)[:, None] + np.arange(5)) % 5)
    s3, z3 = groups.symmetric(3), groups.cyclic(3)
    p = groups.direct_product(s3, z3)
    for a, b in itertools.product(range(18), repeat=2):
        assert p.table[a, b] == s3.table[a // 3, b // 3] * 3 + z3.table[a % 3, b % 3]
    assert p.labels[4] == "((1 2),1)"


def test_quaternion_relations():
    q = groups.quaternion()
    idx = {label: i for i, label in enumerate(q.labels)}
    mul = lambda x, y: q.labels[q.table[idx[x], idx[y]]]  # noqa: E731
    assert mul("i", "i") == mul("j", "j") == mul("k", "k") == "-1"
    assert mul("i", "j") == "k" and mul("j", "i") == "-k" and mul("j", "k") == "i" and mul("k", "i") == "j"
    assert mul("-1", "-1") == "1" and not q.is_abelian


def test_groups_are_hashable_values():
    assert groups.symmetric(3) == groups.symmetric(3)
    assert hash(groups.dihedral(4)) == hash(groups.dihedral(4))
    assert groups.dihedral(3) != groups.symmetric(3)  # isomorphic, different tables
    with pytest.raises(ValueError, match="read-only"):
        groups.cyclic(3).table[0, 0] = 1


def test_from_cayley_table_accepts_a_relabelled_group():
    s3 = groups.symmetric(3)
    rng = np.random.default_rng(0)
    perm = rng.permutation(6)  # new index of old element i is perm[i]
    inv = np.argsort(perm)
    table = perm[s3.table[inv][:, inv]]
    g = groups.from_cayley_table(table, name="S3'")
    assert g.order == 6 and g.identity == perm[s3.identity] and not g.is_abelian
    assert sorted(len(c) for c in g.conjugacy_classes) == [1, 2, 3]


@pytest.mark.parametrize("n", [0, -3])
@pytest.mark.parametrize("ctor", [groups.cyclic, groups.dihedral, groups.symmetric, groups.alternating])
def test_n_below_one_is_refused(ctor, n):
    with pytest.raises(ValueError, match=">= 1"):
        ctor(n)


def test_too_large_permutation_degree_is_refused():
    with pytest.raises(ValueError, match="<= 7"):
        groups.symmetric(8)
    with pytest.raises(TypeError):
        groups.cyclic(2.0)


def _z4_broken(a, b, value):
    t = np.array(groups.cyclic(4).table)
    t[a, b] = value
    return t


@pytest.mark.parametrize(
    "table, axiom, elements, words",
    [
        ([[0, 1], [1, 2]], "closure", (1, 1), "table[1, 1] = 2"),
        ([[0, 1], [1, -1]], "closure", (1, 1), "table[1, 1] = -1"),
        ([[0, 1], [0, 1]], "identity", (), "left identity"),
        ([[0, 0], [1, 1]], "identity", (), "right identity"),  # x∘y = x
        ([[0, 1, 2], [1, 1, 1], [2, 1, 0]], "inverses", (1,), "element 1"),
        (_z4_broken(1, 2, 0), "associativity", None, "associativity fails"),
        ([[0, 1, 2], [1, 2, 2], [2, 2, 2]], "inverses", (1,), "element 1"),
    ],
)
def test_bad_tables_name_axiom_and_elements(table, axiom, elements, words):
    with pytest.raises(CayleyTableError, match=axiom) as info:
        groups.from_cayley_table(table)
    err = info.value
    assert err.axiom == axiom and words in str(err)
    if elements is not None:
        assert err.elements == elements
    if axiom == "associativity":
        x, y, z = err.elements
        t = np.asarray(table)
        assert t[t[x, y], z] != t[x, t[y, z]]  # the named triple really fails


def test_bad_shapes_and_labels():
    with pytest.raises(CayleyTableError, match="square"):
        groups.from_cayley_table(np.zeros((2, 3), dtype=int))
    with pytest.raises(CayleyTableError, match="integers"):
        groups.from_cayley_table(np.array([["a"]]))
    with pytest.raises(CayleyTableError, match="not an element index"):
        groups.from_cayley_table(np.array([[0.0, 1.0], [1.0, 0.5]]))
    with pytest.raises(CayleyTableError, match="share the label"):
        groups.from_cayley_table([[0, 1], [1, 0]], labels=["x", "x"])
    with pytest.raises(CayleyTableError, match="labels"):
        groups.from_cayley_table([[0, 1], [1, 0]], labels=["x"])


def test_trivial_groups():
    for g in (groups.cyclic(1), groups.symmetric(1), groups.alternating(2), groups.from_cayley_table([[0]])):
        assert g.order == 1 and g.identity == 0 and len(g.conjugacy_classes) == 1
    assert groups.dihedral(1).order == 2 and groups.dihedral(2).is_abelian
    assert groups.symmetric(4).order == math.factorial(4)
