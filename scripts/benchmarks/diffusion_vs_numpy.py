"""Benchmark: hyperbolic diffusion distance end to end on Sala et al.'s five graphs, geomrep (JAX) vs NumPy.

Command (from the repository root; needs ../shared/data)::

    python scripts/benchmarks/diffusion_vs_numpy.py [--graphs balanced_tree,phylo_tree,diseases,cs_phd,grqc]
        [--dtypes float32,float64] [--repeats 2] [--no-numpy] [--tree-report]

For every graph, with the authors' K (3, 3, 3, 4, 10), both sides run the same algorithm in one process:
dense Laplacian L = D − A, one symmetric eigendecomposition, for k = 0..K−1 the heat kernel e^{−2^{−k} L},
x̂ = √max(·, 1e-6), the pairwise distances of x̂ and HDD = Σ_k 2·asinh(2^{1−k/2}·‖x̂_i − x̂_j‖).

- geomrep: ``experiments/hyperbolic_diffusion``'s pipeline as a user runs it: ``graph_heat_operator`` +
  ``hdd_matrix`` (jitted JAX) + the graph metrics of ``geomrep.embed.metrics`` (MAP, average/worst distortion)
  and the best-scale distortion, from the edge list already in memory. "cold" is the first run in the process
  (JAX compilation included: this is what one launcher run pays), "warm" the fastest of ``--repeats`` more.
- NumPy: :func:`numpy_graph_hdd` in float64 (``np.linalg.eigh``, BLAS products, pairwise distances by the
  Gram form as NumPy users write them), then the same geomrep metrics on its matrix (so only the HDD part
  differs); run once. Its HDD matrix is compared with geomrep's (max relative difference printed).

Wall times are only meaningful on an idle machine; the process CPU time (``cpu``, user + system of all
threads) is printed too: on 2 cores an idle run's wall time is about half of it (more if a stage is serial).

``--tree-report`` prints, for random recursive trees (n = 300, 5 seeds), the fraction of nodes whose HDD-nearest
node is a tree neighbour and the Spearman correlation of HDD with the tree distance, for K = 1..8.

The reference implementations here (:func:`numpy_graph_hdd`, :func:`numpy_data_hdd`) are also what the tests
compare geomrep against: plain float64 NumPy written from the paper's definitions, independent of the package.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.spatial.distance

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
GRAPHS = {
    "balanced_tree": ("balanced_tree/smalltree.edges", 3),
    "phylo_tree": ("phylo_tree/phylo_tree.edges", 3),
    "diseases": ("diseases/bio-diseasome.edges", 3),
    "cs_phd": ("cs_phd/ca-CSphd.edges", 4),
    "grqc": ("grqc/grqc.edges", 10),
}


# --- the NumPy reference -----------------------------------------------------------------------------------------


def _pairwise(x: np.ndarray, method: str) -> np.ndarray:
    if method == "direct":  # exact differences, O(n³) scalar work: for small tests
        return scipy.spatial.distance.cdist(x, x)
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    return np.sqrt(np.maximum(d2, 0.0))


def _hdd_from_powers(power, num_scales: int, floor: float, pairwise: str) -> np.ndarray:
    """HDD = Σ_k 2·asinh(2^{1−k/2} ‖√max(P^{t_k}_i, floor) − √max(P^{t_k}_j, floor)‖), t_k = 2^{−k}."""
    total = 0.0
    for k in range(num_scales):
        x = np.sqrt(np.maximum(power(2.0**-k), floor))
        total = total + 2.0 * np.arcsinh(2.0 ** (1.0 - k / 2.0) * _pairwise(x, pairwise))
    np.fill_diagonal(total, 0.0)
    return total


def numpy_graph_hdd(
    edges,
    num_nodes: int,
    num_scales: int,
    *,
    normalized: bool = False,
    floor: float = 1e-6,
    pairwise="direct",
) -> np.ndarray:
    """HDD of a graph in float64 NumPy: L = D − A (or D^{-1/2}(D − A)D^{-1/2}), P^t = V e^{−tΛ} Vᵀ."""
    a = np.zeros((num_nodes, num_nodes))
    edges = np.asarray(edges)
    edges = edges[edges[:, 0] != edges[:, 1]]
    a[edges[:, 0], edges[:, 1]] = 1.0
    a[edges[:, 1], edges[:, 0]] = 1.0
    degree = a.sum(axis=1)
    laplacian = np.diag(degree) - a
    if normalized:
        s = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
        laplacian = s[:, None] * laplacian * s[None, :]
    lam, v = np.linalg.eigh(laplacian)
    return _hdd_from_powers(lambda t: (v * np.exp(-t * lam)) @ v.T, num_scales, floor, pairwise)


def numpy_data_hdd(
    points,
    num_scales: int,
    *,
    distance: str = "cosine",
    sigma: float = 2.0,
    alpha: float = 1.0,
    eigenvalue_floor: float = 1e-6,
    floor: float = 1e-6,
    pairwise: str = "direct",
) -> np.ndarray:
    """HDD of a point cloud in float64 NumPy: W = exp(−dist/σ), K = D^{-α} W D^{-α}, q = K1,
    M = q^{-1/2} K q^{-1/2} = ΨΛΨᵀ, P^t = q^{-1/2} Ψ max(Λ, floor)^t Ψᵀ q^{1/2}."""
    x = np.asarray(points, np.float64)
    metric = {"cosine": "cosine", "euclidean": "euclidean", "sqeuclidean": "sqeuclidean"}[distance]
    dist = scipy.spatial.distance.cdist(x, x, metric=metric)
    np.fill_diagonal(dist, 0.0)
    w = np.exp(-np.maximum(dist, 0.0) / sigma)
    d = w.sum(axis=1) ** -alpha
    kernel = d[:, None] * w * d[None, :]
    q = kernel.sum(axis=1)
    m = kernel / np.sqrt(q)[:, None] / np.sqrt(q)[None, :]
    lam, psi = np.linalg.eigh(m)
    lam = np.maximum(lam, eigenvalue_floor)
    left, right = 1.0 / np.sqrt(q), np.sqrt(q)
    return _hdd_from_powers(
        lambda t: left[:, None] * ((psi * lam**t) @ psi.T) * right[None, :], num_scales, floor, pairwise
    )


# --- the benchmark -----------------------------------------------------------------------------------------------


def _random_recursive_tree(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)


def _load(name):
    from geomrep.data import load_edges

    path, k = GRAPHS[name]
    data = load_edges(SHARED_DATA / path, self_loops="drop")
    return np.asarray(data.edges, np.int64), data.num_nodes, k


def _metrics(hdd, edges, n):
    sys.path.insert(0, str(ROOT))
    from experiments.hyperbolic_diffusion.evaluation import best_scale_distortion
    from geomrep.embed.metrics import distortion, graph_distances, graph_map

    g = graph_distances(edges, n)
    mean_ap = graph_map(hdd, edges)
    report = distortion(hdd, g)
    scale, best = best_scale_distortion(hdd, g)
    return {"map": mean_ap, "dist": report.average, "dist_best": best.average, "scale": scale}


def geomrep_pipeline(edges, n, k, dtype):
    import jax
    import jax.numpy as jnp

    from geomrep.embed import diffusion as hd

    t0, c0 = time.perf_counter(), time.process_time()
    operator = hd.graph_heat_operator(edges, n, dtype=jnp.dtype(dtype))
    hdd = hd.hdd_matrix(hd.hyperbolic_diffusion(operator, k))
    jax.block_until_ready(hdd)
    t1, c1 = time.perf_counter(), time.process_time()
    hdd = np.asarray(hdd)
    metrics = _metrics(hdd, edges, n)
    t2, c2 = time.perf_counter(), time.process_time()
    return (
        hdd,
        metrics,
        {"hdd": t1 - t0, "metrics": t2 - t1, "total": t2 - t0, "cpu": c2 - c0, "hdd_cpu": c1 - c0},
    )


def numpy_pipeline(edges, n, k):
    t0, c0 = time.perf_counter(), time.process_time()
    hdd = numpy_graph_hdd(edges, n, k, pairwise="gram")
    t1, c1 = time.perf_counter(), time.process_time()
    metrics = _metrics(hdd, edges, n)
    t2 = time.perf_counter()
    return hdd, metrics, {"hdd": t1 - t0, "metrics": t2 - t1, "total": t2 - t0, "hdd_cpu": c1 - c0}


def tree_report():
    import jax.numpy as jnp
    import scipy.stats

    from geomrep.embed import diffusion as hd
    from geomrep.embed.metrics import graph_distances

    n, seeds = 300, range(5)
    print(f"random recursive trees, n = {n}, seeds {list(seeds)} (float64): per K, mean over seeds")
    print("K  nearest-is-neighbour  Spearman(HDD, tree distance)")
    for k in range(1, 9):
        hits, rhos = [], []
        for seed in seeds:
            edges = _random_recursive_tree(n, seed)
            d = np.array(
                hd.hdd_matrix(hd.hyperbolic_diffusion(hd.graph_heat_operator(edges, n, dtype=jnp.float64), k))
            )
            g = graph_distances(edges, n)
            np.fill_diagonal(d, np.inf)
            hits.append(np.mean(g[np.arange(n), np.argmin(d, axis=1)] == 1.0))
            iu = np.triu_indices(n, 1)
            np.fill_diagonal(d, 0.0)
            rhos.append(scipy.stats.spearmanr(d[iu], g[iu]).statistic)
        print(
            f"{k}  {np.mean(hits):.4f} (min {np.min(hits):.4f})     {np.mean(rhos):.4f} (min {np.min(rhos):.4f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-numpy", action="store_true")
    parser.add_argument("--tree-report", action="store_true")
    args = parser.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    cores = len(os.sched_getaffinity(0))
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(
        f"jax {jax.__version__} ({jax.devices()[0].platform}), numpy {np.__version__}, {cores} cores, loadavg {load}"
    )
    if args.tree_report:
        tree_report()
        return
    names = args.graphs.split(",")
    data = {name: _load(name) for name in names}
    reference = {} if args.no_numpy else {name: numpy_pipeline(*data[name]) for name in names}
    for dtype in args.dtypes.split(","):
        cold_total, warm_total, cold_cpu = 0.0, 0.0, 0.0
        for name in names:
            edges, n, k = data[name]
            hdd, metrics, cold = geomrep_pipeline(edges, n, k, dtype)
            warm = min(
                (geomrep_pipeline(edges, n, k, dtype)[2] for _ in range(args.repeats)),
                key=lambda s: s["total"],
            )
            cold_total += cold["total"]
            cold_cpu += cold["cpu"]
            warm_total += warm["total"]
            line = (
                f"{dtype} {name:13s} n={n:5d} K={k:2d}  MAP {metrics['map']:.4f}  dist {metrics['dist']:.4f}  "
                f"best-scale dist {metrics['dist_best']:.4f} (s={metrics['scale']:.3f})  geomrep cold "
                f"{cold['total']:.2f} s (hdd {cold['hdd']:.2f}; cpu {cold['cpu']:.2f} s), warm {warm['total']:.2f} s "
                f"(hdd {warm['hdd']:.2f})"
            )
            if name in reference:
                ref, _, ref_t = reference[name]
                off = ~np.eye(n, dtype=bool)
                rel = float(np.max(np.abs(hdd - ref)[off] / ref[off]))
                line += (
                    f"  | numpy {ref_t['total']:.2f} s (hdd {ref_t['hdd']:.2f}; cpu {ref_t['hdd_cpu']:.2f} s); "
                    f"numpy/geomrep hdd {ref_t['hdd'] / warm['hdd']:.1f}x warm, {ref_t['hdd'] / cold['hdd']:.1f}x "
                    f"cold, cpu {ref_t['hdd_cpu'] / warm['hdd_cpu']:.1f}x warm; "
                    f"max rel diff {rel:.1e}"
                )
            print(line, flush=True)
        print(
            f"{dtype}: all graphs end to end: cold {cold_total:.1f} s (process cpu {cold_cpu:.1f} s), warm "
            f"{warm_total:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
