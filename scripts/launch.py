"""The one launcher for every experiment.

Usage::

    python scripts/launch.py --experiment poincare_embeddings \\
        --config experiments/poincare_embeddings/configs/default.py:smoke \\
        --workdir /tmp/poincare --config.dim=5 --config.optim.lr 0.3 [--jax_distributed]

Steps, in order: import ``experiments.<NAME>.train``; load the config and apply the ``--config.key=value``
(or ``--config.key value``) overrides; call the experiment's ``validate_config(config)`` if it has one;
check that the workdir can be created and written and that its ``config.json`` (if any) matches; call
``jax.distributed.initialize()`` when ``--jax_distributed`` is given (multi-host GPU/TPU: run the same
command on every host); then ``train_and_evaluate(config, workdir)``. Re-running the same command on the
same workdir resumes the run.

Bad input (unknown experiment, config key or value, failed validation, unusable workdir) is reported
as one line ``error: ...`` on stderr with exit code 2, before any work starts.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXPERIMENTS_ROOT = REPO_ROOT / "experiments"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from geomrep.train.config import check_workdir_config, load_config  # noqa: E402


class LaunchError(ValueError):
    """Bad launcher input (experiment name, flags, workdir); reported as one line, exit code 2."""


def split_config_overrides(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Separates ``--config.key=value`` / ``--config.key value`` flags (as ``"key=value"``) from the rest."""
    rest, overrides = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--config."):
            body = arg[len("--config.") :]
            if "=" in body:
                overrides.append(body)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                overrides.append(f"{body}={argv[i + 1]}")
                i += 1
            else:
                raise LaunchError(f"{arg} needs a value: {arg}=VALUE")
        else:
            rest.append(arg)
        i += 1
    return rest, overrides


def available_experiments(root: Path) -> list[str]:
    """The folders under ``root`` that hold a ``train.py``, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "train.py").is_file())


def _package_is(root: Path, name: str) -> bool:
    """Whether ``import name`` gives the package whose folder is ``root``."""
    try:
        package = importlib.import_module(name)
    except ImportError:
        return False
    return any(Path(p).resolve() == root for p in getattr(package, "__path__", []))


def import_experiment(name: str, root: Path = DEFAULT_EXPERIMENTS_ROOT) -> ModuleType:
    """Imports ``<root>/<name>/train.py`` (as ``experiments.<name>.train`` for the repo's experiments)."""
    root = Path(root).resolve()
    if not name.isidentifier() or not (root / name / "train.py").is_file():
        names = ", ".join(available_experiments(root)) or "(none)"
        raise LaunchError(f"unknown experiment {name!r}; experiments with a train.py under {root}: {names}")
    if root == DEFAULT_EXPERIMENTS_ROOT.resolve() and _package_is(root, "experiments"):
        module = importlib.import_module(f"experiments.{name}.train")
    else:
        # Another root (tests, private experiments), or a top-level `experiments` that is some other
        # package: load the root as a package of its own name; relative imports inside the experiment
        # keep working.
        package = "_launch_experiments_" + hashlib.sha1(str(root).encode()).hexdigest()[:12]
        if package not in sys.modules:
            spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
            module = importlib.util.module_from_spec(spec)
            module.__path__ = [str(root)]
            sys.modules[package] = module
        module = importlib.import_module(f"{package}.{name}.train")
    if not callable(getattr(module, "train_and_evaluate", None)):
        raise LaunchError(f"{root / name / 'train.py'} defines no train_and_evaluate(config, workdir)")
    return module


def prepare_workdir(workdir: str) -> Path:
    """Creates ``workdir`` if needed and checks that a file can be written in it."""
    path = Path(workdir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LaunchError(f"cannot create workdir {workdir}: {err.strerror or err}") from err
    if not path.is_dir():
        raise LaunchError(f"workdir {workdir} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise LaunchError(f"workdir {workdir} is not writable: {err.strerror or err}") from err
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="launch.py",
        description="Run one experiment: experiments/<NAME>/train.py:train_and_evaluate(config, workdir).",
        epilog="Override config fields with --config.key=value or --config.group.key value.",
    )
    parser.add_argument("--experiment", required=True, help="folder name under the experiments root")
    parser.add_argument("--config", required=True, help="PATH.py:ARG, a file defining get_config(ARG)")
    parser.add_argument("--workdir", required=True, help="where config, metrics and checkpoints go")
    parser.add_argument(
        "--jax_distributed", action="store_true", help="call jax.distributed.initialize() (multi-host)"
    )
    parser.add_argument(
        "--experiments-root",
        default=str(DEFAULT_EXPERIMENTS_ROOT),
        help="folder holding the experiment packages (default: the repo's experiments/)",
    )
    return parser


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the launcher; returns the exit code (2 for bad input, 0 after ``train_and_evaluate``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rest, overrides = split_config_overrides(argv)
    except LaunchError as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(rest)  # exits with code 2 and usage on bad flags
    try:
        module = import_experiment(args.experiment, Path(args.experiments_root))
    except LaunchError as err:  # errors raised while importing the experiment keep their traceback
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, overrides)
        validate = getattr(module, "validate_config", None)
        if validate is not None:
            validate(config)
        prepare_workdir(args.workdir)
        check_workdir_config(args.workdir, config)
    except ValueError as err:  # ConfigError, LaunchError and validate_config's errors
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    if args.jax_distributed:
        import jax

        jax.distributed.initialize()
    from geomrep.data import EdgeFileError, SplitFileError

    try:
        module.train_and_evaluate(config, os.fspath(args.workdir))
    except (EdgeFileError, SplitFileError) as err:  # bad input data or a workdir's split: name the file
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # training diverged: the message says what to change
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
