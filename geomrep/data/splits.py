"""Link-prediction splits of a transitive closure (Nickel & Kiela 2017, §4.1 "link prediction").

The closure's *basic* edges are its transitive reduction: (u, v) is basic iff no other path u → w → … → v
exists. They are what the closure is the closure *of*, so they always stay in training; validation and test
are drawn from the non-basic edges, the ones implied by transitivity. Keeping the basic edges keeps every
node's reachability, hence every node of the closure keeps at least one training edge (in a DAG, a node with
an out-edge (in-edge) in the closure has one in the reduction too); :func:`link_prediction_split` checks it.

Public names:
    transitive_reduction(edges, num_nodes)        the basic edges of a DAG's edge list, sorted
    link_prediction_split(edges, num_nodes, ...)  -> LinkSplit(train, valid, test, basic, ...), seeded
    save_split(path, split) / load_split(path)    ``split.npz`` (atomic write; load validates every key)
    split_for_workdir(path, edges, num_nodes, ...) read back and check a saved split, or make and save one
    SplitFileError                                ValueError naming the file and the key

Example:
    >>> edges = np.array([[1, 0], [2, 1], [2, 0], [3, 2], [3, 1], [3, 0]])  # the closure of the path 3→2→1→0
    >>> transitive_reduction(edges, 4).tolist()
    [[1, 0], [2, 1], [3, 2]]
    >>> split = link_prediction_split(edges, 4, valid_frac=0.0, test_frac=0.34, seed=0)
    >>> len(split.train), len(split.valid), len(split.test)  # 3 non-basic edges: one held out
    (5, 0, 1)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse

__all__ = [
    "LinkSplit",
    "SplitFileError",
    "link_prediction_split",
    "load_split",
    "save_split",
    "split_for_workdir",
    "transitive_reduction",
]

_ARRAYS = ("train", "valid", "test", "basic")
_SCALARS = ("num_nodes", "seed", "valid_frac", "test_frac", "closure_sha256")


class SplitFileError(ValueError):
    """A split file that cannot be read, is malformed, or holds a different split; the message names the file."""


class LinkSplit(NamedTuple):
    """A split of a closure's edges: ``train`` ∪ ``valid`` ∪ ``test`` = the closure, pairwise disjoint.

    Edge arrays are (m, 2) int64, sorted by (u, v); ``basic`` ⊆ ``train`` are the transitive-reduction edges.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    basic: np.ndarray
    num_nodes: int
    seed: int
    valid_frac: float  # fraction of the non-basic edges held out for validation
    test_frac: float  # fraction of the non-basic edges held out for test
    closure_sha256: str  # fingerprint of the closure (see :func:`closure_fingerprint`)

    @property
    def closure(self) -> np.ndarray:
        """All edges, train ∪ valid ∪ test, sorted."""
        return _sorted_unique(np.concatenate([self.train, self.valid, self.test]))


def _sorted_unique(edges: np.ndarray) -> np.ndarray:
    return np.unique(np.asarray(edges, dtype=np.int64).reshape(-1, 2), axis=0)


def _checked_edges(edges, num_nodes: int) -> np.ndarray:
    """(m, 2) int64 edges, sorted and without duplicates; ValueError naming the first bad row."""
    edges = np.asarray(edges)
    if edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0:
        raise ValueError(f"edges must be a non-empty (m, 2) integer array; got shape {edges.shape}")
    if not np.issubdtype(edges.dtype, np.integer):
        raise ValueError(f"edges must hold integer node ids; got dtype {edges.dtype}")
    bad = np.flatnonzero((edges < 0).any(axis=1) | (edges >= num_nodes).any(axis=1))
    if len(bad):
        raise ValueError(f"edge {bad[0]} = {edges[bad[0]].tolist()} has an id outside [0, {num_nodes})")
    loops = np.flatnonzero(edges[:, 0] == edges[:, 1])
    if len(loops):
        raise ValueError(
            f"edge {loops[0]} = {edges[loops[0]].tolist()} is a self-loop; a closure of a DAG has none"
        )
    return _sorted_unique(edges)


