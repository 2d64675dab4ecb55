#!/usr/bin/env python3
"""Regenerate the WordNet noun (or mammal) transitive closure from the WordNet 3.0 database files.

Usage:
    python scripts/make_wordnet_closure.py --wordnet-dir /usr/share/wordnet --out noun_closure.csv --root ''
    python scripts/make_wordnet_closure.py --wordnet-dir /usr/share/wordnet --out mammal_closure.csv

``--wordnet-dir`` is a folder holding WordNet 3.0's ``data.noun``/``index.noun``/... (Debian/Ubuntu:
``apt-get install wordnet-base`` puts them in /usr/share/wordnet). The files are read with NLTK's
WordNet reader, so this script needs the optional extra ``pip install 'geomrep[wordnet]'`` (nltk). Debian's
package lacks the small ``lexnames`` file NLTK insists on; the script then reads a temporary copy of the
folder with WordNet 3.0's lexnames table added. No NLTK data download is needed.

The closure rule is the one of Nickel & Kiela (2017) (facebookresearch/poincare-embeddings,
``wordnet/transitive_closure.py``, read as a specification):

1. For every noun synset s, add (s, h) for every h in the transitive closure of ``hypernyms()``.
2. With ``--include-instances`` (default): for every i in ``s.instance_hyponyms()``, add (i, h') for every h'
   in the closure of ``instance_hypernyms()`` of i, and (i, h'') for every h'' in the hypernym closure of h'.
3. Deduplicate and sort lexicographically; write CSV ``id1,id2,weight`` (child, ancestor, 1).

``--root NAME`` (default ``mammal.n.01``; pass ``--root ''`` for the full noun closure) keeps the subtree:
with D = {c : (c, NAME) in the closure} ∪ {NAME}, the edges with both ends in D. For mammal.n.01 it then
drops, like poincare-embeddings' ``mammals_filter.txt``, the edges whose child is ``female_mammal.n.01`` or
``tusker.n.01``. That filter file lists 24 regular expressions, applied with pandas ``str.match`` (anchored
at the start) to the string "id1 id2": the 22 patterns that begin with ``\\s`` can never match at position
0, and the two anchored ``^female_mammal.n.01`` / ``^tusker.n.01`` remove exactly those two children's
edges (both are categories by sex or feature, not taxa). ``--exclude-child`` replaces that default list,
``--no-exclude`` disables it.

Verified on WordNet 3.0 (Debian wordnet-base 1:3.0-37, NLTK 3.10.4):
    * full noun closure: 743,086 edges, 82,115 nodes, byte-identical to shared/data's noun_closure.csv
      (sha256 df511bead6066a1b...);
    * mammal.n.01: 6542 edges / 1182 nodes before the exclusions, 6540 edges / 1180 nodes after, equal as a
      set to the shipped geomrep/data/datasets/mammal_closure.csv (whose row order differs).

The closure logic (`closure_pairs`, `subtree_pairs`) takes plain callables or dicts, so it is tested without
NLTK on small hand-made hierarchies (tests/data/test_wordnet_closure.py).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

Relation = Mapping[str, Sequence[str]] | Callable[[str], Iterable[str]]

# Children whose edges poincare-embeddings' mammals_filter.txt removes (see the module docstring).
MAMMAL_EXCLUDED_CHILDREN = ("female_mammal.n.01", "tusker.n.01")
DEFAULT_ROOT = "mammal.n.01"


def _as_function(relation: Relation | None) -> Callable[[str], Iterable[str]]:
    if relation is None:
        return lambda name: ()
    if isinstance(relation, Mapping):
        return lambda name: relation.get(name, ())
    return relation


def transitive_closure(start: str, relation: Relation) -> list[str]:
    """Every node reachable from ``start`` by one or more ``relation`` steps, excluding ``start`` itself.

    Breadth-first, each node once (cycles are safe), matching NLTK's ``Synset.closure``.

    Example:
        >>> transitive_closure("dog", {"dog": ["canine"], "canine": ["carnivore"]})
        ['canine', 'carnivore']
    """
    step = _as_function(relation)
    seen = {start}
    order: list[str] = []
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for parent in step(node):
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
                    nxt.append(parent)
        frontier = nxt
    return order


def closure_pairs(
    synsets: Iterable[str],
    hypernyms: Relation,
    instance_hyponyms: Relation | None = None,
    instance_hypernyms: Relation | None = None,
    *,
    include_instances: bool = True,
) -> set[tuple[str, str]]:
    """The (child, ancestor) pairs of the Nickel & Kiela noun closure rule (steps 1-2 of the module doc).

    Args:
        synsets: the noun synset names to start from (every noun synset, instances included).
        hypernyms: name -> direct hypernym names (a dict or a callable).
        instance_hyponyms: name -> names of its instances.
        instance_hypernyms: instance name -> the classes it is an instance of.
        include_instances: apply step 2 (instances and their ancestors).

    Returns:
        A set of (child, ancestor) name pairs, never (s, s).

    Example:
        >>> hyper = {"dog": ["canine"], "canine": ["animal"]}
        >>> sorted(closure_pairs(["dog", "canine", "animal"], hyper))
        [('canine', 'animal'), ('dog', 'animal'), ('dog', 'canine')]
        >>> sorted(closure_pairs(["canine"], hyper, {"canine": ["lassie"]}, {"lassie": ["canine"]}))
        [('canine', 'animal'), ('lassie', 'animal'), ('lassie', 'canine')]
    """
    hyper = _as_function(hypernyms)
    inst_hypo = _as_function(instance_hyponyms)
    inst_hyper = _as_function(instance_hypernyms)
    ancestors_cache: dict[str, list[str]] = {}

    def ancestors(name: str) -> list[str]:
        if name not in ancestors_cache:
            ancestors_cache[name] = transitive_closure(name, hyper)
        return ancestors_cache[name]

    pairs: set[tuple[str, str]] = set()
    for s in synsets:
        pairs.update((s, h) for h in ancestors(s))
        if not include_instances:
            continue
        for i in inst_hypo(s):
            for h1 in transitive_closure(i, inst_hyper):
                pairs.add((i, h1))
                pairs.update((i, h2) for h2 in ancestors(h1))
    # Only a cyclic relation could produce (s, s); WordNet's noun hierarchy has none, the guard is cheap.
    return {(a, b) for a, b in pairs if a != b}


def subtree_pairs(
    pairs: Iterable[tuple[str, str]], root: str, exclude_children: Iterable[str] = ()
) -> set[tuple[str, str]]:
    """The part of a closure below ``root``: edges whose both ends are ``root`` or one of its descendants.

    Descendants are D = {c : (c, root) in pairs}; since ``pairs`` is transitively closed this is the whole
    subtree. Edges whose child is in ``exclude_children`` are then dropped (the mammals filter).

    Example:
        >>> pairs = {("dog", "mammal"), ("dog", "animal"), ("mammal", "animal"), ("cat", "mammal")}
        >>> sorted(subtree_pairs(pairs, "mammal"))
        [('cat', 'mammal'), ('dog', 'mammal')]
        >>> sorted(subtree_pairs(pairs, "mammal", exclude_children=["cat"]))
        [('dog', 'mammal')]
    """
    pairs = list(pairs)
    below = {child for child, parent in pairs if parent == root}
    below.add(root)
    excluded = set(exclude_children)
    return {(c, p) for c, p in pairs if c in below and p in below and c not in excluded}


def write_closure(pairs: Iterable[tuple[str, str]], out: str | Path) -> int:
    """Write pairs sorted lexicographically as CSV ``id1,id2,weight`` (weight 1). Returns the row count."""
    rows = sorted(pairs)
    for a, b in rows:
        if any(ch in name for name in (a, b) for ch in ',"\n\r'):
            raise ValueError(f"node name {a!r} or {b!r} cannot be written unquoted in CSV")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("id1,id2,weight\n")
        f.writelines(f"{a},{b},1\n" for a, b in rows)
    tmp.replace(out)  # atomic: a failed run never leaves a half-written closure
    return len(rows)


# WordNet 3.0's lexicographer file names, numbered 00..44 (the table of the lexnames(5WN) manual page). NLTK's
# reader requires the small "lexnames" file, which some packagings (Debian's wordnet-base) leave out.
WORDNET_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_LEXNAME_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def lexnames_text() -> str:
    """The content of WordNet 3.0's ``lexnames`` file: "NN<TAB>name<TAB>category" per line."""
    return "".join(
        f"{k:02d}\t{name}\t{_LEXNAME_CATEGORY[name.split('.')[0]]}\n"
        for k, name in enumerate(WORDNET_LEXNAMES)
    )


