"""The sala_embeddings experiment through the launcher: smoke run, the public commands, bad input, resume."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "experiments/sala_embeddings/configs/default.py")
KEYS = ("eval/distortion_avg", "eval/distortion_worst", "eval/graph_map", "scale")


def _launch(workdir, *flags, variant="smoke"):
    cmd = [
        sys.executable,
        str(ROOT / "scripts/launch.py"),
        "--experiment",
        "sala_embeddings",
        "--config",
        f"{CONFIG}:{variant}",
        "--workdir",
        str(workdir),
        *flags,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)


def _final(workdir):
    lines = [json.loads(s) for s in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]
    return lines[-1], lines


def _tree_edges():
    child = np.arange(1, 40)
    return np.stack([(child - 1) // 3, child], axis=1)  # balanced tree, branching 3, height 3


def _tree_distances():
    from geomrep.embed.metrics import graph_distances

    return graph_distances(_tree_edges(), 40)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_smoke_run_writes_every_output(smoke_run):
    final, lines = _final(smoke_run)
    assert all(k in final for k in KEYS) and final["epoch"] == 6
    assert 0 < final["eval/graph_map"] <= 1 and final["eval/distortion_avg"] >= 0 and final["scale"] > 0
    assert final["eval/map_sources"] == 40 and final["eval/distortion_sources"] == 40  # exact, not sampled
    assert sum("eval/graph_map" in m for m in lines) == 2  # eval_every=3 at epoch 3, and the final line
    assert any("loss" in m and "eval/graph_map" not in m for m in lines)
    emb = np.load(smoke_run / "embeddings.npy")
    assert emb.shape == (40, 2) and emb.dtype == np.float64 and np.all(np.linalg.norm(emb, axis=1) < 1)


def test_resume_after_losing_the_last_checkpoint_ends_bit_identical(smoke_run, tmp_path):
    workdir = tmp_path / "resumed"
    shutil.copytree(smoke_run, workdir)
    for ckpt in (workdir / "checkpoints").iterdir():
        if ckpt.name != "3":
            shutil.rmtree(ckpt)
    (workdir / "embeddings.npy").unlink()
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "from epoch 3" in proc.stdout
    np.testing.assert_array_equal(np.load(workdir / "embeddings.npy"), np.load(smoke_run / "embeddings.npy"))


def test_public_hmds_command_on_a_distance_matrix(tmp_path):
    np.save(tmp_path / "d.npy", _tree_distances())
    proc = _launch(tmp_path / "run", f"--config.data={tmp_path / 'd.npy'}", "--config.dim=5", variant="hmds")
    assert proc.returncode == 0, proc.stderr[-3000:]
    final, _ = _final(tmp_path / "run")
    assert all(k in final for k in KEYS) and final["scale"] == 1.0
    emb = np.load(tmp_path / "run" / "embeddings.npy")
    assert emb.shape == (40, 5) and emb.dtype == np.float64
    # the metrics are those of the exported coordinates (nearest neighbours of a tree metric = its edges)
    from geomrep.embed.metrics import distortion, graph_map
    from geomrep.manifolds import PoincareBall

    d = _tree_distances()
    assert final["eval/distortion_avg"] == pytest.approx(
        distortion(emb, d, PoincareBall(1.0)).average, rel=1e-9
    )
    assert final["eval/graph_map"] == pytest.approx(
        graph_map(emb, _tree_edges(), PoincareBall(1.0)), rel=1e-9
    )


def test_public_combinatorial_command_on_a_tree_file(tmp_path):
    lines = ["u v"] + [f"{u} {v}" for u, v in _tree_edges()] + ["7 7"]  # a header and a self-loop
    (tmp_path / "tree.edges").write_text("\n".join(lines) + "\n")
    proc = _launch(
        tmp_path / "run",
        f"--config.data={tmp_path / 'tree.edges'}",
        "--config.eps=0.1",
        variant="combinatorial",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dropped 1 self-loop" in proc.stdout
    final, _ = _final(tmp_path / "run")
    assert all(k in final for k in KEYS)
    assert final["eval/graph_map"] == 1.0 and 1.0 <= final["eval/distortion_worst"] <= 1.1  # Sarkar: ≤ 1 + ε
    assert final["eval_tree/graph_map"] == 1.0
    emb = np.load(tmp_path / "run" / "embeddings.npy")
    assert emb.shape == (40, 2) and np.isfinite(emb).all() and np.all(np.linalg.norm(emb, axis=1) < 1)
    # τ(ε = 0.1) = 23.8 puts the leaves 71 from the origin, beyond float64: the export takes the largest τ that fits
    assert final["eval/saturated_points"] > 0 and 0 < final["export_scale"] < final["scale"]


def test_bad_matrix_is_reported_by_the_launcher_before_any_work(tmp_path):
    d = _tree_distances()
    d[0, 1] += 0.5
    np.save(tmp_path / "d.npy", d)
    proc = _launch(tmp_path / "run", f"--config.data={tmp_path / 'd.npy'}", variant="hmds")
    assert proc.returncode == 2 and re.search(r"error: .*d\.npy: not symmetric: entry \[0, 1\]", proc.stderr)
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("negative", r"d\.npy: entry \[1, 2\] = -1.0 is negative"),
        ("nan_for_hmds", r"entry \[3, 4\] is NaN \(unknown distances are allowed only for method=sgd\)"),
        ("diagonal", r"diagonal entry \[5, 5\] = 2.0 must be 0"),
        ("matrix_for_combinatorial", "needs a graph"),
        ("bad_space", "config.space='H2xQ3'"),
        ("eps", "config.eps=0.0"),
    ],
)
def test_bad_input_is_reported_by_validate_config(tmp_path, case, message):
    sys.path.insert(0, str(ROOT))
    from experiments.sala_embeddings.configs.default import get_config
    from experiments.sala_embeddings.train import validate_config

    d = _tree_distances()
    config = get_config("hmds")
    if case == "negative":
        d[2, 1] = d[1, 2] = -1.0
    elif case == "nan_for_hmds":
        d[3, 4] = d[4, 3] = np.nan
    elif case == "diagonal":
        d[5, 5] = 2.0
    elif case == "matrix_for_combinatorial":
        config = get_config("combinatorial")
    elif case == "bad_space":
        config = get_config("sgd")
        config.space = "H2xQ3"
    elif case == "eps":
        config.eps = 0.0
    np.save(tmp_path / "d.npy", d)
    config.data = str(tmp_path / "d.npy")
    with pytest.raises(ValueError, match=message):
        validate_config(config)
    if case == "nan_for_hmds":  # unknown entries are fine for the SGD
        config.method = "sgd"
        validate_config(config)
