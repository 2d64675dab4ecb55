"""Training and evaluation of SPD / Grassmann classifiers against the Bayes accuracy of the synthetic benchmarks.

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment spd_classification`` calls. It
builds the data set of ``config.data`` (seeded; see :mod:`experiments.spd_classification.data`), then trains each
model of ``config.models`` in turn with Riemannian Adam (``geomrep.optim.radam``; manifold parameters on
Stiefel / SPD(n, metric) / Grassmann are moved by their exponential map) and evaluates it on the test set.

Workdir: ``config.json``; ``metrics.jsonl`` (a ``reference/*`` line with the Bayes accuracy of this seed, then per
model every ``log_every`` epochs ``model``, ``epoch``, ``loss``, ``train_accuracy`` and geometry health, and a
final line with ``eval/test_accuracy``, ``eval/test_nll``, ``eval/train_accuracy`` and the Bayes accuracy beside
it); ``models/<model>/checkpoints/<epoch>/`` (orbax) and ``models/<model>/result.json``; ``results.json`` and
``results.md`` (the table of every model with the Bayes accuracy). Re-running the same command resumes: finished
models are read back, an interrupted one continues from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from experiments.spd_classification import data as D
from experiments.spd_classification.models import ALL_MODELS, GRASSMANN_MODELS, SPD_MODELS, build_model
from geomrep.manifolds import SPD, Euclidean
from geomrep.nn import manifold_labels_of
from geomrep.optim import apply_updates, radam
from geomrep.train import (
    Checkpointer,
    ConfigError,
    MetricsWriter,
    TrainState,
    make_scan_steps,
    make_train_step,
    progress_bar,
    restore_or_init,
)

DATA_KINDS = ("le_gaussian", "wishart", "grassmann", "npz")
DTYPES = ("float32", "float64")
LR_SCHEDULES = ("constant", "cosine")
CENTERINGS = ("none", "ai")


def model_names(config) -> list[str]:
    return [m.strip() for m in str(config.models).split(",") if m.strip()]


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (the launcher runs this before any work)."""

    def need(ok, key, what):
        if not ok:
            value = config
            for part in key.split("."):
                value = value[part]
            raise ConfigError(f"config.{key}={value!r}: {what}")

    d = config.data
    need(d.kind in DATA_KINDS, "data.kind", f"must be one of {list(DATA_KINDS)}")
    need(d.center in CENTERINGS, "data.center", f"must be one of {list(CENTERINGS)}")
    need(
        config.gyro_weight_std == -1 or config.gyro_weight_std >= 0,
        "gyro_weight_std",
        "must be >= 0 (-1 = layer default)",
    )
    names = model_names(config)
    need(bool(names), "models", f"needs at least one model of {list(ALL_MODELS)}")
    for name in names:
        need(name in ALL_MODELS, "models", f"unknown model {name!r}; valid models: {', '.join(ALL_MODELS)}")
        if d.kind == "grassmann":
            need(
                name in GRASSMANN_MODELS,
                "models",
                f"{name!r} is an SPD model; Grassmann data take {list(GRASSMANN_MODELS)}",
            )
        else:
            need(
                name in SPD_MODELS,
                "models",
                f"{name!r} is a Grassmann model; SPD data take {list(SPD_MODELS)}",
            )
    need(len(set(names)) == len(names), "models", "lists a model twice")
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(config.epochs >= 1, "epochs", "must be >= 1")
    need(config.batch_size >= 1, "batch_size", "must be >= 1")
    need(config.lr > 0, "lr", "the learning rate must be > 0")
    need(config.lr_schedule in LR_SCHEDULES, "lr_schedule", f"must be one of {list(LR_SCHEDULES)}")
    need(config.clip_norm >= 0, "clip_norm", "must be >= 0 (0 = no clipping)")
    need(config.weight_decay >= 0, "weight_decay", "must be >= 0")
    need(config.reeig_eps > 0, "reeig_eps", "must be > 0")
    for key in ("log_every", "ckpt_every"):
        need(config[key] >= 0, key, "must be >= 0")
    need(config.eval_batch >= 1, "eval_batch", "must be >= 1")
    need(all(int(k) >= 1 for k in config.spdnet_dims), "spdnet_dims", "sizes must be >= 1")
    need(all(int(k) >= 1 for k in config.fc_dims), "fc_dims", "sizes must be >= 1")
    if d.kind == "npz":
        need(bool(d.path), "data.path", "give the .npz file (arrays X [N, n, n] and y [N])")
        need(0 < d.test_fraction < 1, "data.test_fraction", "must lie in (0, 1)")
        # SPDDataError names the file and the index of the first bad matrix
        n = D.load_npz(d.path, test_fraction=d.test_fraction, seed=config.seed).X_train.shape[-1]
    else:
        n = d.n
    if "spdnet" in names:
        sizes = (n, *(int(k) for k in config.spdnet_dims))
        ok = all(b <= a for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        need(ok, "spdnet_dims", f"BiMap output sizes must not grow (input matrices are {n}x{n})")
    if d.kind == "npz":
        return
    need(d.n >= 2, "data.n", "must be >= 2")
    need(d.num_classes >= 2, "data.num_classes", "must be >= 2")
    need(d.train_per_class >= 1 and d.test_per_class >= 1, "data.train_per_class", "must be >= 1")
    need(d.mc_samples >= 1, "data.mc_samples", "must be >= 1")
    need(
        d.congruence == 0 or d.congruence >= 1,
        "data.congruence",
        "condition number of A must be >= 1 (0 = off)",
    )
    if d.kind == "le_gaussian":
        need(d.sigma > 0, "data.sigma", "must be > 0")
    if d.kind == "wishart":
        need(d.frames >= 1, "data.frames", "must be >= 1")
        need(
            d.frames >= d.n or d.jitter > 0,
            "data.jitter",
            f"must be > 0 when data.frames ({d.frames}) < data.n ({d.n})",
        )
    if d.kind == "grassmann":
        need(1 <= d.p < d.n, "data.p", "must satisfy 1 <= p < n")
        need(d.noise > 0, "data.noise", "must be > 0")
        need(d.congruence == 0, "data.congruence", "applies to SPD data only")


def congruence_matrix(n: int, condition: float, seed: int) -> np.ndarray:
    """A = U diag(s) Vᵀ with U, V Haar-orthogonal and s geometrically spaced in [1, condition] (seeded)."""
    rng = np.random.default_rng([seed, 7])
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (U * np.geomspace(1.0, condition, n)) @ V.T


def load_dataset(config) -> D.Dataset:
    """The data set of ``config.data`` for ``config.seed`` (with the common congruence applied if asked)."""
    d, seed = config.data, config.seed
    sizes = dict(train_per_class=d.train_per_class, test_per_class=d.test_per_class, mc_samples=d.mc_samples)
    if d.kind == "le_gaussian":
        ds = D.le_gaussian(seed, n=d.n, num_classes=d.num_classes, sigma=d.sigma, delta=d.delta, **sizes)
    elif d.kind == "wishart":
        ds = D.wishart(
            seed, n=d.n, num_classes=d.num_classes, frames=d.frames, delta=d.delta, jitter=d.jitter, **sizes
        )
    elif d.kind == "grassmann":
        ds = D.grassmann_subspaces(
            seed, n=d.n, p=d.p, num_classes=d.num_classes, delta=d.delta, noise=d.noise, **sizes
        )
    else:
        ds = D.load_npz(d.path, test_fraction=d.test_fraction, seed=seed)
    if d.kind != "grassmann" and d.congruence:
        # X -> A X Aᵀ on train and test: a bijection of the sample space, so the Bayes accuracy is unchanged
        A = congruence_matrix(ds.X_train.shape[-1], float(d.congruence), seed)
        ds = dataclasses.replace(ds, X_train=A @ ds.X_train @ A.T, X_test=A @ ds.X_test @ A.T)
    if d.kind != "grassmann" and d.center == "ai":
        ds = D.ai_center(ds)
    return ds


def _cross_entropy(logits, y):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))


