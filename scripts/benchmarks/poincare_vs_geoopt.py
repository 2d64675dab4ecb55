"""Benchmark: geomrep vs geoopt, Poincaré embeddings of a transitive closure, wall time to a target MAP.

Command (from the repository root; ``make bench`` runs it with the defaults)::

    python scripts/benchmarks/poincare_vs_geoopt.py [--target-map 0.95] [--edges PATH]
        [--only geomrep|geoopt] [--geomrep-args "--config.lr=... ..."] [--geoopt-args "--lr ..."]

Protocol. In one process run, on the same closure file (default: the shipped mammals closure
``geomrep/data/datasets/mammal_closure.csv``; if that does not exist, the copy in
``<repo>/../shared/data/wordnet_mammals/``), four subprocesses run one after the other:

a. geomrep float32: ``python scripts/launch.py --experiment poincare_embeddings
   --config experiments/poincare_embeddings/configs/default.py:mammals_f32 --workdir <fresh tmp dir>
   --config.data=<edges> [--geomrep-args]``: Poincaré ball c=0.1, dim 10, RAdam (row-sparse) lr 0.25,
   batch 512, 50 negatives, 3 burn-in epochs at lr x 0.1, 50 epochs, float32.
b. geomrep float64: the same with ``...:mammals`` (float64).
   Both geomrep runs get ``--config.eval_every=5 --config.stop_map=<target>``: like the geoopt runs, they
   evaluate along the way and stop at the first evaluation with MAP >= target (the evaluation time is
   included). ``<workdir>/metrics.jsonl`` lines with ``eval/closure_map`` also hold
   ``eval/closure_mean_rank``, ``epoch`` and ``time``; a run counts as reaching the target if its final
   ``eval/closure_map`` >= target.
c. geoopt baseline: ``python scripts/benchmarks/peers/geoopt_poincare.py <edges> --stop-map <target>``
   with RSGD, c=1, dim 10, batch 512, lr 15, 50 negatives, 10 burn-in epochs at lr x 0.1, float64, up to
   1000 epochs, an evaluation every 50 epochs (the settings measured in shared/notes/stack.md §2). Its burn-in
   negatives are drawn ∝ (count as id2)^0.75, like FB's code and geomrep; with that, seeds 0-3 reach 0.95 at
   epochs 400-500 (the notes' run, which matches ``--burnin-degree total``, flattens at 0.949-0.950 and
   crosses only at epochs 600-1000).
d. geoopt with geomrep's settings: the same peer with ``--optimizer radam --c 0.1 --lr 0.25 --burnin 3
   --burnin-lr-mult 0.1 --dtype float64`` (batch 512, 50 negatives, dim 10), an evaluation every 10 epochs,
   up to 200 epochs (geomrep runs 50; the extra epochs let it reach the target if it is slower to converge).
   geoopt's ``RiemannianAdam`` is dense (every row moves with its moments at each step); geomrep's RAdam
   updates only the rows a batch touches, so the two optimisers share formulas and hyperparameters but are
   not the same algorithm step for step.
   Both geoopt runs exit at the first evaluation with MAP >= target.

``--geomrep-args`` are appended to both geomrep runs and ``--geoopt-args`` to both geoopt runs (the peer's
argparse keeps the last value of a repeated option). ``--only geomrep`` runs a and b, ``--only geoopt`` c and d.

The peer runs torch single-threaded (``torch.set_num_threads(1)``): with more threads, tiny ops on a shared
2-core machine became 100-1000x slower (stack.md §2). JAX (XLA:CPU) is not limited and may use every core
(two on the reference machine), so geomrep may use both cores while geoopt uses one; the output says so.

All runs report the directed NK17 reconstruction metrics (MAP over sources, mean rank over closure pairs).
Each run's time is the wall time of its whole subprocess, measured here with ``time.perf_counter`` around
``subprocess.run``: interpreter start-up, imports, JIT compilation, data loading, evaluation and (for
geomrep) checkpoints and exports are all included. A run that does not reach the target is reported as
"not reached" with its final MAP and time, and no ratio involving it is printed.

Output: machine information (CPU count, load average at start and end, versions, torch threads), one table
row per run (tool, settings, dtype, epochs run, first evaluated epoch with MAP >= target, final MAP and mean
rank, the tool's own in-process clock at that first epoch, whole-process seconds, status), then the ratios
of whole-process times (> 1 means geomrep reached the target faster):

* ``c / a``, the headline: geoopt baseline (its own tuned RSGD settings, float64) ÷ geomrep float32 (the
  shipped ``mammals_f32`` config); ``c / b``: the same against geomrep float64. These compare each tool with
  its own settings, so they mix implementation speed with the choice of optimiser, curvature and dtype.
* ``d / b``, like for like: geoopt and geomrep with the same optimiser, curvature, hyperparameters and dtype
  (float64), so it isolates the implementation (and evaluation schedule: geoopt evaluates every 10 epochs).

Exit status 1 if a subprocess failed or timed out.

Throughput mode, ``--data mammals|nouns`` (nouns: ``<repo>/../shared/data/wordnet_nouns/noun_closure.csv``):
no evaluation, only training epochs with the same work per epoch (every closure pair once, batch 512, 50
negatives, dim 10). geomrep (``geomrep_epochs.py``: c = 0.1, row-sparse RAdam, one untimed compile epoch) and
geoopt (the peer with ``--no-eval``: RiemannianAdam c = 0.1, dense) each run in float32 and float64; the table
gives the median epoch time and pairs/s, and the ratios geoopt ÷ geomrep per dtype.
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
SHARED_EDGES = ROOT.parent / "shared" / "data" / "wordnet_mammals" / "mammal_closure.csv"
NOUN_EDGES = ROOT.parent / "shared" / "data" / "wordnet_nouns" / "noun_closure.csv"
GEOMREP_EPOCHS = ROOT / "scripts" / "benchmarks" / "geomrep_epochs.py"
PEER = ROOT / "scripts" / "benchmarks" / "peers" / "geoopt_poincare.py"
LAUNCHER = ROOT / "scripts" / "launch.py"
GEOMREP_CONFIG_FILE = "experiments/poincare_embeddings/configs/default.py"
GEOMREP_EVAL_EVERY = (
    5  # epochs between geomrep's evaluations (each ~0.05 s on mammals) when stopping at the target
)
# The four runs, in the order they execute: (key, tool, label, geomrep config spec or peer arguments).
GEOOPT_BASELINE = [
    "--optimizer", "rsgd", "--c", "1.0", "--dtype", "float64", "--dim", "10", "--batch", "512", "--lr", "15",
    "--negs", "50", "--burnin", "10", "--burnin-lr-mult", "0.1", "--epochs", "1000", "--eval-every", "50",
    "--seed", "0",
]  # fmt: skip
GEOOPT_LIKE_GEOMREP = [
    "--optimizer", "radam", "--c", "0.1", "--dtype", "float64", "--dim", "10", "--batch", "512", "--lr", "0.25",
    "--negs", "50", "--burnin", "3", "--burnin-lr-mult", "0.1", "--epochs", "200", "--eval-every", "10",
    "--seed", "0",
]  # fmt: skip
RUNS = [
    ("a", "geomrep", "mammals_f32", f"{GEOMREP_CONFIG_FILE}:mammals_f32"),
    ("b", "geomrep", "mammals", f"{GEOMREP_CONFIG_FILE}:mammals"),
    ("c", "geoopt", "baseline", GEOOPT_BASELINE),
    ("d", "geoopt", "geomrep settings", GEOOPT_LIKE_GEOMREP),
]
# (numerator, denominator, what it measures)
RATIOS = [
    ("c", "a", "headline: geoopt baseline (RSGD c=1 lr 15, float64) / geomrep mammals_f32 (float32)"),
    ("c", "b", "geoopt baseline (RSGD c=1 lr 15, float64) / geomrep mammals (float64)"),
    ("d", "b", "like for like: same optimizer (RAdam), c=0.1, hyperparameters, float64"),
]
STDERR_TAIL_LINES = 30


@dataclass
class Result:
    key: str  # a, b, c or d
    tool: str
    settings: str
    command: list[str]
    dtype: str | None = None
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

    @property
    def name(self) -> str:
        return f"{self.key}. {self.tool}"

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
    print(f"\n[{result.name}] $ {shlex.join(result.command)}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(result.command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        result.wall_s = time.perf_counter() - t0
        result.error = f"timed out after {timeout:.0f} s"
        print(f"[{result.name}] {result.error}; stderr tail:\n{tail(e.stderr)}", flush=True)
        return None
    result.wall_s = time.perf_counter() - t0
    result.returncode = proc.returncode
    if proc.returncode != 0:
        result.error = f"exit status {proc.returncode}"
        print(f"[{result.name}] FAILED ({result.error}); stderr tail:\n{tail(proc.stderr)}", flush=True)
        return None
    print(f"[{result.name}] done in {result.wall_s:.1f} s", flush=True)
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


def run_geomrep(
    key: str,
    variant: str,
    spec: str,
    edges: Path,
    target: float,
    extra: list[str],
    timeout: float,
    keep: bool,
) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"geomrep_bench_{variant}_"))
    command = [
        sys.executable, str(LAUNCHER), "--experiment", "poincare_embeddings",
        "--config", spec, "--workdir", str(workdir), f"--config.data={edges}",
        f"--config.eval_every={GEOMREP_EVAL_EVERY}", f"--config.stop_map={target}", *extra,
    ]  # fmt: skip
    result = Result(key, "geomrep", variant, command)
    try:
        if not LAUNCHER.is_file():
            result.error = f"launcher {LAUNCHER} does not exist (yet)"
            print(f"\n[{result.name}] {result.error}", flush=True)
            return result
        proc = run_timed(result, timeout)
        config_path = workdir / "config.json"
        if config_path.is_file():
            config = json.loads(config_path.read_text())
            config = config.get("config", config) if isinstance(config, dict) else {}
            result.settings = geomrep_settings(config, variant)
            result.dtype = config.get("dtype")
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
            print(f"[{result.name}] {result.error}; stderr tail:\n{tail(proc.stderr)}", flush=True)
        summarise(result, evals, target, clock_key="time")
        return result
    finally:
        if keep:
            print(f"[{result.name}] workdir kept: {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def geomrep_settings(config: dict, variant: str) -> str:
    """A short description of the run's config (``variant: key=value ...``)."""
    keys = [
        ("manifold", "manifold"), ("c", "c"), ("dim", "dim"), ("batch_size", "B"), ("optimizer", "opt"),
        ("lr", "lr"), ("negatives", "negs"), ("burnin_epochs", "burnin"), ("burnin_lr_mult", "burnin_lr_x"),
        ("epochs", "epochs"), ("eval_every", "eval_every"),
    ]  # fmt: skip
    parts = [f"{short}={config[key]}" for key, short in keys if key in config]
    return f"{variant}: {' '.join(parts)}" if parts else variant


