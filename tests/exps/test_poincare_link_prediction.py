"""poincare_embeddings with link_prediction: the split, the eval/lp_* keys, exact resume, split mismatches.

The runs are in process (train_and_evaluate; one launcher run checks the command-line error path), on the smoke
config without the undirected evaluation to keep compiles few.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.poincare_embeddings.configs.default import get_config
from experiments.poincare_embeddings.train import train_and_evaluate, validate_config
from geomrep.data import SplitFileError, dataset_path, link_prediction_split, load_closure, save_split
from geomrep.embed import poincare as pe
from geomrep.train.config import check_workdir_config

ROOT = Path(__file__).resolve().parents[2]
LP_KEYS = ("eval/lp_map", "eval/lp_mean_rank", "eval/lp_val_map", "eval/lp_val_mean_rank")


def _config(**overrides):
    config = get_config("smoke_lp")
    config.eval_undirected = False
    config.update(overrides)
    return config


def _keys(edges):
    return {tuple(e) for e in np.asarray(edges).tolist()}


@pytest.fixture(scope="module")
def lp_run(tmp_path_factory):
    """One smoke_lp run; records the edges the training graph was built from."""
    workdir = tmp_path_factory.mktemp("lp")
    trained_on = []
    build = pe.closure_graph

    def recording(edges, *args, **kwargs):
        trained_on.append(np.asarray(edges))
        return build(edges, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pe, "closure_graph", recording)
        final = train_and_evaluate(_config(), workdir)
    return workdir, final, trained_on


def test_split_is_written_and_training_sees_only_train_edges(lp_run):
    workdir, _, trained_on = lp_run
    mammals = load_closure(dataset_path("mammals"))
    want = link_prediction_split(mammals.edges, mammals.num_nodes, valid_frac=0.05, test_frac=0.05, seed=0)
    with np.load(workdir / "split.npz") as saved:
        for key in ("train", "valid", "test", "basic"):
            assert np.array_equal(saved[key], getattr(want, key)), key
        assert int(saved["seed"]) == 0 and float(saved["test_frac"]) == 0.05
    assert len(trained_on) == 1 and _keys(trained_on[0]) == _keys(want.train)
    assert not _keys(trained_on[0]) & (_keys(want.test) | _keys(want.valid))


def test_metrics_jsonl_has_the_link_prediction_keys(lp_run):
    workdir, final, _ = lp_run
    lines = [json.loads(s) for s in (workdir / "metrics.jsonl").read_text().splitlines()]
    evals = [m for m in lines if "eval/lp_map" in m]
    assert [m["epoch"] for m in evals] == [2, 4]  # eval_every=2 and the final line
    for key in LP_KEYS:
        assert evals[-1][key] == final[key]
    for m in evals:
        assert 0 < m["eval/lp_map"] <= 1 and 0 < m["eval/lp_val_map"] <= 1
        assert 1 <= m["eval/lp_mean_rank"] <= 1180 and 1 <= m["eval/lp_val_mean_rank"] <= 1180
        assert 0 < m["eval/closure_map"] <= 1


def test_resume_reads_the_split_back_and_ends_bit_identical(lp_run, tmp_path, capsys):
    workdir, final, _ = lp_run
    resumed = tmp_path / "resumed"
    shutil.copytree(workdir, resumed)
    for ckpt in (resumed / "checkpoints").iterdir():
        if ckpt.name != "2":
            shutil.rmtree(ckpt)
    (resumed / "embeddings.npy").unlink()
    split_bytes = (resumed / "split.npz").read_bytes()
    again = train_and_evaluate(_config(), resumed)
    out = capsys.readouterr().out
    assert "split read from" in out and "from epoch 2" in out
    assert (resumed / "split.npz").read_bytes() == split_bytes
    np.testing.assert_array_equal(np.load(resumed / "embeddings.npy"), np.load(workdir / "embeddings.npy"))
    assert all(again[key] == final[key] for key in LP_KEYS)


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(lp_seed=1), "seed 0 != 1"),
        (dict(lp_test_frac=0.1), "test_frac 0.05 != 0.1"),
    ],
)
def test_a_different_split_in_the_workdir_is_an_error_and_kept(lp_run, tmp_path, override, message):
    workdir, _, _ = lp_run
    shutil.copy(workdir / "split.npz", tmp_path / "split.npz")
    before = (tmp_path / "split.npz").read_bytes()
    with pytest.raises(
        SplitFileError, match=rf"split.npz holds a different split .*{message}.*config.lp_seed"
    ):
        train_and_evaluate(_config(**override), tmp_path)
    assert (tmp_path / "split.npz").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split.npz"]  # nothing else written


def test_launcher_reports_a_foreign_split_in_one_line_and_touches_nothing(lp_run, tmp_path):
    workdir = tmp_path / "w"
    shutil.copytree(lp_run[0], workdir)
    mammals = load_closure(dataset_path("mammals"))
    (workdir / "split.npz").unlink()
    save_split(workdir / "split.npz", link_prediction_split(mammals.edges, mammals.num_nodes, seed=7))
    check_workdir_config(workdir, _config())  # what the launcher records (the runs above were in process)
    before = {p: p.stat().st_mtime_ns for p in workdir.rglob("*")}
    cmd = [sys.executable, str(ROOT / "scripts/launch.py"), "--experiment", "poincare_embeddings", "--config",
           f"{ROOT}/experiments/poincare_embeddings/configs/default.py:smoke_lp", "--workdir", str(workdir),
           "--config.eval_undirected=False"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "error:" in proc.stderr and "seed 7 != 0" in proc.stderr and "Traceback" not in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in workdir.rglob("*")} == before


@pytest.mark.parametrize(
    "override, message",
    [
        (dict(lp_valid_frac=-0.1), r"config.lp_valid_frac=-0.1: .*\[0, 1\]"),
        (dict(lp_test_frac=0.0), r"config.lp_test_frac=0.0: .*\(0, 1\]"),
        (dict(lp_valid_frac=0.6, lp_test_frac=0.5), "lp_valid_frac \\+ lp_test_frac = 1.1 must be <= 1"),
        (dict(lp_seed=-1), "config.lp_seed=-1: must be >= 0"),
    ],
)
def test_bad_link_prediction_keys_are_named(override, message):
    with pytest.raises(ValueError, match=message):
        validate_config(_config(**override))


def test_lp_variants():
    for variant in ("mammals_lp", "nouns_lp", "mammals_f32_lp", "smoke_lp"):
        config = get_config(variant)
        assert config.link_prediction and (config.lp_valid_frac, config.lp_test_frac) == (0.05, 0.05)
        plain = get_config(variant[: -len("_lp")])
        assert not plain.link_prediction
        assert {k: v for k, v in config.items() if k != "link_prediction"} == {
            k: v for k, v in plain.items() if k != "link_prediction"
        }
    with pytest.raises(ValueError, match="suffix _lp"):
        get_config("mammal_lp")
