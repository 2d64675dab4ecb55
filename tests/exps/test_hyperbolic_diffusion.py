"""The hyperbolic_diffusion experiment through the launcher (smoke config and the public graph command), and its
point-cloud and hierarchy modes in process."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geomrep.embed.metrics import graph_distances
from geomrep.train.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the experiments package lives at the repository root, as the launcher sees it
    sys.path.insert(0, str(ROOT))

from experiments.hyperbolic_diffusion import train as hdd_train  # noqa: E402
from experiments.hyperbolic_diffusion.configs.default import get_config  # noqa: E402
from experiments.hyperbolic_diffusion.point_files import PointFileError, load_points  # noqa: E402

CONFIG = str(ROOT / "experiments/hyperbolic_diffusion/configs/default.py")


def _launch(workdir, *flags, variant="smoke"):
    cmd = [
        sys.executable,
        str(ROOT / "scripts/launch.py"),
        "--experiment",
        "hyperbolic_diffusion",
        "--config",
        f"{CONFIG}:{variant}",
        "--workdir",
        str(workdir),
        *flags,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


def _metrics(workdir):
    lines = [json.loads(s) for s in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 1
    return lines[0]


def test_smoke_run_writes_metrics_and_hdd(tmp_path):
    proc = _launch(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = _metrics(tmp_path)
    assert m["eval/graph_map"] == 1.0 and m["num_nodes"] == 40 and m["K"] == 3
    assert 0 < m["eval/distortion_avg_best_scale"] < m["eval/distortion_avg"]
    assert m["eval/nearest_is_neighbour"] == 1.0 and 0.5 < m["eval/spearman_graph_distance"] <= 1.0
    hdd = np.load(tmp_path / "hdd.npy")
    assert hdd.dtype == np.float64 and hdd.shape == (40, 40)
    np.testing.assert_array_equal(hdd, hdd.T)


def test_public_graph_command_on_an_edge_file(tmp_path):
    """The issue's contract: --config ...:graph --config.data=G.edges --config.K=4 -> metrics.jsonl, hdd.npy."""
    rng = np.random.default_rng(0)
    n = 60
    edges = np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)
    path = tmp_path / "G.edges"
    path.write_text("".join(f"{u} {v}\n" for u, v in edges) + "5 5\n")  # a self-loop is dropped
    workdir = tmp_path / "run"
    proc = _launch(
        workdir, f"--config.data={path}", "--config.K=4", "--config.dtype=float32", variant="graph"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = _metrics(workdir)
    assert m["K"] == 4 and m["num_nodes"] == n and m["dtype"] == "float32"
    assert 0.9 <= m["eval/graph_map"] <= 1.0 and m["eval/distortion_avg"] > 0
    hdd = np.load(workdir / "hdd.npy")
    assert hdd.shape == (n, n) and hdd.dtype == np.float32
    g = graph_distances(edges, n)
    np.fill_diagonal(hdd, np.inf)
    assert np.mean(g[np.arange(n), np.argmin(hdd, axis=1)] == 1) == m["eval/nearest_is_neighbour"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"K": -1}, "config.K=-1"),
        ({"sigma": 0.0}, "config.sigma=0.0"),
        ({"data": "/nonexistent.edges", "K": 3}, "config.data"),
        ({"laplacian": "random_walk"}, "config.laplacian"),
        ({}, "pass --config.K"),  # graph mode, a file that is not one of Sala's graphs, K=0
    ],
)
def test_bad_config_names_the_key(tmp_path, overrides, message):
    path = tmp_path / "mine.edges"
    path.write_text("0 1\n1 2\n")
    config = get_config("graph")
    config.data = str(path)
    config.update(overrides)
    with pytest.raises(ConfigError, match=re.escape(message)):
        hdd_train.validate_config(config)


def test_bad_config_through_the_launcher_is_one_line(tmp_path):
    proc = _launch(tmp_path / "run", "--config.K=-1")
    assert proc.returncode == 2 and "config.K=-1" in proc.stderr and "Traceback" not in proc.stderr


def test_iris_nearest_centroid_in_process(tmp_path):
    config = get_config("iris")
    config.classification.splits = 5
    m = hdd_train.train_and_evaluate(config, tmp_path)
    assert m["num_nodes"] == 150 and m["K"] == 6 and m["eval/num_classes"] == 3
    assert 0.8 < m["eval/nc_accuracy_hdd"] <= 1.0  # chance is 1/3
    assert np.load(tmp_path / "hdd.npy").shape == (150, 150)


def test_hierarchy_recovery_in_process(tmp_path):
    config = get_config("hierarchy")
    config.hierarchy.depth = 2
    config.hierarchy.points_per_leaf = 10
    m = hdd_train.train_and_evaluate(config, tmp_path)
    assert m["num_nodes"] == 90
    assert m["eval/triplet_accuracy_hdd"] > 0.9  # chance is 1/2
    assert m["eval/clade_recovery_hdd"] == 1.0


def test_point_files(tmp_path):
    x, labels = load_points(ROOT / "experiments/hyperbolic_diffusion/data/iris.csv")
    assert x.shape == (150, 4) and labels[0] == "Iris-setosa" and len(set(labels)) == 3
    np.save(tmp_path / "x.npy", x)
    y, none = load_points(tmp_path / "x.npy")
    assert none is None and np.array_equal(x, y)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,x\n3,oops,y\n")
    with pytest.raises(PointFileError, match=r"bad.csv:3: 'oops'"):
        load_points(bad)


def test_best_scale_is_the_minimum_of_the_average_distortion():
    from experiments.hyperbolic_diffusion.evaluation import best_scale_distortion
    from geomrep.embed.metrics import distortion

    rng = np.random.default_rng(0)
    n = 25
    edges = np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)
    g = graph_distances(edges, n)
    d = g * rng.uniform(0.5, 3.0, (n, n))
    d = d + d.T
    scale, best = best_scale_distortion(d, g)
    grid = np.exp(np.linspace(np.log(scale) - 0.5, np.log(scale) + 0.5, 201))
    values = np.array([distortion(d, g, scale=s).average for s in grid])
    assert best.average <= values.min() + 1e-12
    assert abs(grid[np.argmin(values)] / scale - 1) < 1e-2
    assert best.average < distortion(d, g).average
