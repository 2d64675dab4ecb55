"""Real irreps: homomorphism, orthogonality, irreducibility (commutant dimension 1, 2, 4 by kind), completeness
(Σ d²/k = |G|), distinct characters, Frobenius–Schur indicators, trivial first, and the generic method against
the closed forms on relabelled tables."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.algebra import groups
from geomrep.algebra import irreps as ir

TOL = 1e-10
COMMUTANT = {"real": 1, "complex": 2, "quaternionic": 4}
# (1/|G|) Σ_g χ_ρ(g²) of the real irrep: ν(χ) = 1; ν(χ) + ν(χ̄) = 0; 2ν(χ) = −2.
FROBENIUS_SCHUR = {"real": 1, "complex": 0, "quaternionic": -2}


def _z2_cubed():
    z2 = groups.cyclic(2)
    return groups.direct_product(groups.direct_product(z2, z2), z2)


def _relabelled(g: groups.Group, seed: int = 0) -> groups.Group:
    """The same group as a bare Cayley table with shuffled element indices (forces the generic method)."""
    perm = np.random.default_rng(seed).permutation(g.order)  # new index of old element i
    inv = np.argsort(perm)
    return groups.from_cayley_table(perm[g.table[inv][:, inv]], name=g.name + "'")


GROUPS = {
    **{f"S{n}": (lambda n=n: groups.symmetric(n)) for n in range(3, 7)},
    "A4": lambda: groups.alternating(4),
    "A5": lambda: groups.alternating(5),
    **{f"D{n}": (lambda n=n: groups.dihedral(n)) for n in range(3, 13)},
    "Z2^3": _z2_cubed,
    "Q8": groups.quaternion,
    "S3xZ3": lambda: groups.direct_product(groups.symmetric(3), groups.cyclic(3)),
    "Z7": lambda: groups.cyclic(7),
    "Z12": lambda: groups.cyclic(12),
    "Z3xZ4": lambda: groups.direct_product(groups.cyclic(3), groups.cyclic(4)),
    "Q8xZ3": lambda: groups.direct_product(groups.quaternion(), groups.cyclic(3)),
    "Q8xQ8": lambda: groups.direct_product(groups.quaternion(), groups.quaternion()),
    "A3": lambda: groups.alternating(3),
    "A6": lambda: groups.alternating(6),
    # the generic method on bare tables
    "S4-generic": lambda: _relabelled(groups.symmetric(4)),
    "A5-generic": lambda: _relabelled(groups.alternating(5)),
    "D6-generic": lambda: _relabelled(groups.dihedral(6)),
    "Z9-generic": lambda: _relabelled(groups.cyclic(9)),
    "A4-generic": lambda: _relabelled(groups.alternating(4)),
    "S3xZ3-generic": lambda: _relabelled(groups.direct_product(groups.symmetric(3), groups.cyclic(3))),
}


def _homomorphism_error(g: groups.Group, mats: np.ndarray) -> float:
    """max |ρ(a)ρ(b) − ρ(ab)| over all a and all b (order ≤ 120), or over all a and every generator b.

    The generator check is a proof too: ρ(a∘s) = ρ(a)ρ(s) for all a and generators s, with ρ(e) = I, gives
    ρ(a∘s₁∘…∘s_k) = ρ(a)ρ(s₁)…ρ(s_k) and ρ(s₁∘…∘s_k) = ρ(s₁)…ρ(s_k)."""
    err = float(np.abs(mats[g.identity] - np.eye(mats.shape[1])).max())
    right = range(g.order) if g.order <= 120 else g.generators
    for b in right:
        err = max(err, float(np.abs(mats @ mats[b] - mats[g.table[:, b]]).max()))
    return err


@pytest.fixture(scope="module", params=list(GROUPS), ids=list(GROUPS))
def group_and_irreps(request):
    g = GROUPS[request.param]()
    return g, ir.irreps(g)


def test_homomorphism_and_orthogonality(group_and_irreps):
    g, reps = group_and_irreps
    for r in reps:
        assert r.matrices.shape == (g.order, r.dim, r.dim) and r.matrices.dtype == np.float64
        assert _homomorphism_error(g, r.matrices) < TOL, r
        assert np.abs(r.matrices @ r.matrices.transpose(0, 2, 1) - np.eye(r.dim)).max() < TOL, r
        assert np.allclose(r.character, np.trace(r.matrices, axis1=1, axis2=2), atol=TOL)


def test_irreducibility_by_commutant_dimension(group_and_irreps):
    g, reps = group_and_irreps
    for r in reps:
        d = r.dim
        # The averaging map X ↦ (1/|G|) Σ_g ρ(g) X ρ(g)ᵀ is the orthogonal projector onto the commutant.
        avg = np.einsum("gij,gkl->ikjl", r.matrices, r.matrices).reshape(d * d, d * d) / g.order
        eig = np.linalg.eigvalsh((avg + avg.T) / 2)
        assert np.all(np.minimum(np.abs(eig), np.abs(eig - 1)) < TOL), r  # a projector
        assert int(np.sum(eig > 0.5)) == COMMUTANT[r.kind] == r.commutant_dim, r


def test_completeness_distinctness_and_frobenius_schur(group_and_irreps):
    g, reps = group_and_irreps
    assert sum(r.dim**2 / COMMUTANT[r.kind] for r in reps) == g.order
    chars = np.stack([r.character for r in reps])
    gram = chars @ chars.T / g.order  # ⟨χ_ρ, χ_σ⟩ = k_ρ δ_ρσ
    assert np.abs(gram - np.diag([COMMUTANT[r.kind] for r in reps])).max() < TOL
    squares = g.table[np.arange(g.order), np.arange(g.order)]
    for r in reps:
        assert abs(r.character[squares].sum() / g.order - FROBENIUS_SCHUR[r.kind]) < TOL, r
    # trivial first, and only once
    assert reps[0].name == "trivial" and reps[0].dim == 1 and np.allclose(reps[0].character, 1.0)
    assert not any(r.dim == 1 and np.allclose(r.character, 1.0) for r in reps[1:])
    assert len({r.name for r in reps}) == len(reps)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["S5", "S6", "A5", "D12", "Q8xZ3"]), st.data())
def test_homomorphism_on_random_pairs(name, data):
    g = GROUPS[name]()
    a = data.draw(st.integers(0, g.order - 1))
    b = data.draw(st.integers(0, g.order - 1))
    for r in ir.irreps(g):
        m = r.matrices
        assert np.abs(m[a] @ m[b] - m[g.table[a, b]]).max() < TOL
        assert np.abs(m[g.inverses[a]] - m[a].T).max() < TOL


def _dims(g):
    return sorted(r.dim for r in ir.irreps(g))


def test_known_dimensions_and_types():
    assert _dims(groups.symmetric(5)) == [1, 1, 4, 4, 5, 5, 6]
    assert _dims(groups.symmetric(6)) == [1, 1, 5, 5, 5, 5, 9, 9, 10, 10, 16]
    assert _dims(groups.alternating(5)) == [1, 3, 3, 4, 5]
    assert _dims(groups.dihedral(5)) == [1, 1, 2, 2]
    assert _dims(groups.dihedral(6)) == [1, 1, 1, 1, 2, 2]
    assert [(r.dim, r.kind) for r in ir.irreps(groups.alternating(4))] == [
        (1, "real"),
        (3, "real"),
        (2, "complex"),
    ]
    assert [(r.dim, r.kind) for r in ir.irreps(groups.quaternion())][-1] == (4, "quaternionic")
    for g in (groups.symmetric(6), groups.alternating(5), groups.dihedral(12), _z2_cubed()):
        assert {r.kind for r in ir.irreps(g)} == {"real"}


def test_cyclic_irrep_k_is_frequency_k():
    for n in (7, 8):
        reps = ir.irreps(groups.cyclic(n))
        a = np.arange(n)
        assert len(reps) == n // 2 + 1
        for k, r in enumerate(reps):
            expected = np.cos(2 * np.pi * k * a / n) * (1 if r.dim == 1 else 2)
            assert np.allclose(r.character, expected, atol=TOL), (n, k, r)


def test_dihedral_two_dim_irreps_are_rotations_and_flips():
    n = 5
    g = groups.dihedral(n)
    freq2 = next(r for r in ir.irreps(g) if r.name == "freq2")
    theta = 2 * np.pi * 2 / n
    assert np.allclose(freq2.matrices[1], [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    assert np.allclose(freq2.matrices[n], np.diag([1.0, -1.0]))  # s


def _table_by_class(g, reps):
    """Character values on the classes, rows sorted, for comparing two labellings of one group."""
    reps_idx = [int(c[0]) for c in g.conjugacy_classes]
    return sorted(tuple(np.round(r.character[reps_idx], 8)) + (r.kind,) for r in reps)


@pytest.mark.parametrize(
    "build",
    [lambda: groups.symmetric(4), lambda: groups.alternating(5), lambda: groups.dihedral(7)],
    ids=["S4", "A5", "D7"],
)
def test_generic_method_matches_closed_forms(build):
    g = build()
    h = groups.from_cayley_table(g.table, labels=g.labels, name="bare")  # same table, no construction
    assert h.conjugacy_classes[1].tolist() == g.conjugacy_classes[1].tolist()
    assert _table_by_class(g, ir.irreps(g)) == _table_by_class(h, ir.irreps(h))


def test_character_table():
    g = groups.symmetric(4)
    t = ir.character_table(g)
    assert t.values.shape == (5, 5) and t.names[0] == "trivial"
    assert t.class_sizes.sum() == 24 and t.class_sizes[0] == 1
    weights = np.diag(t.class_sizes.astype(float))
    k = np.array([COMMUTANT[kind] for kind in t.kinds])
    assert np.allclose(t.values @ weights @ t.values.T, 24 * np.diag(k))
    assert np.allclose(t.values[:, 0], t.dims)
    # column orthogonality for the all-real-type S4
    assert np.allclose(t.values.T @ t.values, np.diag(24 / t.class_sizes))


def test_decompose_tensor_square_of_standard_s3():
    g = groups.symmetric(3)
    std = ir.irreps(g)[1]
    square = np.einsum("gij,gkl->gikjl", std.matrices, std.matrices).reshape(6, 4, 4)
    parts = ir.decompose(g, square)
    assert sorted(p.dim for p in parts) == [1, 1, 2]  # trivial ⊕ sign ⊕ standard


def test_generic_size_limit_is_reported():
    n = ir.GENERIC_MAX_ORDER + 1
    big = groups.from_cayley_table((np.arange(n)[:, None] + np.arange(n)) % n, name="bigZ")
    with pytest.raises(ir.GroupTooLargeError, match=f"GENERIC_MAX_ORDER = {ir.GENERIC_MAX_ORDER}"):
        ir.irreps(big)
    assert len(ir.irreps(groups.cyclic(n))) == n // 2 + 1  # the closed form has no limit


def test_bad_input():
    with pytest.raises(TypeError, match="Group"):
        ir.irreps(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="kind"):
        ir.Irrep("x", np.ones((2, 1, 1)), "imaginary")
    with pytest.raises(ValueError, match=r"\(6, N, N\)"):
        ir.decompose(groups.symmetric(3), np.ones((5, 2, 2)))
