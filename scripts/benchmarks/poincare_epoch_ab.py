"""Interleaved before/after timing of whole noun-closure training epochs, both versions in one process.

    python scripts/benchmarks/poincare_epoch_ab.py EDGES [--baseline REV] [--batch 1024] [--epochs 4]
        [--dtype float32] [--burnin]

The baseline is ``git archive REV geomrep`` unpacked into a temporary directory and imported as the package
``geomrep_baseline`` (imports rewritten), so the old and the current code run side by side and the machine's
load drifts over both alike. The settings are those of ``geomrep_epochs.py`` (Poincaré ball c = 0.1, dim 10,
row-sparse RAdam lr 0.25, 50 negatives, uniform negatives: no burn-in; ``--burnin`` times burn-in epochs
instead, whose negatives are drawn ∝ count^0.75). One untimed epoch per version
compiles; then the versions alternate epoch by epoch. Prints one JSON line per timed epoch
(``version, epoch, wall_s, cpu_s``: wall clock and ``time.process_time``), then a summary line with the
fastest epoch of each version, pairs/s and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _baseline_package(rev: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "geomrep"], check=True, capture_output=True
    )
    subprocess.run(["tar", "x", "-C", str(into)], input=archive.stdout, check=True)
    (into / "geomrep").rename(into / "geomrep_baseline")
    for path in (into / "geomrep_baseline").rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"\bgeomrep(?=[.\s])", "geomrep_baseline", text)
        path.write_text(text)
    sys.path.insert(0, str(into))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("edges")
    p.add_argument("--baseline", default="0f57e59", help="git revision to compare against")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--burnin", action="store_true", help="time burn-in epochs (degree-weighted negatives)")
    args = p.parse_args(argv)

    import importlib

    import jax
    import jax.numpy as jnp

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    tmp = tempfile.TemporaryDirectory()
    _baseline_package(args.baseline, Path(tmp.name))
    from geomrep.data import load_edges

    data = load_edges(args.edges, directed=True)
    dtype = jnp.dtype(args.dtype)
    versions = {}
    for name, pkg in (("baseline", "geomrep_baseline"), ("current", "geomrep")):
        pe = importlib.import_module(f"{pkg}.embed.poincare")
        manifold = importlib.import_module(f"{pkg}.manifolds").PoincareBall(0.1)
        tx = importlib.import_module(f"{pkg}.optim").sparse_radam(0.25, manifold)
        graph = pe.closure_graph(data.edges, data.num_nodes, dtype=dtype)
        epoch = pe.make_epoch_fn(manifold, tx, graph, batch_size=args.batch, num_negatives=50)
        run = jax.jit(epoch.run, donate_argnums=(0, 1))
        table = pe.init_embeddings(0, data.num_nodes, 10, manifold, dtype=dtype)
        versions[name] = [run, graph, table, tx.init(table)]
    load_before = os.getloadavg()
    times = {name: [] for name in versions}
    for e in range(args.epochs + 1):
        for name, v in versions.items():
            run, graph, table, state = v
            wall, cpu = time.perf_counter(), time.process_time()
            table, state, metrics = run(table, state, graph, jax.random.key(e), jnp.asarray(args.burnin))
            loss = float(jax.block_until_ready(metrics["loss"]))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            v[2], v[3] = table, state
            if e:  # epoch 0 compiles
                times[name].append((wall, cpu))
                rec = {
                    "version": name,
                    "epoch": e,
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "loss": loss,
                }
                print(json.dumps(rec), flush=True)
    pairs = int(data.edges.shape[0])
    summary = {
        "batch": args.batch,
        "dtype": args.dtype,
        "burnin": args.burnin,
        "baseline": args.baseline,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    for name, ts in times.items():
        best = min(w for w, _ in ts)
        summary[name] = {
            "fastest_wall_s": round(best, 3),
            "cpu_s_of_fastest": round(min(ts)[1], 3),
            "min_cpu_s": round(min(c for _, c in ts), 3),
            "pairs_per_s": round(pairs / best),
        }
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
