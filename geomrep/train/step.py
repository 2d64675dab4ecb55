"""The pure train step ``state, batch -> state, metrics`` and its jitted / scanned forms."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import optax

from geomrep.train.state import TrainState

Metrics = dict[str, jax.Array]
StepFn = Callable[[TrainState, Any], tuple[TrainState, Metrics]]


def make_train_step(
    loss_fn: Callable[..., Any],
    tx: optax.GradientTransformation,
    apply_updates: Callable[[Any, Any], Any] = optax.apply_updates,
    *,
    has_aux: bool = False,
) -> StepFn:
    """Builds the pure step ``step(state, batch) -> (state, metrics)``.

    One step is::

        key            = jax.random.fold_in(state.key, state.step)
        loss, grads    = jax.value_and_grad(loss_fn)(state.params, batch, key)
        updates, opt   = tx.update(grads, state.opt_state, state.params)
        params         = apply_updates(state.params, updates)
        step           = state.step + 1

    The key depends only on ``(state.key, state.step)``, so a run restored from a checkpoint at step
    ``s`` draws exactly the numbers an uninterrupted run draws from step ``s`` on.

    Args:
      loss_fn: ``loss_fn(params, batch, key) -> loss`` (a scalar), or ``-> (loss, aux)`` with
        ``has_aux=True`` where ``aux`` is a dict of scalars/arrays reported as metrics.
      tx: an ``optax.GradientTransformation`` (for Riemannian optimizers, ``grads`` are Euclidean
        gradients and the transformation converts them).
      apply_updates: ``(params, updates) -> params``; ``optax.apply_updates`` (addition) by default.
        On manifolds pass the retraction, e.g.
        ``functools.partial(geomrep.optim.apply_updates, manifolds=labels)``.
      has_aux: whether ``loss_fn`` returns ``(loss, aux)``.

    Returns:
      ``step(state, batch) -> (new_state, metrics)`` with ``metrics = {"loss": loss, **aux}``.
      It is not jitted: use :func:`jit_train_step` or :func:`make_scan_steps`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> loss = lambda p, batch, key: jnp.sum((p["w"] - batch) ** 2)
      >>> tx = optax.sgd(0.1)
      >>> step = jit_train_step(make_train_step(loss, tx))
      >>> state = TrainState.create({"w": jnp.zeros(2)}, tx, seed=0)
      >>> state, metrics = step(state, jnp.ones(2))
      >>> float(metrics["loss"]), int(state.step)
      (2.0, 1)
    """
    if not callable(apply_updates):
        raise TypeError(
            "apply_updates must be a callable (params, updates) -> params, got "
            f"{type(apply_updates).__name__}; for manifold parameters pass "
            "functools.partial(geomrep.optim.apply_updates, manifolds=labels)"
        )

    def train_step(state: TrainState, batch: Any) -> tuple[TrainState, Metrics]:
        key = jax.random.fold_in(state.key, state.step)
        if has_aux:
            (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
            if not isinstance(aux, Mapping):
                raise TypeError(f"with has_aux=True, loss_fn must return (loss, dict); got aux {type(aux)}")
            if "loss" in aux:
                raise ValueError("aux metrics must not contain the key 'loss' (it is the loss itself)")
        else:
            loss, grads = jax.value_and_grad(loss_fn)(state.params, batch, key)
            aux = {}
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = apply_updates(state.params, updates)
        new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
        return new_state, {"loss": loss, **aux}

    return train_step


def jit_train_step(step: StepFn) -> StepFn:
    """``jax.jit(step, donate_argnums=0)``: the input state's buffers are reused for the output.

    After ``state, metrics = jitted(state, batch)`` the old state must not be used again (its arrays
    are deleted where the backend supports donation). Save checkpoints *before* the next step call:
    orbax copies the arrays to host memory before ``save`` returns.
    """
    return jax.jit(step, donate_argnums=0)


def make_scan_steps(step: StepFn, *, jit: bool = True, unroll: int = 1) -> StepFn:
    """Runs many steps in one call: ``lax.scan`` of ``step`` over a stacked batch.

    ``run(state, batches) -> (state, metrics)`` where every leaf of ``batches`` has a leading axis of
    length ``num_steps`` (leaf shape ``(num_steps, *batch_leaf_shape)``) and every leaf of the
    returned ``metrics`` has shape ``(num_steps, *metric_shape)``. The result equals ``num_steps``
    calls of ``step``. One dispatch per call removes per-step Python overhead (the fast path on CPU)
    and keeps fake multi-device CPU runs clear of the collective deadlock (see notes/stack.md).

    Args:
      step: a step from :func:`make_train_step` (not jitted).
      jit: jit the scan with the state donated (default); ``False`` returns the plain function, e.g.
        to nest it in a bigger jitted function.
      unroll: passed to ``lax.scan``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> loss = lambda p, batch, key: jnp.sum((p - batch) ** 2)
      >>> tx = optax.sgd(0.1)
      >>> run = make_scan_steps(make_train_step(loss, tx))
      >>> state = TrainState.create(jnp.zeros(2), tx, seed=0)
      >>> state, metrics = run(state, jnp.ones((5, 2)))
      >>> int(state.step), metrics["loss"].shape
      (5, (5,))
    """

    def run(state: TrainState, batches: Any) -> tuple[TrainState, Metrics]:
        return jax.lax.scan(step, state, batches, unroll=unroll)

    return jax.jit(run, donate_argnums=0) if jit else run
