"""Edge-list files: one loader for every graph and transitive closure geomrep trains on.

`load_edges` reads a text file with one edge per line (``u v`` or ``u v weight``), in CSV, TSV or
whitespace-separated form, with or without a header, and returns an `EdgeList`: integer node ids, optional
weights and the original node names. Every malformed input raises `EdgeFileError` naming the file and the
line, so nothing downstream (negative sampling, jitted training) ever sees a bad edge.

Node ids.
    If *every* node token in the file is a non-negative integer written canonically (``0``, ``17``; not
    ``007`` or ``-1``), the integer *is* the node id: ``num_nodes = max id + 1`` (ids that never occur are
    isolated nodes) and ``names[i] == str(i)``. This keeps the ids of pre-numbered files such as the
    HazyResearch ``.edges`` graphs. Otherwise ids are assigned in order of first appearance, reading each
    row left to right (``u`` before ``v``), so the numbering is deterministic. ``integer_ids=False`` forces
    first-appearance numbering, ``integer_ids=True`` requires integer tokens.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.csv"
    >>> _ = path.write_text("id1,id2,weight\\ndog,mammal,1\\ncat,mammal,1\\n")
    >>> el = load_edges(path)
    >>> el.names, el.edges.tolist(), el.num_nodes
    (('dog', 'mammal', 'cat'), [[0, 1], [2, 1]], 3)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from pathlib import Path

import numpy as np

from geomrep.data.registry import dataset_path

__all__ = ["EdgeFileError", "EdgeList", "load_closure", "load_edges"]

# Header rows recognised by header=None (compared case-insensitively, after stripping spaces).
_HEADER_PAIRS = frozenset(
    {
        ("id1", "id2"),
        ("u", "v"),
        ("source", "target"),
        ("src", "dst"),
        ("head", "tail"),
        ("child", "parent"),
        ("node1", "node2"),
        ("from", "to"),
        ("hyponym", "hypernym"),
    }
)
_HEADER_WEIGHTS = frozenset({"weight", "weights", "w"})
_POLICIES = ("drop", "error", "keep")
_INT32_MAX = np.iinfo(np.int32).max
# integer_ids=None refuses to create more than this many nodes when most of them would be isolated.
_SPARSE_IDS_FLOOR = 1 << 20
_SPARSE_IDS_FACTOR = 16


class EdgeFileError(ValueError):
    """A malformed or unreadable edge file. The message names the file and, where it applies, the line.

    Attributes:
        path: the file, as given to the loader.
        line: 1-based line number of the offending line, or None for whole-file problems.
    """

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


@dataclasses.dataclass(frozen=True, eq=False)
class EdgeList:
    """An immutable edge list as read from a file.

    Attributes:
        edges: int32 array (m, 2); row k is the k-th kept edge (u, v) in file order. Read-only.
        weights: float64 array (m,) from the third column, or None if the file has two columns. Read-only.
        names: names[i] is the original token of node i (``str(i)`` for integer-id files).
        num_nodes: number of nodes n; every id in ``edges`` is in [0, n).
        path: the file the edges were read from.
        directed: whether (u, v) and (v, u) are different edges (used by duplicate detection and `to_csr`).
        dropped_self_loops: rows dropped because u == v (self_loops="drop").
        dropped_duplicates: rows dropped as repeats of an earlier edge (duplicates="drop").

    Example:
        >>> el = EdgeList(np.array([[0, 1], [2, 1]], np.int32), None, ("a", "b", "c"), 3, Path("x"))
        >>> el.id_of("c"), el.num_edges
        (2, 2)
    """

    edges: np.ndarray
    weights: np.ndarray | None
    names: tuple[str, ...]
    num_nodes: int
    path: Path
    directed: bool = True
    dropped_self_loops: int = 0
    dropped_duplicates: int = 0

    @property
    def num_edges(self) -> int:
        """Number of edges m (rows of ``edges``)."""
        return int(self.edges.shape[0])

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def id_of(self, name: str) -> int:
        """Node id of the original token ``name``; KeyError naming the file if there is no such node.

        Example: for a file with the row ``dog.n.01,mammal.n.01,1`` first, ``id_of("mammal.n.01") == 1``.
        """
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"no node named {name!r} in {self.path}") from None

    def to_csr(self, *, symmetric: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Out-neighbour lists in CSR form, sorted within each row, for binary-search edge lookups.

        Node u's out-neighbours are ``indices[indptr[u]:indptr[u + 1]]``, strictly increasing when the list
        has no duplicate edges. Whether (u, w) is an edge is then
        ``np.searchsorted(row, w) < len(row) and row[np.searchsorted(row, w)] == w``.

        Args:
            symmetric: also add (v, u) for every (u, v), removing repeats. Default: ``not self.directed``.

        Returns:
            ``(indptr, indices)``: int32 arrays of shape (n + 1,) and (m,) (for symmetric=True, m counts
            each undirected edge in both directions and a self-loop once).

        Example:
            >>> edges = np.array([[0, 2], [0, 1], [2, 1]], np.int32)
            >>> el = EdgeList(edges, None, ("a", "b", "c"), 3, Path("x"))
            >>> [a.tolist() for a in el.to_csr()]
            [[0, 2, 2, 3], [1, 2, 1]]
        """
        if symmetric is None:
            symmetric = not self.directed
        u = self.edges[:, 0].astype(np.int64)
        v = self.edges[:, 1].astype(np.int64)
        if symmetric:
            key = np.unique(np.concatenate([u * self.num_nodes + v, v * self.num_nodes + u]))
            u, v = np.divmod(key, self.num_nodes)  # np.unique sorts by (u, v) already
        else:
            order = np.lexsort((v, u))
            u, v = u[order], v[order]
        counts = np.bincount(u, minlength=self.num_nodes)
        indptr = np.zeros(self.num_nodes + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        if indptr[-1] > _INT32_MAX:
            raise ValueError(f"{self.path}: too many edges ({indptr[-1]}) for int32 CSR indices")
        return indptr.astype(np.int32), v.astype(np.int32)


def load_edges(
    path: str | os.PathLike,
    *,
    delimiter: str | None = None,
    header: bool | None = None,
    directed: bool = True,
    self_loops: str = "drop",
    duplicates: str = "drop",
    integer_ids: bool | None = None,
) -> EdgeList:
    """Read an edge-list file into an `EdgeList`.

    Each non-blank line that does not start with ``#`` is one edge ``u v`` or ``u v weight``; all rows
    have the same number of fields. Weights must be finite and non-negative.

    Args:
        path: the file (UTF-8; a byte-order mark is ignored).
        delimiter: ``","``, ``"\\t"``, any other separator string, ``"whitespace"`` (runs of spaces/tabs),
            or None to sniff it from the first non-comment line: comma if it has one, else tab, else
            whitespace. Fields are stripped of surrounding spaces; CSV quoting is not supported.
        header: None auto-detects: the first line is a header if its first two fields are a known pair of
            column names (id1,id2 / u,v / source,target / src,dst / head,tail / child,parent /
            node1,node2 / from,to / hyponym,hypernym, any case), and a third field, if any, is
            weight/weights/w. True always skips the first line, False never does.
        directed: if False, (u, v) and (v, u) count as the same edge for ``duplicates``.
        self_loops: rows with u == v: "drop" (counted in ``dropped_self_loops``), "error" or "keep".
            A node that occurs only in dropped rows stays a node (isolated), so ids never depend on policy.
        duplicates: repeated edges: "drop" keeps the first occurrence and its weight (counted in
            ``dropped_duplicates``), "error" names both lines, "keep" keeps all.
        integer_ids: None uses integer tokens as ids when every token is a canonical non-negative
            integer (see the module docstring), True requires that, False always numbers by first
            appearance.

    Returns:
        An `EdgeList` with the kept edges in file order.

    Raises:
        EdgeFileError: missing/unreadable file, wrong or mixed field counts, empty node token, bad weight
            (non-numeric, NaN/inf, negative), self-loop or duplicate under "error", or no edges left.
        ValueError: an invalid argument (unknown policy, header, integer_ids or delimiter value).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "g.edges"
        >>> _ = path.write_text("0 1\\n1 2\\n2 2\\n1 0\\n")
        >>> el = load_edges(path, directed=False)
        >>> el.edges.tolist(), el.num_nodes, el.dropped_self_loops, el.dropped_duplicates
        ([[0, 1], [1, 2]], 3, 1, 1)
    """
    for arg, value in (("self_loops", self_loops), ("duplicates", duplicates)):
        if value not in _POLICIES:
            raise ValueError(f"{arg}={value!r} is not one of {', '.join(map(repr, _POLICIES))}")
    if header not in (None, True, False):
        raise ValueError(f"header={header!r} must be None (auto), True or False")
    if integer_ids not in (None, True, False):
        raise ValueError(f"integer_ids={integer_ids!r} must be None (auto), True or False")

    where = os.fspath(path)
    lines = _read_lines(path, where)
    first = next((k for k, raw in enumerate(lines) if _is_content(raw)), None)
    if first is None:
        raise EdgeFileError(f"{where}: no edges", path=path)

    sep = _resolve_delimiter(delimiter, lines[first])
    if header is None:
        header = _looks_like_header(_split(lines[first], sep))
    start = first + 1 if header else first

    index: dict[str, int] = {}
    us, vs, weight_tokens, linenos = _parse_rows(lines, start, sep, index, where, path)
    if not us:
        raise EdgeFileError(f"{where}: no edges", path=path)

    edges = np.empty((len(us), 2), np.int32)
    edges[:, 0] = us
    edges[:, 1] = vs
    names = tuple(index)
    edges, names = _apply_integer_ids(edges, names, integer_ids, where, path, lines, linenos)
    num_nodes = len(names)
    weights = None if weight_tokens is None else _parse_weights(weight_tokens, where, path, lines, linenos)
    linenos = np.asarray(linenos, np.int64)

    keep, dropped_self = _self_loop_mask(edges, self_loops, where, path, lines, linenos, names)
    if not keep.all():
        edges, linenos = edges[keep], linenos[keep]
        weights = None if weights is None else weights[keep]
    if edges.shape[0] == 0:
        raise EdgeFileError(f"{where}: no edges (all {dropped_self} were self-loops, dropped)", path=path)

    keep_rows, dropped_dup = _first_occurrences(
        edges, num_nodes, directed, duplicates, where, path, lines, linenos, names
    )
    if keep_rows is not None:
        edges = edges[keep_rows]
        weights = None if weights is None else weights[keep_rows]

    edges.setflags(write=False)
    if weights is not None:
        weights.setflags(write=False)
    return EdgeList(
        edges=edges,
        weights=weights,
        names=names,
        num_nodes=num_nodes,
        path=Path(path),
        directed=directed,
        dropped_self_loops=dropped_self,
        dropped_duplicates=dropped_dup,
    )


def load_closure(path: str | os.PathLike | None = None, **kwargs) -> EdgeList:
    """Load a transitive closure (``id1`` = child, ``id2`` = ancestor) as a directed `EdgeList`.

    Args:
        path: a closure file in Nickel & Kiela's ``id1,id2,weight`` format; default: the WordNet mammal
            closure shipped with geomrep (1180 nodes, 6540 edges, root ``mammal.n.01``).
        **kwargs: passed to `load_edges` (everything but ``directed``, which is always True).

    Example:
        >>> closure = load_closure()
        >>> closure.num_nodes, closure.num_edges
        (1180, 6540)
    """
    return load_edges(dataset_path("mammals") if path is None else path, directed=True, **kwargs)


# ----------------------------------------------------------------------------------------------------------
# Parsing steps. Each raises EdgeFileError with "PATH:LINE: ..." for the first bad line.


def _read_lines(path, where: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        raise EdgeFileError(f"no such edge file: {where}", path=path) from None
    except IsADirectoryError:
        raise EdgeFileError(f"edge file is a directory: {where}", path=path) from None
    except UnicodeDecodeError as e:
        raise EdgeFileError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})", path=path) from None
    except OSError as e:
        raise EdgeFileError(f"cannot read edge file {where}: {e.strerror or e}", path=path) from None
    # Split on "\n" only (not str.splitlines) so that line numbers match what editors and `sed -n` show.
    return text.split("\n")


