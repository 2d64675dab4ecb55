"""algebraic_margins: the smoke config through the launcher (outputs, exact resume, bad config), and the
trained claims of notes/algebraic.md table D, asserting its threshold column (5-7 and 10 here; 8, 9, 6b and the A5
run are slow)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "experiments/algebraic_margins/configs/default.py")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from experiments.algebraic_margins import train  # noqa: E402
from experiments.algebraic_margins.configs.default import get_config  # noqa: E402
from geomrep.train import ConfigError  # noqa: E402


def _launch(workdir, *flags, variant="smoke"):
    cmd = [
        sys.executable,
        str(ROOT / "scripts/launch.py"),
        "--experiment",
        "algebraic_margins",
        "--config",
        f"{CONFIG}:{variant}",
        "--workdir",
        str(workdir),
        *flags,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


def _lines(workdir):
    return [json.loads(s) for s in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


def test_smoke_run_writes_every_output(smoke_run):
    lines = _lines(smoke_run)
    evals = [m for m in lines if "loss" in m]
    assert [m["step"] for m in evals] == [50, 100, 150, 200, 250, 300]
    assert all(np.isfinite(m["normalized_margin"]) and m["lr"] > 0 for m in evals)
    assert evals[-1]["lr"] == pytest.approx(0.05 * 2**2)  # doubled at steps 100 and 200
    final = lines[-1]
    assert final["gamma_star"] == pytest.approx(np.sqrt(2 / 27) / (np.sqrt(5) * 4))
    assert final["margin_ratio"] == pytest.approx(final["normalized_margin"] / final["gamma_star"])
    assert final["irrep_names"] == ["trivial", "freq1", "freq2"] and len(final["norm_shares"]) == 3
    params = np.load(smoke_run / "params.npz")
    assert params["u"].shape == (5, 16) and params["w"].shape == (16, 5) and params["u"].dtype == np.float32
    for name in ("margin.png", "neuron_power.png", "norm_shares.png"):
        assert (smoke_run / name).stat().st_size > 10_000
    assert sorted(p.name for p in (smoke_run / "checkpoints").iterdir()) == ["150", "300"]


def test_resume_after_losing_the_last_checkpoint_ends_bit_identical(smoke_run, tmp_path, capsys):
    """Simulates a kill after step 150 (only that checkpoint survives); the re-run, in process, ends identical."""
    workdir = tmp_path / "resumed"
    shutil.copytree(smoke_run, workdir)
    shutil.rmtree(workdir / "checkpoints" / "300")
    (workdir / "params.npz").unlink()
    train.train_and_evaluate(get_config("smoke"), workdir)
    assert "from step 150" in capsys.readouterr().out
    ours, theirs = np.load(workdir / "params.npz"), np.load(smoke_run / "params.npz")
    for name in ("u", "v", "w"):
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_bad_config_is_reported_by_the_launcher_before_any_work(tmp_path):
    proc = _launch(tmp_path / "bad", "--config.eval_every=70")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "config.eval_every=70: must divide num_steps=300" in proc.stderr
    assert not (tmp_path / "bad" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"task": "group_composition", "group": "S3xK"}, "config.group='S3xK'"),
        ({"norm": "l1"}, "config.norm='l1'"),
        ({"ckpt_every": 75}, "config.ckpt_every=75: must be 0 or a multiple of eval_every=50"),
        ({"task": "sparse_parity", "n": 30}, "config.n=30"),
        ({"double_every": -1}, "config.double_every=-1"),
    ],
)
def test_validate_config_names_the_key(overrides, message):
    config = get_config("smoke")
    for key, value in overrides.items():
        config[key] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        train.validate_config(config)


def _run(variant, tmp_path, **overrides):
    config = get_config(variant)
    for key, value in overrides.items():
        config[key] = value
    return train.train_and_evaluate(config, tmp_path / variant)


def test_claim5_z7(tmp_path):
    final = _run("z7", tmp_path)
    assert final["margin_ratio"] >= 0.95
    assert final["fraction_single_irrep"] >= 0.90
    assert final["irreps_used"] == final["num_nontrivial_irreps"] == 3


def test_claim6_z23(tmp_path):
    final = _run("z23", tmp_path)
    assert final["margin_ratio"] >= 0.95
    assert final["fraction_single_irrep"] >= 0.90
    assert final["fraction_same_dominant"] >= 0.95
    assert final["irreps_used"] == final["num_nontrivial_irreps"] == 11
    assert final["phase_error_median"] < 0.05
    assert final["wrong_logit_spread_median"] < 0.05


def test_claim7_s3(tmp_path):
    final = _run("s3", tmp_path)
    assert final["margin_ratio"] >= 0.93
    assert min(final["max_power_u"]) > 0.9 and min(final["max_power_v"]) > 0.9  # every live neuron
    assert final["irreps_used"] == final["num_nontrivial_irreps"] == 2
    assert final["max_trivial_power"] < 1e-3


def test_claim10_parity(tmp_path):
    final = _run("parity", tmp_path)
    assert final["margin_ratio"] >= 0.97
    assert final["parity_neuron_share"] >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(
            0,
            marks=pytest.mark.xfail(
                strict=True,
                reason="measured 0.842 gamma*: at m = 4(p-1) this init leaves frequencies 5 and 9 with 4 and 5 "
                "of the 8 neurons each that the exact construction needs",
            ),
        ),
        1,
        2,
    ],
)
def test_claim6b_z23_at_the_minimal_width(tmp_path, seed):
    final = _run("z23_m88", tmp_path, seed=seed)
    assert final["margin_ratio"] >= 0.90


@pytest.mark.slow
def test_claim8_s4(tmp_path):
    final = _run("s4", tmp_path)
    assert final["margin_ratio"] >= 0.8
    assert final["fraction_single_irrep"] >= 0.90
    assert final["irreps_used"] == final["num_nontrivial_irreps"] == 4


@pytest.mark.slow
def test_claim9_d5(tmp_path):
    final = _run("d5", tmp_path)
    assert final["margin_ratio"] >= 0.85
    assert final["irreps_used"] == final["num_nontrivial_irreps"] == 3


@pytest.mark.slow
def test_a5_prefers_the_lp_irreps_over_the_5_dimensional_one(tmp_path):
    """notes D, A15: >= 90% single-irrep neurons and a 5-dim irrep norm³ share below 0.1 (Thm 9 fails on A5)."""
    final = _run("a5", tmp_path)
    assert final["fraction_single_irrep"] >= 0.90
    five = [i for i, d in enumerate(final["irrep_dims"]) if d == 5]
    assert sum(final["norm_shares"][i] for i in five) < 0.1
