"""scripts/launch.py with a throwaway experiment: end to end; bad input is one line with exit code 2."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_spec = importlib.util.spec_from_file_location("geomrep_launch_under_test", REPO / "scripts" / "launch.py")
launch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch)

TRAIN_PY = textwrap.dedent(
    """
    import json
    from pathlib import Path

    from .helper import describe


    def validate_config(config):
        if config.dim <= 0:
            raise ValueError(f"dim must be positive, got {config.dim}")


    def train_and_evaluate(config, workdir):
        Path(workdir, "trained.json").write_text(json.dumps({"dim": config.dim, "lr": config.optim.lr,
                                                             "what": describe(config)}))
    """
)

CONFIG_PY = textwrap.dedent(
    """
    import ml_collections

    def get_config(arg="default"):
        config = ml_collections.ConfigDict()
        config.dim = 10 if arg == "default" else 2
        config.optim = ml_collections.ConfigDict({"lr": 0.1})
        return config
    """
)


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "exps"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "train.py").write_text(TRAIN_PY)
    (root / "toy" / "helper.py").write_text("def describe(config):\n    return f'toy dim={config.dim}'\n")
    (root / "other").mkdir()
    (root / "other" / "train.py").write_text("def train_and_evaluate(config, workdir):\n    pass\n")
    (root / "notes").mkdir()  # no train.py: not an experiment
    config = tmp_path / "toy_config.py"
    config.write_text(CONFIG_PY)
    return root, config


def run(setup, *extra, experiment="toy", workdir):
    root, config = setup
    argv = ["--experiment", experiment, "--config", f"{config}:smoke", "--workdir", str(workdir)]
    return launch.main([*argv, "--experiments-root", str(root), *extra])


def error_line(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_end_to_end(setup, tmp_path, capsys):
    workdir = tmp_path / "runs" / "a"
    assert run(setup, "--config.dim=3", "--config.optim.lr", "0.5", workdir=workdir) == 0
    assert json.loads((workdir / "trained.json").read_text()) == {"dim": 3, "lr": 0.5, "what": "toy dim=3"}
    assert json.loads((workdir / "config.json").read_text()) == {"dim": 3, "optim": {"lr": 0.5}}
    assert run(setup, "--config.dim=3", "--config.optim.lr=0.5", workdir=workdir) == 0  # resume: same flags


def test_changed_flags_on_existing_workdir(setup, tmp_path, capsys):
    workdir = tmp_path / "a"
    assert run(setup, workdir=workdir) == 0
    saved = (workdir / "config.json").read_text()
    (workdir / "trained.json").unlink()
    assert run(setup, "--config.dim=5", workdir=workdir) == 2
    line = error_line(capsys)
    assert "holds a run with a different config" in line and "dim 2 != 5" in line
    assert (workdir / "config.json").read_text() == saved
    assert not (workdir / "trained.json").exists()


def test_unknown_experiment_lists_available(setup, tmp_path, capsys):
    assert run(setup, experiment="toyy", workdir=tmp_path / "w") == 2
    line = error_line(capsys)
    assert "unknown experiment 'toyy'" in line and line.endswith(": other, toy")
    assert not (tmp_path / "w").exists()


def test_bad_config_key_and_value(setup, tmp_path, capsys):
    assert run(setup, "--config.dimm=3", workdir=tmp_path / "w") == 2
    assert "unknown config key 'dimm'; valid keys: dim, optim; did you mean 'dim'?" in error_line(capsys)
    assert run(setup, "--config.dim=three", workdir=tmp_path / "w") == 2
    assert "bad value 'three' for config key 'dim': expected int" in error_line(capsys)
    assert run(setup, "--config.dim", workdir=tmp_path / "w") == 2
    assert "--config.dim needs a value" in error_line(capsys)
    assert not (tmp_path / "w").exists()


def test_validate_config_failure(setup, tmp_path, capsys):
    assert run(setup, "--config.dim=-1", workdir=tmp_path / "w") == 2
    assert error_line(capsys) == "error: dim must be positive, got -1"
    assert not (tmp_path / "w").exists()


def test_unwritable_workdir(setup, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert run(setup, workdir=blocker / "run") == 2
    assert f"cannot create workdir {blocker / 'run'}" in error_line(capsys)
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert run(setup, workdir=locked) == 2
        assert "is not writable" in error_line(capsys)


def test_as_a_script(setup, tmp_path):
    root, config = setup
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "launch.py"),
        "--experiment=toy",
        f"--config={config}",
        f"--workdir={tmp_path / 'w'}",
        f"--experiments-root={root}",
        "--config.dim=4",
    ]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "w" / "trained.json").read_text())["dim"] == 4
    bad = [*cmd[:-1], "--config.dim=0"]
    proc = subprocess.run(bad, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stderr == "error: dim must be positive, got 0\n"


def test_default_root_survives_a_shadowing_experiments_package(setup, monkeypatch):
    root, _ = setup
    shadow = type(sys)("experiments")
    shadow.__path__ = [str(REPO / "tests")]  # what pytest's tests/experiments/__init__.py looks like
    monkeypatch.setitem(sys.modules, "experiments", shadow)
    monkeypatch.setattr(launch, "DEFAULT_EXPERIMENTS_ROOT", root)
    module = launch.import_experiment("toy", root)
    assert callable(module.train_and_evaluate) and module.describe.__module__.endswith("toy.helper")
