"""scripts/make_wordnet_closure.py: the closure rule and the subtree filter on hand-made hierarchies.

No NLTK and no WordNet files are needed: the pure functions take dicts or callables.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from geomrep.data import load_closure

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_wordnet_closure.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_wordnet_closure", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A small noun hierarchy with multiple inheritance (dog is a mammal and a pet), an instance (lassie is a
# dog), a chain of instances (alecto is an instance of fury, itself an instance of deity) and a synset
# (female_mammal) that the mammal filter removes.
SYNSETS = ["entity", "organism", "animal", "pet", "mammal", "bird", "dog", "cat", "female_mammal", "deity",
           "fury", "lassie", "alecto"]  # fmt: skip
HYPERNYMS = {
    "organism": ["entity"],
    "animal": ["organism"],
    "pet": ["animal"],
    "mammal": ["animal"],
    "bird": ["animal"],
    "dog": ["mammal", "pet"],
    "cat": ["mammal"],
    "female_mammal": ["mammal"],
    "deity": ["entity"],
}
INSTANCE_HYPONYMS = {"dog": ["lassie"], "deity": ["fury"], "fury": ["alecto"]}
INSTANCE_HYPERNYMS = {"lassie": ["dog"], "fury": ["deity"], "alecto": ["fury"]}

ANCESTORS = {
    "organism": {"entity"},
    "animal": {"organism", "entity"},
    "pet": {"animal", "organism", "entity"},
    "mammal": {"animal", "organism", "entity"},
    "bird": {"animal", "organism", "entity"},
    "dog": {"mammal", "pet", "animal", "organism", "entity"},
    "cat": {"mammal", "animal", "organism", "entity"},
    "female_mammal": {"mammal", "animal", "organism", "entity"},
    "deity": {"entity"},
}
CLASS_PAIRS = {(child, parent) for child, parents in ANCESTORS.items() for parent in parents}
# Step 2: lassie -> dog and dog's ancestors; fury -> deity -> entity; alecto's instance-hypernym closure is
# {fury, deity} (transitively through fury's own instance hypernym), plus the hypernym closure of each.
INSTANCE_PAIRS = (
    {("lassie", "dog")} | {("lassie", a) for a in ANCESTORS["dog"]}
    | {("fury", "deity"), ("fury", "entity")}
    | {("alecto", "fury"), ("alecto", "deity"), ("alecto", "entity")}
)  # fmt: skip


def test_transitive_closure_is_breadth_first_and_cycle_safe(script):
    assert script.transitive_closure("dog", HYPERNYMS) == ["mammal", "pet", "animal", "organism", "entity"]
    assert script.transitive_closure("entity", HYPERNYMS) == []
    cyclic = {"a": ["b"], "b": ["c"], "c": ["a"]}
    assert script.transitive_closure("a", cyclic) == ["b", "c"]  # never the start itself


def test_closure_pairs_with_instances(script):
    pairs = script.closure_pairs(SYNSETS, HYPERNYMS, INSTANCE_HYPONYMS, INSTANCE_HYPERNYMS)
    assert pairs == CLASS_PAIRS | INSTANCE_PAIRS
    assert all(a != b for a, b in pairs)


def test_closure_pairs_without_instances(script):
    pairs = script.closure_pairs(
        SYNSETS, HYPERNYMS, INSTANCE_HYPONYMS, INSTANCE_HYPERNYMS, include_instances=False
    )
    assert pairs == CLASS_PAIRS


def test_closure_pairs_accepts_callables(script):
    def lookup(table):
        return lambda name: iter(table.get(name, []))

    pairs = script.closure_pairs(
        iter(SYNSETS), lookup(HYPERNYMS), lookup(INSTANCE_HYPONYMS), lookup(INSTANCE_HYPERNYMS)
    )
    assert pairs == CLASS_PAIRS | INSTANCE_PAIRS


def test_cycles_do_not_produce_self_loops(script):
    pairs = script.closure_pairs(["a", "b"], {"a": ["b"], "b": ["a"]})
    assert pairs == {("a", "b"), ("b", "a")}


def test_subtree_filter(script):
    pairs = script.closure_pairs(SYNSETS, HYPERNYMS, INSTANCE_HYPONYMS, INSTANCE_HYPERNYMS)
    mammals = script.subtree_pairs(pairs, "mammal")
    # descendants-or-self of mammal: dog, cat, female_mammal, lassie (an instance of dog), mammal;
    # pet is an ancestor of dog but not below mammal, so (dog, pet) and (lassie, pet) are dropped.
    assert mammals == {
        ("dog", "mammal"), ("cat", "mammal"), ("female_mammal", "mammal"), ("lassie", "mammal"),
        ("lassie", "dog"),
    }  # fmt: skip
    filtered = script.subtree_pairs(pairs, "mammal", exclude_children=["female_mammal"])
    assert filtered == mammals - {("female_mammal", "mammal")}
    assert script.subtree_pairs(pairs, "bird") == set()  # a leaf root has no edges below it
    assert script.subtree_pairs(pairs, "entity") == {(c, p) for c, p in pairs if c != "entity"}


def test_mammal_exclusions_are_the_two_fb_children(script):
    assert script.MAMMAL_EXCLUDED_CHILDREN == ("female_mammal.n.01", "tusker.n.01")
    assert script.DEFAULT_ROOT == "mammal.n.01"


def test_write_closure_sorts_and_round_trips(script, tmp_path):
    pairs = script.closure_pairs(SYNSETS, HYPERNYMS, INSTANCE_HYPONYMS, INSTANCE_HYPERNYMS)
    out = tmp_path / "sub" / "closure.csv"
    assert script.write_closure(pairs, out) == len(pairs)
    lines = out.read_text().splitlines()
    assert lines[0] == "id1,id2,weight"
    rows = [tuple(line.split(",")) for line in lines[1:]]
    assert rows == sorted(rows) and all(w == "1" for _, _, w in rows)
    el = load_closure(out)
    assert {(el.names[u], el.names[v]) for u, v in el.edges.tolist()} == pairs
    with pytest.raises(ValueError, match="cannot be written unquoted"):
        script.write_closure({("a,b", "c")}, tmp_path / "bad.csv")


def test_lexnames_table(script):
    lines = script.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3" and lines[5] == "05\tnoun.animal\t1" and lines[44] == "44\tadj.ppl\t3"
    assert lines[29] == "29\tverb.body\t2" and lines[2] == "02\tadv.all\t4"


def test_main_end_to_end_without_nltk(script, tmp_path, monkeypatch, capsys):
    relations = (SYNSETS, HYPERNYMS, INSTANCE_HYPONYMS, INSTANCE_HYPERNYMS)
    monkeypatch.setattr(script, "read_wordnet_relations", lambda wordnet_dir: relations)
    out = tmp_path / "mammals.csv"
    argv = ["--wordnet-dir", str(tmp_path), "--out", str(out), "--root", "mammal"]
    assert script.main(argv + ["--exclude-child", "female_mammal"]) == 0
    assert out.read_text().splitlines() == [
        "id1,id2,weight", "cat,mammal,1", "dog,mammal,1", "lassie,dog,1", "lassie,mammal,1"
    ]  # fmt: skip
    assert "below mammal: 5 edges, then 4 edges / 4 nodes" in capsys.readouterr().out
    assert script.main(argv) == 0  # no default exclusions for a root other than mammal.n.01
    assert len(out.read_text().splitlines()) == 1 + 5
    assert script.main(argv + ["--exclude-child", "cat", "--no-exclude"]) == 0
    assert len(out.read_text().splitlines()) == 1 + 5
    assert script.main(["--wordnet-dir", ".", "--out", str(out), "--root", ""]) == 0
    assert len(out.read_text().splitlines()) == 1 + len(CLASS_PAIRS | INSTANCE_PAIRS)
    assert script.main(["--wordnet-dir", ".", "--out", str(out), "--no-include-instances", "--root", ""]) == 0
    assert len(out.read_text().splitlines()) == 1 + len(CLASS_PAIRS)
    assert script.main(["--wordnet-dir", ".", "--out", str(out), "--root", "unicorn"]) == 2


def test_missing_nltk_gives_a_clear_error(script, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nltk", None)  # makes `import nltk...` raise ImportError
    monkeypatch.setitem(sys.modules, "nltk.data", None)
    monkeypatch.setitem(sys.modules, "nltk.corpus.reader.wordnet", None)
    (tmp_path / "data.noun").write_text("")
    with pytest.raises(SystemExit, match=r"needs nltk: pip install 'geomrep\[wordnet\]'"):
        script.read_wordnet_relations(tmp_path)


def test_missing_wordnet_files(script, tmp_path):
    with pytest.raises(SystemExit, match="no data.noun here"):
        script.read_wordnet_relations(tmp_path)
