"""The two training regimes of the algebraic-task papers, as pure losses and optax optimizers run in ``lax.scan``.

1. **Max-margin regime** (MEOZK p5-8, p19-2; notes C6-1): full-batch gradient descent on the full population with
   ``L(θ) = mean_x CE(f(θ, x), y) + λ Σ_i ‖ω_i‖_2^ν`` and the learning rate doubled every ``double_every`` steps
   (capped at ``max_lr``). By Wei et al. 2019 the normalised margin of the minimisers tends to γ* as λ → 0; the
   doubling counters the exponentially shrinking margin gradient.
2. **Universality / grokking regime** (Chughtai et al. 2023; Nanda et al. 2023; notes C6-3): AdamW (lr 1e-3,
   weight decay 1, betas (0.9, 0.98)) full-batch on the train split only.

Both use :func:`geomrep.train.make_train_step` / :func:`geomrep.train.make_scan_steps`: a run is a few jitted calls
of a ``lax.scan`` over ``chunk`` steps, so the whole loop stays inside XLA between evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from geomrep.algebra.margin import homogeneity, norm_power
from geomrep.algebra.models import (
    architecture,
    as_params,
    pair_logits,
    population_logits,
    quadratic_table_cross_entropy,
)
from geomrep.algebra.tasks import PairTask, ParityTask
from geomrep.train import TrainState, make_scan_steps, make_train_step

LossFn = Callable[[Any, Any, jax.Array], tuple[jax.Array, dict[str, jax.Array]]]


def lr_doubling(lr: float, *, double_every: int, max_lr: float | None = None) -> optax.Schedule:
    """``lr_t = min(lr · 2^{⌊t / double_every⌋}, max_lr)`` (MEOZK p19-2: "doubled at fixed steps").

    ``double_every=0`` keeps the rate constant. The rate is float32, so float32 parameters stay float32 when x64
    is on (float64 parameters stay float64).
    """
    if lr <= 0 or double_every < 0:
        raise ValueError(f"lr={lr} must be > 0 and double_every={double_every} >= 0 (0 = constant)")
    cap = np.inf if max_lr is None else float(max_lr)

    def schedule(step):
        if double_every == 0:
            return jnp.minimum(jnp.float32(lr), cap).astype(jnp.float32)
        return jnp.minimum(lr * 2.0 ** (step // double_every), cap).astype(jnp.float32)

    return schedule


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean ``−log softmax(logits)[y]`` over the rows (log-sum-exp form, stable in float32)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, jnp.asarray(labels)[:, None], axis=1))


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of rows whose arg-max is the label."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(labels))


def max_margin_loss(task: PairTask | ParityTask, *, reg: float, norm: str = "l2nu") -> LossFn:
    """``loss(params, batch, key) = CE on the whole population + reg · ‖θ‖^ν`` (notes C6-1; ``batch`` is unused).

    ``norm="l2nu"`` is MEOZK's ``Σ_i ‖ω_i‖^ν`` (what their theorems characterise); ``"l2"`` is ``‖θ‖_2^ν``.
    The aux metrics are ``ce`` and ``penalty`` (``‖θ‖^ν``). For the quadratic net on a pair task the CE is
    :func:`geomrep.algebra.models.quadratic_table_cross_entropy` (same value and gradient, hand-written VJP).
    """
    if reg < 0:
        raise ValueError(f"reg={reg} must be >= 0")
    labels = np.asarray(task.labels)

    def loss(params, batch, key):
        del batch, key
        nu = homogeneity(params, task)
        if isinstance(task, PairTask) and architecture(params) == "quadratic":
            params = as_params(params)
            if params["u"].shape[0] != task.num_symbols:
                raise ValueError(
                    f"{task.name} has {task.num_symbols} symbols but the quadratic net's input layer has "
                    f"{params['u'].shape[0]} rows"
                )
            ce = quadratic_table_cross_entropy(params, labels)
        else:
            ce = cross_entropy(population_logits(params, task), labels)
        penalty = norm_power(params, nu, norm=norm)
        return ce + reg * penalty, {"ce": ce, "penalty": penalty}

    return loss


def split_loss(task: PairTask, *, examples: np.ndarray | None = None) -> LossFn:
    """``loss(params, batch, key)`` = mean CE on ``examples`` of a pair task (default: its train split).

    The universality regime: weight decay comes from the optimizer (AdamW), not from the loss.
    """
    idx = np.asarray(task.train_idx if examples is None else examples)
    if idx.size == 0:
        raise ValueError(f"{task.name}: the loss has no examples (empty train split)")
    a, b = task.inputs[idx, 0], task.inputs[idx, 1]
    labels = task.labels[idx]

    def loss(params, batch, key):
        del batch, key
        logits = pair_logits(params, a, b)
        return cross_entropy(logits, labels), {"accuracy": accuracy(logits, labels)}

    return loss


def ccn_adamw(
    lr: float = 1e-3, *, weight_decay: float = 1.0, b1: float = 0.9, b2: float = 0.98
) -> optax.GradientTransformation:
    """AdamW as in CCN and Nanda et al. (decoupled weight decay multiplied by the lr, as in ``torch.optim.AdamW``)."""
    return optax.adamw(lr, b1=b1, b2=b2, weight_decay=weight_decay)


def init_state(params: Any, tx: optax.GradientTransformation, *, seed: int = 0) -> TrainState:
    """A :class:`geomrep.train.TrainState` over a copy of the plain parameter dict of ``params`` (dict or NNX
    module). The runners donate the state, so the copy keeps the caller's arrays (and module) alive."""
    return TrainState.create(jax.tree.map(jnp.copy, as_params(params)), tx, seed=seed)


