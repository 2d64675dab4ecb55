"""The max-margin regime of Morwani et al. 2023: full-batch GD with lr doubling on CE + λ Σ_i ‖ω_i‖^ν.

``train_and_evaluate(config, workdir)`` is what ``scripts/launch.py --experiment algebraic_margins`` calls. The
workdir ends up with ``config.json``; ``metrics.jsonl`` (every ``eval_every`` steps: loss, CE, penalty, lr, the
normalised margin and its ratio to γ*; a final line with the neuron analysis); ``checkpoints/<step>/``;
``params.npz`` (the final parameter dict) and the plots ``margin.png`` (normalised margin / γ* over training),
``neuron_power.png`` (histogram of each neuron's max irrep power) and ``norm_shares.png`` (Σ‖ω‖³ per irrep
against the prediction; pair tasks). Re-running the same command on the same workdir resumes.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from geomrep.algebra import analysis, margin, models, tasks, training
from geomrep.algebra.irreps import irreps
from geomrep.train import Checkpointer, ConfigError, MetricsWriter, progress_bar, restore_or_init

from . import plots

TASKS = ("modular_addition", "group_composition", "sparse_parity")
NORMS = ("l2nu", "l2")
DTYPES = ("float32", "float64")


def validate_config(config) -> None:
    """Raise ConfigError naming the first bad key (run by the launcher before any work)."""

    def need(ok, key, what):
        if not ok:
            raise ConfigError(f"config.{key}={config[key]!r}: {what}")

    need(config.task in TASKS, "task", f"must be one of {list(TASKS)}")
    if config.task == "modular_addition":
        need(config.p >= 2, "p", "the modulus must be >= 2")
    elif config.task == "group_composition":
        try:
            tasks.group_from_name(config.group)
        except ValueError as err:
            raise ConfigError(f"config.group={config.group!r}: {err}") from None
    else:
        need(1 <= config.n <= 20, "n", "must lie in [1, 20] (the population is all 2^n points)")
        need(1 <= config.k <= config.n, "k", "must lie in [1, n]")
    need(config.width >= 1, "width", "must be >= 1")
    need(config.reg >= 0, "reg", "must be >= 0")
    need(config.norm in NORMS, "norm", f"must be one of {list(NORMS)}")
    need(config.lr > 0, "lr", "must be > 0")
    need(config.double_every >= 0, "double_every", "must be >= 0 (0 = constant lr)")
    need(config.max_lr >= 0, "max_lr", "must be >= 0 (0 = no cap)")
    need(config.num_steps >= 1, "num_steps", "must be >= 1")
    need(config.eval_every >= 1, "eval_every", "must be >= 1")
    need(config.num_steps % config.eval_every == 0, "eval_every", f"must divide num_steps={config.num_steps}")
    need(
        config.ckpt_every >= 0 and config.ckpt_every % config.eval_every == 0,
        "ckpt_every",
        f"must be 0 or a multiple of eval_every={config.eval_every}",
    )
    need(config.dtype in DTYPES, "dtype", f"must be one of {list(DTYPES)}")
    need(config.init_scale > 0, "init_scale", "must be > 0")


def build_task(config) -> tasks.PairTask | tasks.ParityTask:
    if config.task == "modular_addition":
        return tasks.modular_addition(config.p)
    if config.task == "group_composition":
        return tasks.group_composition(tasks.group_from_name(config.group))
    return tasks.sparse_parity(config.n, config.k)


def build_net(config, task, dtype):
    rngs = nnx.Rngs(config.seed)
    if isinstance(task, tasks.ParityTask):
        return models.PowerNet(
            task.n, task.k, config.width, init_scale=config.init_scale, param_dtype=dtype, rngs=rngs
        )
    return models.QuadraticNet(
        task.num_symbols, config.width, init_scale=config.init_scale, param_dtype=dtype, rngs=rngs
    )


def reference_margins(task) -> dict:
    """``gamma_star`` (NaN where no theorem applies), ``lp_margin`` (groups and Z_p) and the ``reference`` used for
    the margin ratio: γ* where a theorem gives it, else the single-irrep LP certificate."""
    out = {"gamma_star": math.nan, "lp_margin": math.nan}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tasks.HypothesisWarning)
            out["gamma_star"] = margin.gamma_star(task)
    except margin.TheoremHypothesisError:
        pass
    if isinstance(task, tasks.PairTask):
        out["lp_margin"] = margin.irrep_lp_margin(analysis.task_group(task)).value
    out["reference"] = "gamma_star" if math.isfinite(out["gamma_star"]) else "lp_margin"
    return out


def _schedule(config):
    return training.lr_doubling(config.lr, double_every=config.double_every, max_lr=config.max_lr or None)


def analyse(params, task, refs) -> dict:
    """The final neuron / logit analysis (notes C3, C5) as flat metrics."""
    out = {}
    if isinstance(task, tasks.ParityTask):
        out["parity_neuron_share"] = analysis.parity_neuron_share(params, task)
        return out
    group = analysis.task_group(task)
    reps = irreps(group)
    report = analysis.neuron_report(params, reps)
    lp = margin.irrep_lp_margin(group)
    logits = models.population_logits(params, task, precision=jax.lax.Precision.HIGHEST)
    out.update(
        {
            "fraction_single_irrep": report.fraction_single_irrep(0.9),
            "fraction_single_irrep_099": report.fraction_single_irrep(0.99),
            "fraction_same_dominant": report.fraction_same_dominant(),
            "irreps_used": int(np.count_nonzero(report.counts[1:])),
            "num_nontrivial_irreps": len(reps) - 1,
            "max_trivial_power": float(report.trivial_power[report.live].max()),
            "live_neurons": int(report.live.sum()),
            "irrep_names": [r.name for r in reps],
            "irrep_dims": [r.dim for r in reps],
            "neuron_counts": report.counts.tolist(),
            "norm_shares": report.norm_shares.tolist(),
            "predicted_norm_shares": lp.norm_shares.tolist(),
            "wrong_logit_spread_median": float(np.median(analysis.wrong_logit_spread(logits, task.labels))),
            "max_power_u": np.asarray(report.max_power[report.live, 0]).tolist(),
            "max_power_v": np.asarray(report.max_power[report.live, 1]).tolist(),
            "max_power_w": np.asarray(report.max_power[report.live, 2]).tolist(),
        }
    )
    if task.family == "modular_addition":
        errors = analysis.frequency_phase_errors(params, task)[report.live]
        out["phase_error_median"] = float(np.median(np.abs(errors)))
    return out


def train_and_evaluate(config, workdir) -> dict:
    """Train, evaluate, plot; returns the final metrics dict (also the last line of metrics.jsonl)."""
    validate_config(config)
    start = time.perf_counter()
    if config.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.dtype(config.dtype)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    task = build_task(config)
    refs = reference_margins(task)
    reference = refs[refs["reference"]]
    params = models.as_params(build_net(config, task, dtype))
    schedule = _schedule(config)
    tx = optax.sgd(schedule)
    loss_fn = training.max_margin_loss(task, reg=config.reg, norm=config.norm)
    run = training.make_chunk_runner(loss_fn, tx, config.eval_every)
    evaluate = jax.jit(lambda p: margin.normalized_margin(p, task))
    state = training.init_state(params, tx, seed=config.seed)
    history: list[float] = []

    with Checkpointer(workdir, max_to_keep=2) as ckpt, MetricsWriter(workdir) as writer:
        state, restored = restore_or_init(ckpt, state)
        first = int(state.step)
        if restored:
            print(f"resuming {workdir} from step {first}/{config.num_steps}", flush=True)
        desc = f"{task.name} m={config.width} {config.dtype}"
        with progress_bar(config.num_steps, desc=desc, initial=first, unit="step") as bar:
            for done in range(first + config.eval_every, config.num_steps + 1, config.eval_every):
                state, m = run(state)
                bar.update(config.eval_every)
                loss = float(m["loss"])
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"non-finite loss by step {done} (lr {float(schedule(done - 1)):.4g}); the last good "
                        f"checkpoint is kept in {workdir}/checkpoints. Lower config.max_lr or config.lr."
                    )
                nm = float(evaluate(state.params))
                history.append(nm / reference)
                writer.write(
                    done,
                    loss=loss,
                    ce=float(m["ce"]),
                    penalty=float(m["penalty"]),
                    lr=float(schedule(done - 1)),
                    normalized_margin=nm,
                    margin_ratio=nm / reference,
                )
                bar.set_postfix(margin_ratio=f"{nm / reference:.4f}")
                if (config.ckpt_every and done % config.ckpt_every == 0) or done == config.num_steps:
                    ckpt.save(done, state)
        ckpt.wait()
        params = jax.device_get(state.params)
        nm = float(evaluate(params))
        final = {
            "normalized_margin": nm,
            "margin_ratio": nm / reference,
            "best_margin_ratio_last3": max([*history[-3:], nm / reference]),
            "reference": refs["reference"],
            "gamma_star": refs["gamma_star"],
            "lp_margin": refs["lp_margin"],
            **analyse(params, task, refs),
            "train_and_eval_seconds": time.perf_counter() - start,
        }
        writer.write(config.num_steps, final)

    np.savez(workdir / "params.npz", **{k: np.asarray(v) for k, v in params.items()})
    plots.write_all(workdir, task, final)
    print(
        f"{desc}: normalized margin {nm:.6g} = {final['margin_ratio']:.4f} x {refs['reference']} "
        f"({final['train_and_eval_seconds']:.1f} s) -> {workdir}",
        flush=True,
    )
    return final
