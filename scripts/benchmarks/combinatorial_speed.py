"""Benchmark: the combinatorial construction (Sarkar, Sala et al. 2018) — factor representation vs mpmath per pair.

Command (from the repository root)::

    python scripts/benchmarks/combinatorial_speed.py [--data wordnet] [--eps 0.1] [--rows 256] [--pairs 300]
                                                     [--repeats 2] [--full-eval]

Protocol. In one process, on the same graph (default: SDGR18's WordNet hypernym graph, 74,374 nodes, from
``../shared/data``), ε and 2-D:

- geomrep: ``combinatorial_embedding`` builds the BFS tree and its float64 factor tables (construction time,
  compilation included), then ``emb.dist_rows`` computes exact distances; ``--rows`` random source rows against
  all n nodes are timed after one warm-up call and extrapolated to the n(n − 1) ordered pairs of an all-pairs
  evaluation. ``--full-eval`` also runs the whole SDGR18 evaluation (``graph_reconstruction``: graph MAP over
  every source) and prints its time and MAP.
- peer (what the reference code does, in Python): arbitrary-precision Poincaré coordinates at the automatically
  chosen bits (``emb.mp_points()``, mpmath, the construction time is printed) and one mpmath Poincaré distance
  per pair (``combinatorial_mp.mp_pair_distances``) on ``--pairs`` random pairs, extrapolated the same way. The
  reference runs this in Julia BigFloat with threads; a per-pair arbitrary-precision distance is the part that
  the factor representation removes.

Both sides also agree: the printed max relative difference of the sampled pairs must be ~1e-15.
Each timing is the fastest of ``--repeats`` (the machine is shared); wall time is the headline and CPU time
(``time.process_time``, all threads) is printed beside it. XLA uses its default thread pool (both cores here);
mpmath is single-threaded Python (``gmpy2`` backend when installed, printed).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import mpmath  # noqa: E402

from geomrep.embed import combinatorial_mp  # noqa: E402
from geomrep.embed.combinatorial import combinatorial_embedding  # noqa: E402
from geomrep.embed.metrics import graph_reconstruction  # noqa: E402

DATA = {
    "wordnet": "wordnet_hypernym_graph/wordnet.edges",
    "phylo": "phylo_tree/phylo_tree.edges",
    "grqc": "grqc/grqc.edges",
    "cs_phd": "cs_phd/ca-CSphd.edges",
}


def _timed(fn, repeats):
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return out, best_wall, best_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=sorted(DATA), default="wordnet")
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--rows", type=int, default=256, help="source rows timed for geomrep")
    parser.add_argument("--pairs", type=int, default=300, help="pairs timed for the mpmath peer")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--full-eval", action="store_true", help="also run graph MAP over every source")
    args = parser.parse_args()

    path = ROOT.parent / "shared" / "data" / DATA[args.data]
    edges = np.loadtxt(path, dtype=np.int64)[:, :2]
    n = int(edges.max()) + 1
    pairs_total = n * (n - 1)
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"mpmath {mpmath.__version__} backend {mpmath.libmp.BACKEND}"
    )
    print(
        f"data: {args.data} ({n} nodes, {len(edges)} edges), eps={args.eps}, 2-D, {pairs_total:.3g} ordered pairs"
    )

    emb, build_wall, build_cpu = _timed(lambda: combinatorial_embedding(edges, n, eps=args.eps), 1)
    print(
        f"geomrep construction: {build_wall:.2f} s wall ({build_cpu:.2f} s cpu); tau={emb.scale:.4g}, "
        f"height={emb.tree.height}, max degree={emb.tree.max_degree}, mpmath bits={emb.precision_bits}"
    )

    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(n, min(args.rows, n), replace=False))
    emb.dist_rows(rows[:1])  # compile
    _, rows_wall, rows_cpu = _timed(lambda: emb.dist_rows(rows), args.repeats)
    per_pair = rows_wall / (len(rows) * n)
    ours_all = per_pair * pairs_total
    print(
        f"geomrep dist_rows: {len(rows)} rows x {n} in {rows_wall:.3f} s wall ({rows_cpu:.3f} s cpu) = "
        f"{per_pair * 1e9:.1f} ns/pair -> all pairs {ours_all:.1f} s (extrapolated)"
    )

    u = rng.integers(0, n, args.pairs)
    v = (u + 1 + rng.integers(0, n - 1, args.pairs)) % n
    # coordinates of the sampled nodes and their ancestors (one Lorentz-matrix product per tree node)
    ancestors = emb.tree.ancestors[np.concatenate([u, v])]
    computed = len(np.unique(ancestors[ancestors >= 0]))
    points, mp_build_wall, mp_build_cpu = _timed(lambda: emb.mp_points(nodes=np.concatenate([u, v])), 1)
    scale = emb.tree.num_nodes / computed
    print(
        f"peer mpmath coordinates at {points.precision_bits} bits: {computed} tree nodes in {mp_build_wall:.1f} s "
        f"wall ({mp_build_cpu:.1f} s cpu) -> all {emb.tree.num_nodes} nodes {mp_build_wall * scale:.1f} s "
        "(extrapolated)"
    )
    peer_d, peer_wall, peer_cpu = _timed(
        lambda: combinatorial_mp.mp_pair_distances(points, u, v), args.repeats
    )
    peer_per_pair = peer_wall / args.pairs
    peer_all = peer_per_pair * pairs_total
    ours_d = emb.pair_distances(u, v)
    agree = float(np.max(np.abs(ours_d - peer_d) / peer_d))
    print(
        f"peer mpmath per pair: {args.pairs} pairs in {peer_wall:.2f} s wall ({peer_cpu:.2f} s cpu) = "
        f"{peer_per_pair * 1e6:.1f} us/pair -> all pairs {peer_all:.3g} s = {peer_all / 86400:.3g} days "
        f"(extrapolated)"
    )
    print(f"agreement on the sampled pairs: max relative difference {agree:.2e}")
    print(
        f"ratio all-pairs distances, mpmath / geomrep: {peer_all / ours_all:.3g}x wall, "
        f"{(peer_cpu / args.pairs) / (rows_cpu / (len(rows) * n)):.3g}x cpu"
    )

    if args.full_eval:
        result, eval_wall, eval_cpu = _timed(lambda: graph_reconstruction(emb.dist_rows, edges), 1)
        print(
            f"geomrep full evaluation (graph MAP over all {result.num_sources} sources): {eval_wall:.1f} s wall "
            f"({eval_cpu:.1f} s cpu); MAP {result.map:.4f}, mean rank {result.mean_rank:.3f}; "
            f"construction + evaluation {build_wall + eval_wall:.1f} s"
        )


if __name__ == "__main__":
    main()