def _is_content(raw: str) -> bool:
    line = raw.strip()
    return bool(line) and line[0] != "#"


def _resolve_delimiter(delimiter: str | None, first_line: str) -> str | None:
    """The separator for str.split: None means runs of whitespace."""
    if delimiter is None:
        return "," if "," in first_line else "\t" if "\t" in first_line else None
    if delimiter in ("whitespace", " "):
        return None
    if not isinstance(delimiter, str) or not delimiter or (delimiter.isspace() and delimiter != "\t"):
        raise ValueError(f"delimiter={delimiter!r}: use ',', '\\t', another separator, 'whitespace' or None")
    return delimiter


def _split(raw: str, sep: str | None) -> list[str]:
    line = raw.strip()
    return line.split() if sep is None else [field.strip() for field in line.split(sep)]


def _looks_like_header(fields: list[str]) -> bool:
    fields = [f.lower() for f in fields]
    if len(fields) not in (2, 3) or (fields[0], fields[1]) not in _HEADER_PAIRS:
        return False
    return len(fields) == 2 or fields[2] in _HEADER_WEIGHTS


def _parse_rows(lines, start, sep, index, where, path):
    """Hot loop: tokens -> first-appearance ids. Returns (us, vs, weight tokens or None, line numbers)."""
    us: list[int] = []
    vs: list[int] = []
    ws: list[str] = []
    linenos: list[int] = []
    ncols = 0
    ncols_line = 0
    setdefault = index.setdefault
    strip_fields = sep is not None
    for k in range(start, len(lines)):
        line = lines[k].strip()
        if not line or line[0] == "#":
            continue
        fields = line.split(sep)
        n = len(fields)
        if n != ncols:
            if n not in (2, 3):
                raise EdgeFileError(
                    f"{where}:{k + 1}: expected 2 or 3 fields (u v [weight]), got {n}: {line!r}",
                    path=path,
                    line=k + 1,
                )
            if ncols:
                raise EdgeFileError(
                    f"{where}:{k + 1}: got {n} fields but line {ncols_line} has {ncols}; all rows need "
                    f"the same columns (u v or u v weight): {line!r}",
                    path=path,
                    line=k + 1,
                )
            ncols, ncols_line = n, k + 1
        a = fields[0]
        b = fields[1]
        if strip_fields:
            a = a.strip()
            b = b.strip()
        if not a or not b:
            raise EdgeFileError(f"{where}:{k + 1}: empty node name: {line!r}", path=path, line=k + 1)
        us.append(setdefault(a, len(index)))
        vs.append(setdefault(b, len(index)))
        if n == 3:
            ws.append(fields[2])
        linenos.append(k + 1)
    return us, vs, (ws if ncols == 3 else None), linenos