def read_wordnet_relations(wordnet_dir: str | Path):
    """Noun synset names and their three relations from a WordNet database folder, via NLTK.

    Returns ``(names, hypernyms, instance_hyponyms, instance_hypernyms)``; each relation is a dict
    name -> list of names, ready for `closure_pairs`.
    """
    wordnet_dir = Path(wordnet_dir)
    if not (wordnet_dir / "data.noun").is_file():
        raise SystemExit(f"{wordnet_dir}: no data.noun here; pass the WordNet 3.0 'dict' folder")
    try:
        import nltk.data
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError:
        raise SystemExit(
            "make_wordnet_closure.py needs nltk: pip install 'geomrep[wordnet]' (or pip install nltk)"
        ) from None
    with tempfile.TemporaryDirectory(prefix="wordnet-") as staging:
        root = wordnet_dir.resolve()
        if not (root / "lexnames").is_file():
            # Stage a copy with the missing lexnames file; the database files themselves are unchanged.
            for item in root.iterdir():
                if item.is_file():
                    shutil.copyfile(item, Path(staging) / item.name)
            (Path(staging) / "lexnames").write_text(lexnames_text(), encoding="utf-8")
            root = Path(staging)
            print(f"{wordnet_dir} has no lexnames file; using a copy with WordNet 3.0's table added")
        # NLTK >= 3.10 reads corpora only below its data paths: trust the folder the user named.
        if str(root) not in nltk.data.path:
            nltk.data.path.append(str(root))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The multilingual functions are not available")
            reader = _make_reader(WordNetCorpusReader)(str(root), None)
        return _noun_relations(reader)


