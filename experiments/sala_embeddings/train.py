"""Combinatorial, h-MDS and distance-SGD hyperbolic embeddings of a graph or a distance matrix (Sala et al. 2018).

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment sala_embeddings`` calls. Every run
writes ``metrics.jsonl`` (the final line holds ``eval/distortion_avg``, ``eval/distortion_worst``,
``eval/graph_map``, ``scale`` and how many source nodes the metrics used) and ``embeddings.npy`` ((n, dim)
float64 Poincaré coordinates, row i = node i). The SGD method also checkpoints, and re-running its command on
the same workdir resumes. See ``configs/default.py`` for the keys and README.md for the measured numbers.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from geomrep.data import load_edges
from geomrep.embed import distance_sgd as dsgd
from geomrep.embed.metrics import (
    distortion,
    graph_distance_rows,
    graph_distances,
    graph_reconstruction,
    nearest_neighbour_edges,
)
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall, Product, Sphere
from geomrep.train import Checkpointer, MetricsWriter, TrainState, progress_bar, restore_or_init
from geomrep.train.config import ConfigError

METHODS = ("combinatorial", "hmds", "sgd")
INITS = ("random", "hmds", "combinatorial")
EXPORT_TAUS = ("auto", "eps", "float64")
CHILD_ORDERS = ("graph", "bfs")
OPTIMIZERS = ("radam", "rsgd")
_DENSE_MAX_NODES = 20_000  # up to here d_G is one dense matrix; beyond, BFS rows on demand
_SAMPLED_DISTORTION_ROWS = 2_000
_SPACE_FACTOR = re.compile(r"([HLSE])(\d+)")
_MATRIX_RTOL = 1e-8


# --- input --------------------------------------------------------------------------------------------------------


class Input(NamedTuple):
    """A graph (edge list) or a distance matrix, with what the metrics need."""

    num_nodes: int
    edges: np.ndarray | None  # (m, 2) graph edges (None for a matrix input)
    targets: Any  # (n, n) dense distances, or a row function (large graphs)
    neighbours: np.ndarray  # pairs ranked by the graph MAP
    directed_neighbours: bool  # True for the nearest-neighbour pairs of a matrix
    source: str


def _balanced_tree(branching: int = 3, height: int = 3) -> np.ndarray:
    """Edges of ``networkx.balanced_tree(branching, height)`` (node k's children are b·k + 1 … b·k + b)."""
    n = (branching ** (height + 1) - 1) // (branching - 1)
    child = np.arange(1, n)
    return np.stack([(child - 1) // branching, child], axis=1)


def _check_matrix(d: np.ndarray, path: str, *, allow_unknown: bool) -> np.ndarray:
    """A validated float64 copy of a distance matrix; ConfigError naming the file and the first bad entry."""
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
        raise ConfigError(f"{path}: a distance matrix must be (n, n) with n >= 2; got shape {d.shape}")
    if not (np.issubdtype(d.dtype, np.floating) or np.issubdtype(d.dtype, np.integer)):
        raise ConfigError(f"{path}: distances must be numbers; got dtype {d.dtype}")
    d = np.asarray(d, dtype=np.float64)
    nan = np.isnan(d)
    if nan.any() and not allow_unknown:
        i, j = np.argwhere(nan)[0]
        raise ConfigError(
            f"{path}: entry [{i}, {j}] is NaN (unknown distances are allowed only for method=sgd)"
        )
    negative = d < 0
    if negative.any():
        i, j = np.argwhere(negative)[0]
        raise ConfigError(f"{path}: entry [{i}, {j}] = {d[i, j]} is negative; distances must be >= 0")
    diagonal = np.diagonal(d)
    if np.any(diagonal != 0):
        i = int(np.argmax(diagonal != 0))
        raise ConfigError(f"{path}: diagonal entry [{i}, {i}] = {d[i, i]} must be 0")
    scale = np.nanmax(np.where(np.isinf(d), np.nan, d), initial=0.0)
    both = ~(np.isnan(d) | np.isnan(d.T))
    asymmetric = both & ~np.isclose(d, d.T, rtol=_MATRIX_RTOL, atol=_MATRIX_RTOL * scale)
    if asymmetric.any():
        i, j = np.argwhere(asymmetric)[0]
        raise ConfigError(f"{path}: not symmetric: entry [{i}, {j}] = {d[i, j]} but [{j}, {i}] = {d[j, i]}")
    return d


def _load(config) -> Input:
    path = config.data
    if not path:
        edges = _balanced_tree()
        n = len(edges) + 1
        return Input(n, edges, graph_distances(edges, n), edges, False, "balanced tree (3, 3), generated")
    if path.endswith(".npy"):
        d = _check_matrix(np.load(path, allow_pickle=False), path, allow_unknown=config.method == "sgd")
        known = np.where(np.isnan(d), np.inf, d)
        return Input(len(d), None, d, nearest_neighbour_edges(known), True, path)
    data = load_edges(path, directed=False)
    if data.dropped_self_loops:
        message = f"{path}: dropped {data.dropped_self_loops} self-loop rows (u u)"
        warnings.warn(message, stacklevel=2)
        print(f"warning: {message}", flush=True)
    edges, n = np.asarray(data.edges, dtype=np.int64), data.num_nodes
    if data.weights is not None:
        print(f"note: {path} has a weight column; distances are unweighted shortest paths (as the paper's)")
    targets = graph_distances(edges, n) if n <= _DENSE_MAX_NODES else graph_distance_rows(edges, n)
    return Input(n, edges, targets, edges, False, path)


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            raise ConfigError(f"config.{key}={config[key]!r}: {what}")

    need(config.method in METHODS, "method", f"must be one of {list(METHODS)}")
    need(config.dim >= 1, "dim", "must be >= 1")
    need(config.eps > 0, "eps", "ε must be > 0 (the worst-case distortion bound is 1 + ε)")
    need(config.tau >= 0, "tau", "must be >= 0 (0 = from eps)")
    need(config.export_tau in EXPORT_TAUS, "export_tau", f"must be one of {list(EXPORT_TAUS)}")
    need(config.child_order in CHILD_ORDERS, "child_order", f"must be one of {list(CHILD_ORDERS)}")
    need(config.precision_bits >= 0, "precision_bits", "must be >= 0 (0 = automatic)")
    need(config.scale > 0 and math.isfinite(config.scale), "scale", "h-MDS's t must be > 0")
    need(config.curvature > 0, "curvature", "c must be > 0 (the curvature is −c for H/L, +c for S)")
    need(config.init in INITS, "init", f"must be one of {list(INITS)}")
    need(config.init_tau >= 0, "init_tau", "must be >= 0 (0 = the largest τ that fits float64)")
    need(config.optimizer in OPTIMIZERS, "optimizer", f"must be one of {list(OPTIMIZERS)}")
    for key in ("epochs", "batch_size"):
        need(config[key] >= 1, key, "must be >= 1")
    need(config.lr > 0, "lr", "the learning rate must be > 0")
    need(config.init_std > 0, "init_std", "must be > 0")
    need(config.distance_decay >= 0, "distance_decay", "γ must be >= 0 (0 = every pair weighs the same)")
    for key in ("num_samples", "eval_every", "log_every", "ckpt_every", "eval_sample"):
        need(config[key] >= 0, key, "must be >= 0")
    need(config.distortion_sample >= -1, "distortion_sample", "must be >= 0, or -1 (automatic)")
    if config.space:
        _space(config)  # raises naming the key
    if config.data:
        need(Path(config.data).is_file(), "data", "no such file")
        if config.data.endswith(".npy"):
            need(
                config.method != "combinatorial",
                "data",
                "the combinatorial construction needs a graph (edge list)",
            )
            _check_matrix(
                np.load(config.data, allow_pickle=False), config.data, allow_unknown=config.method == "sgd"
            )


def _space(config):
    """The SGD manifold and the dimension of its hyperbolic factor (for warm starts and export)."""
    c = float(config.curvature)
    if not config.space:
        return PoincareBall(c), config.dim
    spec = config.space.replace(" ", "")
    factors = _SPACE_FACTOR.findall(spec)
    if not factors or "x".join(f"{k}{d}" for k, d in factors) != spec:
        raise ConfigError(
            f"config.space={config.space!r}: write factors as H<dim> (Poincaré), L<dim> (Lorentz), S<dim> (sphere) "
            f"or E<dim> (Euclidean) joined by 'x', e.g. 'H5xS5xE2'"
        )
    kinds = {"H": PoincareBall, "L": Lorentz, "S": Sphere, "E": lambda c: Euclidean()}
    values = tuple(kinds[k](c) for k, _ in factors)
    dims = tuple(int(d) for _, d in factors)
    hyperbolic = [d for (k, _), d in zip(factors, dims, strict=True) if k in "HL"]
    if config.init != "random" and not hyperbolic:
        raise ConfigError(
            f"config.init={config.init!r} warm-starts a hyperbolic factor; config.space has none"
        )
    manifold = values[0] if len(values) == 1 else Product(values, dims)
    return manifold, (hyperbolic[0] if hyperbolic else None)


# --- evaluation ---------------------------------------------------------------------------------------------------


def _evaluate(embedded, manifold, scale, data: Input, config, *, prefix="eval") -> dict:
    """Distortion against the targets and graph MAP, exact or over the configured samples."""
    rows = config.distortion_sample
    if rows == -1:
        rows = 0 if data.num_nodes <= _DENSE_MAX_NODES else _SAMPLED_DISTORTION_ROWS
    report = distortion(embedded, data.targets, manifold, scale=scale, sample=rows or None, seed=config.seed)
    ranking = graph_reconstruction(
        embedded,
        data.neighbours,
        manifold,
        sample=config.eval_sample or None,
        seed=config.seed,
        directed=data.directed_neighbours,
    )
    out = {
        f"{prefix}/distortion_avg": report.average,
        f"{prefix}/graph_map": ranking.map,
        f"{prefix}/graph_mean_rank": ranking.mean_rank,
        f"{prefix}/distortion_sources": report.num_sources,
        f"{prefix}/map_sources": ranking.num_sources,
        f"{prefix}/skipped_pairs": report.skipped_pairs,
    }
    if math.isfinite(report.worst_case):  # nan when no pair is valid; JSON has no nan
        out[f"{prefix}/distortion_worst"] = report.worst_case
    return out


# --- methods ------------------------------------------------------------------------------------------------------


def _combinatorial(config, data: Input, workdir: Path, writer) -> dict:
    from geomrep.embed.combinatorial import combinatorial_embedding, tree_embedding

    if data.edges is None:
        raise ConfigError(
            "config.data: the combinatorial construction needs a graph (edge list), not a matrix"
        )
    build = tree_embedding if config.tree_only else combinatorial_embedding
    kwargs = dict(dim=config.dim, root=None if config.root < 0 else config.root)
    kwargs["precision_bits"] = config.precision_bits or None
    if not config.tree_only:
        kwargs["child_order"] = config.child_order
    scale_kwargs = {"tau": float(config.tau)} if config.tau > 0 else {"eps": float(config.eps)}
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = build(data.edges, data.num_nodes, **scale_kwargs, **kwargs)
    built = time.perf_counter() - t0
    saturated = int(np.sum(emb.saturated))
    print(f"{emb!r}: built in {built:.1f} s; {saturated} nodes beyond float64's reach", flush=True)
    for w in caught:
        if "saturat" not in str(w.message):
            warnings.warn(w.message, w.category, stacklevel=2)
    t0 = time.perf_counter()
    metrics = _evaluate(emb.dist_rows, None, emb.scale, data, config)
    if config.eval_tree:
        tree = np.asarray(emb.tree_edges)
        tree_data = Input(
            data.num_nodes,
            tree,
            graph_distances(tree, data.num_nodes)
            if data.num_nodes <= _DENSE_MAX_NODES
            else graph_distance_rows(tree, data.num_nodes),
            tree,
            False,
            "BFS tree",
        )
        metrics.update(_evaluate(emb.dist_rows, None, emb.scale, tree_data, config, prefix="eval_tree"))
    evaluated = time.perf_counter() - t0
    export = emb
    if config.export_tau == "float64" or (config.export_tau == "auto" and saturated):
        export = build(data.edges, data.num_nodes, tau="float64", **kwargs)
        print(
            f"export: τ = {export.scale:.6g} (the largest that fits float64) instead of τ = {emb.scale:.6g}"
        )
    np.save(workdir / "embeddings.npy", np.asarray(export.poincare, dtype=np.float64))
    metrics.update(
        {
            "scale": emb.scale,
            "export_scale": export.scale,
            "eval/saturated_points": saturated,
            "precision_bits": emb.precision_bits,
            "build_seconds": built,
            "eval_seconds": evaluated,
        }
    )
    return metrics


def _hmds(config, data: Input, workdir: Path, writer) -> dict:
    from geomrep.embed.hmds import hmds

    if not isinstance(data.targets, np.ndarray):
        raise ConfigError(
            f"config.data: h-MDS needs the dense distance matrix; n = {data.num_nodes} is too large"
        )
    t0 = time.perf_counter()
    result = hmds(data.targets, config.dim, scale=config.scale)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics = _evaluate(result.poincare, PoincareBall(1.0), result.scale, data, config)
    metrics.update(
        {
            "scale": result.scale,
            "export_scale": result.scale,
            "num_positive_eigenvalues": result.num_positive,
            "solver": result.solver,
            "build_seconds": built,
            "eval_seconds": time.perf_counter() - t0,
        }
    )
    np.save(workdir / "embeddings.npy", np.asarray(result.poincare, dtype=np.float64))
    return metrics


def _warm_start(config, data: Input, manifold, hyperbolic_dim: int | None):
    """Initial points and scale of the SGD."""
    if config.init == "random":
        return None, 1.0
    if config.init == "hmds":
        from geomrep.embed.hmds import hmds

        targets = np.asarray(data.targets)
        if np.isnan(targets).any():
            raise ConfigError("config.init='hmds' needs every distance; the matrix has unknown (NaN) entries")
        start = hmds(targets, hyperbolic_dim)
        poincare, scale = start.poincare, start.scale
    else:
        from geomrep.embed.combinatorial import combinatorial_embedding

        if data.edges is None:
            raise ConfigError("config.init='combinatorial' needs a graph (edge list), not a distance matrix")
        tau = float(config.init_tau) if config.init_tau > 0 else "float64"
        start = combinatorial_embedding(data.edges, data.num_nodes, tau=tau, dim=max(2, hyperbolic_dim))
        poincare, scale = start.poincare, start.scale
    points, scale = dsgd.warm_start_points(
        poincare, manifold, scale=scale, key=jax.random.key(config.seed), std=config.init_std
    )
    return points, scale


def _to_poincare(points, manifold):
    """Exported coordinates: the ball for PoincareBall/Lorentz, the ambient coordinates of anything else."""
    if isinstance(manifold, Lorentz):
        return np.asarray(manifold.to_poincare(points))
    return np.asarray(points)


def _sgd(config, data: Input, workdir: Path, writer) -> dict:
    manifold, hyperbolic_dim = _space(config)
    if isinstance(data.targets, np.ndarray):
        targets = data.targets
    else:
        raise ConfigError(
            f"config.data: SGD keeps the (n, n) targets in memory; n = {data.num_nodes} is too large"
        )
    dtype = jax.numpy.float64
    problem = dsgd.distance_problem(targets, data.edges, dtype=dtype)
    n = data.num_nodes
    init, scale = _warm_start(config, data, manifold, hyperbolic_dim)
    key = jax.random.key(config.seed)
    if init is None:
        ambient = manifold.ambient_size if isinstance(manifold, Product) else manifold.ambient_dim(config.dim)
        init = manifold.random(jax.random.fold_in(key, 1), (n, ambient), dtype, std=config.init_std)
    params = dsgd.init_params(init, scale)
    tx = dsgd.make_optimizer(config.optimizer, config.lr, manifold)
    epoch_fn = dsgd.make_epoch_fn(
        manifold,
        tx,
        num_nodes=n,
        batch_size=config.batch_size,
        num_samples=config.num_samples,
        learn_scale=config.learn_scale,
        distance_decay=config.distance_decay,
    )
    run_epoch = jax.jit(epoch_fn, donate_argnums=(0, 1))
    state = TrainState(
        step=jax.numpy.zeros([], jax.numpy.int32), params=params, opt_state=tx.init(params), key=key
    )

    def evaluate(params):
        s = float(np.exp(params["log_scale"]))
        return _evaluate(params["points"], manifold, s, data, config), s

    with Checkpointer(workdir, max_to_keep=2) as ckpt:
        state, restored = restore_or_init(ckpt, state)
        first = int(state.step)
        if restored:
            print(f"resuming {workdir} from epoch {first}/{config.epochs}", flush=True)
        params, opt_state = state.params, state.opt_state
        with progress_bar(
            config.epochs, desc=f"sgd {config.space or f'H{config.dim}'}", initial=first
        ) as bar:
            for e in range(first, config.epochs):
                params, opt_state, loss = run_epoch(params, opt_state, problem, jax.random.fold_in(key, e))
                done = e + 1
                bar.update(1)
                last = done == config.epochs
                log = bool(config.log_every) and done % config.log_every == 0
                save = (bool(config.ckpt_every) and done % config.ckpt_every == 0) or last
                evaluate_now = bool(config.eval_every) and done % config.eval_every == 0 and not last
                values = {}
                if log or save or evaluate_now:
                    loss = float(loss)
                    if not (math.isfinite(loss) and bool(np.isfinite(np.asarray(params["points"])).all())):
                        raise FloatingPointError(
                            f"non-finite loss or points after epoch {done} (loss {loss}); the last good checkpoint "
                            f"is kept in {workdir}/checkpoints. Lower config.lr."
                        )
                    values = {"loss": loss, "scale": float(np.exp(params["log_scale"]))}
                if evaluate_now:
                    values.update(evaluate(params)[0])
                if values:
                    writer.write(done, {"epoch": done, **values})
                if save:
                    ckpt.save(
                        done,
                        TrainState(
                            step=jax.numpy.asarray(done, jax.numpy.int32),
                            params=params,
                            opt_state=opt_state,
                            key=key,
                        ),
                    )
    metrics, scale = evaluate(params)
    np.save(workdir / "embeddings.npy", _to_poincare(params["points"], manifold).astype(np.float64))
    return {
        **metrics,
        "scale": scale,
        "export_scale": scale,
        "loss": float(loss) if first < config.epochs else None,
    }


def train_and_evaluate(config, workdir) -> dict:
    """Embed, evaluate and export; returns the final metrics (the keys of the last ``metrics.jsonl`` line)."""
    validate_config(config)
    jax.config.update("jax_enable_x64", True)  # every method here is float64 (the paper's precision)
    start = time.perf_counter()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data = _load(config)
    print(f"{data.source}: {data.num_nodes} nodes, method {config.method}", flush=True)
    method = {"combinatorial": _combinatorial, "hmds": _hmds, "sgd": _sgd}[config.method]
    with MetricsWriter(workdir) as writer:
        metrics = method(config, data, workdir, writer)
        metrics = {k: v for k, v in metrics.items() if v is not None}
        seconds = time.perf_counter() - start
        metrics["wall_seconds"] = seconds
        step = int(config.epochs) if config.method == "sgd" else 0
        writer.write(step, {**({"epoch": step} if config.method == "sgd" else {}), **metrics})
    summary = ", ".join(
        f"{k.split('/')[-1]} {v:.4g}"
        for k, v in metrics.items()
        if k.startswith("eval/") and isinstance(v, float)
    )
    print(f"{summary}; scale {metrics['scale']:.6g}; {seconds:.1f} s", flush=True)
    return metrics