def _apply_integer_ids(edges, names, integer_ids, where, path, lines, linenos):
    """Re-number first-appearance ids by the integer value of their tokens when the file uses integer ids."""
    if integer_ids is False:
        return edges, names
    canonical = [t.isascii() and t.isdigit() and (t[0] != "0" or t == "0") for t in names]
    if not all(canonical):
        if integer_ids:
            bad = names[canonical.index(False)]
            k = _first_line_with(edges, canonical.index(False), linenos)
            raise EdgeFileError(
                f"{where}:{k}: integer_ids=True but node {bad!r} is not a non-negative integer: "
                f"{lines[k - 1].strip()!r}",
                path=path,
                line=k,
            )
        return edges, names
    values = np.array([int(t) if len(t) < 12 else _INT32_MAX for t in names], np.int64)
    top = int(values.argmax())
    num_nodes = int(values[top]) + 1
    too_big = values[top] >= _INT32_MAX
    too_sparse = integer_ids is None and num_nodes > max(_SPARSE_IDS_FLOOR, _SPARSE_IDS_FACTOR * len(names))
    if too_big or too_sparse:
        k = _first_line_with(edges, top, linenos)
        why = (
            "does not fit in int32"
            if too_big
            else f"would create {num_nodes} nodes for {len(names)} distinct ids (mostly isolated)"
        )
        raise EdgeFileError(
            f"{where}:{k}: integer node id {names[top]} {why}; pass integer_ids=False to number "
            f"nodes by first appearance",
            path=path,
            line=k,
        )
    edges = values.astype(np.int32)[edges]
    return edges, tuple(str(i) for i in range(num_nodes))


