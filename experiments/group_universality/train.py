"""Chughtai et al. 2023's universality runs: CCN's ReLU MLP, AdamW (wd 1) on part of a group's table, many seeds.

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment group_universality`` calls. The
workdir ends up with ``config.json``; ``metrics.jsonl`` (every ``eval_every`` epochs, per seed: train/test loss
and accuracy and the logit similarity of every irrep; a final line with, per seed, the epoch it generalised, its
key irreps, the FVE of its total embeddings and unembedding per irrep, and the restricted/excluded losses);
``checkpoints/<epoch>/``; ``params.npz`` (stacked over seeds) and the plots ``accuracy.png``,
``logit_similarity.png`` (per irrep over training), ``key_irreps.png`` (final similarity per seed and irrep, key
irreps marked) and ``fve.png``. Re-running the same command on the same workdir resumes.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from geomrep.algebra import analysis, models, tasks, training
from geomrep.algebra.irreps import irreps
from geomrep.train import Checkpointer, ConfigError, MetricsWriter, progress_bar, restore_or_init

from . import plots

DTYPES = ("float32", "float64")


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            raise ConfigError(f"config.{key}={config[key]!r}: {what}")

    try:
        tasks.group_from_name(config.group)
    except ValueError as err:
        raise ConfigError(f"config.group={config.group!r}: {err}") from None
    need(0 < config.train_fraction < 1, "train_fraction", "must lie in (0, 1) (the rest is the test set)")
    for key in ("embed_dim", "hidden_dim", "num_epochs", "eval_every"):
        need(config[key] >= 1, key, "must be >= 1")
    need(config.lr > 0, "lr", "must be > 0")
    need(config.weight_decay >= 0, "weight_decay", "must be >= 0")
    need(
        0 <= config.b1 < 1 and 0 <= config.b2 < 1,
        "b1" if not 0 <= config.b1 < 1 else "b2",
        "must lie in [0, 1)",
    )
    need(
        config.num_epochs % config.eval_every == 0,
        "eval_every",
        f"must divide num_epochs={config.num_epochs}",
    )
    need(
        config.ckpt_every >= 0 and config.ckpt_every % config.eval_every == 0,
        "ckpt_every",
        f"must be 0 or a multiple of eval_every={config.eval_every}",
    )
    seeds = tuple(config.seeds)
    need(
        len(seeds) >= 1
        and all(isinstance(s, int) and s >= 0 for s in seeds)
        and len(set(seeds)) == len(seeds),
        "seeds",
        "must be a non-empty tuple of distinct ints >= 0",
    )
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(0 <= config.key_threshold < 1, "key_threshold", "must lie in [0, 1)")
    need(0 < config.grok_accuracy <= 1, "grok_accuracy", "must lie in (0, 1]")


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _unstack(tree, i):
    return jax.tree.map(lambda x: x[i], tree)


def build(config, dtype):
    """The group, one task (split) per seed and the stacked initial parameters."""
    group = tasks.group_from_name(config.group)
    seed_tasks = [
        tasks.group_composition(group, train_fraction=config.train_fraction, seed=s) for s in config.seeds
    ]
    nets = [
        models.OneLayerMLP(
            group.order,
            embed_dim=config.embed_dim,
            hidden_dim=config.hidden_dim,
            param_dtype=dtype,
            rngs=nnx.Rngs(s),
        )
        for s in config.seeds
    ]
    return group, seed_tasks, _stack([models.as_params(net) for net in nets])


def stacked_train_loss(seed_tasks):
    """``Σ_s CE_s(params_s)`` over the seeds' own train splits: the gradient of seed ``s``'s parameters is that of
    its own loss, so one optimizer on the stacked parameters runs every seed exactly as if alone."""
    idx = np.stack([t.train_idx for t in seed_tasks])  # equal sizes: floor(frac · n²) for every seed
    inputs, labels = seed_tasks[0].inputs, seed_tasks[0].labels
    a, b, y = jnp.asarray(inputs[idx, 0]), jnp.asarray(inputs[idx, 1]), jnp.asarray(labels[idx])

    def one(params, a, b, y):
        logits = models.pair_logits(params, a, b)
        return training.cross_entropy(logits, y), training.accuracy(logits, y)

    def loss(params, batch, key):
        del batch, key
        losses, accs = jax.vmap(one)(params, a, b, y)
        return jnp.sum(losses), {"train_loss": losses, "train_accuracy": accs}

    return loss


def make_evaluate(seed_tasks, reps):
    """Jitted ``evaluate(stacked_params)``: per seed test loss/accuracy and the logit similarity of every irrep."""
    task = seed_tasks[0]
    test = jnp.asarray(np.stack([t.test_idx for t in seed_tasks]))
    labels = jnp.asarray(task.labels)

    def one(params, test_idx):
        logits = models.population_logits(params, task)
        y = labels[test_idx]
        return {
            "test_loss": training.cross_entropy(logits[test_idx], y),
            "test_accuracy": training.accuracy(logits[test_idx], y),
            "logit_similarity": analysis.logit_similarity(logits, task, reps),
        }

    return jax.jit(lambda params: jax.vmap(one)(params, test))


def analyse_seed(params, task, reps, key_threshold) -> dict:
    """CCN's end-of-training analysis of one seed (notes A1, C4)."""
    logits = models.population_logits(params, task, precision=jax.lax.Precision.HIGHEST)
    sims = np.asarray(analysis.logit_similarity(logits, task, reps))
    key = analysis.key_irreps(sims, key_threshold)
    u, v, w = analysis.neuron_weights(params)
    logit_ab = analysis.logit_ablation_losses(params, task, reps, key)
    hidden_ab = analysis.hidden_ablation_losses(params, task, reps, key)
    report = analysis.neuron_report(params, reps)
    return {
        "key_irreps": [reps[i].name for i in key],
        "logit_similarity": sims.tolist(),
        "logit_variance_explained": float(np.sum(sims**2)),
        "fve_embed_a": np.asarray(analysis.embedding_fve(u, reps)).tolist(),
        "fve_embed_b": np.asarray(analysis.embedding_fve(v, reps)).tolist(),
        "fve_unembed": np.asarray(analysis.embedding_fve(w, reps)).tolist(),
        "neuron_counts": report.counts.tolist(),
        "loss_all": logit_ab.full,
        "restricted_loss_logits": logit_ab.restricted,
        "excluded_loss_logits": logit_ab.excluded,
        "restricted_loss_hidden": hidden_ab.restricted,
        "excluded_loss_hidden": hidden_ab.excluded,
    }