def run_geoopt(
    key: str, label: str, settings: list[str], edges: Path, target: float, extra: list[str], timeout: float
) -> Result:
    settings = settings + extra
    command = [sys.executable, str(PEER), str(edges), *settings, "--stop-map", str(target)]
    result = Result(key, "geoopt", label, command)
    missing = [d for d in ("torch", "geoopt") if version(d) == "not installed"]
    if missing:
        result.error = f"{', '.join(missing)} not installed: pip install -e '.[bench]' (or `make bench`)"
        print(f"\n[{result.name}] {result.error}", flush=True)
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
    result.settings = f"{label}: {geoopt_settings(config) if config else ' '.join(settings)}"
    result.dtype = config.get("dtype")
    result.torch_threads = config.get("torch_threads")
    summarise(result, evals, target, clock_key="elapsed_s")
    return result


def geoopt_settings(config: dict) -> str:
    """A short description of the peer's ``{"config": ...}`` line."""
    keys = [
        ("c", "c"), ("dim", "dim"), ("batch", "B"), ("optimizer", "opt"), ("lr", "lr"), ("negs", "negs"),
        ("burnin", "burnin"), ("burnin_lr_mult", "burnin_lr_x"), ("burnin_degree", "burnin_degree"),
        ("epochs", "max_epochs"), ("eval_every", "eval_every"), ("torch_threads", "threads"),
    ]  # fmt: skip
    return " ".join(f"{short}={config[key]}" for key, short in keys if key in config)


def fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_table(results: list[Result], target: float) -> None:
    header = [
        "run", "settings", "dtype", "epochs", f"first MAP>={target} at", "final MAP", "mean rank",
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
                r.name,
                r.settings,
                r.dtype or "-",
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


def print_ratios(results: list[Result], target: float) -> None:
    """Whole-process time ratios (> 1: the geomrep run reached the target faster); n/a when a run missed it."""
    by_key = {r.key: r for r in results}
    print(f"Ratios of whole-process wall time to MAP >= {target} (> 1: geomrep is faster):")
    for num, den, what in RATIOS:
        missing = [k for k in (num, den) if k not in by_key]
        if missing:
            print(f"  {num} / {den}  n/a (run {', '.join(missing)} not run: --only)  [{what}]")
            continue
        p, g = by_key[num], by_key[den]
        missed = [
            f"{r.name} {'failed' if r.error else 'not reached'}" for r in (p, g) if not r.reached(target)
        ]
        if missed:
            print(f"  {num} / {den}  n/a ({'; '.join(missed)})  [{what}]")
        else:
            print(
                f"  {num} / {den}  = {p.wall_s:.1f} / {g.wall_s:.1f} = {p.wall_s / g.wall_s:.2f}x  [{what}]"
            )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _timed_epochs(command: list[str], timeout: float) -> tuple[list[float], str | None]:
    """Run a throughput subprocess; its per-epoch ``epoch_s`` values, or an error message."""
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s"
    if proc.returncode:
        return [], f"exit {proc.returncode}: {tail(proc.stderr, 5)}"
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    return [x["epoch_s"] for x in lines if "epoch_s" in x], None


def throughput(data: str, timeout: float) -> int:
    """``--data`` mode: epoch time and pairs/s of geomrep and geoopt, float32 and float64, one process run."""
    edges = default_edges() if data == "mammals" else NOUN_EDGES
    if not edges.is_file():
        print(f"error: no closure file at {edges}", file=sys.stderr)
        return 2
    pairs = sum(1 for line in edges.read_text().splitlines()[1:] if line.strip())
    peer_epochs = "2" if data == "nouns" else "5"
    print(
        f"Epoch throughput on {data} ({edges}, {pairs} pairs): batch 512, 50 negatives, dim 10, no evaluation"
    )
    print(
        f"  machine   {platform.machine()} {cpu_model()}, {os.cpu_count()} cores, load avg "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"  versions  jax {version('jax')}, torch {version('torch')} (1 thread), geoopt {version('geoopt')}"
    )
    rows, failed = {}, False
    for dtype in ("float32", "float64"):
        runs = {
            "geomrep": [sys.executable, str(GEOMREP_EPOCHS), str(edges), "--dtype", dtype, "--epochs", "3"],
            "geoopt": [
                sys.executable,
                str(PEER),
                str(edges),
                "--no-eval",
                "--optimizer",
                "radam",
                "--c",
                "0.1",
                "--lr",
                "0.25",
                "--burnin",
                "0",
                "--dtype",
                dtype,
                "--epochs",
                peer_epochs,
            ],
        }
        for tool, command in runs.items():
            times, error = _timed_epochs(command, timeout)
            failed |= error is not None
            median = float(sorted(times)[len(times) // 2]) if times else None
            rows[tool, dtype] = median
            shown = f"{median:8.2f} s/epoch {pairs / median:12,.0f} pairs/s" if median else f"failed: {error}"
            print(f"  {tool:8s} {dtype}: {shown}   (epochs timed: {', '.join(f'{t:.2f}' for t in times)})")
    for dtype in ("float32", "float64"):
        if rows.get(("geomrep", dtype)) and rows.get(("geoopt", dtype)):
            print(f"  ratio geoopt / geomrep, {dtype}: {rows['geoopt', dtype] / rows['geomrep', dtype]:.1f}x")
    return 1 if failed else 0


def default_edges() -> Path:
    return SHIPPED_EDGES if SHIPPED_EDGES.is_file() else SHARED_EDGES


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--target-map", type=float, default=0.95, help="MAP to reach (default 0.95)")
    p.add_argument("--edges", type=Path, default=None, help="closure CSV id1,id2[,weight] (default: mammals)")
    p.add_argument(
        "--only", choices=("geomrep", "geoopt"), help="run one tool's two runs only (a, b or c, d; no ratio)"
    )
    p.add_argument(
        "--geomrep-args", default="", help='extra launcher args for a and b, e.g. "--config.lr=20"'
    )
    p.add_argument("--geoopt-args", default="", help='extra peer args for c and d (appended), e.g. "--lr 10"')
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess (default 1800)")
    p.add_argument(
        "--data",
        choices=("mammals", "nouns"),
        help="throughput mode: epoch time and pairs/s on this closure instead of time to a target MAP",
    )
    p.add_argument("--keep-workdir", action="store_true", help="keep geomrep's temporary workdirs")
    # Let `--geomrep-args "--config.lr=20"` work: argparse would read a lone "--..." value as an option.
    argv = list(sys.argv[1:] if argv is None else argv)
    for i in range(len(argv) - 2, -1, -1):
        if argv[i] in ("--geomrep-args", "--geoopt-args"):
            argv[i : i + 2] = [f"{argv[i]}={argv[i + 1]}"]
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.data:
        return throughput(args.data, args.timeout)
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
    print(
        f"  threads     geoopt runs torch single-threaded (torch.set_num_threads(1)); JAX is not limited and "
        f"may use all {os.cpu_count()} cores"
    )

    geomrep_extra = shlex.split(args.geomrep_args)
    geoopt_extra = shlex.split(args.geoopt_args)
    results = []
    for key, tool, label, spec in RUNS:
        if args.only not in (None, tool):
            continue
        if tool == "geomrep":
            results.append(
                run_geomrep(
                    key, label, spec, edges, args.target_map, geomrep_extra, args.timeout, args.keep_workdir
                )
            )
        else:
            results.append(run_geoopt(key, label, spec, edges, args.target_map, geoopt_extra, args.timeout))
    load_end = os.getloadavg()

    print()
    print_table(results, args.target_map)
    print()
    print_ratios(results, args.target_map)
    print()
    threads = sorted({r.torch_threads for r in results if r.torch_threads is not None})
    if threads:
        print(
            f"torch threads = {', '.join(map(str, threads))} (torch.set_num_threads(1): with more threads, tiny "
            "ops on a shared 2-core machine became 100-1000x slower; shared/notes/stack.md §2)."
        )
    print(
        f"Cores: JAX (geomrep) may use all {os.cpu_count()} cores while torch (geoopt) uses one; the ratios "
        "compare whole processes as they run by default, not per-core efficiency."
    )
    print(f"load avg at end: {' '.join(f'{x:.2f}' for x in load_end)} (1/5/15 min)")
    print(
        "Times are whole subprocess wall times (start-up, imports, JIT, data loading, evaluation included); "
        "'own clock s' is each tool's in-process clock at its first evaluation >= target (informational). "
        f"Every run stops at its first evaluation >= target: geomrep evaluates every {GEOMREP_EVAL_EVERY} "
        "epochs, geoopt every 50 (c) or 10 (d) epochs."
    )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
