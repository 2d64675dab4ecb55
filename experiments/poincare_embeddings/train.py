"""Training and evaluation of Poincaré / Lorentz / Euclidean embeddings of a transitive closure (NK17).

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment poincare_embeddings`` calls.
The workdir ends up with ``config.json``, ``metrics.jsonl`` (loss and max ball norm every ``log_every``
epochs; ``eval/closure_mean_rank`` and ``eval/closure_map`` every ``eval_every`` epochs and at the end; with
``link_prediction`` also ``eval/lp_mean_rank`` and ``eval/lp_map`` on the test edges and ``eval/lp_val_mean_rank``,
``eval/lp_val_map`` on the validation edges), ``split.npz`` (the link-prediction split, with ``link_prediction``),
``checkpoints/<epoch>/``, ``embeddings.npy`` (coordinates in the Poincaré ball of curvature −c, radius 1/√c; row
i = node i, also for the Lorentz model; raw coordinates for Euclidean), ``embeddings.tsv`` (name, coordinates) and ``disk.png``. Re-running the
same command on the same workdir resumes from the latest checkpoint and ends with the same embeddings as an
uninterrupted run: every epoch is a pure function of (table, optimizer state, fold_in(key, epoch)).

Link prediction (NK17 §4.1; ``config.link_prediction``): ``geomrep.data.link_prediction_split`` holds out
``lp_valid_frac`` and ``lp_test_frac`` of the closure's non-basic edges (seed ``lp_seed``), written once to
``split.npz`` and read back and checked on resume. Training sees only the train edges. ``eval/lp_*`` rank each
held-out (u, v) among the nodes that are not closure neighbours of u (filtered, ``metrics.link_prediction``);
``eval/closure_*`` (and ``*_undirected``) then rank the training edges with the held-out ones filtered out.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from geomrep.data import SplitFileError, closure_report, dataset_path, load_edges, split_for_workdir
from geomrep.embed import poincare as pe
from geomrep.embed.metrics import closure_reconstruction, link_prediction
from geomrep.embed.plots import parent_links, plot_disk, top_level_nodes
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall
from geomrep.optim import sparse_radam, sparse_rsgd
from geomrep.train import Checkpointer, MetricsWriter, TrainState, progress_bar, restore_or_init
from geomrep.train.mesh import data_parallel_mesh

MANIFOLDS = {"poincare": PoincareBall, "lorentz": Lorentz, "euclidean": lambda c: Euclidean()}
OPTIMIZERS = ("rsgd", "radam")
SHARDINGS = ("none", "replicated", "rows")
DTYPES = ("float32", "float64")


def validate_config(config) -> None:
    """Raise ValueError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            raise ValueError(f"config.{key}={config[key]!r}: {what}")

    need(config.dim >= 1, "dim", "must be >= 1")
    need(config.manifold in MANIFOLDS, "manifold", f"must be one of {sorted(MANIFOLDS)}")
    need(
        config.c > 0,
        "c",
        "the curvature parameter must be > 0 (the curvature is -c; geoopt's k = -c, so k=-1 means c=1)",
    )
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(config.epochs >= 1, "epochs", "must be >= 1")
    need(config.batch_size >= 1, "batch_size", "must be >= 1")
    need(config.lr > 0, "lr", "the learning rate must be > 0")
    need(config.optimizer in OPTIMIZERS, "optimizer", f"must be one of {list(OPTIMIZERS)}")
    need(config.negatives >= 1, "negatives", "must be >= 1")
    need(config.sharding in SHARDINGS, "sharding", f"must be one of {list(SHARDINGS)}")
    if config.sharding != "none":
        devices = jax.device_count()
        need(
            config.batch_size % devices == 0,
            "batch_size",
            f"must be divisible by the {devices} devices of the data-parallel mesh (config.sharding)",
        )
    need(0 <= config.burnin_epochs <= config.epochs, "burnin_epochs", "must lie in [0, epochs]")
    need(config.burnin_lr_mult > 0, "burnin_lr_mult", "must be > 0")
    need(config.init_scale > 0, "init_scale", "must be > 0")
    need(0 <= config.stop_map <= 1, "stop_map", "must lie in [0, 1] (0 = train all epochs)")
    for key in ("eval_every", "ckpt_every", "log_every", "eval_block_size", "plot_labels"):
        need(config[key] >= 0, key, "must be >= 0")
    if config.data:
        need(Path(config.data).is_file(), "data", "no such file")
    need(isinstance(config.link_prediction, bool), "link_prediction", "must be True or False")
    need(0 <= config.lp_valid_frac <= 1, "lp_valid_frac", "the validation fraction must lie in [0, 1]")
    need(0 < config.lp_test_frac <= 1, "lp_test_frac", "the test fraction must lie in (0, 1]")
    need(
        config.lp_valid_frac + config.lp_test_frac <= 1,
        "lp_test_frac",
        f"lp_valid_frac + lp_test_frac = {config.lp_valid_frac + config.lp_test_frac} must be <= 1 "
        "(fractions of the closure's non-basic edges)",
    )
    need(config.lp_seed >= 0, "lp_seed", "must be >= 0")