def make_chunk_runner(
    loss_fn: LossFn, tx: optax.GradientTransformation, chunk: int
) -> Callable[[TrainState], tuple[TrainState, dict[str, jax.Array]]]:
    """``run(state) -> (state, metrics)``: ``chunk`` optimizer steps in one jitted ``lax.scan`` (state donated).

    ``metrics`` holds the last step's loss and aux values (the loss before that step's update).
    """
    if chunk < 1:
        raise ValueError(f"chunk={chunk} must be >= 1")
    scan = make_scan_steps(make_train_step(loss_fn, tx, has_aux=True), jit=False)

    def run(state):
        state, metrics = scan(state, jnp.zeros((chunk,), jnp.int8))
        return state, jax.tree.map(lambda x: x[-1], metrics)

    return jax.jit(run, donate_argnums=0)


def train(
    params: Any,
    loss_fn: LossFn,
    tx: optax.GradientTransformation,
    *,
    num_steps: int,
    eval_every: int,
    evaluate: Callable[[Any], dict[str, Any]] | None = None,
    seed: int = 0,
) -> tuple[dict[str, jax.Array], list[dict[str, Any]]]:
    """Runs ``num_steps`` steps in chunks of ``eval_every``; after each chunk records ``evaluate(params)``.

    Returns the final parameter dict and the history: one dict per chunk with ``step``, ``loss``, the loss's aux
    metrics and ``evaluate``'s values (Python floats). Raises ``FloatingPointError`` at a non-finite loss, naming
    the step (lower the lr cap).
    """
    if num_steps < 1 or eval_every < 1:
        raise ValueError(f"num_steps={num_steps} and eval_every={eval_every} must be >= 1")
    state = init_state(params, tx, seed=seed)
    runners: dict[int, Callable] = {}
    history = []
    done = 0
    while done < num_steps:
        chunk = min(eval_every, num_steps - done)
        if chunk not in runners:
            runners[chunk] = make_chunk_runner(loss_fn, tx, chunk)
        state, metrics = runners[chunk](state)
        done += chunk
        record = {"step": done, **{k: float(v) for k, v in metrics.items()}}
        if not np.isfinite(record["loss"]):
            raise FloatingPointError(
                f"non-finite loss {record['loss']} by step {done}; lower the learning rate cap"
            )
        if evaluate is not None:
            record.update({k: float(v) for k, v in evaluate(state.params).items()})
        history.append(record)
    return state.params, history
