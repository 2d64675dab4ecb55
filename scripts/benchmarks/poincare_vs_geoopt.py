"""Benchmark: geomrep vs geoopt, Poincaré embeddings of a transitive closure, wall time to a target MAP.

Command (from the repository root; ``make bench`` runs it with the defaults)::

    python scripts/benchmarks/poincare_vs_geoopt.py [--target-map 0.95] [--edges PATH]
        [--only geomrep|geoopt] [--geomrep-args "--config.lr=... ..."] [--geoopt-args "--lr ..."]

Protocol. In one process run, on the same closure file (default: the shipped mammals closure
``geomrep/data/datasets/mammal_closure.csv``; if that does not exist, the copy in
``/work/shared/data/wordnet_mammals/``), two subprocesses run one after the other:

* geomrep: ``python scripts/launch.py --experiment poincare_embeddings
  --config experiments/poincare_embeddings/configs/default.py:mammals --workdir <fresh tmp dir>
  --config.data=<edges> [--geomrep-args]``. It trains for its configured epochs (no early stop) and writes
  ``<workdir>/metrics.jsonl``; the lines with ``eval/closure_map`` also hold ``eval/closure_mean_rank``,
  ``epoch`` and ``time``. It counts as reaching the target if its final ``eval/closure_map`` >= target.
* geoopt: ``python scripts/benchmarks/peers/geoopt_poincare.py <edges> --stop-map <target>`` with dim 10,
  batch 512, lr 15, 50 negatives, 10 burn-in epochs at lr/10, up to 1000 epochs, an evaluation every 50
  epochs (the settings measured in shared/notes/stack.md §2). It exits at the first evaluation with
  MAP >= target. Its burn-in negatives are drawn ∝ (count as id2)^0.75, like FB's code and geomrep; with
  that, seeds 0-3 reach 0.95 at epochs 400-500 (the notes' run, which matches ``--burnin-degree total``,
  flattens at 0.949-0.950 and crosses only at epochs 600-1000). It runs torch single-threaded
  (``torch.set_num_threads(1)``): with more threads, tiny ops on a shared 2-core machine became
  100-1000x slower (stack.md §2).

Both report the directed NK17 reconstruction metrics (MAP over sources, mean rank over closure pairs).
Each tool's time is the wall time of its whole subprocess, measured here with ``time.perf_counter`` around
``subprocess.run``: interpreter start-up, imports, JIT compilation, data loading, evaluation and (for
geomrep) checkpoints and exports are all included. A tool that does not reach the target is reported as
"not reached" with its final MAP and time; no ratio is then printed.

Output: machine information (CPU count, load average at start and end, versions, torch threads), one table
row per tool (settings, epochs run, first evaluated epoch with MAP >= target, final MAP and mean rank, the
tool's own in-process clock at that first epoch, whole-process seconds, status), and the ratio
``geoopt_s / geomrep_s`` (> 1 means geomrep reached the target faster). Exit status 1 if a subprocess
failed or timed out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_EDGES = ROOT / "geomrep" / "data" / "datasets" / "mammal_closure.csv"
SHARED_EDGES = Path("/work/shared/data/wordnet_mammals/mammal_closure.csv")
PEER = ROOT / "scripts" / "benchmarks" / "peers" / "geoopt_poincare.py"
LAUNCHER = ROOT / "scripts" / "launch.py"
GEOMREP_CONFIG = "experiments/poincare_embeddings/configs/default.py:mammals"
GEOOPT_SETTINGS = [
    "--dim", "10", "--batch", "512", "--lr", "15", "--negs", "50",
    "--burnin", "10", "--epochs", "1000", "--eval-every", "50", "--seed", "0",
]  # fmt: skip
STDERR_TAIL_LINES = 30


@dataclass
class Result:
    tool: str
    settings: str
    command: list[str]
    wall_s: float | None = None
    returncode: int | None = None
    error: str | None = None
    epochs: int | None = None
    first_epoch: int | None = None  # first evaluated epoch with MAP >= target
    first_clock_s: float | None = None  # the tool's own clock at that evaluation
    final_map: float | None = None
    final_mean_rank: float | None = None
    torch_threads: int | None = None  # geoopt only, as reported by the peer
    evals: list[dict] = field(default_factory=list)

    def reached(self, target: float) -> bool:
        return self.error is None and self.final_map is not None and self.final_map >= target


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def tail(text: str | bytes | None, lines: int = STDERR_TAIL_LINES) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    # tqdm redraws with carriage returns: keep the last state of each line.
    rows = [row.rsplit("\r", 1)[-1] for row in text.rstrip().splitlines()]
    return "\n".join("    " + row for row in rows[-lines:])


def run_timed(result: Result, timeout: float) -> subprocess.CompletedProcess | None:
    """Run ``result.command`` from the repo root; record whole-process wall time and failures."""
    print(f"\n[{result.tool}] $ {shlex.join(result.command)}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(result.command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        result.wall_s = time.perf_counter() - t0
        result.error = f"timed out after {timeout:.0f} s"
        print(f"[{result.tool}] {result.error}; stderr tail:\n{tail(e.stderr)}", flush=True)
        return None
    result.wall_s = time.perf_counter() - t0
    result.returncode = proc.returncode
    if proc.returncode != 0:
        result.error = f"exit status {proc.returncode}"
        print(f"[{result.tool}] FAILED ({result.error}); stderr tail:\n{tail(proc.stderr)}", flush=True)
        return None
    print(f"[{result.tool}] done in {result.wall_s:.1f} s", flush=True)
    return proc


def summarise(result: Result, evals: list[dict], target: float, clock_key: str) -> None:
    """Fill epochs / first-reaching / final metrics from a tool's evaluation records."""
    result.evals = evals
    if not evals:
        result.error = result.error or "no evaluation lines in its output"
        return
    last = evals[-1]
    result.epochs = last.get("epoch")
    result.final_map = last["map"]
    result.final_mean_rank = last["mean_rank"]
    for e in evals:
        if e["map"] >= target:
            result.first_epoch = e.get("epoch")
            result.first_clock_s = e.get(clock_key)
            break