def _first_line_with(edges, node, linenos) -> int:
    row = int(np.argmax((edges == node).any(axis=1)))
    return int(linenos[row])


def _parse_weights(tokens, where, path, lines, linenos) -> np.ndarray:
    try:
        weights = np.array(tokens, dtype=np.float64)
    except ValueError:
        weights = None
    if weights is None:
        for row, token in enumerate(tokens):
            try:
                float(token)
            except ValueError:
                k = linenos[row]
                # An unrecognised header fails here, on the first row: say how to skip it.
                hint = " (if this line is a header, pass header=True)" if row == 0 else ""
                raise EdgeFileError(
                    f"{where}:{k}: weight {token!r} is not a number{hint}: {lines[k - 1].strip()!r}",
                    path=path,
                    line=k,
                ) from None
        raise AssertionError("unreachable: numpy rejected a weight that float() accepts")
    bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        row = int(np.argmax(bad))
        k = linenos[row]
        what = "is not finite" if not math.isfinite(weights[row]) else "is negative"
        raise EdgeFileError(
            f"{where}:{k}: weight {tokens[row]!r} {what}; weights must be finite and >= 0: "
            f"{lines[k - 1].strip()!r}",
            path=path,
            line=k,
        )
    return weights


def _self_loop_mask(edges, policy, where, path, lines, linenos, names):
    loops = edges[:, 0] == edges[:, 1]
    count = int(loops.sum())
    if count == 0 or policy == "keep":
        return np.ones(edges.shape[0], bool), 0
    if policy == "error":
        row = int(np.argmax(loops))
        k = int(linenos[row])
        raise EdgeFileError(
            f"{where}:{k}: self-loop {names[edges[row, 0]]!r} -> itself (self_loops='error'; "
            f"pass 'drop' or 'keep'): {lines[k - 1].strip()!r}",
            path=path,
            line=k,
        )
    return ~loops, count


def _first_occurrences(edges, num_nodes, directed, policy, where, path, lines, linenos, names):
    """Rows to keep (first occurrence of each edge, file order) or None if nothing is dropped."""
    if policy == "keep":
        return None, 0
    u = edges[:, 0].astype(np.int64)
    v = edges[:, 1].astype(np.int64)
    if not directed:
        u, v = np.minimum(u, v), np.maximum(u, v)
    keys = u * num_nodes + v
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if first.shape[0] == keys.shape[0]:
        return None, 0
    if policy == "error":
        is_repeat = first[inverse] != np.arange(keys.shape[0])
        row = int(np.argmax(is_repeat))
        earlier = int(first[inverse[row]])
        k, k0 = int(linenos[row]), int(linenos[earlier])
        arrow = "->" if directed else "--"
        a, b = names[edges[row, 0]], names[edges[row, 1]]
        raise EdgeFileError(
            f"{where}:{k}: duplicate edge {a!r} {arrow} {b!r}, first on line {k0} "
            f"({lines[k0 - 1].strip()!r}); duplicates='error' (pass 'drop' or 'keep'): "
            f"{lines[k - 1].strip()!r}",
            path=path,
            line=k,
        )
    return np.sort(first), keys.shape[0] - first.shape[0]
