"""Hyperbolic diffusion distance (HDD; Lin, Coifman, Mishne & Talmon 2023) of a graph or a point cloud, and its
evaluations. Nothing is trained: one run builds the diffusion operator, the K-scale embedding and the HDD, then
evaluates.

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment hyperbolic_diffusion`` calls.
The workdir ends up with ``config.json``, ``metrics.jsonl`` (one line: the evaluation and the wall time of each
stage) and, when n ≤ 10⁴ and ``save_hdd``, ``hdd.npy``: the (n, n) HDD matrix in the run's dtype (float64 by
default), row i = node i (node ids as ``geomrep.data.load_edges`` numbers them; for point clouds, row order).

- graph mode: ``eval/graph_map`` (Sala et al.'s MAP of the distance-1 neighbours), ``eval/graph_mean_rank``,
  ``eval/distortion_avg`` / ``eval/distortion_worst`` (unscaled HDD against shortest-path lengths),
  ``eval/distortion_avg_best_scale`` at ``eval/best_scale`` (HDD divided by the scale that minimises the average
  distortion), ``eval/spearman_graph_distance`` and ``eval/nearest_is_neighbour`` (the fraction of nodes whose
  HDD-nearest node is a graph neighbour).
- points mode with labels: ``eval/nc_accuracy_hdd`` (nearest class medoid under HDD, mean over random stratified
  splits) beside the nearest-centroid accuracy on the raw features (Euclidean and cosine) on the same splits.
- hierarchy mode: triplet accuracy, clade recovery and Spearman against the true tree, for HDD and for the raw
  Euclidean distance.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.data import load_edges
from geomrep.embed import diffusion as hd
from geomrep.embed.diffusion_operators import DENSE_LIMIT, DISTANCES
from geomrep.embed.metrics import distortion, graph_distance_rows, graph_distances, graph_reconstruction
from geomrep.train import MetricsWriter
from geomrep.train.config import ConfigError

from . import evaluation as ev
from .point_files import load_points
from .synthetic import balanced_tree_edges, hierarchical_mixture

MODES = ("graph", "points", "hierarchy")
LAPLACIANS = ("unnormalized", "normalized")
DTYPES = ("float32", "float64")
# K per graph in the authors' README (ya-wei-eileen-lin/HyperbolicDiffusionDistance), by file name
README_K = {"smalltree": 3, "phylo_tree": 3, "bio-diseasome": 3, "ca-CSphd": 4, "grqc": 10}


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            value = config
            for part in key.split("."):
                value = value[part]
            raise ConfigError(f"config.{key}={value!r}: {what}")

    need(config.mode in MODES, "mode", f"must be one of {list(MODES)}")
    need(config.K >= 0, "K", "the number of scales must be >= 1 (0 = the authors' K, graph mode only)")
    need(config.K >= 1 or config.mode == "graph", "K", "must be >= 1 outside graph mode")
    need(config.laplacian in LAPLACIANS, "laplacian", f"must be one of {list(LAPLACIANS)}")
    need(config.distance in DISTANCES, "distance", f"must be one of {list(DISTANCES)}")
    need(np.isfinite(config.sigma) and config.sigma > 0, "sigma", "the kernel scale must be > 0")
    need(np.isfinite(config.alpha) and config.alpha >= 0, "alpha", "the density normalisation must be >= 0")
    need(np.isfinite(config.floor) and config.floor > 0, "floor", "the density floor must be > 0")
    need(config.num_eigenpairs >= 0, "num_eigenpairs", "must be >= 0 (0 = automatic)")
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(config.eval_sample >= 1, "eval_sample", "must be >= 1")
    need(config.classification.splits >= 1, "classification.splits", "must be >= 1")
    need(0 < config.classification.train_fraction < 1, "classification.train_fraction", "must lie in (0, 1)")
    if config.mode == "points":
        need(bool(config.data), "data", "points mode needs a .npy or .csv file")
    if config.data and config.mode != "hierarchy":
        need(Path(config.data).is_file(), "data", "no such file")
    if config.mode == "graph" and config.K == 0:
        stem = Path(config.data).stem if config.data else ""
        need(
            stem in README_K,
            "K",
            f"K=0 means the authors' K for Sala et al.'s graphs ({', '.join(README_K)}); "
            f"{stem or 'the generated tree'!r} is not one of them: pass --config.K",
        )


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.save(f, array)
    tmp.replace(path)


def _graph(config):
    """(edges (m, 2), n, weights or None, K) of the configured graph; self-loops dropped (Gr-QC has 6).

    Edge weights (a third column) weight the Laplacian; the metrics use unweighted shortest paths, as Sala et al.
    """
    if config.data:
        data = load_edges(config.data, self_loops="drop")
        edges, n, weights = np.asarray(data.edges, np.int64), data.num_nodes, data.weights
    else:
        edges, weights = balanced_tree_edges(3, 3), None
        n = int(edges.max()) + 1
    k = config.K or README_K[Path(config.data).stem]
    return edges, n, weights, int(k)


def _graph_metrics(config, embedding, edges, n, hdd_matrix, times) -> dict:
    out = {}
    t = time.perf_counter()
    if hdd_matrix is not None:
        source, sample = hdd_matrix, None
        graph_dist = graph_distances(edges, n)
    else:  # n > 10⁴: rows of HDD and of BFS distances on demand, a uniform sample of source rows

        def source(rows):
            return np.asarray(hd.hdd_rows(embedding, rows), np.float64)

        source.num_nodes = n
        graph_dist, sample = graph_distance_rows(edges, n), int(config.eval_sample)
    ranking = graph_reconstruction(source, edges, sample=sample)
    out["eval/graph_map"] = ranking.map
    out["eval/graph_mean_rank"] = ranking.mean_rank
    report = distortion(source, graph_dist, sample=sample)
    out["eval/distortion_avg"] = report.average
    out["eval/distortion_worst"] = report.worst_case
    out["eval/distortion_skipped_pairs"] = report.skipped_pairs
    out["eval/sampled"] = bool(ranking.sampled or report.sampled)
    if config.best_scale and hdd_matrix is not None:
        scale, best = ev.best_scale_distortion(hdd_matrix, graph_dist)
        out["eval/best_scale"] = scale
        out["eval/distortion_avg_best_scale"] = best.average
        out["eval/distortion_worst_best_scale"] = best.worst_case
    times["metrics_s"] = time.perf_counter() - t
    if hdd_matrix is not None:
        t = time.perf_counter()
        d = np.array(hdd_matrix, np.float64)
        np.fill_diagonal(d, np.inf)
        nearest = np.argmin(d, axis=1)
        out["eval/nearest_is_neighbour"] = float(np.mean(graph_dist[np.arange(n), nearest] == 1.0))
        if config.spearman:
            out["eval/spearman_graph_distance"] = ev.spearman_upper(hdd_matrix, graph_dist)
        times["extra_metrics_s"] = time.perf_counter() - t
    return out


def _classification(config, hdd, points, labels) -> dict:
    cc = config.classification
    splits = ev.stratified_splits(labels, train_fraction=cc.train_fraction, repeats=cc.splits, seed=cc.seed)
    acc = {"hdd": [], "euclidean": [], "cosine": []}
    for train, test in splits:
        acc["hdd"].append(ev.nearest_medoid_accuracy(hdd, labels, train, test))
        acc["euclidean"].append(ev.nearest_centroid_accuracy(points, labels, train, test, metric="euclidean"))
        acc["cosine"].append(ev.nearest_centroid_accuracy(points, labels, train, test, metric="cosine"))
    out = {"eval/num_classes": len(np.unique(labels))}
    for name, values in acc.items():
        out[f"eval/nc_accuracy_{name}"] = float(np.mean(values))
        out[f"eval/nc_accuracy_{name}_std"] = float(np.std(values))
    return out


def _hierarchy_metrics(hdd, mixture) -> dict:
    euclid = np.sqrt(np.maximum(np.sum((mixture.points[:, None] - mixture.points[None]) ** 2, axis=-1), 0.0))
    lca = ev._leaf_lca_depth(mixture.parent, mixture.leaves)
    tree_dist = 2.0 * (lca.max() - lca)  # path length between leaves of a complete tree
    out = {}
    for name, d in (("hdd", np.asarray(hdd, np.float64)), ("euclidean", euclid)):
        out[f"eval/triplet_accuracy_{name}"] = ev.triplet_accuracy(
            d, mixture.cluster, mixture.parent, mixture.leaves
        )
        recovered, cluster_d = ev.clade_recovery(d, mixture.cluster, mixture.parent, mixture.leaves)
        out[f"eval/clade_recovery_{name}"] = recovered
        off = ~np.eye(len(tree_dist), dtype=bool)
        out[f"eval/spearman_tree_{name}"] = ev.spearman_upper(np.where(off, cluster_d, 0), tree_dist)
    return out


def train_and_evaluate(config, workdir) -> dict:
    """Build the operator, the embedding and HDD; evaluate; write metrics.jsonl and hdd.npy. Returns the metrics."""
    validate_config(config)
    start = time.perf_counter()
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    num_eigenpairs = config.num_eigenpairs or None
    times, info = {}, {}
    labels = mixture = points = edges = None

    t = time.perf_counter()
    if config.mode == "graph":
        edges, n, weights, k = _graph(config)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            operator = hd.graph_heat_operator(
                edges,
                n,
                weights=weights,
                normalized=config.laplacian == "normalized",
                num_eigenpairs=num_eigenpairs,
                dtype=dtype,
            )
        for w in caught:
            print(f"warning: {w.message}", flush=True)
        info["num_edges"] = int(len(edges))
    else:
        if config.mode == "points":
            points, labels = load_points(config.data)
        else:
            h = config.hierarchy
            mixture = hierarchical_mixture(
                branching=h.branching,
                depth=h.depth,
                dim=h.dim,
                spread=h.spread,
                decay=h.decay,
                noise=h.noise,
                points_per_leaf=h.points_per_leaf,
                seed=h.seed,
            )
            points = mixture.points
        n, k = points.shape[0], int(config.K)
        operator = hd.data_diffusion_operator(
            points,
            distance=config.distance,
            sigma=config.sigma,
            alpha=config.alpha,
            num_eigenpairs=num_eigenpairs,
            dtype=dtype,
        )
    embedding = hd.hyperbolic_diffusion(operator, k, floor=config.floor)
    jax.block_until_ready(operator.vectors)
    times["operator_s"] = time.perf_counter() - t

    t = time.perf_counter()
    hdd = None
    if n <= DENSE_LIMIT:
        hdd = np.asarray(hd.hdd_matrix(embedding))
    times["hdd_s"] = time.perf_counter() - t
    info.update(
        num_nodes=n,
        K=k,
        solver=operator.solver,
        num_eigenpairs=int(operator.vectors.shape[1]),
        num_components=operator.num_components,
        hdd_error_bound=hd.hdd_error_bound(embedding),
        dtype=config.dtype,
    )

    if config.mode == "graph":
        evals = _graph_metrics(config, embedding, edges, n, hdd, times)
    elif hdd is None:
        raise ConfigError(
            f"config.data: {n} points > {DENSE_LIMIT}: point-cloud evaluations need the HDD matrix"
        )
    elif config.mode == "points":
        t = time.perf_counter()
        evals = _classification(config, hdd, points, labels) if labels is not None else {}
        times["metrics_s"] = time.perf_counter() - t
    else:
        t = time.perf_counter()
        evals = _hierarchy_metrics(hdd, mixture)
        times["metrics_s"] = time.perf_counter() - t

    if hdd is not None and config.save_hdd:
        _save_atomic(workdir / "hdd.npy", hdd)
    times["total_s"] = time.perf_counter() - start
    final = {**evals, **info, **{f"time/{key}": value for key, value in times.items()}}
    with MetricsWriter(workdir) as writer:
        writer.write(0, final)
    shown = {key: final[key] for key in final if key.startswith("eval/") and isinstance(final[key], float)}
    print(
        f"HDD n={n} K={k} {config.dtype}: "
        + "  ".join(f"{key[5:]} {value:.4f}" for key, value in shown.items())
        + f"  ({times['total_s']:.1f} s) -> {workdir}",
        flush=True,
    )
    return final