def _decay(params, labels):
    """½ Σ squared distances of the parameters to their origin: ‖W‖²_gr = ‖Log_I W‖²_I on SPD (gyro coordinates),
    ‖x‖² on Euclidean parameters; Stiefel/Grassmann parameters (compact) are not decayed."""
    total = 0.0
    for p, m in zip(jax.tree.leaves(params), jax.tree.leaves(labels), strict=True):
        if isinstance(m, SPD):
            total = total + jnp.sum(m.gyro_coords(p) ** 2)
        elif isinstance(m, Euclidean):
            total = total + jnp.sum(p**2)
    return 0.5 * total


def _spd_health(params, labels):
    """Smallest eigenvalue over the SPD parameters (inf if there are none)."""
    values = [
        jnp.min(jnp.linalg.eigvalsh(p))
        for p, m in zip(jax.tree.leaves(params), jax.tree.leaves(labels), strict=True)
        if isinstance(m, SPD)
    ]
    return jnp.min(jnp.stack(values)) if values else jnp.asarray(jnp.inf)


def _model_size(name, ds):
    if name in GRASSMANN_MODELS:
        return dict(n=ds.X_train.shape[1], p=ds.X_train.shape[2])
    return dict(n=ds.X_train.shape[1])


def train_model(name, ds, config, workdir: Path, writer: MetricsWriter, dtype) -> dict:
    """Train one model (resuming from its checkpoints), evaluate it, write its result.json and metrics line."""
    model_dir = workdir / "models" / name
    result_file = model_dir / "result.json"
    if result_file.is_file():
        result = json.loads(result_file.read_text())
        print(
            f"{name}: already trained (test accuracy {result['eval/test_accuracy']:.4f}); skipped", flush=True
        )
        return result
    start = time.perf_counter()
    model = build_model(
        name,
        num_classes=ds.num_classes,
        config=config,
        param_dtype=dtype,
        seed=config.seed,
        **_model_size(name, ds),
    )
    graphdef, params = nnx.split(model, nnx.Param)
    rest = nnx.state(model, nnx.Not(nnx.Param))
    labels = manifold_labels_of(params)
    X_train = jnp.asarray(ds.X_train, dtype)
    y_train = jnp.asarray(ds.y_train, jnp.int32)
    batch = min(config.batch_size, X_train.shape[0])
    steps = X_train.shape[0] // batch
    lr = config.lr
    if config.lr_schedule == "cosine":
        lr = optax.cosine_decay_schedule(config.lr, decay_steps=config.epochs * steps)
    tx = radam(lr, labels)
    if config.clip_norm:
        tx = optax.chain(optax.clip_by_global_norm(config.clip_norm), tx)

    def forward(params, X):
        return nnx.merge(graphdef, params, rest)(X)

    def loss_fn(params, batch, key):
        X, y = batch
        logits = forward(params, X)
        accuracy = jnp.mean(jnp.argmax(logits, -1) == y)
        loss = _cross_entropy(logits, y)
        if config.weight_decay:
            loss = loss + config.weight_decay * _decay(params, labels)
        return loss, {"accuracy": accuracy}

    step = make_train_step(loss_fn, tx, functools.partial(apply_updates, manifolds=labels), has_aux=True)
    scan = make_scan_steps(step, jit=False)

    @functools.partial(jax.jit, donate_argnums=0)
    def run_epoch(state, X, y, epoch):
        perm = jax.random.permutation(jax.random.fold_in(state.key, epoch), X.shape[0])[: steps * batch]
        perm = perm.reshape(steps, batch)
        state, metrics = scan(state, (X[perm], y[perm]))
        means = jax.tree.map(jnp.mean, metrics)
        return state, {**means, "min_spd_eigenvalue": _spd_health(state.params, labels)}

    predict = jax.jit(forward)

    chunk = min(config.eval_batch, max(ds.X_train.shape[0], ds.X_test.shape[0]))

    def evaluate(params, X, y):
        """Accuracy and NLL, in chunks of one fixed size (the last one padded) so ``predict`` compiles once."""
        logits = []
        for i in range(0, X.shape[0], chunk):
            part = X[i : i + chunk]
            padded = np.concatenate(
                [part, np.broadcast_to(part[:1], (chunk - part.shape[0], *part.shape[1:]))]
            )
            logits.append(
                np.asarray(predict(params, jnp.asarray(padded, dtype)), np.float64)[: part.shape[0]]
            )
        logits = np.concatenate(logits)
        log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        return float(np.mean(np.argmax(logits, 1) == y)), float(-np.mean(log_p[np.arange(y.size), y]))

    state = TrainState.create(params, tx, seed=config.seed)
    with Checkpointer(model_dir, max_to_keep=1) as ckpt:
        state, restored = restore_or_init(ckpt, state)
        first = int(state.step) // steps
        if restored:
            print(f"{name}: resuming from epoch {first}/{config.epochs}", flush=True)
        with progress_bar(config.epochs, desc=name, initial=first, unit="epoch") as bar:
            for epoch in range(first, config.epochs):
                state, m = run_epoch(state, X_train, y_train, jnp.asarray(epoch, jnp.int32))
                done = epoch + 1
                bar.update(1)
                last = done == config.epochs
                log = bool(config.log_every) and (done % config.log_every == 0 or last)
                save = (bool(config.ckpt_every) and done % config.ckpt_every == 0) or last
                if log or save:
                    loss = float(m["loss"])
                    if not np.isfinite(loss):
                        raise FloatingPointError(
                            f"{name}: non-finite loss after epoch {done}; the last good checkpoint is in {model_dir}. "
                            "Lower config.lr, set config.clip_norm, or use dtype=float64."
                        )
                    bar.set_postfix(loss=f"{loss:.4f}", acc=f"{float(m['accuracy']):.3f}")
                if log:
                    writer.write(
                        int(state.step),
                        model=name,
                        epoch=done,
                        loss=float(m["loss"]),
                        train_accuracy=float(m["accuracy"]),
                        min_spd_eigenvalue=float(m["min_spd_eigenvalue"]),
                    )
                if save:
                    ckpt.save(done, state)
        ckpt.wait()
    test_acc, test_nll = evaluate(state.params, ds.X_test, ds.y_test)
    train_acc, _ = evaluate(state.params, ds.X_train, ds.y_train)
    result = {
        "model": name,
        "eval/test_accuracy": test_acc,
        "eval/test_nll": test_nll,
        "eval/train_accuracy": train_acc,
        **_reference(ds),
        "epochs": config.epochs,
        "train_and_eval_seconds": time.perf_counter() - start,
    }
    if ds.reference_test is not None:
        result["gap_to_reference_test"] = ds.reference_test - test_acc
    writer.write(int(state.step), result)
    tmp = model_dir / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(result_file)
    return result


