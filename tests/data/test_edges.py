"""geomrep.data.edges: every branch of the edge-list loader, the shipped mammals, CSR, the noun closure."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import numpy as np
import pytest

import geomrep.data
from geomrep.data import DATASETS, EdgeFileError, EdgeList, dataset_path, load_closure, load_edges

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def write(tmp_path: Path, text: str, name: str = "g.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def raises_at(path: Path, line: int | None, match: str):
    """pytest.raises for an EdgeFileError whose message names the file (and the line, if given)."""
    prefix = re.escape(f"{path}:{line}:" if line is not None else str(path))
    return pytest.raises(EdgeFileError, match=prefix + ".*" + match)


# ---------------------------------------------------------------------------------------------- formats


def test_csv_with_header_and_weights(tmp_path):
    path = write(tmp_path, "id1,id2,weight\ndog,mammal,1\ncat,mammal,0.5\ndog,animal,2\n", "g.csv")
    el = load_edges(path)
    assert el.names == ("dog", "mammal", "cat", "animal")
    assert el.edges.dtype == np.int32 and el.edges.tolist() == [[0, 1], [2, 1], [0, 3]]
    assert el.weights.dtype == np.float64 and el.weights.tolist() == [1.0, 0.5, 2.0]
    assert el.num_nodes == 4 and el.num_edges == 3
    assert el.path == path and el.directed
    assert el.id_of("cat") == 2 and el.names[el.id_of("animal")] == "animal"
    assert el.dropped_self_loops == 0 and el.dropped_duplicates == 0


def test_tsv_without_header(tmp_path):
    path = write(tmp_path, "a b\tc d\nc d\te f\n", "g.tsv")  # names with spaces survive a tab split
    el = load_edges(path)
    assert el.names == ("a b", "c d", "e f")
    assert el.edges.tolist() == [[0, 1], [1, 2]]
    assert el.weights is None


def test_whitespace_separated_with_weights(tmp_path):
    path = write(tmp_path, "  x   y 3\ny z   4.5  \n")
    el = load_edges(path)
    assert el.names == ("x", "y", "z")
    assert el.weights.tolist() == [3.0, 4.5]


def test_mixed_tabs_and_spaces_as_whitespace(tmp_path):
    path = write(tmp_path, "x y\ny\t z\n")
    el = load_edges(path, delimiter="whitespace")
    assert el.edges.tolist() == [[0, 1], [1, 2]]


def test_explicit_delimiter_and_spaces_around_fields(tmp_path):
    path = write(tmp_path, "a ; b ; 1\nb;c;2\n")
    el = load_edges(path, delimiter=";")
    assert el.names == ("a", "b", "c") and el.weights.tolist() == [1.0, 2.0]


def test_comments_blank_lines_crlf_and_bom(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(
        "\ufeff# a comment\r\n\r\nid1,id2\r\n  # indented comment\r\nu,v\r\n\r\nv,w\r\n".encode()
    )
    el = load_edges(path)
    assert el.names == ("u", "v", "w") and el.edges.tolist() == [[0, 1], [1, 2]]


@pytest.mark.parametrize(
    "header",
    ["id1,id2,weight", "u,v,w", "Source,Target,Weight", "SRC,DST,weights", "head,tail,w", "child,parent,w",
     "node1,node2,weight"],
)  # fmt: skip
def test_known_headers_are_detected(tmp_path, header):
    el = load_edges(write(tmp_path, f"{header}\na,b,1\n"))
    assert el.names == ("a", "b") and el.num_edges == 1


@pytest.mark.parametrize("header", ["u v", "source\ttarget", "id1,id2"])
def test_two_column_headers(tmp_path, header):
    sep = "," if "," in header else "\t" if "\t" in header else " "
    el = load_edges(write(tmp_path, f"{header}\na{sep}b\n"))
    assert el.names == ("a", "b")


def test_header_forced(tmp_path):
    path = write(tmp_path, "parent_of,child_of\na,b\n")
    assert load_edges(path, header=True).names == ("a", "b")
    assert load_edges(path).names == ("parent_of", "child_of", "a", "b")  # unknown names are data
    path = write(tmp_path, "id1,id2\na,b\n", "h2.csv")
    assert load_edges(path, header=False).names == ("id1", "id2", "a", "b")


def test_unknown_header_with_weight_column_hints_at_header_true(tmp_path):
    path = write(tmp_path, "from_node,to_node,strength\na,b,1\n")
    with raises_at(
        path, 1, r"weight 'strength' is not a number \(if this line is a header, pass header=True\)"
    ):
        load_edges(path)
    assert load_edges(path, header=True).weights.tolist() == [1.0]


# --------------------------------------------------------------------------------------------- node ids


def test_integer_ids_keep_their_values(tmp_path):
    el = load_edges(write(tmp_path, "3 1\n1 0\n0 5\n"))
    assert el.edges.tolist() == [[3, 1], [1, 0], [0, 5]]
    assert el.num_nodes == 6  # max id + 1: 2 and 4 are isolated nodes
    assert el.names == ("0", "1", "2", "3", "4", "5")
    assert el.id_of("5") == 5


def test_non_canonical_integers_are_names(tmp_path):
    el = load_edges(write(tmp_path, "007 7\n7 -1\n"))
    assert el.names == ("007", "7", "-1")
    assert el.edges.tolist() == [[0, 1], [1, 2]]


def test_integer_ids_switch(tmp_path):
    path = write(tmp_path, "3 1\n1 0\n")
    el = load_edges(path, integer_ids=False)
    assert el.names == ("3", "1", "0") and el.edges.tolist() == [[0, 1], [1, 2]]
    named = write(tmp_path, "3 1\n1 x\n", "named.txt")
    with raises_at(named, 2, "integer_ids=True but node 'x' is not a non-negative integer"):
        load_edges(named, integer_ids=True)


def test_integer_ids_too_large_or_too_sparse(tmp_path):
    path = write(tmp_path, "0 1\n1 99999999999\n")
    with raises_at(path, 2, "does not fit in int32; pass integer_ids=False"):
        load_edges(path)
    sparse = write(tmp_path, "0 1\n1 50000000\n", "sparse.txt")
    with raises_at(sparse, 2, "would create 50000001 nodes for 3 distinct ids"):
        load_edges(sparse)
    assert load_edges(sparse, integer_ids=False).num_nodes == 3


def test_id_of_unknown_name(tmp_path):
    el = load_edges(write(tmp_path, "a b\n"))
    with pytest.raises(KeyError, match="no node named 'zebra'"):
        el.id_of("zebra")


def test_edge_list_is_immutable(tmp_path):
    el = load_edges(write(tmp_path, "a b 1\n"))
    with pytest.raises(ValueError):
        el.edges[0, 0] = 1
    with pytest.raises(ValueError):
        el.weights[0] = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        el.num_nodes = 3


# ------------------------------------------------------------------------------------ policies and errors


def test_self_loop_policies(tmp_path):
    path = write(tmp_path, "a b\nb b\nb c\nc c\n")
    dropped = load_edges(path)
    assert dropped.edges.tolist() == [[0, 1], [1, 2]] and dropped.dropped_self_loops == 2
    kept = load_edges(path, self_loops="keep")
    assert kept.edges.tolist() == [[0, 1], [1, 1], [1, 2], [2, 2]] and kept.dropped_self_loops == 0
    with raises_at(path, 2, r"self-loop 'b' -> itself \(self_loops='error'"):
        load_edges(path, self_loops="error")


def test_duplicate_policies_directed(tmp_path):
    path = write(tmp_path, "a,b,1\nb,a,2\na,b,3\nb,c,4\n")
    el = load_edges(path)
    assert el.edges.tolist() == [[0, 1], [1, 0], [1, 2]]
    assert el.weights.tolist() == [1.0, 2.0, 4.0]  # the first occurrence's weight survives
    assert el.dropped_duplicates == 1
    kept = load_edges(path, duplicates="keep")
    assert kept.num_edges == 4 and kept.dropped_duplicates == 0
    with raises_at(path, 3, r"duplicate edge 'a' -> 'b', first on line 1 \('a,b,1'\)"):
        load_edges(path, duplicates="error")


def test_duplicate_policies_undirected(tmp_path):
    path = write(tmp_path, "# graph\na b\nb c\nb a\nc b\n")
    el = load_edges(path, directed=False)
    assert el.edges.tolist() == [[0, 1], [1, 2]] and el.dropped_duplicates == 2 and not el.directed
    with raises_at(path, 4, r"duplicate edge 'b' -- 'a', first on line 2 \('a b'\)"):
        load_edges(path, directed=False, duplicates="error")
    assert load_edges(path, directed=True).num_edges == 4


def test_self_loops_are_removed_before_duplicate_counting(tmp_path):
    el = load_edges(write(tmp_path, "a a\na a\na b\n"))
    assert el.dropped_self_loops == 2 and el.dropped_duplicates == 0 and el.num_edges == 1
    assert el.names == ("a", "b")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(EdgeFileError, match=re.escape(f"no such edge file: {path}")):
        load_edges(path)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(EdgeFileError, match="is a directory"):
        load_edges(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.edges"
    path.write_bytes(b"a b\n\xff\xfe c\n")
    with pytest.raises(EdgeFileError, match="not UTF-8"):
        load_edges(path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a,b\n\nc,d\na,b,c,d\n", 4, r"expected 2 or 3 fields \(u v \[weight\]\), got 4: 'a,b,c,d'"),
        ("# c\nlonely\n", 2, "expected 2 or 3 fields .*got 1: 'lonely'"),
        ("a,b\nc,d,1\n", 2, "got 3 fields but line 1 has 2"),
        ("a,b,1\nc,d\n", 2, "got 2 fields but line 1 has 3"),
        ("a,b,1\nc,d,heavy\n", 2, "weight 'heavy' is not a number: 'c,d,heavy'"),
        ("a,b,1\nc,d,nan\n", 2, "weight 'nan' is not finite"),
        ("a,b,1\nc,d,inf\n", 2, "weight 'inf' is not finite"),
        ("a,b,1\nc,d,-1\n", 2, "weight '-1' is negative"),
        ("a,b,1\nc,,1\n", 2, "empty node name: 'c,,1'"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text, "bad.csv")
    with raises_at(path, line, message) as info:
        load_edges(path)
    assert isinstance(info.value, ValueError)
    assert info.value.line == line and info.value.path == path


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "id1,id2,weight\n"])
def test_no_edges(tmp_path, text):
    path = write(tmp_path, text, "empty.csv")
    with pytest.raises(EdgeFileError, match=re.escape(f"{path}: no edges")):
        load_edges(path)


def test_all_self_loops_is_an_empty_graph(tmp_path):
    path = write(tmp_path, "a a\nb b\n")
    with pytest.raises(EdgeFileError, match=re.escape(f"{path}: no edges (all 2 were self-loops, dropped)")):
        load_edges(path)


def test_bad_arguments(tmp_path):
    path = write(tmp_path, "a b\n")
    with pytest.raises(ValueError, match="self_loops='skip' is not one of 'drop', 'error', 'keep'"):
        load_edges(path, self_loops="skip")
    with pytest.raises(ValueError, match="duplicates='merge'"):
        load_edges(path, duplicates="merge")
    with pytest.raises(ValueError, match="header='yes'"):
        load_edges(path, header="yes")
    with pytest.raises(ValueError, match="delimiter='  '"):
        load_edges(path, delimiter="  ")


# -------------------------------------------------------------------------------------------------- CSR


def naive_rows(edges, n, symmetric):
    rows = [set() for _ in range(n)]
    for u, v in edges:
        rows[u].add(v)
        if symmetric:
            rows[v].add(u)
    return rows


@pytest.mark.parametrize("symmetric", [False, True])
def test_to_csr_matches_a_naive_set(tmp_path, symmetric):
    rng = np.random.default_rng(0)
    n = 40
    pairs = rng.integers(0, n, size=(300, 2))
    path = write(tmp_path, "".join(f"{u} {v}\n" for u, v in pairs) + f"{n - 1} 0\n")
    el = load_edges(path)
    indptr, indices = el.to_csr(symmetric=symmetric)
    assert indptr.dtype == np.int32 and indices.dtype == np.int32
    assert indptr.shape == (el.num_nodes + 1,) and indptr[0] == 0 and indptr[-1] == indices.shape[0]
    rows = naive_rows(el.edges.tolist(), el.num_nodes, symmetric)
    if not symmetric:
        assert indices.shape == (el.num_edges,)
    for u in range(el.num_nodes):
        row = indices[indptr[u] : indptr[u + 1]]
        assert np.all(np.diff(row) > 0)  # sorted, no repeats
        assert set(row.tolist()) == rows[u]
    # Binary-search membership agrees with the set for every (u, w).
    for u in range(el.num_nodes):
        row = indices[indptr[u] : indptr[u + 1]]
        pos = np.searchsorted(row, np.arange(n))
        found = (
            (pos < len(row)) & (row[np.minimum(pos, len(row) - 1)] == np.arange(n)) if len(row) else 0 * pos
        )
        assert set(np.flatnonzero(found).tolist()) == rows[u]


def test_to_csr_defaults_to_symmetric_for_undirected(tmp_path):
    el = load_edges(write(tmp_path, "0 1\n1 2\n"), directed=False)
    indptr, indices = el.to_csr()
    assert indptr.tolist() == [0, 1, 3, 4] and indices.tolist() == [1, 0, 2, 1]
    assert [a.tolist() for a in el.to_csr(symmetric=False)] == [[0, 1, 2, 2], [1, 2]]


# ----------------------------------------------------------------------------------------- shipped data


def test_shipped_mammals():
    path = dataset_path("mammals")
    assert path.is_file() and "shared" not in path.parts
    assert path.parent.parent == Path(geomrep.data.__file__).resolve().parent  # found via the package
    assert (path.parent / "WORDNET_LICENSE.txt").is_file() and (path.parent / "README.txt").is_file()
    el = load_closure()
    assert el.path == path and el.directed
    assert el.num_nodes == 1180 and el.num_edges == 6540
    assert el.dropped_self_loops == 0 and el.dropped_duplicates == 0
    assert np.all(el.weights == 1.0)
    out_degree = np.bincount(el.edges[:, 0], minlength=el.num_nodes)
    roots = [el.names[i] for i in np.flatnonzero(out_degree == 0)]
    assert roots == ["mammal.n.01"]
    root = el.id_of("mammal.n.01")
    # a closure: every other node has the root among its ancestors
    assert set(el.edges[el.edges[:, 1] == root, 0].tolist()) == set(range(el.num_nodes)) - {root}
    assert el.id_of("dog.n.01") in el.edges[:, 0]


def test_load_closure_takes_a_path_and_options(tmp_path):
    path = write(tmp_path, "id1,id2,weight\na,b,1\na,b,1\n", "c.csv")
    assert load_closure(path).dropped_duplicates == 1
    with pytest.raises(EdgeFileError, match="duplicate"):
        load_closure(path, duplicates="error")
    with pytest.raises(TypeError):
        load_closure(path, directed=False)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown data set 'nouns'; valid names: 'mammals'"):
        dataset_path("nouns")
    assert set(DATASETS) == {"mammals"}


def test_edge_list_can_be_built_directly():
    el = EdgeList(np.array([[0, 1]], np.int32), None, ("a", "b"), 2, Path("mem"))
    assert el.num_edges == 1 and el.id_of("b") == 1


def test_shared_noun_closure_loads_fast():
    path = SHARED_DATA / "wordnet_nouns" / "noun_closure.csv"
    if not path.is_file():
        pytest.skip(f"shared data not present at {path.resolve()}")
    start = time.perf_counter()
    el = load_closure(path)
    elapsed = time.perf_counter() - start
    assert el.num_nodes == 82_115 and el.num_edges == 743_086
    assert el.dropped_self_loops == 0 and el.dropped_duplicates == 0
    out_degree = np.bincount(el.edges[:, 0], minlength=el.num_nodes)
    assert [el.names[i] for i in np.flatnonzero(out_degree == 0)] == ["entity.n.01"]
    print(f"noun closure loaded in {elapsed:.2f} s")  # a benchmark, not an assertion (see DESIGN.md)