def _optimizer(config, manifold, steps_per_epoch):
    schedule = pe.burnin_schedule(
        config.lr, burnin_steps=config.burnin_epochs * steps_per_epoch, burnin_lr_mult=config.burnin_lr_mult
    )
    if config.optimizer == "radam":
        return sparse_radam(schedule, manifold)
    return sparse_rsgd(schedule, manifold)


def train_and_evaluate(config, workdir) -> dict:
    """Train, evaluate and export; returns the final ``{"eval/closure_mean_rank", "eval/closure_map"}``."""
    validate_config(config)
    start_time = time.perf_counter()
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    data = load_edges(config.data or dataset_path("mammals"), directed=True)
    n = data.num_nodes
    for message in closure_report(data.edges, n).messages(str(data.path), data.names):
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    manifold = MANIFOLDS[config.manifold](float(config.c))
    split = _link_prediction_split(config, data, workdir) if config.link_prediction else None
    closure = data.edges if split is None else split.train  # what training and eval/closure_* see
    undirected_edges = _both_directions(closure)
    train_edges = undirected_edges if config.symmetric else closure
    graph = pe.closure_graph(train_edges, n, dampening=config.burnin_dampening, dtype=dtype)
    tx = _optimizer(config, manifold, pe.steps_per_epoch(int(graph.edges.shape[0]), config.batch_size))
    layout = _Layout(config.sharding, n)
    epoch = pe.make_epoch_fn(
        manifold,
        tx,
        graph,
        batch_size=config.batch_size,
        num_negatives=config.negatives,
        batch_sharding=layout.batch,
    )
    run_epoch = layout.jit_epoch(epoch.run)

    key = jax.random.key(config.seed)
    table = pe.init_embeddings(config.seed, n, config.dim, manifold, dtype=dtype, scale=config.init_scale)
    table = layout.pad(table, manifold)
    state = TrainState(step=jnp.zeros([], jnp.int32), params=table, opt_state=tx.init(table), key=key)

    def evaluate(table):
        table = table[:n]  # without the padding rows of a row-sharded table
        block = config.eval_block_size or None
        known = None if split is None else data.edges  # held-out edges are neither positives nor negatives
        result = closure_reconstruction(table, closure, manifold, known=known, block_size=block)
        evals = {"eval/closure_mean_rank": result.mean_rank, "eval/closure_map": result.map}
        if config.eval_undirected:
            known_both = None if split is None else _both_directions(data.edges)
            result = closure_reconstruction(
                table, undirected_edges, manifold, known=known_both, block_size=block
            )
            evals["eval/closure_mean_rank_undirected"] = result.mean_rank
            evals["eval/closure_map_undirected"] = result.map
        if split is not None:
            for name, held_out in (("lp", split.test), ("lp_val", split.valid)):
                if len(held_out):
                    result = link_prediction(table, held_out, data.edges, manifold, block_size=block)
                    evals[f"eval/{name}_mean_rank"] = result.mean_rank
                    evals[f"eval/{name}_map"] = result.map
        return evals

    max_ball_norm = jax.jit(lambda t: jnp.max(jnp.linalg.norm(manifold.to_poincare(t), axis=-1)))

    def health(table, loss, done):
        max_norm = float(max_ball_norm(table))
        if not (np.isfinite(loss) and np.isfinite(max_norm)):
            raise FloatingPointError(
                f"non-finite loss or embeddings after epoch {done} (loss {loss}); the last good checkpoint is "
                f"kept in {workdir}/checkpoints. Lower config.lr, or use dtype=float64 or manifold=lorentz."
            )
        return {"max_ball_norm": max_norm}

    with Checkpointer(workdir, max_to_keep=2) as ckpt, MetricsWriter(workdir) as writer:
        state, restored = restore_or_init(ckpt, state)
        first = int(state.step)
        if restored:
            print(f"resuming {workdir} from epoch {first}/{config.epochs}", flush=True)
        table, opt_state = layout.place(state.params, state.opt_state)
        evals = {}

        def target_reached(evals):
            return config.stop_map > 0 and bool(evals) and evals["eval/closure_map"] >= config.stop_map

        if restored and config.stop_map > 0:  # a run that already stopped at its target stays stopped
            evals = evaluate(table)
        done = first
        desc = f"{config.manifold} dim={config.dim} {config.dtype}"
        with progress_bar(config.epochs, desc=desc, initial=first, unit="epoch") as bar:
            for e in range(first, config.epochs):
                if target_reached(evals):
                    break
                table, opt_state, m = run_epoch(
                    table, opt_state, graph, jax.random.fold_in(key, e), jnp.asarray(e < config.burnin_epochs)
                )
                done = e + 1
                bar.update(1)
                evals = evaluate(table) if config.eval_every and done % config.eval_every == 0 else {}
                last = done == config.epochs or target_reached(evals)
                log = bool(config.log_every) and (done % config.log_every == 0 or last)
                save = (bool(config.ckpt_every) and done % config.ckpt_every == 0) or last
                values = {}
                if log or save:  # never log or checkpoint non-finite embeddings
                    loss = float(m["loss"])
                    values.update(loss=loss, epoch=done, **health(table, loss, done))
                    bar.set_postfix(loss=f"{loss:.4f}")
                if evals and not last:  # the last evaluation is written as the final line below
                    values.update(evals, epoch=done)
                if values:
                    writer.write(done * epoch.steps_per_epoch, values)
                if save:
                    state = TrainState(
                        step=jnp.asarray(done, jnp.int32), params=table, opt_state=opt_state, key=key
                    )
                    ckpt.save(done, state)
        ckpt.wait()
        final = dict(evals) if evals else evaluate(table)
        final["epoch"] = done
        final["train_and_eval_seconds"] = time.perf_counter() - start_time
        writer.write(done * epoch.steps_per_epoch, final)

    _export(workdir, data, manifold, table[:n], config)
    lp = ""
    if split is not None:
        lp = f"  link prediction (test): mean rank {final['eval/lp_mean_rank']:.3f}  MAP {final['eval/lp_map']:.4f}"
    print(
        f"{desc}: mean rank {final['eval/closure_mean_rank']:.3f}  MAP {final['eval/closure_map']:.4f}{lp}  "
        f"({final['train_and_eval_seconds']:.1f} s) -> {workdir}",
        flush=True,
    )
    return final


