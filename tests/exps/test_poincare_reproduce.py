"""scripts/reproduce_nk_tables.sh and experiments/poincare_embeddings/collect.py: the commands the script would
run (with an echoing interpreter: nothing trains), that every config variant it names exists, and the tables
collect.py prints from finished and unfinished runs."""

import json
import os
import re
import subprocess
from pathlib import Path

from experiments.poincare_embeddings import collect
from experiments.poincare_embeddings.configs.default import get_config

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_nk_tables.sh"


def _dry_run(tmp_path, *args, **env):
    data = tmp_path / "closure.csv"
    data.write_text("id1,id2,weight\n")
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**os.environ, "PYTHON": "echo", "DATA": str(data), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line.startswith("scripts/launch.py")]


def test_every_row_is_one_launcher_command_with_a_valid_variant(tmp_path):
    commands = _dry_run(tmp_path, "all", str(tmp_path / "runs"), "--", "--config.dtype=float32")
    # 2017: (poincare, euclidean) x (recon, lp) x 6 dims; 2018: (lorentz, poincare) x 3 dims
    assert len(commands) == 2 * 2 * 6 + 2 * 3
    for command in commands:
        variant = re.search(r"default\.py:(\S+)", command)[1]
        get_config(variant)  # raises on an unknown variant
        assert "--config.dtype=float32" in command and "--config.data=" in command
    assert any("nouns_euclidean_lp" in c and "--config.dim=200" in c for c in commands)
    assert any(
        "nouns_lorentz" in c and "--config.symmetric=True" in c and "--config.dim=2" in c for c in commands
    )
    assert "--config.dim=10" in commands[0]  # the dim-10 rows come first


def test_finished_runs_are_skipped_and_a_missing_closure_is_an_error(tmp_path):
    runs = tmp_path / "runs"
    done = runs / "lp" / "poincare_d10"
    done.mkdir(parents=True)
    (done / "metrics.jsonl").write_text(json.dumps({"train_and_eval_seconds": 1.0}) + "\n")
    commands = _dry_run(tmp_path, "lp", str(runs), DIMS="10")
    assert len(commands) == 1 and "nouns_euclidean_lp" in commands[0]
    missing = subprocess.run(
        ["bash", str(SCRIPT), "lp", str(runs)],
        env={**os.environ, "PYTHON": "echo", "DATA": str(tmp_path / "nope.csv")},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "nope.csv" in missing.stderr


def test_collect_puts_ours_beside_the_paper_and_lists_unfinished_runs(tmp_path):
    final = {
        "eval/closure_map": 0.91,
        "eval/closure_mean_rank": 3.5,
        "eval/closure_map_undirected": 0.88,
        "eval/closure_mean_rank_undirected": 7.25,
        "eval/lp_map": 0.86,
        "eval/lp_mean_rank": 4.5,
        "epoch": 400,
        "train_and_eval_seconds": 444.0,
    }
    for task, run in [("recon", "poincare_d10"), ("lorentz", "lorentz_sym_d5"), ("lp", "poincare_d20")]:
        (tmp_path / task / run).mkdir(parents=True)
        (tmp_path / task / run / "metrics.jsonl").write_text(
            json.dumps({"loss": 1.0}) + "\n" + json.dumps(final) + "\n"
        )
    (tmp_path / "lp" / "euclidean_d5").mkdir()
    (tmp_path / "lp" / "euclidean_d5" / "metrics.jsonl").write_text(json.dumps({"loss": 2.0}) + "\n")
    table = collect.collect(tmp_path)
    assert "| poincare | 10 | 0.910 / 3.50 | 0.851 / 4.02 | 400 | 444 s |" in table
    assert "| lorentz_sym | 5 | 0.880 / 7.25 | 0.923 / 3.18 | 400 | 444 s |" in table
    assert "| poincare | 20 | 0.860 / 4.50 | 0.861 / 4.9 | 400 | 444 s |" in table
    assert "Not finished: " in table and "euclidean_d5" in table
