"""Link-prediction splits: the transitive reduction against a path search, the split's invariants, split.npz."""

import numpy as np
import pytest

from geomrep.data import (
    SplitFileError,
    dataset_path,
    link_prediction_split,
    load_closure,
    load_split,
    save_split,
    split_for_workdir,
    transitive_reduction,
)


def _closure_of(edges, n):
    """Transitive closure by Floyd–Warshall on booleans (a direct transcription, for small n)."""
    reach = np.zeros((n, n), bool)
    reach[edges[:, 0], edges[:, 1]] = True
    for w in range(n):
        reach |= reach[:, w : w + 1] & reach[w : w + 1, :]
    return np.argwhere(reach)


def _random_dag(seed, n=30, p=0.12):
    rng = np.random.default_rng(seed)
    return np.array([(u, v) for u in range(n) for v in range(u) if rng.random() < p]), n


def _is_basic_brute_force(edges, u, v):
    """No path u → w → … → v of length ≥ 2: a depth-first search from u's other successors."""
    succ = {}
    for a, b in edges.tolist():
        succ.setdefault(a, set()).add(b)
    stack, seen = [w for w in succ.get(u, ()) if w != v], set()
    while stack:
        w = stack.pop()
        if w == v:
            return False
        if w not in seen:
            seen.add(w)
            stack.extend(succ.get(w, ()))
    return True


def _keys(edges):
    return {tuple(e) for e in np.asarray(edges).tolist()}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("closed", [True, False])
def test_transitive_reduction_matches_path_search(seed, closed):
    dag, n = _random_dag(seed)
    edges = _closure_of(dag, n) if closed else dag
    want = {(u, v) for u, v in edges.tolist() if _is_basic_brute_force(edges, u, v)}
    got = transitive_reduction(edges[::-1], n)  # row order does not matter
    assert _keys(got) == want and len(got) == len(want)
    assert np.array_equal(got, np.unique(got, axis=0))  # sorted
    # the reduction has the same closure
    assert _keys(_closure_of(got, n)) == _keys(_closure_of(edges, n))


def test_transitive_reduction_of_a_path_and_errors():
    path = np.array([[3, 2], [2, 1], [1, 0]])
    closure = _closure_of(path, 4)
    assert transitive_reduction(closure, 4).tolist() == [[1, 0], [2, 1], [3, 2]]
    with pytest.raises(ValueError, match="cycle through node"):
        transitive_reduction(np.array([[0, 1], [1, 2], [2, 0]]), 3)
    with pytest.raises(ValueError, match=r"edge 1 = \[2, 2\] is a self-loop"):
        transitive_reduction(np.array([[0, 1], [2, 2]]), 3)
    with pytest.raises(ValueError, match=r"edge 0 = \[0, 5\] has an id outside \[0, 3\)"):
        transitive_reduction(np.array([[0, 5]]), 3)


def _check_invariants(split, edges, valid_frac, test_frac):
    closure = _keys(edges)
    basic = _keys(transitive_reduction(edges, split.num_nodes))
    train, valid, test = _keys(split.train), _keys(split.valid), _keys(split.test)
    assert train | valid | test == closure
    assert not (train & valid) and not (train & test) and not (valid & test)
    assert basic <= train and _keys(split.basic) == basic
    non_basic = len(closure) - len(basic)
    assert len(test) == int(np.floor(test_frac * non_basic + 0.5))
    assert len(valid) == int(np.floor(valid_frac * non_basic + 0.5))
    for column in (0, 1):  # every node keeps a training edge in each direction it has one
        assert set(edges[:, column].tolist()) == {e[column] for e in train}
    assert len(split.train) == len(train) and len(split.test) == len(test)  # no repeats


def test_mammal_split_invariants_and_determinism():
    mammals = load_closure(dataset_path("mammals"))
    edges = mammals.edges.astype(np.int64)
    split = link_prediction_split(edges, mammals.num_nodes, seed=3)
    _check_invariants(split, edges, 0.05, 0.05)
    assert len(split.basic) == 1180 and len(split.test) == len(split.valid) == 268  # 5% of 5,360
    again = link_prediction_split(np.random.default_rng(0).permutation(edges), mammals.num_nodes, seed=3)
    for key in ("train", "valid", "test", "basic"):
        assert np.array_equal(getattr(again, key), getattr(split, key))
    assert again.closure_sha256 == split.closure_sha256
    other = link_prediction_split(edges, mammals.num_nodes, seed=4)
    assert _keys(other.test) != _keys(split.test)