def _make_reader(base):
    class NounHierarchyReader(base):
        """NLTK's reader minus the map to NLTK's own downloaded WordNet (only multilingual data use it)."""

        def map_wn(self, version="wordnet"):
            return None

    return NounHierarchyReader


def _noun_relations(reader):
    names: list[str] = []
    hypernyms: dict[str, list[str]] = {}
    instance_hyponyms: dict[str, list[str]] = {}
    instance_hypernyms: dict[str, list[str]] = {}
    for synset in reader.all_synsets(pos="n"):
        name = synset.name()
        names.append(name)
        hypernyms[name] = [h.name() for h in synset.hypernyms()]
        instance_hyponyms[name] = [h.name() for h in synset.instance_hyponyms()]
        instance_hypernyms[name] = [h.name() for h in synset.instance_hypernyms()]
    return names, hypernyms, instance_hyponyms, instance_hypernyms


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wordnet-dir", required=True, help="folder with WordNet 3.0 data.noun, index.noun, ..."
    )
    parser.add_argument("--out", required=True, help="CSV file to write (id1,id2,weight)")
    parser.add_argument(
        "--root",
        default=DEFAULT_ROOT,
        help=f"keep the subtree below this synset (default {DEFAULT_ROOT}); '' for the full noun closure",
    )
    parser.add_argument(
        "--include-instances",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add instance synsets and their ancestors (default: yes, as Nickel & Kiela)",
    )
    parser.add_argument(
        "--exclude-child",
        action="append",
        metavar="SYNSET",
        help="drop edges whose child is SYNSET (repeatable; default for mammal.n.01: "
        + ", ".join(MAMMAL_EXCLUDED_CHILDREN)
        + ")",
    )
    parser.add_argument("--no-exclude", action="store_true", help="drop no children (no mammals filter)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    names, hyper, inst_hypo, inst_hyper = read_wordnet_relations(args.wordnet_dir)
    print(f"read {len(names)} noun synsets from {args.wordnet_dir} ({time.perf_counter() - t0:.1f} s)")
    pairs = closure_pairs(names, hyper, inst_hypo, inst_hyper, include_instances=args.include_instances)
    nodes = {x for pair in pairs for x in pair}
    print(f"noun closure: {len(pairs)} edges, {len(nodes)} nodes")
    if args.root:
        if args.root not in hyper:
            print(
                f"error: --root {args.root!r} is not a noun synset name (e.g. mammal.n.01)", file=sys.stderr
            )
            return 2
        if args.no_exclude:
            excluded: Sequence[str] = ()
        elif args.exclude_child is not None:
            excluded = args.exclude_child
        else:
            excluded = MAMMAL_EXCLUDED_CHILDREN if args.root == DEFAULT_ROOT else ()
        before = subtree_pairs(pairs, args.root)
        pairs = subtree_pairs(before, args.root, excluded)
        nodes = {x for pair in pairs for x in pair}
        print(
            f"below {args.root}: {len(before)} edges, then {len(pairs)} edges / {len(nodes)} nodes after "
            f"excluding children {list(excluded)}"
        )
    count = write_closure(pairs, args.out)
    print(f"wrote {count} edges to {args.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