def _reference(ds: D.Dataset) -> dict:
    if ds.reference_name is None:
        return {"reference/name": "none (real data)"}
    return {
        "reference/name": ds.reference_name,
        "reference/accuracy_mc": ds.reference_mc,
        "reference/accuracy_mc_se": ds.reference_mc_se,
        "reference/accuracy_test": ds.reference_test,
    }


def _table(results, ds, config) -> str:
    ref = ds.reference_name or "reference"
    head = f"| model | test acc | {ref} acc (test set) | {ref} acc (MC ± SE) | gap | train acc | test NLL | seconds |"
    lines = [
        f"data: {config.data.kind}, seed {config.seed}, {ds.X_train.shape[0]} train / {ds.X_test.shape[0]} test, "
        f"{ds.num_classes} classes, dtype {config.dtype}",
        "",
        head,
        "|" + "---|" * 8,
    ]
    for r in results:
        if ds.reference_name is None:
            mc = bayes = gap = "n/a"
        else:
            bayes = f"{ds.reference_test:.4f}"
            mc = f"{ds.reference_mc:.4f} ± {ds.reference_mc_se:.4f}"
            gap = f"{ds.reference_test - r['eval/test_accuracy']:+.4f}"
        lines.append(
            f"| {r['model']} | {r['eval/test_accuracy']:.4f} | {bayes} | {mc} | {gap} | "
            f"{r['eval/train_accuracy']:.4f} | {r['eval/test_nll']:.4f} | {r['train_and_eval_seconds']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def train_and_evaluate(config, workdir) -> list[dict]:
    """Train and evaluate every model of ``config.models``; returns their result dicts (also in results.json)."""
    validate_config(config)
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ds = load_dataset(config)
    with MetricsWriter(workdir) as writer:
        writer.write(0, _reference(ds), data=config.data.kind, seed=config.seed)
        if ds.reference_name is not None:
            print(
                f"{config.data.kind} seed {config.seed}: {ds.reference_name} accuracy {ds.reference_test:.4f} on the "
                f"test set, {ds.reference_mc:.4f} ± {ds.reference_mc_se:.4f} (Monte Carlo)",
                flush=True,
            )
        results = [train_model(name, ds, config, workdir, writer, dtype) for name in model_names(config)]
    table = _table(results, ds, config)
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    (workdir / "results.md").write_text(table)
    print(table, flush=True)
    return results
