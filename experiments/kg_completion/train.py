"""Training and filtered evaluation of gyrovector KG models on WN18RR (or any ``head relation tail`` triples).

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment kg_completion`` calls. Protocol
(the reference's, spratmnt/kgc after gyrospd): train on train ∪ inverse triples ``(t, r + R, h)``; each step
takes a batch of triples, draws ``negatives`` uniformly random tails per triple, and minimises the binary
cross-entropy of the scores (positives labelled 1, negatives 0, averaged over all); Adam with a burn-in at
lr/burnin_factor, gradient-norm clipping, and lr × plateau_factor after plateau_patience evaluations without a
better valid MRR. Validation (filtered MRR / MR / Hits@1,3,10 over both directions) every ``eval_every`` epochs;
at the end, the parameters with the best valid MRR are evaluated on valid and test.

One epoch is one jitted call (``lax.scan`` over its batches; the shuffle and the negatives are drawn on the
device), so a GPU run has no host round trip per step. The workdir gets ``config.json``, ``metrics.jsonl`` (loss,
lr, epoch time, largest entity norm every ``log_every`` epochs; ``valid/*`` at each evaluation; ``final/valid/*``
and ``final/test/*`` at the end, also restricted to the triples whose entities all occur in train as
``final/test_seen/*``), ``checkpoints/<epoch>/`` and ``final_metrics.json``. Re-running the same command resumes
from the latest checkpoint and ends as an uninterrupted run would: the shuffle of epoch e and the negatives of step
s are pure functions of (seed, e) and (seed, s).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from geomrep.data.kg import add_inverses, answer_lists, load_kg
from geomrep.train import Checkpointer, ConfigError, MetricsWriter, TrainState, make_train_step, progress_bar

from . import models
from .ranking import make_ranker, ranking_metrics

DATA_DIR = Path(__file__).resolve().parent / "data" / "wn18rr"
DTYPES = ("float32", "float64")
UNSEEN = ("keep", "drop", "error")


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            raise ConfigError(f"config.{key}={config[key]!r}: {what}")

    need(config.model in models.MODELS, "model", f"must be one of {list(models.MODELS)}")
    need(config.unseen in UNSEEN, "unseen", f"must be one of {list(UNSEEN)}")
    need(config.max_triples >= 0, "max_triples", "must be >= 0 (0 = all)")
    need(config.spd_dim >= 1, "spd_dim", "must be >= 1")
    need(config.gr_rank >= 1, "gr_rank", "the subspace dimension p must be >= 1")
    need(config.gr_dim > config.gr_rank, "gr_dim", f"Gr(n, p) needs n > p = {config.gr_rank}")
    need(config.dist_factor > 0, "dist_factor", "must be > 0")
    need(config.init_scale > 0, "init_scale", "must be > 0")
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(config.epochs >= 1, "epochs", "must be >= 1")
    need(config.batch_size >= 1, "batch_size", "must be >= 1")
    need(config.negatives >= 1, "negatives", "must be >= 1")
    need(config.lr > 0, "lr", "the learning rate must be > 0")
    need(0 <= config.burnin_epochs <= config.epochs, "burnin_epochs", "must lie in [0, epochs]")
    need(config.burnin_factor >= 1, "burnin_factor", "must be >= 1 (burn-in lr = lr / burnin_factor)")
    need(config.max_grad_norm >= 0, "max_grad_norm", "must be >= 0 (0 = no clipping)")
    need(0 < config.plateau_factor <= 1, "plateau_factor", "must lie in (0, 1]")
    for key in ("plateau_patience", "early_stop", "eval_every", "eval_block_size", "ckpt_every", "log_every"):
        need(config[key] >= 0, key, "must be >= 0")
    need(config.time_budget >= 0, "time_budget", "must be >= 0 seconds (0 = none)")
    if config.data:
        need(Path(config.data).is_dir(), "data", "no such folder (it must hold train, valid and test files)")


def _optimizer(config):
    adam = optax.inject_hyperparams(optax.adam)(learning_rate=config.lr)
    if config.max_grad_norm > 0:
        return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), adam)
    return optax.chain(adam)


def _set_lr(opt_state, lr):
    """The optimizer state with Adam's injected learning rate replaced (the last element of the chain)."""
    adam = opt_state[-1]
    hyper = dict(adam.hyperparams)
    hyper["learning_rate"] = jnp.asarray(lr, hyper["learning_rate"].dtype)
    return (*opt_state[:-1], adam._replace(hyperparams=hyper))


def _eval_sets(kg, max_triples):
    """Per split: queries (both directions), their filter lists, and which queries involve only train entities."""
    splits = {name: kg.split(name)[: max_triples or None] for name in ("train", "valid", "test")}
    known = add_inverses(np.concatenate([kg.train, kg.valid, kg.test]), kg.num_relations)
    sets = {}
    for name in ("valid", "test"):
        queries = add_inverses(splits[name], kg.num_relations).astype(np.int32)
        answers = answer_lists(queries, known, kg.num_entities)
        seen = (queries[:, 0] < kg.num_train_entities) & (queries[:, 2] < kg.num_train_entities)
        sets[name] = (queries, answers, seen)
    return splits["train"], sets