def run_geomrep(edges: Path, target: float, extra: list[str], timeout: float, keep: bool) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="geomrep_bench_"))
    command = [
        sys.executable, str(LAUNCHER), "--experiment", "poincare_embeddings",
        "--config", GEOMREP_CONFIG, "--workdir", str(workdir), f"--config.data={edges}", *extra,
    ]  # fmt: skip
    result = Result("geomrep", GEOMREP_CONFIG.rsplit("/", 1)[-1], command)
    try:
        if not LAUNCHER.is_file():
            result.error = f"launcher {LAUNCHER} does not exist (yet)"
            print(f"\n[geomrep] {result.error}", flush=True)
            return result
        proc = run_timed(result, timeout)
        config_path = workdir / "config.json"
        if config_path.is_file():
            result.settings = geomrep_settings(json.loads(config_path.read_text()), result.settings)
        elif extra:
            result.settings += " " + " ".join(extra)
        metrics = workdir / "metrics.jsonl"
        evals = []
        if metrics.is_file():
            for line in metrics.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "eval/closure_map" in rec:
                    evals.append(
                        {
                            "epoch": rec.get("epoch"),
                            "time": rec.get("time"),
                            "map": rec["eval/closure_map"],
                            "mean_rank": rec.get("eval/closure_mean_rank"),
                        }
                    )
        elif proc is not None:
            result.error = f"the launcher exited 0 but wrote no {metrics}"
            print(f"[geomrep] {result.error}; stderr tail:\n{tail(proc.stderr)}", flush=True)
        summarise(result, evals, target, clock_key="time")
        return result
    finally:
        if keep:
            print(f"[geomrep] workdir kept: {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def geomrep_settings(config: dict, fallback: str) -> str:
    """A short description of the run's config (config.json may be flat or nested under "config")."""
    config = config.get("config", config) if isinstance(config, dict) else {}
    keys = [
        ("manifold", "manifold"), ("dtype", "dtype"), ("dim", "dim"), ("batch_size", "B"), ("lr", "lr"),
        ("optimizer", "opt"), ("negatives", "negs"), ("burnin_epochs", "burnin"), ("epochs", "epochs"),
        ("eval_every", "eval_every"),
    ]  # fmt: skip
    parts = [f"{short}={config[key]}" for key, short in keys if key in config]
    return " ".join(parts) if parts else fallback


def run_geoopt(edges: Path, target: float, extra: list[str], timeout: float) -> Result:
    settings = GEOOPT_SETTINGS + extra
    command = [sys.executable, str(PEER), str(edges), *settings, "--stop-map", str(target)]
    result = Result("geoopt", "", command)
    missing = [d for d in ("torch", "geoopt") if version(d) == "not installed"]
    if missing:
        result.error = f"{', '.join(missing)} not installed: pip install -e '.[bench]' (or `make bench`)"
        print(f"\n[geoopt] {result.error}", flush=True)
        return result
    proc = run_timed(result, timeout)
    config, evals = {}, []
    if proc is not None:
        for line in proc.stdout.splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "config" in rec:
                config = rec["config"]
            elif "map" in rec:
                evals.append(rec)
    result.settings = geoopt_settings(config) if config else " ".join(settings)
    result.torch_threads = config.get("torch_threads")
    summarise(result, evals, target, clock_key="elapsed_s")
    return result


def geoopt_settings(config: dict) -> str:
    """A short description of the peer's ``{"config": ...}`` line."""
    keys = [
        ("dim", "dim"), ("batch", "B"), ("lr", "lr"), ("negs", "negs"), ("burnin", "burnin"),
        ("burnin_degree", "burnin_degree"), ("epochs", "max_epochs"), ("eval_every", "eval_every"),
        ("torch_threads", "threads"),
    ]  # fmt: skip
    return " ".join(f"{short}={config[key]}" for key, short in keys if key in config)


def fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_table(results: list[Result], target: float) -> None:
    header = [
        "tool", "settings", "epochs", f"first MAP>={target} at", "final MAP", "mean rank",
        "own clock s", "whole-process s", "status",
    ]  # fmt: skip
    rows = []
    for r in results:
        if r.error:
            status = f"failed: {r.error}"
        elif r.reached(target):
            status = "reached"
        else:
            status = f"not reached (final MAP {fmt(r.final_map, '.4f')} after {fmt(r.wall_s, '.1f')} s)"
        rows.append(
            [
                r.tool,
                r.settings,
                fmt(r.epochs, "d"),
                "-" if r.first_epoch is None else f"epoch {r.first_epoch}",
                fmt(r.final_map, ".4f"),
                fmt(r.final_mean_rank, ".3f"),
                fmt(r.first_clock_s, ".1f"),
                fmt(r.wall_s, ".1f"),
                status,
            ]
        )
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    for row in [header, ["-" * w for w in widths], *rows]:
        print(line.format(*row).rstrip())


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def default_edges() -> Path:
    return SHIPPED_EDGES if SHIPPED_EDGES.is_file() else SHARED_EDGES


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--target-map", type=float, default=0.95, help="MAP to reach (default 0.95)")
    p.add_argument("--edges", type=Path, default=None, help="closure CSV id1,id2[,weight] (default: mammals)")
    p.add_argument("--only", choices=("geomrep", "geoopt"), help="run one side only (no ratio)")
    p.add_argument("--geomrep-args", default="", help='extra launcher args, e.g. "--config.lr=20"')
    p.add_argument("--geoopt-args", default="", help='extra peer args (appended), e.g. "--lr 10"')
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess (default 1800)")
    p.add_argument("--keep-workdir", action="store_true", help="keep geomrep's temporary workdir")
    # Let `--geomrep-args "--config.lr=20"` work: argparse would read a lone "--..." value as an option.
    argv = list(sys.argv[1:] if argv is None else argv)
    for i in range(len(argv) - 2, -1, -1):
        if argv[i] in ("--geomrep-args", "--geoopt-args"):
            argv[i : i + 2] = [f"{argv[i]}={argv[i + 1]}"]
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    edges = (args.edges or default_edges()).resolve()
    if not edges.is_file():
        print(f"error: no closure file at {edges}", file=sys.stderr)
        return 2
    load_start = os.getloadavg()
    print("Poincaré embeddings: geomrep vs geoopt, whole-process wall time to MAP >= target")
    print(f"  data        {edges}")
    print(f"  target MAP  {args.target_map}")
    print(f"  machine     {platform.machine()} {cpu_model()}".rstrip())
    print(f"  cpu count   {os.cpu_count()}")
    print(f"  load avg    {' '.join(f'{x:.2f}' for x in load_start)} (1/5/15 min, at start)")
    print(
        f"  versions    python {platform.python_version()}, jax {version('jax')}, "
        f"jaxlib {version('jaxlib')}, torch {version('torch')}, geoopt {version('geoopt')}"
    )

    results = []
    if args.only in (None, "geomrep"):
        extra = shlex.split(args.geomrep_args)
        results.append(run_geomrep(edges, args.target_map, extra, args.timeout, args.keep_workdir))
    if args.only in (None, "geoopt"):
        extra = shlex.split(args.geoopt_args)
        results.append(run_geoopt(edges, args.target_map, extra, args.timeout))
    load_end = os.getloadavg()

    print()
    print_table(results, args.target_map)
    print()
    threads = next((r.torch_threads for r in results if r.tool == "geoopt"), None)
    if threads is not None:
        print(f"torch threads = {threads} (torch.set_num_threads(1): see shared/notes/stack.md §2)")
    print(f"load avg at end: {' '.join(f'{x:.2f}' for x in load_end)} (1/5/15 min)")
    by_tool = {r.tool: r for r in results}
    if "geomrep" in by_tool and "geoopt" in by_tool:
        g, p = by_tool["geomrep"], by_tool["geoopt"]
        if g.reached(args.target_map) and p.reached(args.target_map):
            print(
                f"ratio geoopt_s / geomrep_s = {p.wall_s:.1f} / {g.wall_s:.1f} = {p.wall_s / g.wall_s:.2f}x "
                f"(whole-process wall time to MAP >= {args.target_map}; > 1: geomrep is faster)"
            )
        else:
            missed = [
                f"{r.tool} {'failed' if r.error else 'did not reach MAP >= ' + str(args.target_map)}"
                for r in (g, p)
                if not r.reached(args.target_map)
            ]
            print(f"ratio: n/a ({'; '.join(missed)})")
    print(
        "Times are whole subprocess wall times (start-up, imports, JIT, data loading, evaluation included); "
        "'own clock s' is each tool's in-process clock at its first evaluation >= target (informational; "
        "geomrep has no early stop, so its whole-process time covers all its configured epochs)."
    )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