def closure_fingerprint(edges, num_nodes: int) -> str:
    """SHA-256 of the sorted, de-duplicated int64 edge array and ``num_nodes``: equal iff same closure."""
    edges = _sorted_unique(edges)
    digest = hashlib.sha256(np.int64(num_nodes).tobytes())
    digest.update(np.ascontiguousarray(edges).tobytes())
    return digest.hexdigest()


def _adjacency(edges: np.ndarray, num_nodes: int) -> scipy.sparse.csr_matrix:
    ones = np.ones(len(edges), np.int64)
    return scipy.sparse.csr_matrix((ones, (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes))


def _binary(matrix) -> scipy.sparse.csr_matrix:
    matrix = scipy.sparse.csr_matrix(matrix)
    matrix.data[:] = 1
    return matrix


def _basic_mask(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """Whether each of the sorted unique ``edges`` is basic: no path u → w → … → v of length ≥ 2 exists.

    With A the adjacency and T = A + A² + … its reachability (computed by T ← T + T·T until nothing changes,
    ⌈log₂ depth⌉ + 1 sparse products), the paths of length ≥ 2 are the support of A·T; (u, v) is basic iff
    (A·T)[u, v] = 0. A cycle shows as T[u, u] ≠ 0 and is a ValueError naming u (no unique reduction).
    """
    adjacency = _adjacency(edges, num_nodes)
    reach = adjacency
    while True:
        grown = _binary(reach + reach @ reach)
        if grown.nnz == reach.nnz:
            break
        reach = grown
    on_cycle = np.flatnonzero(reach.diagonal())
    if len(on_cycle):
        u = int(on_cycle[0])
        raise ValueError(
            f"the edges hold a cycle through node {u}: a transitive reduction (basic edges) needs a DAG"
        )
    longer = (adjacency @ reach).tocoo()  # pairs joined by a path of length >= 2
    longer_keys = np.sort(longer.row.astype(np.int64) * num_nodes + longer.col)
    keys = edges[:, 0] * num_nodes + edges[:, 1]
    at = np.minimum(np.searchsorted(longer_keys, keys), max(len(longer_keys) - 1, 0))
    implied = (longer_keys[at] == keys) if len(longer_keys) else np.zeros(len(keys), bool)
    return ~implied


def transitive_reduction(edges, num_nodes: int) -> np.ndarray:
    """The basic edges of a DAG: (u, v) ∈ edges such that no other path u → w → … → v exists in ``edges``.

    For a transitively closed edge set this is "no w with (u, w) and (w, v) both edges". The input need not be
    closed (WordNet's regenerated noun closure misses 155 implied pairs); paths of any length count.

    Args:
      edges: (m, 2) integer pairs (u, v) with ids in [0, num_nodes); duplicates are ignored.
      num_nodes: n.

    Returns:
      (k, 2) int64 basic edges, sorted by (u, v).

    Raises:
      ValueError: ids out of range, a self-loop (naming the row), or a cycle (naming a node on it).
    """
    edges = _checked_edges(edges, int(num_nodes))
    return edges[_basic_mask(edges, int(num_nodes))]


def _held_out_count(frac: float, num_candidates: int) -> int:
    """⌊frac · num_candidates + 1/2⌋ (round half up, the same on every platform)."""
    return int(np.floor(frac * num_candidates + 0.5))


def link_prediction_split(
    edges, num_nodes: int, *, valid_frac: float = 0.05, test_frac: float = 0.05, seed: int = 0
) -> LinkSplit:
    """Hold out a seeded random part of a closure's non-basic edges as validation and test.

    With B the basic edges (:func:`transitive_reduction`) and N = edges \\ B in sorted order, a permutation π
    of N from ``numpy.random.default_rng(seed)`` gives

        test  = N[π[0 : t]],   valid = N[π[t : t + v]],   train = B ∪ N[π[t + v :]],

    with t = ⌊test_frac·|N| + ½⌋ and v = ⌊valid_frac·|N| + ½⌋. The result depends only on the set of edges,
    ``num_nodes`` and the arguments (not on the order or repeats of the rows). Every basic edge is in train,
    so every node keeps a training edge in each direction it has one in the closure (checked).

    Args:
      edges: (m, 2) integer pairs (u, v) of a DAG (a transitive closure), ids in [0, num_nodes).
      num_nodes: n.
      valid_frac, test_frac: fractions of the non-basic edges: valid_frac ≥ 0, test_frac > 0, sum ≤ 1.
      seed: seed of the permutation.

    Returns:
      :class:`LinkSplit`.

    Raises:
      ValueError: bad fractions, bad edges (see :func:`transitive_reduction`), or a test fraction so small
        (or a closure with so few non-basic edges) that no test edge is held out.
    """
    num_nodes = int(num_nodes)
    valid_frac, test_frac = float(valid_frac), float(test_frac)
    if not 0.0 <= valid_frac <= 1.0:
        raise ValueError(f"valid_frac={valid_frac} must lie in [0, 1]")
    if not 0.0 < test_frac <= 1.0:
        raise ValueError(f"test_frac={test_frac} must lie in (0, 1]")
    if valid_frac + test_frac > 1.0:
        raise ValueError(f"valid_frac + test_frac = {valid_frac + test_frac} must be <= 1")
    edges = _checked_edges(edges, num_nodes)
    basic_mask = _basic_mask(edges, num_nodes)
    basic, implied = edges[basic_mask], edges[~basic_mask]
    num_test = _held_out_count(test_frac, len(implied))
    num_valid = min(_held_out_count(valid_frac, len(implied)), len(implied) - num_test)
    if num_test == 0:
        raise ValueError(
            f"test_frac={test_frac} of the {len(implied)} non-basic edges holds out no test edge; "
            "raise test_frac or use a larger closure"
        )
    order = np.random.default_rng(int(seed)).permutation(len(implied))
    test = _sorted_unique(implied[order[:num_test]])
    valid = _sorted_unique(implied[order[num_test : num_test + num_valid]])
    train = _sorted_unique(np.concatenate([basic, implied[order[num_test + num_valid :]]]))
    for column, direction in ((0, "outgoing"), (1, "incoming")):
        lost = np.setdiff1d(edges[:, column], train[:, column])
        if len(lost):  # impossible for a DAG: the reduction keeps every reachability
            raise AssertionError(f"node {lost[0]} lost its last {direction} training edge")
    return LinkSplit(
        train=train,
        valid=valid,
        test=test,
        basic=basic,
        num_nodes=num_nodes,
        seed=int(seed),
        valid_frac=valid_frac,
        test_frac=test_frac,
        closure_sha256=closure_fingerprint(edges, num_nodes),
    )


def save_split(path, split: LinkSplit) -> Path:
    """Write ``split`` to ``path`` (an ``.npz``), atomically, refusing to replace an existing file.

    Keys: ``train``, ``valid``, ``test``, ``basic`` ((m, 2) int64) and the scalars ``num_nodes``, ``seed``,
    ``valid_frac``, ``test_frac``, ``closure_sha256``. Raises FileExistsError if ``path`` exists.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(
            f,
            **{key: np.asarray(getattr(split, key), np.int64) for key in _ARRAYS},
            num_nodes=np.int64(split.num_nodes),
            seed=np.int64(split.seed),
            valid_frac=np.float64(split.valid_frac),
            test_frac=np.float64(split.test_frac),
            closure_sha256=np.str_(split.closure_sha256),
        )
    try:
        os.link(tmp, path)  # fails if the file exists: a split is never overwritten
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_split(path) -> LinkSplit:
    """Read a ``split.npz`` written by :func:`save_split`; SplitFileError naming the file and key if it is
    unreadable, lacks a key, or its edge sets are malformed (wrong shape, ids outside [0, num_nodes), or
    train / valid / test overlapping, or a basic edge outside train)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in (*_ARRAYS, *_SCALARS) if k not in npz.files]
            if missing:
                raise SplitFileError(f"{path}: missing key(s) {missing}; not a split written by save_split")
            values = {key: npz[key] for key in (*_ARRAYS, *_SCALARS)}
    except (OSError, ValueError) as err:
        if isinstance(err, SplitFileError):
            raise
        raise SplitFileError(f"{path}: cannot read the split ({err})") from err
    num_nodes = int(values["num_nodes"])
    for key in _ARRAYS:
        array = values[key]
        if array.ndim != 2 or array.shape[1] != 2 or not np.issubdtype(array.dtype, np.integer):
            raise SplitFileError(f"{path}: key {key!r} must be an (m, 2) integer array; got {array.shape}")
        if len(array) and (array.min() < 0 or array.max() >= num_nodes):
            raise SplitFileError(f"{path}: key {key!r} holds node ids outside [0, {num_nodes})")
    edges = {key: _sorted_unique(values[key]) for key in _ARRAYS}
    total = sum(len(edges[k]) for k in ("train", "valid", "test"))
    if len(_sorted_unique(np.concatenate([edges[k] for k in ("train", "valid", "test")]))) != total:
        raise SplitFileError(f"{path}: 'train', 'valid' and 'test' share edges; a split must be disjoint")
    keys = edges["train"][:, 0] * num_nodes + edges["train"][:, 1]
    if not np.isin(edges["basic"][:, 0] * num_nodes + edges["basic"][:, 1], keys).all():
        raise SplitFileError(f"{path}: key 'basic' holds edges that are not in 'train'")
    return LinkSplit(
        **edges,
        num_nodes=num_nodes,
        seed=int(values["seed"]),
        valid_frac=float(values["valid_frac"]),
        test_frac=float(values["test_frac"]),
        closure_sha256=str(values["closure_sha256"]),
    )


def split_for_workdir(
    path, edges, num_nodes: int, *, valid_frac: float, test_frac: float, seed: int
) -> tuple[LinkSplit, bool]:
    """The split saved at ``path`` if there is one, checked against the request; else a new one, saved.

    A saved split must have the requested ``seed``, ``valid_frac``, ``test_frac``, ``num_nodes`` and closure
    (train ∪ valid ∪ test equal to ``edges`` as a set, and the matching ``closure_sha256``); any difference is a
    SplitFileError listing each as ``key saved != requested``. A different split is never overwritten.

    Returns:
      ``(split, loaded)``: ``loaded`` is True when the split was read back from ``path``.
    """
    path = Path(path)
    if not path.exists():
        split = link_prediction_split(edges, num_nodes, valid_frac=valid_frac, test_frac=test_frac, seed=seed)
        try:
            save_split(path, split)
        except FileExistsError:
            pass  # written meanwhile by another process: read it back and compare below
        else:
            return split, False
    saved = load_split(path)
    requested = {
        "num_nodes": int(num_nodes),
        "seed": int(seed),
        "valid_frac": float(valid_frac),
        "test_frac": float(test_frac),
        "closure_sha256": closure_fingerprint(edges, num_nodes),
    }
    differences = [
        f"{k} {getattr(saved, k)!r} != {v!r}" for k, v in requested.items() if getattr(saved, k) != v
    ]
    if not differences and closure_fingerprint(saved.closure, saved.num_nodes) != saved.closure_sha256:
        differences.append("train ∪ valid ∪ test != the closure the split was made from")
    if differences:
        raise SplitFileError(
            f"{path} holds a different split (saved != requested): {'; '.join(differences)}. "
            "Use a new workdir, or the data and split settings it was made with"
        )
    return saved, True
