"""poincare_embeddings on a data-parallel mesh of 8 fake CPU devices equals the 1-device run (issue 3)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import jax
from experiments.poincare_embeddings.configs.default import get_config
from experiments.poincare_embeddings.train import train_and_evaluate

result = {"devices": jax.device_count()}
for mode in ("none", "rows"):
    c = get_config("smoke")
    c.sharding, c.epochs, c.burnin_epochs, c.eval_every, c.plot_labels = mode, 2, 1, 0, 0
    c.eval_undirected = False
    workdir = f"{sys.argv[2]}/{mode}"
    final = train_and_evaluate(c, workdir)
    result[mode] = {"map": final["eval/closure_map"], "emb": np.load(f"{workdir}/embeddings.npy").tolist()}
print("RESULT" + json.dumps(result))
"""


def test_row_sharded_training_on_8_devices_matches_one_device(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert result["devices"] == 8
    one, rows = result["none"], result["rows"]
    # Same epochs, same keys: the data-parallel step must give the same updates (reordered sums only).
    assert abs(rows["map"] - one["map"]) <= 0.01
    assert len(rows["emb"]) == len(one["emb"]) == 1180  # the padding rows of the sharded table are dropped
    diff = max(
        abs(a - b)
        for ra, rb in zip(rows["emb"], one["emb"], strict=True)
        for a, b in zip(ra, rb, strict=True)
    )
    assert diff <= 1e-6


def test_unknown_sharding_is_refused_before_any_work():
    sys.path.insert(0, str(ROOT))
    from experiments.poincare_embeddings.configs.default import get_config
    from experiments.poincare_embeddings.train import validate_config

    config = get_config("smoke")
    config.sharding = "columns"
    with pytest.raises(ValueError, match="config.sharding='columns'"):
        validate_config(config)