def _both_directions(edges: np.ndarray) -> np.ndarray:
    """The pairs (u, v) and (v, u) of every edge, sorted, without repeats."""
    return np.unique(np.concatenate([edges, edges[:, ::-1]]), axis=0)


def _link_prediction_split(config, data, workdir: Path):
    """The split in ``workdir/split.npz``: made and written on the first run, read back and checked after."""
    path = workdir / "split.npz"
    try:
        split, loaded = split_for_workdir(
            path,
            data.edges,
            data.num_nodes,
            valid_frac=config.lp_valid_frac,
            test_frac=config.lp_test_frac,
            seed=config.lp_seed,
        )
    except SplitFileError as err:
        raise SplitFileError(
            f"{err} (seed, valid_frac and test_frac are config.lp_seed, config.lp_valid_frac and "
            f"config.lp_test_frac; the closure is config.data = {str(data.path)!r})"
        ) from None
    except ValueError as err:  # a closure that cannot be split: name the file and the keys
        raise SplitFileError(f"{data.path}: cannot make the link-prediction split: {err}") from None
    print(
        f"link prediction split {'read from' if loaded else 'written to'} {path}: {len(split.train)} train "
        f"({len(split.basic)} basic), {len(split.valid)} validation, {len(split.test)} test edges",
        flush=True,
    )
    return split


