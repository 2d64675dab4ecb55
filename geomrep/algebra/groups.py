"""Finite groups as Cayley tables (the groups of Morwani et al. 2023 §6 and Chughtai et al. 2023 §3).

A :class:`Group` is its multiplication table ``table[a, b] = index of a∘b`` over the elements ``0..order-1``,
with the identity, inverses, conjugacy classes and element orders derived from it and element labels for
printing. Every group is validated when it is built (closure, identity, inverses, associativity), so a
``Group`` value is always a group; a table that is not one raises :class:`CayleyTableError` naming the axiom
and the elements.

Conventions (notes C1):

- ``cyclic(n)``: Z_n, element k ↔ k, a∘b = a + b mod n.
- ``dihedral(n)``: D_n of order 2n (the symmetries of the n-gon), element k + n·e ↔ r^k s^e, with
  (k₁, e₁)(k₂, e₂) = (k₁ + (−1)^{e₁} k₂ mod n, e₁ ⊕ e₂), i.e. s r = r⁻¹ s.
- ``symmetric(n)``: S_n, the permutations σ of {0..n−1} (one-line: ``σ = (σ(0), …, σ(n−1))``) in the
  lexicographic order of ``itertools.permutations``, composed as functions: (σ∘τ)(x) = σ(τ(x)).
- ``alternating(n)``: A_n, the even permutations, in the same order and with the same composition.
- ``direct_product(g, h)``: element i·|H| + j ↔ (g_i, h_j), composed componentwise.

Example:
    >>> from geomrep.algebra import groups
    >>> s3 = groups.symmetric(3)
    >>> s3.order, s3.labels[1], s3.labels[int(s3.table[1, 1])]
    (6, '(1 2)', 'e')
    >>> [len(c) for c in s3.conjugacy_classes]
    [1, 3, 2]
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "CayleyTableError",
    "Group",
    "alternating",
    "cyclic",
    "dihedral",
    "direct_product",
    "from_cayley_table",
    "klein_four",
    "quaternion",
    "symmetric",
]

# symmetric(n) / alternating(n) build an (n!)² table; n = 7 is 5040² int64 entries (203 MB).
MAX_PERMUTATION_DEGREE = 7
# A table larger than this is refused (its (order, order) int64 array alone would take 800 MB).
MAX_ORDER = 10_000


class CayleyTableError(ValueError):
    """A multiplication table that is not the Cayley table of a group.

    Attributes:
        axiom: the failing requirement: "shape", "closure", "identity", "inverses", "associativity" or "labels".
        elements: the element indices the message names (possibly empty).
    """

    def __init__(self, message: str, *, axiom: str, elements: tuple[int, ...] = ()):
        super().__init__(message)
        self.axiom = axiom
        self.elements = elements


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Group:
    """A finite group given by its Cayley table; validated on construction.

    Build groups with the constructors of this module (``cyclic``, ``dihedral``, ``symmetric``, ``alternating``,
    ``direct_product``, ``from_cayley_table``, ...). Groups compare and hash by table and labels, so they can be
    static arguments of ``jax.jit`` and keys of caches.

    Attributes:
        table: int64 (order, order), ``table[a, b]`` = index of a∘b. Read-only.
        labels: a printable name for every element.
        name: the group's name, e.g. ``"S3"``, ``"D5"``, ``"Z7"``.
        construction: how the group was built, e.g. ``("cyclic", 7)``, ``("dihedral", 5)``,
            ``("symmetric", 4)``, ``("alternating", 5)``, ``("product", G, H)`` or ``()`` for a bare table.
            :func:`geomrep.algebra.irreps.irreps` uses it to pick closed forms; it never changes the group.
        permutations: for ``symmetric``/``alternating``, int64 (order, n) with row a the one-line form of
            element a (``σ(0), …, σ(n−1)``); else None.
        identity: index of the identity element e.
        generators: indices of a generating set (found greedily, elements of large order first; empty for the
            trivial group).
        inverses: int64 (order,), ``table[a, inverses[a]] == identity``.
        element_orders: int64 (order,), the smallest k ≥ 1 with a^k = e.
        conjugacy_classes: tuple of sorted int64 arrays of element indices; the identity's class {e} is first,
            the others ordered by element order, then size, then smallest element.
        class_index: int64 (order,), the position of each element's class in ``conjugacy_classes``.
    """

    table: np.ndarray
    labels: tuple[str, ...]
    name: str
    construction: tuple = ()
    permutations: np.ndarray | None = None
    identity: int = dataclasses.field(init=False)
    generators: tuple[int, ...] = dataclasses.field(init=False)
    inverses: np.ndarray = dataclasses.field(init=False)
    element_orders: np.ndarray = dataclasses.field(init=False)
    conjugacy_classes: tuple[np.ndarray, ...] = dataclasses.field(init=False)
    class_index: np.ndarray = dataclasses.field(init=False)

    def __post_init__(self):
        table = _check_table(self.table)
        labels = tuple(str(label) for label in self.labels)
        if len(labels) != table.shape[0]:
            raise CayleyTableError(
                f"{self.name}: {len(labels)} labels for a table of order {table.shape[0]}", axiom="labels"
            )
        if len(set(labels)) != len(labels):
            seen: dict[str, int] = {}
            for i, label in enumerate(labels):
                if label in seen:
                    raise CayleyTableError(
                        f"{self.name}: elements {seen[label]} and {i} share the label {label!r}",
                        axiom="labels",
                        elements=(seen[label], i),
                    )
                seen[label] = i
        identity = _find_identity(table, labels)
        inverses = _find_inverses(table, identity, labels)
        orders = _element_orders(table, identity)
        generators = _check_associative(table, identity, labels, orders)
        classes, class_index = _conjugacy_classes(table, inverses, identity)
        classes = sorted(classes, key=lambda c: (c[0] != identity, int(orders[c[0]]), len(c), int(c[0])))
        class_index = np.empty(table.shape[0], dtype=np.int64)
        for k, c in enumerate(classes):
            class_index[c] = k
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        set_("table", _frozen(table))
        set_("labels", labels)
        set_("name", str(self.name))
        set_("construction", tuple(self.construction))
        if self.permutations is not None:
            set_("permutations", _frozen(np.asarray(self.permutations, dtype=np.int64)))
        set_("identity", int(identity))
        set_("generators", generators)
        set_("inverses", _frozen(inverses))
        set_("element_orders", _frozen(orders))
        set_("conjugacy_classes", tuple(_frozen(c) for c in classes))
        set_("class_index", _frozen(class_index))

    @property
    def order(self) -> int:
        """The number of elements |G|."""
        return int(self.table.shape[0])

    @property
    def is_abelian(self) -> bool:
        """Whether a∘b = b∘a for all a, b."""
        return bool(np.array_equal(self.table, self.table.T))

    def multiply(self, a, b) -> np.ndarray:
        """Index of a∘b (elementwise over integer arrays)."""
        return self.table[np.asarray(a), np.asarray(b)]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self.labels == other.labels and np.array_equal(self.table, other.table)

    def __hash__(self) -> int:
        return hash((self.table.shape, self.table.tobytes(), self.labels))

    def __repr__(self) -> str:
        return f"Group({self.name}, order={self.order}, classes={len(self.conjugacy_classes)})"


# --------------------------------------------------------------------------------------------------------------
# validation


def _check_table(table) -> np.ndarray:
    raw = np.asarray(table)
    if raw.ndim != 2 or raw.shape[0] != raw.shape[1] or raw.shape[0] < 1:
        raise CayleyTableError(
            f"a Cayley table must be a non-empty square (order, order) array, got shape {raw.shape}",
            axiom="shape",
        )
    n = raw.shape[0]
    if n > MAX_ORDER:
        raise CayleyTableError(f"order {n} is above the supported MAX_ORDER = {MAX_ORDER}", axiom="shape")
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or not np.all(raw == np.round(raw)):
            bad = np.argwhere(~np.isfinite(raw) | (raw != np.round(raw)))[0]
            raise CayleyTableError(
                f"closure fails: table[{bad[0]}, {bad[1]}] = {raw[tuple(bad)]} is not an element index",
                axiom="closure",
                elements=(int(bad[0]), int(bad[1])),
            )
    elif raw.dtype.kind not in "iu":
        raise CayleyTableError(f"a Cayley table must hold integers, got dtype {raw.dtype}", axiom="shape")
    bad = np.argwhere((raw < 0) | (raw >= n))
    if bad.size:
        a, b = (int(x) for x in bad[0])
        raise CayleyTableError(
            f"closure fails: table[{a}, {b}] = {raw[a, b]} is not an element index in [0, {n})",
            axiom="closure",
            elements=(a, b),
        )
    return raw.astype(np.int64)


def _find_identity(table: np.ndarray, labels) -> int:
    ar = np.arange(table.shape[0])
    left = np.all(table == ar[None, :], axis=1)  # e∘x = x for all x
    right = np.all(table == ar[:, None], axis=0)  # x∘e = x for all x
    both = np.flatnonzero(left & right)
    if both.size == 0:
        detail = ""
        if left.any():
            e = int(np.flatnonzero(left)[0])
            x = int(np.flatnonzero(table[:, e] != ar)[0])
            detail = f"; {labels[e]!r} (element {e}) is a left identity but {labels[x]!r}∘{labels[e]!r} ≠ {labels[x]!r}"
        elif right.any():
            e = int(np.flatnonzero(right)[0])
            x = int(np.flatnonzero(table[e, :] != ar)[0])
            detail = f"; {labels[e]!r} (element {e}) is a right identity but {labels[e]!r}∘{labels[x]!r} ≠ {labels[x]!r}"
        raise CayleyTableError(
            f"identity fails: no element e with e∘x = x∘e = x for all x{detail}", axiom="identity"
        )
    return int(both[0])


def _find_inverses(table: np.ndarray, identity: int, labels) -> np.ndarray:
    right = table == identity  # right[a, b]: a∘b = e
    two_sided = right & right.T
    has = two_sided.any(axis=1)
    if not has.all():
        a = int(np.flatnonzero(~has)[0])
        raise CayleyTableError(
            f"inverses fail: element {a} ({labels[a]!r}) has no b with {labels[a]!r}∘b = b∘{labels[a]!r} = e",
            axiom="inverses",
            elements=(a,),
        )
    return np.argmax(two_sided, axis=1).astype(np.int64)


def _generated(table: np.ndarray, generators: list[int], identity: int) -> np.ndarray:
    """The elements reachable as products (any bracketing) of the generators and e: a boolean mask."""
    mask = np.zeros(table.shape[0], dtype=bool)
    mask[[identity, *generators]] = True
    while True:
        members = np.flatnonzero(mask)
        new = np.zeros_like(mask)
        new[table[np.ix_(members, members)].ravel()] = True
        new |= mask
        if new.sum() == mask.sum():
            return mask
        mask = new


def _check_associative(table: np.ndarray, identity: int, labels, orders: np.ndarray) -> tuple[int, ...]:
    """Light's test: (x∘y)∘g = x∘(y∘g) for all x, y and every g of a generating set.

    The elements g satisfying it for all x, y contain e and are closed under ∘ (if g, h do, then
    (xy)(gh) = ((xy)g)h = (x(yg))h = x((yg)h) = x(y(gh))), so checking generators suffices: O(order² · #gens)
    instead of O(order³). Returns the generating set.
    """
    # Greedy generating set; elements of large order first keep it short (S_7: 2 instead of 7).
    generators: list[int] = []
    reached = _generated(table, generators, identity)
    while not reached.all():
        candidates = np.flatnonzero(~reached)
        generators.append(int(candidates[np.argmax(orders[candidates])]))
        reached = _generated(table, generators, identity)
    for g in generators:
        lhs = table[:, g][table]  # (x∘y)∘g at [x, y]
        rhs = np.take(table, table[:, g], axis=1)  # x∘(y∘g) at [x, y]
        bad = np.argwhere(lhs != rhs)
        if bad.size:
            x, y = (int(v) for v in bad[0])
            raise CayleyTableError(
                f"associativity fails for elements ({x}, {y}, {g}) = ({labels[x]!r}, {labels[y]!r}, {labels[g]!r}): "
                f"(x∘y)∘z = {labels[int(lhs[x, y])]!r} but x∘(y∘z) = {labels[int(rhs[x, y])]!r}",
                axiom="associativity",
                elements=(x, y, g),
            )
    return tuple(generators)


def _conjugacy_classes(table: np.ndarray, inverses: np.ndarray, identity: int):
    n = table.shape[0]
    class_index = np.full(n, -1, dtype=np.int64)
    classes = []
    h = np.arange(n)
    for g in range(n):
        if class_index[g] >= 0:
            continue
        orbit = np.unique(table[table[h, g], inverses[h]])  # h∘g∘h⁻¹ over all h
        class_index[orbit] = len(classes)
        classes.append(orbit.astype(np.int64))
    return classes, class_index


def _element_orders(table: np.ndarray, identity: int) -> np.ndarray:
    n = table.shape[0]
    ar = np.arange(n)
    orders = np.zeros(n, dtype=np.int64)
    power = ar.copy()
    for k in range(1, n + 1):
        hit = (power == identity) & (orders == 0)
        orders[hit] = k
        if orders.all():
            break
        power = table[power, ar]
    return orders


# --------------------------------------------------------------------------------------------------------------
# constructors


def _check_degree(n, what: str, low: int = 1, high: int | None = None) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{what}: n must be an int, got {n!r}")
    n = int(n)
    if n < low:
        raise ValueError(f"{what}: n must be >= {low}, got {n}")
    if high is not None and n > high:
        raise ValueError(f"{what}: n must be <= {high} (the table has (n!)^2 entries), got {n}")
    return n


def from_cayley_table(table, labels: Sequence[str] | None = None, name: str = "G") -> Group:
    """The group with multiplication table ``table[a, b]`` = index of a∘b, validated.

    Args:
        table: integer array (order, order).
        labels: one distinct string per element (default ``"0"``, ``"1"``, ...).
        name: the group's name.

    Raises:
        CayleyTableError: the table is not a group's; the message names the failing axiom (closure, identity,
            inverses, associativity) and the elements, and ``.axiom`` / ``.elements`` hold them.

    Example:
        >>> from_cayley_table([[0, 1], [1, 0]], labels=["e", "s"], name="Z2").order
        2
    """
    raw = np.asarray(table)
    if labels is None:
        labels = tuple(str(i) for i in range(raw.shape[0] if raw.ndim >= 1 else 0))
    return Group(table=raw, labels=tuple(labels), name=name)


def cyclic(n: int) -> Group:
    """Z_n: a∘b = a + b mod n, element k labelled ``"k"``."""
    n = _check_degree(n, "cyclic")
    ar = np.arange(n)
    return Group(
        table=(ar[:, None] + ar[None, :]) % n,
        labels=tuple(str(k) for k in range(n)),
        name=f"Z{n}",
        construction=("cyclic", n),
    )


def dihedral(n: int) -> Group:
    """D_n of order 2n: element k + n·e ↔ r^k s^e, (k₁,e₁)(k₂,e₂) = (k₁ + (−1)^{e₁}k₂ mod n, e₁ ⊕ e₂)."""
    n = _check_degree(n, "dihedral")
    idx = np.arange(2 * n)
    k, e = idx % n, idx // n
    k_ab = (k[:, None] + np.where(e[:, None] == 1, -1, 1) * k[None, :]) % n
    e_ab = e[:, None] ^ e[None, :]

    def label(i: int) -> str:
        rot = "" if k[i] == 0 else ("r" if k[i] == 1 else f"r^{k[i]}")
        return (rot + (" s" if rot and e[i] else "s" if e[i] else "")) or "e"

    return Group(
        table=k_ab + n * e_ab,
        labels=tuple(label(i) for i in range(2 * n)),
        name=f"D{n}",
        construction=("dihedral", n),
    )


def _cycle_label(perm: Sequence[int]) -> str:
    seen, cycles = set(), []
    for start in range(len(perm)):
        if start in seen or perm[start] == start:
            continue
        cycle, x = [], start
        while x not in seen:
            seen.add(x)
            cycle.append(x)
            x = perm[x]
        cycles.append("(" + " ".join(str(c) for c in cycle) + ")")
    return "".join(cycles) or "e"


def _permutation_group(
    perms: np.ndarray, name: str, construction: tuple, generators: list[tuple[int, ...]]
) -> Group:
    """The group of the given permutations (rows, one-line form) under (σ∘τ)(x) = σ(τ(x)).

    Rows of the table for the generators s come from looking up σ_s∘σ_b; every other row by breadth-first
    search, table[s∘x] = table[s][table[x]] (a gather per row, instead of a lookup of |G| composites).
    """
    n = perms.shape[1]
    weights = n ** np.arange(n, dtype=np.int64)  # a permutation as a base-n integer
    codes = perms @ weights
    order = np.argsort(codes)
    sorted_codes = codes[order]

    def index_of(composed: np.ndarray) -> np.ndarray:
        return order[np.searchsorted(sorted_codes, composed @ weights)]

    size = len(perms)
    table = np.empty((size, size), dtype=np.int64)
    done = np.zeros(size, dtype=bool)
    identity = int(index_of(np.arange(n)[None])[0])
    table[identity], done[identity] = np.arange(size), True
    gen_rows = {}
    for g in generators:
        s = int(index_of(np.asarray(g)[None])[0])
        gen_rows[s] = index_of(perms[s][perms])  # row s: σ_s(σ_b(x)) over b
    frontier = [identity]
    while frontier:
        nxt = []
        for x in frontier:
            for row in gen_rows.values():
                y = int(row[x])
                if not done[y]:
                    table[y] = row[table[x]]  # (s∘x)∘b = s∘(x∘b)
                    done[y] = True
                    nxt.append(y)
        frontier = nxt
    if not done.all():
        raise AssertionError(f"{name}: the generators do not generate the permutations")
    return Group(
        table=table,
        labels=tuple(_cycle_label(p) for p in perms.tolist()),
        name=name,
        construction=construction,
        permutations=perms,
    )


def _parity(perms: np.ndarray) -> np.ndarray:
    """0 for even, 1 for odd permutations (inversion count mod 2)."""
    n = perms.shape[1]
    inversions = np.zeros(len(perms), dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            inversions += perms[:, i] > perms[:, j]
    return inversions % 2


def symmetric(n: int) -> Group:
    """S_n (1 ≤ n ≤ 7): permutations of {0..n−1} in ``itertools.permutations`` order, (σ∘τ)(x) = σ(τ(x))."""
    n = _check_degree(n, "symmetric", high=MAX_PERMUTATION_DEGREE)
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(math.factorial(n), n)
    # generated by the transposition (0 1) and the n-cycle (0 1 ... n−1)
    generators = [(1, 0, *range(2, n)), (*range(1, n), 0)] if n > 1 else []
    return _permutation_group(perms, f"S{n}", ("symmetric", n), generators)


def alternating(n: int) -> Group:
    """A_n (1 ≤ n ≤ 7): the even permutations of {0..n−1}, in the order and composition of ``symmetric(n)``."""
    n = _check_degree(n, "alternating", high=MAX_PERMUTATION_DEGREE)
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(math.factorial(n), n)
    # generated by the 3-cycles (0 1 i), i = 2..n−1
    generators = [tuple({0: 1, 1: i, i: 0}.get(x, x) for x in range(n)) for i in range(2, n)]
    return _permutation_group(perms[_parity(perms) == 0], f"A{n}", ("alternating", n), generators)


def direct_product(g: Group, h: Group) -> Group:
    """G × H: element i·|H| + j ↔ (g_i, h_j), (g, h)(g', h') = (gg', hh'), labelled ``"(g_i,h_j)"``."""
    for what, x in (("g", g), ("h", h)):
        if not isinstance(x, Group):
            raise TypeError(f"direct_product: {what} must be a Group, got {type(x).__name__}")
    ng, nh = g.order, h.order
    tg = np.repeat(np.repeat(g.table, nh, axis=0), nh, axis=1)
    th = np.tile(h.table, (ng, ng))
    return Group(
        table=tg * nh + th,
        labels=tuple(f"({a},{b})" for a in g.labels for b in h.labels),
        name=f"{g.name}x{h.name}",
        construction=("product", g, h),
    )


def klein_four() -> Group:
    """The Klein four-group V4 = Z2 × Z2."""
    v = direct_product(cyclic(2), cyclic(2))
    return Group(table=v.table, labels=("e", "a", "b", "ab"), name="V4", construction=v.construction)


def quaternion() -> Group:
    """The quaternion group Q8 = {±1, ±i, ±j, ±k} (its 2-dim complex irrep is of quaternionic type).

    Element index 2·u + s ↔ (−1)^s·q_u with q = (1, i, j, k).
    """
    # unit products q_u q_v = sign · q_w
    units = {
        (0, 0): (1, 0), (0, 1): (1, 1), (0, 2): (1, 2), (0, 3): (1, 3),
        (1, 0): (1, 1), (1, 1): (-1, 0), (1, 2): (1, 3), (1, 3): (-1, 2),
        (2, 0): (1, 2), (2, 1): (-1, 3), (2, 2): (-1, 0), (2, 3): (1, 1),
        (3, 0): (1, 3), (3, 1): (1, 2), (3, 2): (-1, 1), (3, 3): (-1, 0),
    }  # fmt: skip
    table = np.empty((8, 8), dtype=np.int64)
    for a, b in itertools.product(range(8), repeat=2):
        sign, w = units[(a // 2, b // 2)]
        s = (a % 2 + b % 2 + (sign < 0)) % 2
        table[a, b] = 2 * w + s
    labels = ("1", "-1", "i", "-i", "j", "-j", "k", "-k")
    return Group(table=table, labels=labels, name="Q8", construction=())
