"""TrainState and the pure train step: descent, key folding, aux metrics, scan == loop, custom apply."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from geomrep.train import TrainState, jit_train_step, make_scan_steps, make_train_step


def quadratic_loss(params, batch, key):
    return jnp.sum((params["w"] - batch) ** 2)


def noisy_loss(params, batch, key):
    noise = 0.1 * jax.random.normal(key, params["w"].shape, params["w"].dtype)
    return jnp.sum((params["w"] - batch - noise) ** 2), {"draw": noise[0]}


def test_create_state_fields():
    tx = optax.adam(1e-2)
    state = TrainState.create({"w": jnp.zeros(3)}, tx, seed=3)
    assert state.step.dtype == jnp.int32 and int(state.step) == 0
    assert jnp.issubdtype(state.key.dtype, jax.dtypes.prng_key)
    raw = TrainState.create({"w": jnp.zeros(3)}, tx, jax.random.PRNGKey(3))
    np.testing.assert_array_equal(jax.random.key_data(raw.key), jax.random.key_data(state.key))
    with pytest.raises(ValueError, match="key or a seed"):
        TrainState.create({"w": jnp.zeros(3)}, tx)


def test_step_decreases_quadratic_loss():
    tx = optax.sgd(0.1)
    step = jit_train_step(make_train_step(quadratic_loss, tx))
    state = TrainState.create({"w": jnp.zeros(4)}, tx, seed=0)
    target = jnp.arange(4.0)
    losses = []
    for _ in range(20):
        state, metrics = step(state, target)
        losses.append(float(metrics["loss"]))
    assert int(state.step) == 20
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 1e-3 * losses[0]
    assert state.params["w"].dtype == jnp.float64


def test_key_is_folded_with_step_and_runs_are_deterministic():
    tx = optax.adam(1e-2)
    step = make_train_step(noisy_loss, tx, has_aux=True)
    init = TrainState.create({"w": jnp.zeros(3)}, tx, seed=7)
    runs = []
    for _ in range(2):
        state = init
        draws = []
        for _ in range(4):
            state, metrics = jax.jit(step)(state, jnp.ones(3))
            draws.append(metrics["draw"])
        runs.append((state, draws))
    np.testing.assert_array_equal(runs[0][0].params["w"], runs[1][0].params["w"])
    for s, draw in enumerate(runs[0][1]):
        expected = 0.1 * jax.random.normal(jax.random.fold_in(init.key, s), (3,), jnp.float64)[0]
        np.testing.assert_allclose(draw, expected, rtol=1e-12)
    assert len({float(d) for d in runs[0][1]}) == 4  # a fresh draw each step
    assert set(metrics) == {"loss", "draw"}


def test_scan_equals_loop():
    tx = optax.adam(0.05)
    step = make_train_step(noisy_loss, tx, has_aux=True)
    init = TrainState.create({"w": jnp.zeros(3)}, tx, seed=1)
    batches = jnp.arange(15.0).reshape(5, 3)
    looped = init
    jitted = jax.jit(step)
    for b in batches:
        looped, _ = jitted(looped, b)
    scanned, metrics = make_scan_steps(step)(init, batches)
    assert int(scanned.step) == 5 and metrics["loss"].shape == (5,)
    np.testing.assert_allclose(scanned.params["w"], looped.params["w"], rtol=1e-13, atol=1e-15)


def test_custom_apply_updates_is_used():
    def sphere_apply(params, updates):  # a retraction onto the unit sphere
        moved = optax.apply_updates(params, updates)
        return jax.tree.map(lambda x: x / jnp.linalg.norm(x, axis=-1, keepdims=True), moved)

    tx = optax.sgd(0.3)
    step = jit_train_step(make_train_step(quadratic_loss, tx, sphere_apply))
    state = TrainState.create({"w": jnp.array([[1.0, 0.0, 0.0]])}, tx, seed=0)
    for _ in range(30):
        state, _ = step(state, jnp.array([[0.0, 0.0, 2.0]]))
    np.testing.assert_allclose(jnp.linalg.norm(state.params["w"], axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(state.params["w"], [[0.0, 0.0, 1.0]], atol=1e-6)


def test_aux_must_be_a_dict_without_loss():
    tx = optax.sgd(0.1)
    state = TrainState.create({"w": jnp.zeros(2)}, tx, seed=0)
    bad = make_train_step(lambda p, b, k: (jnp.sum(p["w"] ** 2), 1.0), tx, has_aux=True)
    with pytest.raises(TypeError, match="dict"):
        bad(state, None)
    clash = make_train_step(lambda p, b, k: (jnp.sum(p["w"] ** 2), {"loss": 1.0}), tx, has_aux=True)
    with pytest.raises(ValueError, match="'loss'"):
        clash(state, None)


def test_labels_instead_of_apply_updates_is_a_clear_error():
    with pytest.raises(TypeError, match="functools.partial"):
        make_train_step(quadratic_loss, optax.sgd(0.1), {"w": "PoincareBall"})