@pytest.mark.parametrize("valid_frac, test_frac", [(0.0, 0.3), (0.2, 0.1), (0.5, 0.5)])
def test_random_dag_split_invariants(valid_frac, test_frac):
    dag, n = _random_dag(7, n=40)
    edges = _closure_of(dag, n)
    split = link_prediction_split(edges, n, valid_frac=valid_frac, test_frac=test_frac, seed=0)
    _check_invariants(split, edges, valid_frac, test_frac)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(valid_frac=-0.1), r"valid_frac=-0.1 must lie in \[0, 1\]"),
        (dict(test_frac=0.0), r"test_frac=0.0 must lie in \(0, 1\]"),
        (dict(valid_frac=0.6, test_frac=0.5), "must be <= 1"),
        (dict(test_frac=0.01), "holds out no test edge"),
    ],
)
def test_bad_fractions_are_reported(kwargs, message):
    edges = _closure_of(np.array([[3, 2], [2, 1], [1, 0]]), 4)
    with pytest.raises(ValueError, match=message):
        link_prediction_split(edges, 4, **kwargs)


def test_split_file_round_trip_and_mismatch(tmp_path):
    dag, n = _random_dag(2, n=40)
    edges = _closure_of(dag, n)
    path = tmp_path / "split.npz"
    split, loaded = split_for_workdir(path, edges, n, valid_frac=0.1, test_frac=0.1, seed=0)
    assert not loaded and path.is_file()
    back = load_split(path)
    for key in ("train", "valid", "test", "basic"):
        assert np.array_equal(getattr(back, key), getattr(split, key))
    assert back._replace(train=0, valid=0, test=0, basic=0) == split._replace(
        train=0, valid=0, test=0, basic=0
    )
    again, loaded = split_for_workdir(path, edges, n, valid_frac=0.1, test_frac=0.1, seed=0)
    assert loaded and np.array_equal(again.test, split.test)
    before = path.read_bytes()
    with pytest.raises(SplitFileError, match=rf"{path} holds a different split .*seed 0 != 1"):
        split_for_workdir(path, edges, n, valid_frac=0.1, test_frac=0.1, seed=1)
    with pytest.raises(SplitFileError, match=r"test_frac 0.1 != 0.2"):
        split_for_workdir(path, edges, n, valid_frac=0.1, test_frac=0.2, seed=0)
    with pytest.raises(SplitFileError, match="closure_sha256"):
        split_for_workdir(path, edges[1:], n, valid_frac=0.1, test_frac=0.1, seed=0)
    assert path.read_bytes() == before  # never overwritten
    with pytest.raises(FileExistsError):
        save_split(path, link_prediction_split(edges, n, valid_frac=0.1, test_frac=0.1, seed=1))
    assert path.read_bytes() == before


def test_malformed_split_files_name_the_file_and_key(tmp_path):
    dag, n = _random_dag(2, n=20)
    edges = _closure_of(dag, n)
    split = link_prediction_split(edges, n, valid_frac=0.2, test_frac=0.2, seed=0)
    arrays = dict(
        train=split.train, valid=split.valid, test=split.test, basic=split.basic, num_nodes=n, seed=0,
        valid_frac=0.2, test_frac=0.2, closure_sha256=split.closure_sha256,
    )  # fmt: skip
    cases = {
        "missing": ({k: v for k, v in arrays.items() if k != "test"}, r"missing key\(s\) \['test'\]"),
        "overlap": ({**arrays, "valid": np.concatenate([split.valid, split.test[:1]])}, "share edges"),
        "range": ({**arrays, "test": split.test + n}, r"key 'test' holds node ids outside \[0, 20\)"),
        "shape": ({**arrays, "train": split.train[:, :1]}, r"key 'train' must be an \(m, 2\) integer array"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **content)
        with pytest.raises(SplitFileError, match=rf"{path}: .*{message}"):
            load_split(path)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(SplitFileError, match=rf"{garbage}: cannot read the split"):
        load_split(garbage)