def _auto_block(num_entities, num_queries, per_pair_floats):
    budget = 2**25  # floats per block (128 MiB in float32)
    return int(max(8, min(num_queries, budget // max(1, num_entities * per_pair_floats))))


def train_and_evaluate(config, workdir) -> dict:
    """Train, evaluate the best-valid parameters on valid and test; returns ``{"valid/mrr", "test/mrr", ...}``."""
    validate_config(config)
    start_time = time.perf_counter()
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    kg = load_kg(config.data or DATA_DIR, unseen=config.unseen)
    print(kg.summary(), flush=True)
    train_triples, eval_sets = _eval_sets(kg, config.max_triples)
    train = jnp.asarray(add_inverses(train_triples, kg.num_relations), jnp.int32)
    num_entities, num_relations = kg.num_entities, 2 * kg.num_relations
    batch_size = min(config.batch_size, int(train.shape[0]))
    steps_per_epoch = int(train.shape[0]) // batch_size

    model = models.build_model(config)
    tx = _optimizer(config)
    root = jax.random.key(config.seed)
    init_key, shuffle_key, step_key = jax.random.split(root, 3)
    params = models.init_params(model, init_key, num_entities, num_relations, config, dtype)
    best_params = jax.tree.map(jnp.copy, params)  # its own buffers: the epoch donates the state's

    negatives = config.negatives

    def loss_fn(params, batch, key):
        h, r, t = batch[:, 0], batch[:, 1], batch[:, 2]
        if config.shared_negatives:  # one set of corrupted tails for the whole batch: a (b, k) matmul
            corrupt = jax.random.randint(key, (negatives,), 0, num_entities, dtype=jnp.int32)
            positive = models.score_tails(model, params, h, r, t[:, None])
            negative = models.score_candidates(model, params, h, r, corrupt)
        else:  # the reference: independent corrupted tails for every triple
            corrupt = jax.random.randint(key, (h.shape[0], negatives), 0, num_entities, dtype=jnp.int32)
            logits = models.score_tails(model, params, h, r, jnp.concatenate([t[:, None], corrupt], axis=1))
            positive, negative = logits[:, :1], logits[:, 1:]
        total = jnp.sum(optax.sigmoid_binary_cross_entropy(positive, jnp.ones_like(positive)))
        total = total + jnp.sum(optax.sigmoid_binary_cross_entropy(negative, jnp.zeros_like(negative)))
        return total / (positive.size + negative.size)  # the mean over all scores, as BCEWithLogitsLoss

    step = make_train_step(loss_fn, tx)

    def run_epoch(state, epoch):
        perm = jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), train.shape[0])
        batches = train[perm[: steps_per_epoch * batch_size]].reshape(steps_per_epoch, batch_size, 3)
        state, metrics = jax.lax.scan(step, state, batches)
        return state, jnp.mean(metrics["loss"])

    run_epoch = jax.jit(run_epoch, donate_argnums=0)
    health = jax.jit(lambda p: model.health(p["model"]))

    block = config.eval_block_size or _auto_block(
        num_entities, max(len(s[0]) for s in eval_sets.values()), model.eval_floats_per_pair
    )
    ranker = make_ranker(lambda p, h, r: models.score_all(model, p, h, r), num_entities, block)

    def evaluate(params, name):
        queries, answers, seen = eval_sets[name]
        ranks = np.asarray(ranker(params, queries, answers))
        out = {f"{name}/{k}": v for k, v in ranking_metrics(ranks).items()}
        if not seen.all():
            out.update({f"{name}_seen/{k}": v for k, v in ranking_metrics(ranks, seen).items()})
        return out

    state = TrainState.create(params, tx, key=step_key)
    schedule = {
        "epoch": jnp.zeros([], jnp.int32),
        "lr": jnp.asarray(config.lr, jnp.float32),
        "best_mrr": jnp.asarray(-1.0, jnp.float32),
        "best_epoch": jnp.zeros([], jnp.int32),
        "bad_evals": jnp.zeros([], jnp.int32),
        "train_seconds": jnp.zeros([], jnp.float32),
    }
    checkpoint = {"state": state, "schedule": schedule, "best_params": best_params}

    with Checkpointer(workdir, max_to_keep=2) as ckpt, MetricsWriter(workdir) as writer:
        if ckpt.latest_step() is not None:
            checkpoint = ckpt.restore(checkpoint)
            print(
                f"resuming {workdir} from epoch {int(checkpoint['schedule']['epoch'])}/{config.epochs}",
                flush=True,
            )
        state = checkpoint["state"]
        sched = {k: v.item() for k, v in checkpoint["schedule"].items()}
        best_params = checkpoint["best_params"]
        first = sched["epoch"]

        def stop_reason():
            if (
                config.early_stop
                and sched["best_mrr"] >= 0
                and sched["epoch"] - sched["best_epoch"] >= config.early_stop
            ):
                return f"early stop: no better valid MRR for {config.early_stop} epochs"
            if config.time_budget and sched["train_seconds"] >= config.time_budget:
                return f"time budget of {config.time_budget:.0f} s of training spent"
            return None

        desc = f"kg {config.model} {config.dtype}"
        reason = stop_reason()
        with progress_bar(config.epochs, desc=desc, initial=first, unit="epoch") as bar:
            for e in range(first, config.epochs):
                if reason:
                    break
                lr = sched["lr"] / (config.burnin_factor if e < config.burnin_epochs else 1.0)
                state = state.replace(opt_state=_set_lr(state.opt_state, lr))
                tic = time.perf_counter()
                state, loss = run_epoch(state, e)
                loss = float(loss)
                seconds = time.perf_counter() - tic
                done = e + 1
                sched["epoch"] = done
                sched["train_seconds"] += seconds
                bar.update(1)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"non-finite loss {loss} in epoch {done}; the last good checkpoint is kept in "
                        f"{workdir}/checkpoints. Lower config.lr or config.init_scale, or use dtype=float64."
                    )
                values = {}
                if config.log_every and (done % config.log_every == 0 or done == config.epochs):
                    values.update(loss=loss, lr=lr, epoch=done, epoch_seconds=seconds,
                                  train_seconds=sched["train_seconds"])  # fmt: skip
                    values.update({k: float(v) for k, v in health(state.params).items()})
                    bar.set_postfix(loss=f"{loss:.4f}")
                if config.eval_every and done % config.eval_every == 0:
                    tic = time.perf_counter()
                    evals = evaluate(state.params, "valid")
                    mrr = evals["valid/mrr"]
                    if _f32(mrr) > sched["best_mrr"]:
                        sched.update(best_mrr=_f32(mrr), best_epoch=done, bad_evals=0)
                        best_params = jax.tree.map(jnp.copy, state.params)
                    else:
                        sched["bad_evals"] += 1
                        if config.plateau_patience and sched["bad_evals"] >= config.plateau_patience:
                            sched.update(lr=_f32(sched["lr"] * config.plateau_factor), bad_evals=0)
                    values.update(evals, epoch=done, eval_seconds=time.perf_counter() - tic,
                                  best_valid_mrr=sched["best_mrr"], best_epoch=sched["best_epoch"])  # fmt: skip
                    print(
                        f"epoch {done}: loss {loss:.4f}  valid MRR {mrr:.4f}  H@10 {evals['valid/hits@10']:.4f}  "
                        f"(best {sched['best_mrr']:.4f} @ {sched['best_epoch']}, "
                        f"{sched['train_seconds']:.0f} s training)",
                        flush=True,
                    )
                if values:
                    writer.write(done * steps_per_epoch, values)
                reason = stop_reason()
                if (config.ckpt_every and done % config.ckpt_every == 0) or done == config.epochs or reason:
                    ckpt.save(done, _to_checkpoint(state, sched, best_params))
        ckpt.wait()
        if reason:
            print(reason, flush=True)

        if sched["best_mrr"] < 0:  # never evaluated during training: the final parameters are the best
            best_params, sched["best_epoch"] = state.params, sched["epoch"]
        final = {
            "epoch": sched["epoch"],
            "best_epoch": sched["best_epoch"],
            "train_seconds": sched["train_seconds"],
        }
        for name in ("valid", "test"):
            final.update(evaluate(best_params, name))
        final["train_and_eval_seconds"] = time.perf_counter() - start_time
        writer.write(sched["epoch"] * steps_per_epoch, {f"final/{k}": v for k, v in final.items()})

    (workdir / "final_metrics.json").write_text(json.dumps(final, indent=2, sort_keys=True) + "\n")
    print(
        f"{desc}: best valid epoch {final['best_epoch']}/{final['epoch']}; "
        f"test MRR {final['test/mrr']:.4f}  H@1 {final['test/hits@1']:.4f}  H@3 {final['test/hits@3']:.4f}  "
        f"H@10 {final['test/hits@10']:.4f}; valid MRR {final['valid/mrr']:.4f}  H@10 {final['valid/hits@10']:.4f}  "
        f"({final['train_seconds']:.0f} s training, {final['train_and_eval_seconds']:.0f} s this process) -> {workdir}",
        flush=True,
    )
    return final


def _f32(x) -> float:
    """``x`` rounded to float32, the precision the schedule is checkpointed in (a resumed run decides alike)."""
    return float(np.float32(x))


def _to_checkpoint(state, sched, best_params):
    schedule = {
        "epoch": jnp.asarray(sched["epoch"], jnp.int32),
        "lr": jnp.asarray(sched["lr"], jnp.float32),
        "best_mrr": jnp.asarray(sched["best_mrr"], jnp.float32),
        "best_epoch": jnp.asarray(sched["best_epoch"], jnp.int32),
        "bad_evals": jnp.asarray(sched["bad_evals"], jnp.int32),
        "train_seconds": jnp.asarray(sched["train_seconds"], jnp.float32),
    }
    return {"state": state, "schedule": schedule, "best_params": best_params}