class _Layout:
    """Where the table lives: one device (``none``), or a data-parallel mesh over all devices with the table
    ``replicated`` or split by ``rows`` (config.sharding). Row sharding pads the table with rows at the origin up
    to a multiple of the device count; no node id points at them, and evaluation and export drop them.
    """

    def __init__(self, mode: str, num_nodes: int):
        self.mode = mode
        self.batch = self.table = self.replicated = None
        self.rows = num_nodes
        if mode == "none":
            return
        mesh = data_parallel_mesh()
        self.batch = NamedSharding(mesh, PartitionSpec(None, "data"))
        self.table = NamedSharding(mesh, PartitionSpec("data" if mode == "rows" else None))
        self.replicated = NamedSharding(mesh, PartitionSpec())
        if mode == "rows":
            self.rows = -(-num_nodes // mesh.devices.size) * mesh.devices.size

    def pad(self, table, manifold):
        extra = self.rows - table.shape[0]
        if not extra:
            return table
        origin = manifold.proj(jnp.zeros((extra, table.shape[1]), table.dtype))
        return jnp.concatenate([table, origin])

    def _tree(self, opt_state):
        """The sharding of every optimizer-state leaf: row-indexed leaves follow the table."""
        return jax.tree.map(
            lambda x: self.table if np.ndim(x) and np.shape(x)[0] == self.rows else self.replicated, opt_state
        )

    def place(self, table, opt_state):
        if self.mode == "none":
            return table, opt_state
        return jax.device_put(table, self.table), jax.device_put(opt_state, self._tree(opt_state))

    def jit_epoch(self, run):
        if self.mode == "none":
            return jax.jit(run, donate_argnums=(0, 1))

        def sharded(table, opt_state, graph, key, burnin):
            constrain = jax.lax.with_sharding_constraint
            table, opt_state, metrics = run(table, opt_state, graph, key, burnin)
            return constrain(table, self.table), constrain(opt_state, self._tree(opt_state)), metrics

        return jax.jit(sharded, donate_argnums=(0, 1))


def _export(workdir: Path, data, manifold, table, config) -> None:
    """embeddings.npy / .tsv (ball coordinates; raw for Euclidean) and disk.png, written atomically."""
    coords = np.asarray(manifold.to_poincare(table))
    tmp = workdir / "embeddings.npy.tmp"
    with open(tmp, "wb") as f:
        np.save(f, coords)
    tmp.replace(workdir / "embeddings.npy")
    tmp = workdir / "embeddings.tsv.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for name, row in zip(data.names, coords, strict=True):
            f.write(name + "\t" + "\t".join(repr(float(v)) for v in row) + "\n")
    tmp.replace(workdir / "embeddings.tsv")
    if config.manifold != "euclidean":
        labels = top_level_nodes(data.edges, data.num_nodes, config.plot_labels)
        title = f"{config.manifold} dim={config.dim}" + (
            " (norm-preserving projection)" if config.dim > 2 else ""
        )
        tmp = workdir / "disk.tmp.png"
        unit_ball = coords * np.sqrt(config.c)  # the ball of curvature -c has radius 1/sqrt(c)
        plot_disk(
            unit_ball,
            data.names,
            tmp,
            labels=labels,
            title=title,
            edges=parent_links(data.edges, data.num_nodes),
        )
        tmp.replace(workdir / "disk.png")
