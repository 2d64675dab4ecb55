"""Algebraic classification tasks on their full population: modular addition, group composition, sparse parity.

A task holds **every** input of its population (Morwani et al. 2023, "MEOZK", p4-5: the margin theorems are
about the full table ``D_p = {((a, b), a + b)}`` and all of ``G x G``), plus a seeded train/test split of it for
the universality runs of Chughtai et al. 2023 (CCN: ``frac_train`` of the shuffled pairs are train).

- :class:`PairTask` (``modular_addition``, ``group_composition``): the pairs ``(a, b)`` in row-major order
  (example ``i = a * n + b``) with label ``table[a, b]``, the index of ``a∘b``.
- :class:`ParityTask` (``sparse_parity``): all of ``{±1}^n`` (example ``i`` has ``x_j = -1`` where bit ``j`` of
  ``i`` is set) with label 0 when ``prod_{j in S} x_j = +1`` and 1 otherwise (MEOZK Thm 8: the first output
  coordinate is ``y = +1``).

The split: ``perm = np.random.default_rng(seed).permutation(N)``, train = ``perm[:floor(frac * N)]``, test = the
rest (notes C1). ``train_fraction = 1`` (the default) is the max-margin setting: no test set.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from typing import Any

import numpy as np


class HypothesisWarning(UserWarning):
    """A task was built outside a theorem's hypotheses (e.g. a composite modulus for Theorem 7)."""


