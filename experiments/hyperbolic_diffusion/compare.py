"""HDD beside h-MDS, trained Poincaré embeddings and (when present) the combinatorial construction, on Sala et
al.'s graphs, with the same metrics (``geomrep.embed.metrics``): graph MAP, average distortion unscaled (at the
method's own scale) and after the best global scale, and wall time.

Command (from the repository root; needs ../shared/data; writes a markdown table to stdout)::

    python -m experiments.hyperbolic_diffusion.compare [--graphs balanced_tree,phylo_tree,...]
        [--poincare-dir DIR]   # also train Poincaré embeddings (experiments/poincare_embeddings) into DIR

- HDD: float64, the authors' K (3, 3, 3, 4, 10), unnormalised Laplacian; time = operator + HDD matrix.
- h-MDS (``geomrep.embed.hmds``) on the shortest-path matrix, rank 10 at scale t = 1 and rank 100 at t = 0.1
  (the scale of the reference README's phylo example); "unscaled" divides by t (h-MDS's own scale).
- Poincaré: the NK17 trainer of experiments/poincare_embeddings (its ``mammals`` settings: dim 10, c = 0.1,
  Riemannian Adam, 50 epochs) on the graph's edges listed in both directions; "unscaled" is the raw ball
  distance. Its time is that run's train_and_eval_seconds.
- Combinatorial: ``geomrep.embed.combinatorial.combinatorial_embedding`` (Sala et al.'s Sarkar construction on
  the BFS tree, 2-D, ε = 1 and ε = 0.1, exact float64 distances); "own scale" divides by its τ.

``--methods`` picks a subset (default: all; Poincaré only with ``--poincare-dir``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from geomrep.data import load_edges  # noqa: E402
from geomrep.embed import diffusion as hd  # noqa: E402
from geomrep.embed.hmds import hmds  # noqa: E402
from geomrep.embed.metrics import distortion, graph_distances, graph_map  # noqa: E402
from geomrep.manifolds import PoincareBall  # noqa: E402

from .configs.default import SALA_GRAPHS, SHARED_DATA  # noqa: E402
from .evaluation import best_scale_distortion  # noqa: E402
from .train import README_K  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _ball_distances(points, c):
    ball = PoincareBall(c)
    x = jnp.asarray(points)
    d = np.array(jax.jit(lambda x: ball.dist(x[:, None, :], x[None, :, :]))(x))
    np.fill_diagonal(d, 0.0)
    return d


def _row(method, d, edges, g, seconds, scale=1.0):
    report = distortion(d, g, scale=scale)
    best_s, best = best_scale_distortion(d, g)
    return {
        "method": method,
        "map": graph_map(d, edges),
        "dist": report.average,
        "dist_best": best.average,
        "best_scale": best_s,
        "seconds": seconds,
    }


def _poincare(name, edges, n, g, out: Path):
    workdir = out / name
    sym = out / f"{name}.sym.edges"
    sym.write_text("".join(f"{u} {v}\n{v} {u}\n" for u, v in edges))
    if not (workdir / "embeddings.npy").is_file():
        cmd = [
            sys.executable,
            str(ROOT / "scripts/launch.py"),
            "--experiment",
            "poincare_embeddings",
            "--config",
            str(ROOT / "experiments/poincare_embeddings/configs/default.py:mammals"),
            "--workdir",
            str(workdir),
            f"--config.data={sym}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
    config = json.loads((workdir / "config.json").read_text())
    lines = [json.loads(s) for s in (workdir / "metrics.jsonl").read_text().splitlines()]
    seconds = [m for m in lines if "train_and_eval_seconds" in m][-1]["train_and_eval_seconds"]
    emb = np.load(workdir / "embeddings.npy")
    names = load_edges(sym).names  # embeddings.npy row i = node named names[i] in the symmetrised file
    order = np.argsort(np.asarray([int(s) for s in names]))
    return _row("Poincaré (NK17, dim 10)", _ball_distances(emb[order], config["c"]), edges, g, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default=",".join(SALA_GRAPHS))
    parser.add_argument("--poincare-dir", default="")
    parser.add_argument("--methods", default="hdd,hmds,poincare,combinatorial")
    args = parser.parse_args()
    print("| graph | method | MAP | avg distortion (own scale) | avg distortion (best scale s) | wall time |")
    print("|---|---|---|---|---|---|")
    for name in args.graphs.split(","):
        data = load_edges(SHARED_DATA / SALA_GRAPHS[name], self_loops="drop")
        edges, n = np.asarray(data.edges, np.int64), data.num_nodes
        g = graph_distances(edges, n)
        rows, methods = [], args.methods.split(",")
        if "hdd" in methods:
            t = time.perf_counter()
            k = README_K[Path(SALA_GRAPHS[name]).stem]
            d = np.asarray(hd.hdd_matrix(hd.hyperbolic_diffusion(hd.graph_heat_operator(edges, n), k)))
            rows.append(_row(f"HDD (K={k})", d, edges, g, time.perf_counter() - t))
        for dim, scale in ((10, 1.0), (100, 0.1)) if "hmds" in methods else ():
            t = time.perf_counter()
            result = hmds(g, min(dim, n - 2), scale=scale)
            d = _ball_distances(result.poincare, 1.0)
            rows.append(_row(f"h-MDS (rank {dim}, t={scale})", d, edges, g, time.perf_counter() - t, scale))
        if args.poincare_dir and "poincare" in methods:
            out = Path(args.poincare_dir)
            out.mkdir(parents=True, exist_ok=True)
            rows.append(_poincare(name, edges, n, g, out))
        for eps in (1.0, 0.1) if "combinatorial" in methods else ():
            from geomrep.embed.combinatorial import combinatorial_embedding

            t = time.perf_counter()
            emb = combinatorial_embedding(edges, n, eps=eps, dim=2)
            d = emb.dist_rows(np.arange(n))
            np.fill_diagonal(d, 0.0)
            method = f"combinatorial (2-D, ε={eps}, τ={emb.scale:.3g})"
            rows.append(_row(method, d, edges, g, time.perf_counter() - t, emb.scale))
        for r in rows:
            if r.get("pending"):
                print(f"| {name} | {r['method']} | pending | pending | pending | pending |")
            else:
                print(
                    f"| {name} | {r['method']} | {r['map']:.3f} | {r['dist']:.3f} | {r['dist_best']:.3f} "
                    f"(s={r['best_scale']:.3g}) | {r['seconds']:.2f} s |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