def train_and_evaluate(config, workdir) -> dict:
    """Train every seed, evaluate, plot; returns the final metrics dict (also the last line of metrics.jsonl)."""
    validate_config(config)
    start = time.perf_counter()
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    group, seed_tasks, params = build(config, dtype)
    reps = irreps(group)
    tx = training.ccn_adamw(config.lr, weight_decay=config.weight_decay, b1=config.b1, b2=config.b2)
    run = training.make_chunk_runner(stacked_train_loss(seed_tasks), tx, config.eval_every)
    evaluate = make_evaluate(seed_tasks, reps)
    state = training.init_state(params, tx, seed=int(config.seeds[0]))
    num_seeds = len(config.seeds)
    grok = np.full(num_seeds, -1)

    with Checkpointer(workdir, max_to_keep=2) as ckpt, MetricsWriter(workdir) as writer:
        state, restored = restore_or_init(ckpt, state)
        first = int(state.step)
        if restored:
            print(f"resuming {workdir} from epoch {first}/{config.num_epochs}", flush=True)
            for row in (r for r in _read_rows(workdir) if "test_accuracy" in r and r["step"] <= first):
                reached = (np.asarray(row["test_accuracy"]) >= config.grok_accuracy) & (grok < 0)
                grok[reached] = row["step"]
        desc = f"{group.name} MLP frac={config.train_fraction} seeds={list(config.seeds)}"
        with progress_bar(config.num_epochs, desc=desc, initial=first, unit="epoch") as bar:
            for done in range(first + config.eval_every, config.num_epochs + 1, config.eval_every):
                state, m = run(state)
                bar.update(config.eval_every)
                if not np.isfinite(float(m["loss"])):
                    raise FloatingPointError(
                        f"non-finite loss by epoch {done}; the last good checkpoint is kept in {workdir}/checkpoints. "
                        "Lower config.lr."
                    )
                ev = jax.device_get(evaluate(state.params))
                reached = (ev["test_accuracy"] >= config.grok_accuracy) & (grok < 0)
                grok[reached] = done
                writer.write(
                    done,
                    train_loss=m["train_loss"],
                    train_accuracy=m["train_accuracy"],
                    test_loss=ev["test_loss"],
                    test_accuracy=ev["test_accuracy"],
                    logit_similarity=ev["logit_similarity"],
                )
                bar.set_postfix(test_acc=" ".join(f"{a:.3f}" for a in ev["test_accuracy"]))
                if (config.ckpt_every and done % config.ckpt_every == 0) or done == config.num_epochs:
                    ckpt.save(done, state)
        ckpt.wait()
        params = jax.device_get(state.params)
        ev = jax.device_get(evaluate(params))
        per_seed = [
            analyse_seed(_unstack(params, i), seed_tasks[i], reps, config.key_threshold)
            for i in range(num_seeds)
        ]
        final = {
            "seeds": list(config.seeds),
            "irrep_names": [r.name for r in reps],
            "irrep_dims": [r.dim for r in reps],
            "test_accuracy": ev["test_accuracy"].tolist(),
            "grok_epoch": grok.tolist(),
            **{name: [s[name] for s in per_seed] for name in per_seed[0]},
            "train_and_eval_seconds": time.perf_counter() - start,
        }
        writer.write(config.num_epochs, final)

    np.savez(workdir / "params.npz", **{k: np.asarray(v) for k, v in params.items()})
    plots.write_all(workdir, group.name, final)
    keys = "; ".join(
        f"seed {s}: {{{', '.join(k)}}}" for s, k in zip(config.seeds, final["key_irreps"], strict=True)
    )
    print(
        f"{desc}: test accuracy {[round(a, 4) for a in final['test_accuracy']]}, generalised at epoch "
        f"{final['grok_epoch']}; key irreps {keys} ({final['train_and_eval_seconds']:.1f} s) -> {workdir}",
        flush=True,
    )
    return final


def _read_rows(workdir):
    from geomrep.train import read_metrics

    return read_metrics(workdir)