def is_prime(n: int) -> bool:
    """Trial division; enough for the moduli of these tasks (n < 10^7)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    return all(n % d for d in range(3, math.isqrt(n) + 1, 2))


def _split(num_examples: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 < train_fraction <= 1.0:
        raise ValueError(f"train_fraction={train_fraction!r} must lie in (0, 1]")
    if train_fraction == 1.0:
        return np.arange(num_examples), np.arange(0)
    perm = np.random.default_rng(seed).permutation(num_examples)
    num_train = int(math.floor(train_fraction * num_examples))
    if num_train == 0:
        raise ValueError(
            f"train_fraction={train_fraction} of {num_examples} examples leaves an empty train set"
        )
    return np.sort(perm[:num_train]), np.sort(perm[num_train:])


@dataclasses.dataclass(frozen=True, eq=False)
class PairTask:
    """``(a, b) -> a∘b`` on all ``n²`` pairs of a finite group (``Z_p`` under addition for modular addition).

    Attributes:
      name: e.g. ``"Z_23"`` or ``"S4"``.
      family: ``"modular_addition"`` or ``"group_composition"``.
      table: int64 ``[n, n]`` Cayley table, ``table[a, b]`` = index of ``a∘b``.
      train_idx, test_idx: int64 indices into the ``n²`` examples (example ``i`` is ``(i // n, i % n)``).
      modulus: ``p`` for modular addition, else None.
      group: the :class:`geomrep.algebra.groups.Group` for group composition, else None.
    """

    name: str
    family: str
    table: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    modulus: int | None = None
    group: Any = None

    @property
    def num_symbols(self) -> int:
        """``n``: the number of group elements (input symbols of each slot, and output classes)."""
        return int(self.table.shape[0])

    @property
    def num_classes(self) -> int:
        return self.num_symbols

    @property
    def num_examples(self) -> int:
        return self.num_symbols**2

    @property
    def inputs(self) -> np.ndarray:
        """int64 ``[n², 2]``: the pairs ``(a, b)`` in row-major order."""
        n = self.num_symbols
        a, b = np.divmod(np.arange(n * n), n)
        return np.stack([a, b], axis=1)

    @property
    def labels(self) -> np.ndarray:
        """int64 ``[n²]``: ``table[a, b]``."""
        return self.table.reshape(-1)


@dataclasses.dataclass(frozen=True, eq=False)
class ParityTask:
    """``x -> prod_{j in S} x_j`` on all of ``{±1}^n`` (MEOZK Thm 8), as two classes (0: +1, 1: −1).

    Attributes:
      name: e.g. ``"(10,4)-parity"``.
      n, k: the input dimension and the size of the support.
      support: the ``k`` sorted coordinates ``S``.
      train_idx, test_idx: indices into the ``2^n`` examples.
    """

    name: str
    n: int
    k: int
    support: tuple[int, ...]
    train_idx: np.ndarray
    test_idx: np.ndarray
    family: str = "sparse_parity"

    @property
    def num_classes(self) -> int:
        return 2

    @property
    def num_examples(self) -> int:
        return 2**self.n

    @property
    def inputs(self) -> np.ndarray:
        """float64 ``[2^n, n]`` in ``{±1}``: ``x[i, j] = -1`` iff bit ``j`` of ``i`` is set."""
        bits = (np.arange(2**self.n)[:, None] >> np.arange(self.n)[None, :]) & 1
        return 1.0 - 2.0 * bits

    @property
    def labels(self) -> np.ndarray:
        """int64 ``[2^n]``: 0 where ``prod_S x = +1``, 1 where it is −1."""
        bits = (np.arange(2**self.n)[:, None] >> np.asarray(self.support)[None, :]) & 1
        return (bits.sum(axis=1) % 2).astype(np.int64)


Task = PairTask | ParityTask

_FAMILIES = {"Z": "cyclic", "C": "cyclic", "D": "dihedral", "S": "symmetric", "A": "alternating"}


def group_from_name(name: str) -> Any:
    """The group named like :mod:`geomrep.algebra.groups` names them: ``Z7`` (or ``C7``), ``D5`` (order 10), ``S4``,
    ``A5``, ``V4``, ``Q8``, and direct products joined by ``x`` (``S3xZ3``). For configs and command lines.

    Example:
      >>> group_from_name("S3xZ2").order
      12
    """
    from geomrep.algebra import groups

    factors = []
    for part in str(name).split("x"):
        match = re.fullmatch(r"([ZCDSA])(\d+)", part)
        if part == "V4":
            factors.append(groups.klein_four())
        elif part == "Q8":
            factors.append(groups.quaternion())
        elif match:
            factors.append(getattr(groups, _FAMILIES[match.group(1)])(int(match.group(2))))
        else:
            raise ValueError(
                f"unknown group name {name!r} (factor {part!r}); use Z<n>, C<n>, D<n> (order 2n), S<n>, A<n>, V4, Q8, "
                "or products like S3xZ3"
            )
    group = factors[0]
    for factor in factors[1:]:
        group = groups.direct_product(group, factor)
    return group


def modular_addition(p: int, *, train_fraction: float = 1.0, seed: int = 0) -> PairTask:
    """``(a, b) -> (a + b) mod p`` for all ``p²`` pairs (MEOZK Thm 7; Nanda et al. 2023).

    Theorem 7 needs an odd prime ``p``; any other modulus ``p >= 1`` warns (:class:`HypothesisWarning`) and
    still builds the task.

    Example:
      >>> task = modular_addition(5)
      >>> task.inputs[7].tolist(), int(task.labels[7])
      ([1, 2], 3)
    """
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 1:
        raise ValueError(f"modular_addition: the modulus p={p!r} must be an integer >= 1")
    p = int(p)
    if p == 2 or not is_prime(p):
        warnings.warn(
            f"modular_addition: p={p} is not an odd prime; MEOZK Theorem 7 (gamma_star) assumes an odd prime "
            "modulus. The task is built anyway.",
            HypothesisWarning,
            stacklevel=2,
        )
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    train_idx, test_idx = _split(p * p, train_fraction, seed)
    return PairTask(
        name=f"Z_{p}",
        family="modular_addition",
        table=((a + b) % p).astype(np.int64),
        train_idx=train_idx,
        test_idx=test_idx,
        modulus=p,
    )


def group_composition(group: Any, *, train_fraction: float = 1.0, seed: int = 0) -> PairTask:
    """``(a, b) -> a∘b`` for all ``|G|²`` pairs of a finite group (MEOZK Thm 9; CCN).

    Args:
      group: a :class:`geomrep.algebra.groups.Group` (anything with ``.table``, an int ``[n, n]`` Cayley
        table, and ``.name``).
      train_fraction: fraction of the pairs in the train split (1 = all, the max-margin setting).
      seed: seed of the split's permutation.
    """
    table = getattr(group, "table", None)
    if table is None:
        raise TypeError(
            f"group_composition expects a geomrep.algebra.groups.Group (with a .table), got {type(group).__name__}"
        )
    table = np.asarray(table, dtype=np.int64)
    if table.ndim != 2 or table.shape[0] != table.shape[1] or table.shape[0] < 1:
        raise ValueError(
            f"group_composition: the Cayley table must be square [n, n], got shape {table.shape}"
        )
    n = table.shape[0]
    train_idx, test_idx = _split(n * n, train_fraction, seed)
    return PairTask(
        name=str(getattr(group, "name", f"G{n}")),
        family="group_composition",
        table=table,
        train_idx=train_idx,
        test_idx=test_idx,
        group=group,
    )


def sparse_parity(
    n: int,
    k: int,
    *,
    support: tuple[int, ...] | None = None,
    train_fraction: float = 1.0,
    seed: int = 0,
) -> ParityTask:
    """The ``(n, k)``-sparse parity ``prod_{j in S} x_j`` on all of ``{±1}^n`` (MEOZK Thm 8).

    Args:
      n: input dimension (``1 <= n <= 24``: the population has ``2^n`` points).
      k: support size, ``1 <= k <= n``.
      support: the coordinates ``S`` (default: the first ``k``).
      train_fraction, seed: the split (1 = the whole hypercube, the max-margin setting).
    """
    for name, value in (("n", n), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"sparse_parity: {name}={value!r} must be an integer >= 1")
    n, k = int(n), int(k)
    if k > n:
        raise ValueError(f"sparse_parity: the support size k={k} exceeds the dimension n={n}")
    if n > 24:
        raise ValueError(
            f"sparse_parity: n={n} gives 2^{n} points; the full population is limited to n <= 24"
        )
    support = tuple(range(k)) if support is None else tuple(sorted(int(j) for j in support))
    if len(support) != k or len(set(support)) != k or not all(0 <= j < n for j in support):
        raise ValueError(f"sparse_parity: support={support} must be {k} distinct coordinates in [0, {n})")
    train_idx, test_idx = _split(2**n, train_fraction, seed)
    return ParityTask(
        name=f"({n},{k})-parity", n=n, k=k, support=support, train_idx=train_idx, test_idx=test_idx
    )
