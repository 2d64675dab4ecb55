"""The poincare_embeddings experiment end to end through the launcher (smoke config), and exact resume."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "experiments/poincare_embeddings/configs/default.py")


def _launch(workdir, *flags, variant="smoke"):
    cmd = [
        sys.executable,
        str(ROOT / "scripts/launch.py"),
        "--experiment",
        "poincare_embeddings",
        "--config",
        f"{CONFIG}:{variant}",
        "--workdir",
        str(workdir),
        *flags,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


def _final(workdir):
    lines = [json.loads(s) for s in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]
    return [m for m in lines if "eval/closure_map" in m][-1], lines


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_smoke_run_writes_every_output(smoke_run):
    final, lines = _final(smoke_run)
    assert final["epoch"] == 4
    assert 1.0 <= final["eval/closure_mean_rank"] < 1180 and 0.0 < final["eval/closure_map"] <= 1.0
    assert any("loss" in m and "max_ball_norm" in m for m in lines)
    assert sum("eval/closure_map" in m for m in lines) == 2  # eval_every=2 at epoch 2, and the final one
    emb = np.load(smoke_run / "embeddings.npy")
    radius = 1.0 / np.sqrt(json.loads((smoke_run / "config.json").read_text())["c"])  # ball of curvature -c
    assert emb.shape == (1180, 5) and np.all(np.linalg.norm(emb, axis=1) < radius)
    rows = (smoke_run / "embeddings.tsv").read_text().splitlines()
    assert len(rows) == 1180 and len(rows[0].split("\t")) == 6
    assert (smoke_run / "disk.png").stat().st_size > 10_000
    assert json.loads((smoke_run / "config.json").read_text())["dim"] == 5


def test_resume_after_losing_later_checkpoints_ends_bit_identical(smoke_run, tmp_path):
    """Simulates a kill after epoch 2: only the epoch-2 checkpoint survives; the re-run finishes identically."""
    workdir = tmp_path / "resumed"
    shutil.copytree(smoke_run, workdir)
    for ckpt in (workdir / "checkpoints").iterdir():
        if ckpt.name != "2":
            shutil.rmtree(ckpt)
    (workdir / "embeddings.npy").unlink()
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming" in proc.stdout and "from epoch 2" in proc.stdout
    np.testing.assert_array_equal(np.load(workdir / "embeddings.npy"), np.load(smoke_run / "embeddings.npy"))


def test_lorentz_float32_smoke_exports_ball_coordinates(tmp_path):
    proc = _launch(
        tmp_path,
        "--config.manifold=lorentz",
        "--config.dtype=float32",
        "--config.epochs=2",
        "--config.eval_every=0",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    emb = np.load(tmp_path / "embeddings.npy")
    radius = 1.0 / np.sqrt(json.loads((tmp_path / "config.json").read_text())["c"])
    assert emb.shape == (1180, 5) and emb.dtype == np.float32 and np.all(np.linalg.norm(emb, axis=1) < radius)


@pytest.mark.parametrize(
    "flag, message",
    [
        ("--config.dim=0", "dim"),
        ("--config.c=-1.0", "geoopt"),
        ("--config.lr=0", "lr"),
        ("--config.manifold=sphere", "manifold"),
        ("--config.dimm=3", "unknown config key 'dimm'"),
    ],
)
def test_bad_config_is_one_clear_error_and_touches_nothing(smoke_run, tmp_path, flag, message):
    workdir = tmp_path / "w"
    shutil.copytree(smoke_run, workdir)
    before = {p: p.stat().st_mtime_ns for p in workdir.rglob("*")}
    proc = _launch(workdir, flag)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in workdir.rglob("*")} == before


def test_malformed_edge_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id1,id2,weight\na,b,1\nc,d,1,7\n")
    proc = _launch(tmp_path / "w", f"--config.data={bad}")
    assert proc.returncode != 0
    assert f"{bad}:3" in proc.stderr and "Traceback" not in proc.stderr


def test_stop_map_ends_at_the_first_evaluation_over_target_and_stays_stopped(tmp_path):
    flags = ("--config.eval_every=1", "--config.stop_map=0.01", "--config.ckpt_every=0")
    proc = _launch(tmp_path, *flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    final, _ = _final(tmp_path)
    assert final["epoch"] == 1 and final["eval/closure_map"] >= 0.01
    again = _launch(tmp_path, *flags)  # resuming a run that met its target trains no further
    assert again.returncode == 0, again.stderr[-3000:]
    final_again, lines = _final(tmp_path)
    assert final_again["epoch"] == 1 and final_again["eval/closure_map"] == final["eval/closure_map"]
    assert not any(m.get("epoch", 0) > 1 for m in lines)


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    """A real kill (SIGKILL) mid-run, then the same command again: the embeddings equal an uninterrupted run's."""
    import os
    import signal
    import time

    flags = ("--config.epochs=16", "--config.ckpt_every=1", "--config.eval_every=0", "--config.log_every=0")
    whole = tmp_path / "whole"
    assert _launch(whole, *flags).returncode == 0
    killed = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "scripts/launch.py"), "--experiment", "poincare_embeddings",
           "--config", f"{CONFIG}:smoke", "--workdir", str(killed), *flags]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    ckpts = killed / "checkpoints"
    while time.time() < deadline and proc.poll() is None:
        steps = [int(p.name) for p in ckpts.iterdir() if p.name.isdigit()] if ckpts.is_dir() else []
        if steps and max(steps) >= 3:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; raise config.epochs in this test")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "embeddings.npy").exists()
    resumed = _launch(killed, *flags)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout
    np.testing.assert_array_equal(np.load(killed / "embeddings.npy"), np.load(whole / "embeddings.npy"))


def test_cycles_and_isolated_nodes_are_reported_and_training_proceeds(tmp_path):
    from experiments.poincare_embeddings.configs.default import get_config
    from experiments.poincare_embeddings.train import train_and_evaluate

    data = tmp_path / "odd.tsv"  # integer ids 0..6 with 3 and 4 unused (isolated); 0 -> 2 -> 0 is a cycle
    data.write_text("0\t1\n1\t2\n0\t2\n2\t0\n5\t1\n6\t5\n6\t1\n")
    config = get_config("smoke")
    config.data, config.epochs, config.burnin_epochs, config.eval_every = str(data), 2, 0, 0
    config.eval_undirected, config.plot_labels, config.negatives = False, 0, 2
    with pytest.warns(RuntimeWarning) as caught:
        final = train_and_evaluate(config, tmp_path / "w")
    lines = [str(w.message) for w in caught]
    assert any(f"{data}: 2 node(s) have no edge (3, 4)" in line for line in lines), lines
    assert any(f"{data}: 1 cycle(s) over 3 nodes" in line for line in lines), lines
    assert np.isfinite(final["eval/closure_map"]) and final["eval/closure_mean_rank"] >= 1
    assert np.load(tmp_path / "w" / "embeddings.npy").shape[0] == 7  # isolated nodes are embedded too
