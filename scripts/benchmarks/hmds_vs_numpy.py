"""Benchmark: h-MDS end to end (distance matrix in; embedding, distortion and graph MAP out), geomrep vs NumPy.

Command (from the repository root)::

    python scripts/benchmarks/hmds_vs_numpy.py [--n 4000] [--dim 10] [--scale 1.0] [--repeats 3]

Input: the graph distances of a random recursive tree on n nodes (node i > 0 hangs from a uniform node < i,
seed 0), as in ``shared/notes/stack.md`` §3; building them is not timed. Graph neighbours for the MAP are the
pairs at distance 1 (the tree's edges), read off the matrix inside the timed region.

- geomrep: ``geomrep.embed.hmds.hmds`` (``solver="auto"``: a top-k ARPACK ``eigsh`` at this size), then
  ``geomrep.embed.metrics.distortion`` and ``graph_map`` (blocked, jitted JAX kernels, float64). The first run
  includes JAX compilation ("cold"); the following ``--repeats`` runs reuse the compiled kernels ("warm").
- NumPy: the same algorithm written plainly in float64: ``np.cosh``, a full ``np.linalg.eigh``, the top-k
  positive eigenpairs, x/(1 + √(1 + ‖x‖²)), then the Poincaré distances row by row, the average and worst-case
  distortion and each row's average precision from an ``argsort``. Run once.

Both report the same metrics (the two embeddings agree up to the eigen-solvers' rounding; the difference is
printed). The issue's target is geomrep ≤ 1.5 s end to end at n = 4000, rank 10, on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from geomrep.embed.hmds import hmds  # noqa: E402
from geomrep.embed.metrics import distortion, graph_distances, graph_map  # noqa: E402
from geomrep.manifolds import PoincareBall  # noqa: E402


def random_recursive_tree(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)


def geomrep_pipeline(d: np.ndarray, dim: int, scale: float):
    ball = PoincareBall(1.0)
    t0 = time.perf_counter()
    result = hmds(d, dim, scale=scale)
    t1 = time.perf_counter()
    edges = np.argwhere(np.triu(d == 1.0))
    report = distortion(result.poincare, d, ball, scale=result.scale)
    t2 = time.perf_counter()
    mean_ap = graph_map(result.poincare, edges, ball)
    t3 = time.perf_counter()
    stages = {"hmds": t1 - t0, "distortion": t2 - t1, "graph_map": t3 - t2}
    return (report.average, report.worst_case, mean_ap), t3 - t0, stages, result.solver


def numpy_pipeline(d: np.ndarray, dim: int, scale: float):
    t0 = time.perf_counter()
    y = np.cosh(scale * d)
    values, vectors = np.linalg.eigh(-y)
    t1 = time.perf_counter()
    top = np.argsort(values)[::-1][:dim]
    values, vectors = values[top], vectors[:, top]
    keep = values > 0
    x = vectors[:, keep] * np.sqrt(values[keep])
    p = x / (1.0 + np.sqrt(1.0 + np.sum(x * x, axis=1, keepdims=True)))
    sq = 1.0 - np.sum(p * p, axis=1)
    n = len(d)
    row_means, expansion, contraction, aps = np.zeros(n), 0.0, 0.0, []
    for i in range(n):
        gamma = 2.0 * np.sum((p - p[i]) ** 2, axis=1) / (sq * sq[i])
        emb = 2.0 * np.arcsinh(np.sqrt(0.5 * gamma)) / scale  # = arcosh(1 + γ), without its rounding near 0
        others = np.arange(n) != i
        e, g = emb[others], d[i, others]
        valid = e > 0  # as the reference (and geomrep): pairs embedded at one point are skipped
        ev, gv = e[valid], g[valid]
        row_means[i] = np.mean(np.abs(ev - gv) / gv)
        expansion, contraction = max(expansion, np.max(ev / gv)), max(contraction, np.max(gv / ev))
        order = np.argsort(e)
        is_nbr = g[order] == 1.0
        ranks = np.flatnonzero(is_nbr) + 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
    t2 = time.perf_counter()
    stages = {"cosh+eigh": t1 - t0, "lift+metrics": t2 - t1}
    return (float(np.mean(row_means)), expansion * contraction, float(np.mean(aps))), t2 - t0, stages


def _fmt(stages):
    return ", ".join(f"{k} {v:.3f} s" for k, v in stages.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(
        f"jax {jax.__version__} ({jax.devices()[0].platform}), numpy {np.__version__}, {cores} cores, "
        f"loadavg {' '.join(load)}"
    )
    t = time.perf_counter()
    d = graph_distances(random_recursive_tree(args.n), args.n)
    print(
        f"random recursive tree: n {args.n}, max distance {d.max():.0f}, rank {args.dim}, scale {args.scale} "
        f"(distances built in {time.perf_counter() - t:.2f} s, not timed)"
    )

    metrics, cold, stages, solver = geomrep_pipeline(d, args.dim, args.scale)
    print(f"geomrep cold (incl. JAX compile): {cold:.3f} s  [{_fmt(stages)}]  solver {solver}")
    warm = []
    for _ in range(args.repeats):
        metrics, seconds, stages, _ = geomrep_pipeline(d, args.dim, args.scale)
        warm.append(seconds)
        print(f"geomrep warm:                     {seconds:.3f} s  [{_fmt(stages)}]")
    np_metrics, np_seconds, np_stages = numpy_pipeline(d, args.dim, args.scale)
    print(f"numpy (full eigh):                {np_seconds:.3f} s  [{_fmt(np_stages)}]")

    for name, values in (("geomrep", metrics), ("numpy", np_metrics)):
        print(f"  {name:8s} distortion avg {values[0]:.6f}  worst {values[1]:.4g}  graph MAP {values[2]:.6f}")
    best = min(warm)
    print(
        f"end to end: geomrep {best:.3f} s warm (median {statistics.median(warm):.3f} s, cold {cold:.3f} s), "
        f"numpy {np_seconds:.3f} s; numpy/geomrep = {np_seconds / best:.1f}x warm, {np_seconds / cold:.1f}x cold"
    )
    print(f"target geomrep <= 1.5 s end to end: {'met' if best <= 1.5 else 'NOT met'} ({best:.3f} s warm)")


if __name__ == "__main__":
    main()
