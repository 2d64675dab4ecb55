"""Real irreducible orthogonal representations of finite groups, their Frobenius–Schur types and characters.

:func:`irreps` returns, for a :class:`~geomrep.algebra.groups.Group`, one real orthogonal representation
ρ: G → O(d) per isomorphism class of *real* irreducible representations, the trivial one first. Every
complex irreducible character χ falls under exactly one of them, by its Frobenius–Schur indicator
ν(χ) = (1/|G|) Σ_g χ(g²):

- ``"real"`` (ν = +1): χ is the character of a real irrep of the same dimension; commutant End_G ≅ ℝ.
- ``"complex"`` (ν = 0): χ ≠ χ̄; the pair {χ, χ̄} is realised by *one* real irrep of dimension 2χ(1) with
  character χ + χ̄ (e.g. the rotation blocks of Z_n); commutant ≅ ℂ (real dimension 2).
- ``"quaternionic"`` (ν = −1): χ = χ̄ but no real form exists; 2χ is realised by one real irrep of dimension
  2χ(1) with character 2χ (the 4-dim real irrep of Q8); commutant ≅ ℍ (real dimension 4).

So the ``kind`` k ∈ {1, 2, 4} is ⟨χ_ρ, χ_ρ⟩ = (1/|G|)Σ_g χ_ρ(g)², the dimension of the commutant of ρ, and
Σ_ρ d_ρ²/k_ρ = |G| (completeness). Every matrix is float64, orthogonal (ρ(g⁻¹) = ρ(g)ᵀ), and
ρ(a)ρ(b) = ρ(a∘b) with the group's table.

How they are built (notes C2):

- Z_n: trivial; ``freq{k}``: the rotation by 2πka/n (k = 1..⌈n/2⌉−1, complex type); ``sign`` = (−1)^a for
  even n — so ``irreps(cyclic(n))[k]`` is frequency k.
- D_n (element r^k s^e): trivial; ``sign`` (s ↦ −1); for even n also ``rsign`` (r ↦ −1) and ``rsign*sign``;
  ``freq{k}``: r^j s^e ↦ rot(2πkj/n)·diag(1, −1)^e for k = 1..⌈n/2⌉−1, all of real type.
- S_n: Young's orthogonal form on standard Young tableaux, one irrep per partition λ of n (named ``"(3,1,1)"``;
  ``trivial`` = (n), ``sign`` = (1ⁿ)), partitions in decreasing lexicographic order.
- A_n: the S_n irreps restricted; a self-conjugate λ is split by the generic method.
- G × H: the tensor products ρ⊗σ; a product of two non-real-type irreps is reducible over ℝ and is split by the
  generic method (complex⊗complex gives two real irreps of complex type).
- Any other group (``from_cayley_table``, Q8): the *generic method* below, for orders up to
  :data:`GENERIC_MAX_ORDER`.

Generic method (for any representation ρ, in particular the regular one):

1. Isotypic components: the eigenspaces of a random symmetric central element Z = Σ_g c(g)ρ(g), with c a
   random class function and c(g) = c(g⁻¹) (Z acts on each real isotypic component by one scalar).
2. In each component V, a random symmetric element M of the commutant of ρ (for the regular representation,
   of the right-regular algebra); its top eigenvector v lies in one irreducible copy W = span{ρ(g)v}, found as
   the range of S = Σ_g ρ(g)vvᵀρ(g)ᵀ = (|G|‖v‖²/d_W)·projector onto W (Schur). A flat spectrum of S is checked
   (so a draw mixing two components is redrawn), and V must have the size d_W·⟨χ_W, χ_ρ⟩/(k_W|G|).
3. The type k_W = ⟨χ_W, χ_W⟩ ∈ {1, 2, 4} comes from the character of the found copy.

The regular representation is never materialised as |G| matrices: it acts by index gathers, and the irrep's
matrices are computed on the group's generators and extended over the Cayley graph.

Example:
    >>> from geomrep.algebra import groups, irreps as ir
    >>> [(r.name, r.dim, r.kind) for r in ir.irreps(groups.cyclic(5))]
    [('trivial', 1, 'real'), ('freq1', 2, 'complex'), ('freq2', 2, 'complex')]
    >>> [r.dim for r in ir.irreps(groups.symmetric(4))]
    [1, 3, 2, 3, 1]
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from geomrep.algebra import groups as _groups
from geomrep.algebra.characters import burnside_character_table
from geomrep.algebra.groups import Group

__all__ = [
    "GENERIC_MAX_ORDER",
    "CharacterTable",
    "GroupTooLargeError",
    "Irrep",
    "character_table",
    "decompose",
    "irreps",
]

# The generic method works on the |G| × |G| regular representation: O(|G|²) memory and O(|G|³) time (a few
# |G|×|G| products and one eigh; S6 as a bare table, |G| = 720: 3.7 s on the shared 2-core machine). Larger
# groups without a closed form are refused (character_table still works for them, by Burnside's algorithm).
GENERIC_MAX_ORDER = 1000
KINDS = ("real", "complex", "quaternionic")
_COMMUTANT_DIM = {"real": 1, "complex": 2, "quaternionic": 4}
# Draws of the random commutant element before giving up (a bad draw has probability ~0).
_MAX_DRAWS = 20
# ⟨χ, χ⟩ must be this close to 1, 2 or 4.
_KIND_TOL = 1e-6


class GroupTooLargeError(ValueError):
    """The group has no closed-form irreps here and is too large for the generic dense method."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Irrep:
    """A real irreducible orthogonal representation ρ of a finite group.

    Attributes:
        name: e.g. ``"trivial"``, ``"freq3"``, ``"(3,1,1)"``, ``"sign"``, ``"3d_a"``.
        matrices: float64 (order, dim, dim), ``matrices[g]`` = ρ(g); orthogonal; ρ(a)ρ(b) = ρ(table[a, b]).
            Read-only.
        kind: Frobenius–Schur type of the complex irrep(s) it realises: ``"real"``, ``"complex"`` or
            ``"quaternionic"`` (see the module docstring).
        character: float64 (order,), χ(g) = tr ρ(g). Read-only.
    """

    name: str
    matrices: np.ndarray
    kind: str
    character: np.ndarray = dataclasses.field(init=False)

    def __post_init__(self):
        mats = np.array(self.matrices, dtype=np.float64, copy=True)
        if mats.ndim != 3 or mats.shape[1] != mats.shape[2]:
            raise ValueError(
                f"Irrep {self.name!r}: matrices must be (order, dim, dim), got shape {mats.shape}"
            )
        if self.kind not in KINDS:
            raise ValueError(f"Irrep {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        mats.setflags(write=False)
        character = np.trace(mats, axis1=1, axis2=2)
        character.setflags(write=False)
        object.__setattr__(self, "matrices", mats)
        object.__setattr__(self, "character", character)

    @property
    def dim(self) -> int:
        """The real dimension d of ρ."""
        return int(self.matrices.shape[1])

    @property
    def commutant_dim(self) -> int:
        """dim_ℝ End_G(ρ) = ⟨χ, χ⟩: 1, 2 or 4 for real, complex and quaternionic type."""
        return _COMMUTANT_DIM[self.kind]

    @property
    def complex_dim(self) -> int:
        """The dimension χ(1) of the complex irrep(s) ρ realises: d for real type, d/2 otherwise."""
        return self.dim // (1 if self.kind == "real" else 2)

    def __repr__(self) -> str:
        return f"Irrep({self.name}, dim={self.dim}, kind={self.kind})"


def _kind(character: np.ndarray, what: str) -> str:
    norm = float(character @ character) / character.shape[0]
    for kind, k in _COMMUTANT_DIM.items():
        if abs(norm - k) < _KIND_TOL * k:
            return kind
    raise ArithmeticError(
        f"{what}: <chi, chi> = {norm} is not 1, 2 or 4: the representation is not irreducible"
    )


# --------------------------------------------------------------------------------------------------------------
# closed forms


def _rotation(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def _cyclic_irreps(n: int) -> list[Irrep]:
    a = np.arange(n)
    out = [Irrep("trivial", np.ones((n, 1, 1)), "real")]
    out += [Irrep(f"freq{k}", _rotation(2 * np.pi * k * a / n), "complex") for k in range(1, (n + 1) // 2)]
    if n % 2 == 0 and n > 1:
        out.append(Irrep("sign", ((-1.0) ** a)[:, None, None], "real"))
    return out


def _dihedral_irreps(n: int) -> list[Irrep]:
    idx = np.arange(2 * n)
    k, e = idx % n, idx // n
    one = lambda values: values.astype(np.float64)[:, None, None]  # noqa: E731
    out = [Irrep("trivial", np.ones((2 * n, 1, 1)), "real"), Irrep("sign", one((-1) ** e), "real")]
    if n % 2 == 0:
        out += [Irrep("rsign", one((-1) ** k), "real"), Irrep("rsign*sign", one((-1) ** (k + e)), "real")]
    flip = np.where(e == 1, -1.0, 1.0)
    for f in range(1, (n + 1) // 2):
        mats = _rotation(2 * np.pi * f * k / n)
        mats[:, :, 1] *= flip[:, None]  # rot · diag(1, (−1)^e)
        out.append(Irrep(f"freq{f}", mats, "real"))
    return out


def _partitions(n: int) -> list[tuple[int, ...]]:
    """Partitions of n in decreasing lexicographic order: (n), (n−1, 1), ..., (1ⁿ)."""

    def rec(rest: int, largest: int):
        if rest == 0:
            yield ()
            return
        for first in range(min(rest, largest), 0, -1):
            for tail in rec(rest - first, first):
                yield (first, *tail)

    return list(rec(n, n))


def _standard_tableaux(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Standard Young tableaux of the shape, each as rows[i] = the row holding the number i (0-based)."""
    n = sum(shape)
    out = []

    def rec(rows: tuple[int, ...], lengths: list[int]):
        if len(rows) == n:
            out.append(rows)
            return
        for r, cap in enumerate(shape):
            if lengths[r] < cap and (r == 0 or lengths[r] < lengths[r - 1]):
                lengths[r] += 1
                rec((*rows, r), lengths)
                lengths[r] -= 1

    rec((), [0] * len(shape))
    return out


def _young_generators(shape: tuple[int, ...]) -> list[np.ndarray]:
    """Young's orthogonal form ρ(s_i) of the adjacent transpositions s_i = (i i+1), i = 0..n−2.

    ρ(s_i)e_T = e_T if i, i+1 share a row of T, −e_T if they share a column, else
    (1/r)e_T + √(1 − 1/r²) e_{s_iT} with r = c(i+1) − c(i) the axial distance (content c = column − row).
    """
    tableaux = _standard_tableaux(shape)
    index = {t: j for j, t in enumerate(tableaux)}
    n, d = sum(shape), len(tableaux)
    columns = []
    for t in tableaux:
        col, filled = [0] * n, [0] * len(shape)
        for i, r in enumerate(t):
            col[i] = filled[r]
            filled[r] += 1
        columns.append(col)
    gens = []
    for i in range(n - 1):
        m = np.zeros((d, d))
        for j, (t, col) in enumerate(zip(tableaux, columns, strict=True)):
            if t[i] == t[i + 1]:
                m[j, j] = 1.0
            elif col[i] == col[i + 1]:
                m[j, j] = -1.0
            else:
                r = (col[i + 1] - t[i + 1]) - (col[i] - t[i])
                swapped = list(t)
                swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                m[j, j] = 1.0 / r
                m[index[tuple(swapped)], j] = np.sqrt(1.0 - 1.0 / r**2)
        gens.append(m)
    return gens


def _extend_from_generators(group: Group, generators: dict[int, np.ndarray]) -> np.ndarray:
    """ρ on every element from ρ on generators (element index → matrix), by breadth-first search on
    ρ(s∘x) = ρ(s)ρ(x). The generators must generate the group."""
    d = next(iter(generators.values())).shape[0]
    mats = np.zeros((group.order, d, d))
    done = np.zeros(group.order, dtype=bool)
    mats[group.identity] = np.eye(d)
    done[group.identity] = True
    frontier = np.array([group.identity])
    while frontier.size:
        reached = []
        for s, m in generators.items():
            targets = group.table[s, frontier]
            new = ~done[targets]
            targets, sources = targets[new], frontier[new]
            targets, first = np.unique(targets, return_index=True)
            mats[targets] = m @ mats[sources[first]]
            done[targets] = True
            reached.append(targets)
        frontier = np.concatenate(reached)
    if not done.all():
        raise ArithmeticError(f"{group.name}: the generators do not generate the group")
    return mats


def _partition_name(shape: tuple[int, ...]) -> str:
    n = sum(shape)
    if shape == (n,):
        return "trivial"
    if shape == (1,) * n and n > 1:
        return "sign"
    return "(" + ",".join(str(p) for p in shape) + ")"


def _symmetric_irreps(group: Group, n: int) -> list[Irrep]:
    if n == 1:
        return [Irrep("trivial", np.ones((1, 1, 1)), "real")]
    perms = group.permutations
    transposition_index = {}
    for i in range(n - 1):
        swap = np.arange(n)
        swap[[i, i + 1]] = [i + 1, i]
        transposition_index[i] = int(np.flatnonzero((perms == swap).all(axis=1))[0])
    out = []
    for shape in _partitions(n):
        gens = _young_generators(shape)
        mats = _extend_from_generators(group, {transposition_index[i]: g for i, g in enumerate(gens)})
        out.append(Irrep(_partition_name(shape), mats, "real"))
    return out


def _alternating_irreps(group: Group, n: int) -> list[Irrep]:
    if n <= 2:
        return [Irrep("trivial", np.ones((1, 1, 1)), "real")]
    sym = _groups.symmetric(n)
    codes = lambda p: p @ (n ** np.arange(n))  # noqa: E731
    lookup = {int(c): i for i, c in enumerate(codes(sym.permutations))}
    into_sym = np.array([lookup[int(c)] for c in codes(group.permutations)])
    out = []
    for rep, shape in zip(irreps(sym), _partitions(n), strict=True):
        conjugate = tuple(sum(1 for p in shape if p > j) for j in range(shape[0]))
        if conjugate > shape:
            continue  # λ and λ' restrict to the same irrep of A_n; keep the larger of the two
        mats = rep.matrices[into_sym]
        name = rep.name if rep.name != "sign" else "trivial"
        if conjugate != shape:
            out.append(Irrep(name, mats, "real"))
            continue
        parts = decompose(group, mats, name=name)
        suffixes = "ab" if len(parts) == 2 else [""]
        out += [
            Irrep(f"{name}{'_' + s if s else ''}", p.matrices, p.kind)
            for p, s in zip(parts, suffixes, strict=True)
        ]
    return out


def _product_irreps(group: Group, g: Group, h: Group) -> list[Irrep]:
    out = []
    for a, b in itertools.product(irreps(g), irreps(h)):
        mats = np.einsum("gij,hkl->ghikjl", a.matrices, b.matrices).reshape(
            group.order, a.dim * b.dim, a.dim * b.dim
        )
        name = "trivial" if a.name == b.name == "trivial" else f"{a.name}x{b.name}"
        if a.kind == "real" or b.kind == "real":
            kind = b.kind if a.kind == "real" else a.kind
            out.append(Irrep(name, mats, kind))
            continue
        parts = decompose(group, mats, name=name)
        if len(parts) == 1:
            out.append(Irrep(name, parts[0].matrices, parts[0].kind))
        else:
            out += [Irrep(f"{name}_{chr(97 + i)}", p.matrices, p.kind) for i, p in enumerate(parts)]
    return out


# --------------------------------------------------------------------------------------------------------------
# generic method


class _Action(NamedTuple):
    """A real orthogonal representation, given by what the generic method needs from it."""

    dim: int
    character: np.ndarray  # (|G|,) tr ρ(g)
    orbit: Callable[[np.ndarray], np.ndarray]  # v (N,) -> X (|G|, N), X[g] = ρ(g)v
    group_sum: Callable[[np.ndarray], np.ndarray]  # c (|G|,) -> Σ_g c_g ρ(g), (N, N)
    commutant: Callable[[np.random.Generator], np.ndarray]  # a random symmetric N×N commuting with every ρ(g)
    restrict: Callable[[np.ndarray], np.ndarray]  # B (N, d) -> (|G|, d, d), Bᵀρ(g)B


def _matrix_action(mats: np.ndarray) -> _Action:
    n_el, dim = mats.shape[0], mats.shape[1]

    def commutant(rng):
        a = rng.standard_normal((dim, dim))
        a = a + a.T
        return np.einsum("gij,jk,glk->il", mats, a, mats) / n_el

    return _Action(
        dim=dim,
        character=np.trace(mats, axis1=1, axis2=2),
        orbit=lambda v: mats @ v,
        group_sum=lambda c: np.einsum("g,gij->ij", c, mats),
        commutant=commutant,
        restrict=lambda b: np.einsum("ia,gij,jb->gab", b, mats, b),
    )


def _regular_action(group: Group) -> _Action:
    """The left-regular representation L(g)e_x = e_{g∘x}, acting by index gathers."""
    table, inv = group.table, group.inverses
    left_index = table[inv]  # [g, y] = g⁻¹∘y, so (L(g)v)[y] = v[g⁻¹∘y]
    quotient = table[:, inv]  # [x, y] = x∘y⁻¹, so (Σ_g c_g L(g))[x, y] = c[x∘y⁻¹]
    character = np.zeros(group.order)
    character[group.identity] = group.order

    def commutant(rng):
        # a random element of the right-regular algebra, which commutes with L: Σ_h a_h (R(h) + R(h)ᵀ),
        # R(h)[y, x] = [y = x∘h⁻¹]  ⇒  entry [y, x] = a[y⁻¹∘x] + a[x⁻¹∘y]
        a = rng.standard_normal(group.order)
        m = a[left_index]
        return m + m.T

    return _Action(
        dim=group.order,
        character=character,
        orbit=lambda v: v[left_index],
        group_sum=lambda c: c[quotient],
        commutant=commutant,
        # Bᵀ L(s) B on the generators only, then ρ(s∘x) = ρ(s)ρ(x) over the Cayley graph: O(|G|d³), no |G|²d gather.
        restrict=lambda b: _extend_from_generators(
            group,
            {s: b.T @ b[left_index[s]] for s in group.generators} or {group.identity: np.eye(b.shape[1])},
        ),
    )


def _eigen_clusters(values: np.ndarray, vectors: np.ndarray) -> list[np.ndarray]:
    """Split eigenvectors into groups of (numerically) equal eigenvalues (values ascending)."""
    scale = 1e-7 * (np.abs(values).max() + 1.0)
    cuts = np.flatnonzero(np.diff(values) > scale) + 1
    return [vectors[:, idx] for idx in np.split(np.arange(len(values)), cuts)]


def _irreducible_in(group: Group, action: _Action, component: np.ndarray, rng, name: str):
    """One irreducible copy inside an isotypic component (orthonormal basis ``component``), or None."""
    m = action.commutant(rng) @ component
    _, vecs = np.linalg.eigh(component.T @ m)
    v = component @ vecs[:, -1]
    y = action.orbit(v) @ component  # coordinates of ρ(g)v in the component
    w, basis = np.linalg.eigh(y.T @ y)  # Σ_g ρ(g)vvᵀρ(g)ᵀ = (|G|/d)·projector onto span{ρ(g)v}
    top = w[-1]
    keep = w > 0.5 * top
    # Flat spectrum ⇔ span{ρ(g)v} is irreducible (Schur); a mixed draw shows two or more levels.
    if not (np.all(np.abs(w[keep] - top) < 1e-8 * top) and np.all(np.abs(w[~keep]) < 1e-8 * top)):
        return None
    b = component @ basis[:, keep]
    mats = action.restrict(b)
    return Irrep(name, mats, _kind(np.trace(mats, axis1=1, axis2=2), name))


def _decompose_action(group: Group, action: _Action, name: str, rng: np.random.Generator) -> list[Irrep]:
    """Isotypic components from a random symmetric central element Z = Σ_g c(g)ρ(g) (c a class function with
    c(g) = c(g⁻¹), so Z is symmetric and acts on each real isotypic component by one scalar); then one
    irreducible copy in each, checked against the component's size d·⟨χ_W, χ_ρ⟩/k."""
    inverse_class = group.class_index[group.inverses]
    for _ in range(_MAX_DRAWS):
        c = rng.standard_normal(len(group.conjugacy_classes))
        z = action.group_sum(c[group.class_index] + c[inverse_class])
        found = []
        for component in _eigen_clusters(*np.linalg.eigh((z + z.T) / 2)):
            rep = _irreducible_in(group, action, component, rng, name)
            if rep is None:
                break
            # The component must be the whole isotypic component of rep: dimension d · multiplicity, with
            # multiplicity ⟨χ_W, χ_ρ⟩/(k|G|); a cluster holding two isotypic components fails this.
            multiplicity = float(rep.character @ action.character) / (rep.commutant_dim * group.order)
            if abs(multiplicity * rep.dim - component.shape[1]) > 1e-6:
                break
            found.append(rep)
        else:
            return found
    raise ArithmeticError(
        f"{name}: the generic method found no consistent decomposition in {_MAX_DRAWS} draws"
    )


def decompose(group: Group, matrices, *, name: str = "rho", seed: int = 0) -> list[Irrep]:
    """The distinct real irreducible constituents of a real orthogonal representation (generic method).

    Args:
        group: the group.
        matrices: (order, N, N) orthogonal matrices with ρ(a)ρ(b) = ρ(table[a, b]).
        name: used in the returned irreps' names and in error messages.
        seed: seed of the random commutant elements (the result spans the same subspaces for any seed).

    Returns:
        One :class:`Irrep` per isomorphism class occurring in ρ (in order of discovery), each in an orthonormal
        basis of one copy inside ℝ^N.
    """
    mats = np.asarray(matrices, dtype=np.float64)
    if mats.ndim != 3 or mats.shape[0] != group.order or mats.shape[1] != mats.shape[2]:
        raise ValueError(
            f"decompose: matrices must be ({group.order}, N, N) for {group.name}, got {mats.shape}"
        )
    return _decompose_action(group, _matrix_action(mats), name, np.random.default_rng(seed))


def _sort_key(group: Group, rep: Irrep):
    reps = np.array([c[0] for c in group.conjugacy_classes])
    is_trivial = rep.dim == 1 and np.allclose(rep.character, 1.0)
    return (not is_trivial, rep.dim, KINDS.index(rep.kind), tuple(-np.round(rep.character[reps], 8)))


def _generic_irreps(group: Group) -> list[Irrep]:
    if group.order > GENERIC_MAX_ORDER:
        raise GroupTooLargeError(
            f"{group.name} (order {group.order}) has no closed-form irreps here and is above the generic method's "
            f"size limit GENERIC_MAX_ORDER = {GENERIC_MAX_ORDER} (it works on the dense |G|×|G| regular representation)"
        )
    found = _decompose_action(group, _regular_action(group), group.name, np.random.default_rng(0))
    found.sort(key=lambda r: _sort_key(group, r))
    names = _generic_names([r.dim for r in found])
    return [Irrep(name, r.matrices, r.kind) for name, r in zip(names, found, strict=True)]


def _generic_names(dims: list[int]) -> list[str]:
    """ "trivial" for the first, then "{d}d", with suffixes _a, _b, ... where a dimension repeats."""
    counts = {d: dims[1:].count(d) for d in dims[1:]}
    names, seen = ["trivial"], dict.fromkeys(counts, 0)
    for d in dims[1:]:
        label = f"{d}d"
        if counts[d] > 1:
            label += "_" + chr(ord("a") + seen[d])
            seen[d] += 1
        names.append(label)
    return names


# --------------------------------------------------------------------------------------------------------------
# public entry points


def _closed_form(group: Group) -> list[Irrep] | None:
    """Irreps from the group's construction, if its table is exactly the constructor's."""
    if not group.construction:
        return None
    family, *args = group.construction
    builders = {
        "cyclic": (_groups.cyclic, lambda: _cyclic_irreps(args[0])),
        "dihedral": (_groups.dihedral, lambda: _dihedral_irreps(args[0])),
        "symmetric": (_groups.symmetric, lambda: _symmetric_irreps(group, args[0])),
        "alternating": (_groups.alternating, lambda: _alternating_irreps(group, args[0])),
        "product": (_groups.direct_product, lambda: _product_irreps(group, *args)),
    }
    if family not in builders:
        return None
    constructor, build = builders[family]
    canonical = constructor(*args)
    if not np.array_equal(canonical.table, group.table):
        return None
    return build()


@functools.lru_cache(maxsize=64)
def _irreps_cached(group: Group) -> tuple[Irrep, ...]:
    reps = _closed_form(group)
    if reps is None:
        reps = _generic_irreps(group)
    return tuple(reps)


def irreps(group: Group) -> list[Irrep]:
    """The real irreducible orthogonal representations of ``group``, trivial first.

    One :class:`Irrep` per isomorphism class of real irreps; see the module docstring for the order, names and
    the meaning of ``kind``. Results are cached per group.

    Raises:
        GroupTooLargeError: the group has no closed form here (not built by ``cyclic``, ``dihedral``,
            ``symmetric``, ``alternating`` or ``direct_product`` of such) and its order exceeds
            :data:`GENERIC_MAX_ORDER`.

    Example:
        >>> from geomrep.algebra import groups
        >>> [(r.dim, r.kind) for r in irreps(groups.quaternion())]
        [(1, 'real'), (1, 'real'), (1, 'real'), (1, 'real'), (4, 'quaternionic')]
    """
    if not isinstance(group, Group):
        raise TypeError(f"irreps: expected a geomrep.algebra.groups.Group, got {type(group).__name__}")
    return list(_irreps_cached(group))


class CharacterTable(NamedTuple):
    """Characters of the real irreps (as returned by :func:`irreps`) on the conjugacy classes.

    For a complex- or quaternionic-type irrep the value is the real character (χ + χ̄, resp. 2χ).
    """

    values: np.ndarray  # float64 (num_irreps, num_classes): χ_ρ(C)
    names: tuple[str, ...]  # irrep names, rows
    dims: np.ndarray  # int64 (num_irreps,)
    kinds: tuple[str, ...]
    class_sizes: np.ndarray  # int64 (num_classes,)
    class_representatives: np.ndarray  # int64 (num_classes,), the smallest element of each class


def character_table(group: Group) -> CharacterTable:
    """The character table of the real irreps: rows in :func:`irreps` order, columns = ``group.conjugacy_classes``.

    Orthogonality: Σ_C |C| χ_ρ(C) χ_σ(C) = |G|·k_ρ·δ_ρσ with k_ρ = 1, 2, 4 for real, complex, quaternionic type.
    For a group too large for :func:`irreps` (no closed form, order above :data:`GENERIC_MAX_ORDER`) the table
    still comes, from Burnside's algorithm (:mod:`geomrep.algebra.characters`), with rows named like the generic
    method's (trivial first, then by dimension).

    Example:
        >>> from geomrep.algebra import groups
        >>> character_table(groups.symmetric(3)).values.round(6).tolist()
        [[1.0, 1.0, 1.0], [2.0, 0.0, -1.0], [1.0, -1.0, 1.0]]
    """
    representatives = np.array([int(c[0]) for c in group.conjugacy_classes], dtype=np.int64)
    class_sizes = np.array([len(c) for c in group.conjugacy_classes], dtype=np.int64)
    try:
        reps = irreps(group)
    except GroupTooLargeError:
        return _character_table_from_burnside(group, representatives, class_sizes)
    return CharacterTable(
        values=np.stack([r.character[representatives] for r in reps]),
        names=tuple(r.name for r in reps),
        dims=np.array([r.dim for r in reps], dtype=np.int64),
        kinds=tuple(r.kind for r in reps),
        class_sizes=class_sizes,
        class_representatives=representatives,
    )


def _character_table_from_burnside(
    group: Group, representatives: np.ndarray, class_sizes: np.ndarray
) -> CharacterTable:
    """Real-irrep characters without matrices, for groups beyond the generic method: χ (real type), χ + χ̄ (one
    row per conjugate pair, complex type) and 2χ (quaternionic type) from the complex character table."""
    complex_table = burnside_character_table(group)
    # χ̄ is a row too; match rows by a random projection (O(r²), not O(r³)).
    probe = np.random.default_rng(0).standard_normal(len(class_sizes))
    projected = complex_table.values @ probe
    partners = np.argmin(np.abs(projected.conj()[:, None] - projected[None, :]), axis=1)
    rows, used = [], set()
    for i, (chi, nu) in enumerate(zip(complex_table.values, complex_table.indicators, strict=True)):
        if i in used:
            continue
        if nu == 1:
            rows.append((chi.real, "real"))
        elif nu == -1:
            rows.append((2 * chi.real, "quaternionic"))
        else:
            used.add(int(partners[i]))
            rows.append((2 * chi.real, "complex"))
    rows.sort(
        key=lambda row: (
            not np.allclose(row[0], 1.0),
            row[0][0],
            KINDS.index(row[1]),
            tuple(-np.round(row[0], 8)),
        )
    )
    dims = [int(round(row[0][0])) for row in rows]
    return CharacterTable(
        values=np.stack([row[0] for row in rows]),
        names=tuple(_generic_names(dims)),
        dims=np.array(dims, dtype=np.int64),
        kinds=tuple(row[1] for row in rows),
        class_sizes=class_sizes,
        class_representatives=representatives,
    )
