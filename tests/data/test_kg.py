"""geomrep.data.kg: triples files, train-built vocabularies, unseen entities, inverses, filter lists, WN18RR."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from geomrep.data import EdgeFileError
from geomrep.data.kg import KGFileError, add_inverses, answer_lists, find_split_file, load_kg

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_WN18RR = ROOT / "experiments" / "kg_completion" / "data" / "wn18rr"
SHARED_WN18RR = ROOT.parent / "shared" / "data" / "wn18rr"


def make_kg(
    tmp_path: Path, train: str, valid: str = "a\tr\tb\n", test: str = "a\tr\tb\n", suffix: str = ""
) -> Path:
    for name, text in (("train", train), ("valid", valid), ("test", test)):
        (tmp_path / f"{name}{suffix}").write_text(text, encoding="utf-8")
    return tmp_path


def raises_at(path: Path, line: int | None, match: str):
    prefix = re.escape(f"{path}:{line}:" if line is not None else str(path))
    return pytest.raises(KGFileError, match=prefix + ".*" + match)


def test_vocabularies_come_from_train_in_order_of_first_appearance(tmp_path):
    d = make_kg(tmp_path, "x\tlikes\ty\ny\tknows\tz\nx\tknows\tz\n", "z\tlikes\tx\n", "y\tknows\tx\n")
    kg = load_kg(d)
    assert kg.entity_names == ("x", "y", "z") and kg.relation_names == ("likes", "knows")
    assert kg.num_train_entities == 3 and kg.num_entities == 3 and kg.num_relations == 2
    assert kg.train.dtype == np.int32 and kg.train.tolist() == [[0, 0, 1], [1, 1, 2], [0, 1, 2]]
    assert kg.valid.tolist() == [[2, 0, 0]] and kg.test.tolist() == [[1, 1, 0]]
    assert kg.unseen["valid"].num_triples == 0 and kg.unseen["test"].num_triples == 0
    assert not kg.train.flags.writeable
    assert kg.split("valid") is kg.valid
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        kg.split("dev")


def test_whitespace_separated_lines_comments_and_txt_names(tmp_path):
    d = make_kg(tmp_path, "# header comment\n a  r  b \n\nb r c\n", "a r c\n", "b r a\n", suffix=".txt")
    kg = load_kg(d)
    assert kg.entity_names == ("a", "b", "c") and kg.train.tolist() == [[0, 0, 1], [1, 0, 2]]
    assert find_split_file(d, "train").name == "train.txt"


def test_tab_separated_fields_may_contain_spaces(tmp_path):
    d = make_kg(
        tmp_path, "new york\tcapital of\tusa\n", "new york\tcapital of\tusa\n", "usa\tcapital of\tnew york\n"
    )
    kg = load_kg(d)
    assert kg.entity_names == ("new york", "usa") and kg.relation_names == ("capital of",)


def test_gzip_files_are_read(tmp_path):
    for name, text in (("train", "a\tr\tb\n"), ("valid", "b\tr\ta\n"), ("test", "a\tr\tb\n")):
        with gzip.open(tmp_path / f"{name}.gz", "wt", encoding="utf-8") as f:
            f.write(text)
    kg = load_kg(tmp_path)
    assert kg.valid.tolist() == [[1, 0, 0]] and kg.paths["train"].name == "train.gz"


@pytest.mark.parametrize("policy", ["keep", "drop", "error"])
def test_unseen_entities_are_counted_under_every_policy(tmp_path, policy):
    d = make_kg(tmp_path, "a\tr\tb\nb\tr\tc\n", "a\tr\tc\nq\tr\ta\nq\tr\tw\n", "c\tr\tz\na\tr\tb\n")
    if policy == "error":
        with raises_at(d / "valid", 2, "entity 'q' does not occur in train"):
            load_kg(d, unseen=policy)
        return
    kg = load_kg(d, unseen=policy)
    valid, test = kg.unseen["valid"], kg.unseen["test"]
    assert (valid.num_triples, valid.num_entities, valid.first_line) == (2, 2, 2)
    assert (test.num_triples, test.num_entities, test.first_line) == (1, 1, 1)
    assert valid.dropped == test.dropped == (policy == "drop")
    assert "2 triples mention 2 entities absent from train" in kg.summary()
    if policy == "keep":  # appended after the train vocabulary, in order of first appearance
        assert kg.entity_names == ("a", "b", "c", "q", "w", "z") and kg.num_train_entities == 3
        assert kg.valid.tolist() == [[0, 0, 2], [3, 0, 0], [3, 0, 4]] and kg.test.tolist() == [
            [2, 0, 5],
            [0, 0, 1],
        ]
    else:
        assert kg.entity_names == ("a", "b", "c") and kg.num_entities == 3
        assert kg.valid.tolist() == [[0, 0, 2]] and kg.test.tolist() == [[0, 0, 1]]


def test_an_entity_first_seen_in_valid_is_still_unseen_in_test(tmp_path):
    d = make_kg(tmp_path, "a\tr\tb\n", "a\tr\tq\n", "q\tr\tb\n")
    kg = load_kg(d)
    assert kg.unseen["test"].num_triples == 1 and kg.test.tolist() == [[2, 0, 1]]


def test_relation_absent_from_train_names_file_and_line(tmp_path):
    d = make_kg(tmp_path, "a\tr\tb\n", "a\tr\tb\nb\ts\ta\n")
    with raises_at(d / "valid", 2, "relation 's' does not occur in train"):
        load_kg(d)


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("a\tr\tb\na\tr\n", 2, "expected 3 fields .* got 2"),
        ("a r b extra\n", 1, "expected 3 fields .* got 4"),
        ("a\t\tb\n", 1, "empty field"),
    ],
)
def test_malformed_train_lines_name_file_and_line(tmp_path, text, line, match):
    d = make_kg(tmp_path, text)
    with raises_at(d / "train", line, match):
        load_kg(d)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(KGFileError, match="no such knowledge-graph directory"):
        load_kg(tmp_path / "nowhere")
    (tmp_path / "train").write_text("a\tr\tb\n")
    with pytest.raises(KGFileError, match="no valid file"):
        load_kg(tmp_path)
    d = make_kg(tmp_path, "# only a comment\n")
    with raises_at(d / "train", None, "no triples"):
        load_kg(d)
    d = make_kg(tmp_path, "a\tr\tb\n", "q\tr\tw\n")
    with raises_at(d / "valid", None, "no triples left in valid"):
        load_kg(d, unseen="drop")
    (tmp_path / "train").write_bytes(b"\xff\xfe\x00a")
    with raises_at(d / "train", None, "not UTF-8"):
        load_kg(d)


def test_kg_errors_are_edge_file_errors_for_the_launcher(tmp_path):
    assert issubclass(KGFileError, EdgeFileError) and issubclass(KGFileError, ValueError)
    with pytest.raises(ValueError, match="unseen='maybe'"):
        load_kg(make_kg(tmp_path, "a\tr\tb\n"), unseen="maybe")


def test_add_inverses_appends_reversed_triples_with_shifted_relations():
    triples = np.array([[0, 1, 2], [3, 0, 4]], np.int32)
    out = add_inverses(triples, 2)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 1, 2], [3, 0, 4], [2, 3, 0], [4, 2, 3]]


def test_answer_lists_match_a_brute_force_filter():
    rng = np.random.default_rng(0)
    known = np.unique(rng.integers(0, [6, 3, 6], size=(60, 3)), axis=0)
    known = np.concatenate([known, known[:5]])  # repeats are listed once
    queries = np.concatenate([known[:20], [[5, 2, 0], [0, 0, 0]]])
    out = answer_lists(queries, known, 6)
    assert out.dtype == np.int32
    for row, (h, r, _) in zip(out, queries, strict=True):
        expected = sorted({int(t) for hh, rr, t in known if (hh, rr) == (h, r)})
        assert row[row < 6].tolist() == expected and np.all(row[len(expected) :] == 6)
    assert out.shape[1] == max(len({t for hh, rr, t in known if (hh, rr) == (h, r)}) for h, r, _ in queries)


def test_shipped_wn18rr_matches_its_documented_counts():
    kg = load_kg(SHIPPED_WN18RR)
    assert (len(kg.train), len(kg.valid), len(kg.test)) == (86_835, 3_034, 3_134)
    assert kg.num_entities == 40_943 and kg.num_train_entities == 40_559 and kg.num_relations == 11
    assert kg.unseen["valid"].num_triples == 210 and kg.unseen["test"].num_triples == 210
    assert kg.entity_names[0] == "00260881" and "_hypernym" in kg.relation_names
    assert kg.train_duplicates == 0
    queries = add_inverses(kg.test, kg.num_relations)
    known = add_inverses(np.concatenate([kg.train, kg.valid, kg.test]), kg.num_relations)
    answers = answer_lists(queries, known, kg.num_entities)
    assert np.all(
        np.any(answers == queries[:, 2:3], axis=1)
    )  # every target is among its own filtered answers


@pytest.mark.skipif(not SHARED_WN18RR.is_dir(), reason="../shared/data/wn18rr is not available")
def test_shipped_wn18rr_equals_the_shared_copy():
    shipped, shared = load_kg(SHIPPED_WN18RR), load_kg(SHARED_WN18RR)
    for name in ("train", "valid", "test"):
        np.testing.assert_array_equal(shipped.split(name), shared.split(name))
    assert shipped.entity_names == shared.entity_names
