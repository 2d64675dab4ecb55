"""Knowledge-graph triples: ``head relation tail`` files, vocabularies, inverse relations, filter lists.

A knowledge graph for link prediction comes as three files ``train``, ``valid`` and ``test`` (optionally with a
``.txt`` extension and/or gzip-compressed as ``.gz``), one triple per line, fields separated by a tab (or, if a
line has no tab, by runs of whitespace). `load_kg` reads them into integer triples:

- **Vocabularies are built from train.** Entities get ids ``0 .. num_train_entities - 1`` in order of first
  appearance in train (head before tail), relations ``0 .. num_relations - 1`` likewise.
- **Entities that never occur in train** (WN18RR: 198 in valid, 209 in test, in 210 triples of each split) are
  counted and reported in `KnowledgeGraph.unseen`, and handled by the ``unseen`` policy:

  ``"keep"`` (default; the standard protocol of Bordes et al. 2013 and of every WN18RR number in the literature)
      they are appended to the vocabulary (ids ``num_train_entities ..``) so that the triple is ranked against
      *all* entities; their embeddings never receive a gradient, so these triples mostly rank badly.
  ``"drop"``
      the triples are removed from valid/test (and counted in ``unseen``); the candidate set is the train
      vocabulary. Numbers are then not comparable to published ones.
  ``"error"``
      the first such triple raises `KGFileError` naming file and line.

- A relation that never occurs in train cannot be scored and always raises `KGFileError` (file and line).

Evaluation follows the usual protocol (Lacroix et al. 2018; the gyrospd / kgc preprocessing): every triple
``(h, r, t)`` is asked twice, as ``(h, r, ?)`` and, through the inverse relation ``r + R``, as ``(t, r + R, ?)``
(`add_inverses`). Ranks are *filtered*: the other known answers of the query, taken from train ∪ valid ∪ test,
are removed from the candidates (`answer_lists`).

Example:
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "train").write_text("a\\tr\\tb\\nb\\tr\\tc\\n")
    >>> _ = (d / "valid").write_text("a\\tr\\tc\\n")
    >>> _ = (d / "test").write_text("c\\tr\\td\\n")
    >>> kg = load_kg(d)
    >>> kg.entity_names, kg.num_train_entities, kg.unseen["test"].num_triples
    (('a', 'b', 'c', 'd'), 3, 1)
    >>> add_inverses(kg.test, kg.num_relations).tolist()
    [[2, 0, 3], [3, 1, 2]]
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from pathlib import Path

import numpy as np

from geomrep.data.edges import EdgeFileError

__all__ = ["KGFileError", "KnowledgeGraph", "UnseenReport", "add_inverses", "answer_lists", "load_kg"]

SPLITS = ("train", "valid", "test")
_POLICIES = ("keep", "drop", "error")
_SUFFIXES = ("", ".txt", ".tsv", ".gz", ".txt.gz", ".tsv.gz")


class KGFileError(EdgeFileError):
    """A missing or malformed triples file; the message names the file and, where it applies, the line.

    A subclass of `geomrep.data.EdgeFileError` (hence of ``ValueError``), so the launcher reports it in one line.
    """


@dataclasses.dataclass(frozen=True)
class UnseenReport:
    """Triples of one split that mention an entity absent from train.

    Attributes:
        num_triples: how many triples of the split mention at least one such entity.
        num_entities: how many distinct such entities the split mentions.
        dropped: whether the triples were removed from the split (``unseen="drop"``) or kept.
        first_line: the line of the first such triple in the split's file (0 if there is none).
    """

    num_triples: int
    num_entities: int
    dropped: bool
    first_line: int


@dataclasses.dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """Integer triples of the three splits and their vocabularies.

    Attributes:
        train, valid, test: int32 arrays (m, 3) of ``(head, relation, tail)`` ids, in file order. Read-only.
        entity_names: ``entity_names[i]`` is the token of entity i; the first ``num_train_entities`` occur in
            train, the rest only in valid/test (``unseen="keep"``).
        relation_names: ``relation_names[r]`` is the token of relation r (all occur in train).
        num_train_entities: how many entities occur in train.
        unseen: split name (``"valid"``, ``"test"``) -> `UnseenReport`.
        paths: split name -> the file it was read from.
        train_duplicates: repeated triples in train (kept; they weigh twice in training).
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    entity_names: tuple[str, ...]
    relation_names: tuple[str, ...]
    num_train_entities: int
    unseen: dict[str, UnseenReport]
    paths: dict[str, Path]
    train_duplicates: int = 0

    @property
    def num_entities(self) -> int:
        """Size of the candidate set: every entity with an id."""
        return len(self.entity_names)

    @property
    def num_relations(self) -> int:
        """Number of relations R (without inverses; `add_inverses` uses ids ``R .. 2R - 1``)."""
        return len(self.relation_names)

    def split(self, name: str) -> np.ndarray:
        """The triples of ``"train"``, ``"valid"`` or ``"test"``."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; valid splits: {', '.join(SPLITS)}")
        return getattr(self, name)

    def summary(self) -> str:
        """One line per fact a user should know before trusting the numbers (sizes, unseen entities)."""
        lines = [
            f"{self.num_entities} entities ({self.num_train_entities} in train), {self.num_relations} relations; "
            f"triples train {len(self.train)}, valid {len(self.valid)}, test {len(self.test)}"
        ]
        for name, report in self.unseen.items():
            if report.num_triples:
                what = "dropped" if report.dropped else "kept (ranked against all entities)"
                lines.append(
                    f"{name}: {report.num_triples} triples mention {report.num_entities} entities absent from "
                    f"train, {what}; first at {self.paths[name]}:{report.first_line}"
                )
        if self.train_duplicates:
            lines.append(f"train: {self.train_duplicates} repeated triples (kept)")
        return "\n".join(lines)


def find_split_file(directory: str | os.PathLike, split: str) -> Path:
    """The file of ``split`` in ``directory``: ``split``, ``split.txt``, ``split.tsv``, each optionally ``.gz``."""
    directory = Path(directory)
    for suffix in _SUFFIXES:
        path = directory / f"{split}{suffix}"
        if path.is_file():
            return path
    tried = ", ".join(f"{split}{s}" for s in _SUFFIXES)
    if not directory.is_dir():
        raise KGFileError(f"no such knowledge-graph directory: {directory}", path=directory)
    raise KGFileError(f"{directory}: no {split} file (looked for {tried})", path=directory)


def load_kg(directory: str | os.PathLike, *, unseen: str = "keep") -> KnowledgeGraph:
    """Read ``train``, ``valid`` and ``test`` triples from ``directory`` (see the module docstring).

    Args:
        directory: a folder holding the three files (names as in `find_split_file`).
        unseen: what to do with valid/test triples that mention an entity absent from train: ``"keep"``
            (default, the standard protocol), ``"drop"`` or ``"error"``. They are counted in every case.

    Returns:
        A `KnowledgeGraph`.

    Raises:
        KGFileError: a missing file, a line without exactly three fields, an empty field, an empty split, a
            relation absent from train, or (``unseen="error"``) an entity absent from train; the message names
            the file and the line.
        ValueError: an unknown ``unseen`` policy.
    """
    if unseen not in _POLICIES:
        raise ValueError(f"unseen={unseen!r} is not one of {', '.join(map(repr, _POLICIES))}")
    paths = {name: find_split_file(directory, name) for name in SPLITS}
    entities: dict[str, int] = {}
    relations: dict[str, int] = {}

    rows, _ = _read_triples(paths["train"])
    train = np.array([(entities.setdefault(h, len(entities)), relations.setdefault(r, len(relations)),
                       entities.setdefault(t, len(entities))) for h, r, t in rows], np.int32)  # fmt: skip
    num_train_entities = len(entities)
    train_duplicates = len(train) - len(np.unique(train, axis=0))

    splits = {"train": train}
    reports = {}
    for name in ("valid", "test"):
        path = paths[name]
        rows, linenos = _read_triples(path)
        kept, first_line, new_entities, count = [], 0, set(), 0
        for (h, r, t), lineno in zip(rows, linenos, strict=True):
            if r not in relations:
                raise KGFileError(
                    f"{path}:{lineno}: relation {r!r} does not occur in train ({paths['train']}); a relation "
                    f"without training triples cannot be scored",
                    path=path,
                    line=lineno,
                )
            missing = [e for e in (h, t) if e not in entities or entities[e] >= num_train_entities]
            if missing:
                count += 1
                first_line = first_line or lineno
                new_entities.update(missing)
                if unseen == "error":
                    raise KGFileError(
                        f"{path}:{lineno}: entity {missing[0]!r} does not occur in train ({paths['train']}); "
                        f"pass unseen='keep' (rank it like any entity) or 'drop'",
                        path=path,
                        line=lineno,
                    )
                if unseen == "drop":
                    continue
            kept.append(
                (entities.setdefault(h, len(entities)), relations[r], entities.setdefault(t, len(entities)))
            )
        if not kept:
            raise KGFileError(f"{path}: no triples left in {name} (unseen={unseen!r})", path=path)
        splits[name] = np.array(kept, np.int32)
        reports[name] = UnseenReport(count, len(new_entities), unseen == "drop", first_line)

    for array in splits.values():
        array.setflags(write=False)
    return KnowledgeGraph(
        train=splits["train"],
        valid=splits["valid"],
        test=splits["test"],
        entity_names=tuple(entities),
        relation_names=tuple(relations),
        num_train_entities=num_train_entities,
        unseen=reports,
        paths=paths,
        train_duplicates=train_duplicates,
    )


def add_inverses(triples: np.ndarray, num_relations: int) -> np.ndarray:
    """``[(h, r, t)] + [(t, r + R, h)]``: the triples followed by their inverses (relation ids ``R .. 2R-1``).

    >>> add_inverses(np.array([[0, 1, 2]]), 3).tolist()
    [[0, 1, 2], [2, 4, 0]]
    """
    triples = np.asarray(triples)
    inverse = np.stack([triples[:, 2], triples[:, 1] + num_relations, triples[:, 0]], axis=1)
    return np.concatenate([triples, inverse.astype(triples.dtype)], axis=0)


def answer_lists(queries: np.ndarray, known: np.ndarray, num_entities: int) -> np.ndarray:
    """For each query ``(h, r, ·)`` the tails ``t`` of every known triple ``(h, r, t)``, padded.

    Args:
        queries: int array (q, 2) or (q, 3) of ``(head, relation[, tail])``; only the first two columns are used.
        known: int array (m, 3) of all true triples (with inverses when the queries use inverse relations).
        num_entities: the padding value (one past the last entity id: a scatter with ``mode="drop"`` ignores it).

    Returns:
        int32 array (q, width) whose row i lists the known tails of query i (sorted), padded with
        ``num_entities``; ``width`` is the largest answer count (at least 1).

    >>> answer_lists(np.array([[0, 0], [1, 0]]), np.array([[0, 0, 3], [0, 0, 2], [1, 1, 0]]), 5).tolist()
    [[2, 3], [5, 5]]
    """
    queries = np.asarray(queries, np.int64)
    known = np.asarray(known, np.int64)
    num_rel = int(max(known[:, 1].max(initial=0), queries[:, 1].max(initial=0))) + 1
    known_key = known[:, 0] * num_rel + known[:, 1]
    order = np.lexsort((known[:, 2], known_key))
    known_key, tails = known_key[order], known[order, 2]
    keep = np.ones(len(known_key), bool)  # drop repeated (h, r, t) so each answer is listed once
    keep[1:] = (known_key[1:] != known_key[:-1]) | (tails[1:] != tails[:-1])
    known_key, tails = known_key[keep], tails[keep]
    query_key = queries[:, 0] * num_rel + queries[:, 1]
    start = np.searchsorted(known_key, query_key, side="left")
    stop = np.searchsorted(known_key, query_key, side="right")
    counts = stop - start
    width = max(int(counts.max(initial=0)), 1)
    out = np.full((len(queries), width), num_entities, np.int32)
    column = np.arange(width)
    mask = column[None, :] < counts[:, None]
    out[mask] = tails[(start[:, None] + column[None, :])[mask]]
    return out


def _read_triples(path: Path) -> tuple[list[tuple[str, str, str]], list[int]]:
    where = os.fspath(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as f:
                text = f.read()
        else:
            with open(path, encoding="utf-8-sig", newline="") as f:
                text = f.read()
    except UnicodeDecodeError as e:
        raise KGFileError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})", path=path) from None
    except (OSError, EOFError) as e:
        raise KGFileError(
            f"cannot read triples file {where}: {getattr(e, 'strerror', None) or e}", path=path
        ) from None
    rows, linenos = [], []
    for k, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 3:
            raise KGFileError(
                f"{where}:{k}: expected 3 fields (head relation tail), got {len(fields)}: {line!r}",
                path=path,
                line=k,
            )
        fields = [f.strip() for f in fields]
        if not all(fields):
            raise KGFileError(f"{where}:{k}: empty field in {line!r}", path=path, line=k)
        rows.append(tuple(fields))
        linenos.append(k)
    if not rows:
        raise KGFileError(f"{where}: no triples", path=path)
    return rows, linenos
