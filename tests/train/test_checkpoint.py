"""Checkpointer: exact round trips (float64, adam, typed key), bit-identical resume, retention, kills."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from geomrep.train import Checkpointer, TrainState, jit_train_step, make_train_step, restore_or_init

REPO = Path(__file__).resolve().parents[2]


def noisy_loss(params, batch, key):
    noise = 0.1 * jax.random.normal(key, params["w"].shape, params["w"].dtype)
    return jnp.sum((params["w"] @ params["m"] - batch - noise) ** 2)


def fresh_state(tx, seed=0):
    params = {"w": jnp.linspace(-1.0, 1.0, 4), "m": jnp.eye(4) * 0.5}
    return TrainState.create(params, tx, seed=seed)


def assert_states_equal(a, b):
    leaves_a, tree_a = jax.tree.flatten(a)
    leaves_b, tree_b = jax.tree.flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b, strict=True):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            assert x.dtype == y.dtype
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_round_trip_is_exact(tmp_path):
    tx = optax.adam(1e-2)
    step = jit_train_step(make_train_step(noisy_loss, tx))
    state = fresh_state(tx)
    for _ in range(3):
        state, _ = step(state, jnp.ones(4))
    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.latest_step() is None
        assert ckpt.save(3, state)
        ckpt.wait()
        assert (tmp_path / "checkpoints" / "3").is_dir()
        restored = ckpt.restore(fresh_state(tx, seed=99))
    assert restored.params["w"].dtype == jnp.float64
    assert isinstance(restored.opt_state[0], optax.ScaleByAdamState)
    assert str(restored.key.dtype) == "key<fry>"
    assert_states_equal(restored, state)


def test_restore_into_abstract_template(tmp_path):
    tx = optax.sgd(0.1)
    state = fresh_state(tx, seed=5)
    with Checkpointer(tmp_path) as ckpt:
        ckpt.save(0, state)
        restored = ckpt.restore(jax.eval_shape(lambda: fresh_state(tx)))
    assert_states_equal(restored, state)


def test_resume_is_bit_identical(tmp_path):
    tx = optax.adam(3e-2)
    step = jit_train_step(make_train_step(noisy_loss, tx))
    batches = [jnp.full(4, float(i)) for i in range(10)]

    straight = fresh_state(tx)
    for b in batches:
        straight, _ = step(straight, b)

    first = fresh_state(tx)
    with Checkpointer(tmp_path) as ckpt:
        for b in batches[:5]:
            first, _ = step(first, b)
        ckpt.save(int(first.step), first)
        first, _ = step(first, batches[5])  # the saved arrays are donated right after save returns
    del first

    with Checkpointer(tmp_path) as ckpt:  # a new "process": nothing kept but the workdir
        resumed, restored = restore_or_init(ckpt, fresh_state(tx))
    assert restored and int(resumed.step) == 5
    for b in batches[5:]:
        resumed, _ = step(resumed, b)
    assert_states_equal(resumed, straight)


def test_restore_or_init_without_checkpoint(tmp_path):
    tx = optax.sgd(0.1)
    init = fresh_state(tx)
    state, restored = restore_or_init(tmp_path / "new", init)
    assert not restored and state is init
    with Checkpointer(tmp_path / "new") as ckpt:
        ckpt.save(7, init)
    state, restored = restore_or_init(tmp_path / "new", fresh_state(tx, seed=1))
    assert restored
    assert_states_equal(state, init)


def test_max_to_keep_save_every_and_repeated_steps(tmp_path):
    tx = optax.sgd(0.1)
    state = fresh_state(tx)
    with Checkpointer(tmp_path, max_to_keep=2) as ckpt:
        for s in range(1, 6):
            assert ckpt.save(s, state)
        ckpt.wait()
        assert ckpt.all_steps() == [4, 5]
        assert not ckpt.save(5, state)  # already saved
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["4", "5"]

    with Checkpointer(tmp_path / "every", max_to_keep=None, save_every=10) as ckpt:
        written = [s for s in range(25) if ckpt.save(s, state)]
        assert written == [0, 10, 20]
        assert ckpt.save(25, state, force=True)
        ckpt.wait()
        assert ckpt.all_steps() == [0, 10, 20, 25]


def test_mismatched_structure_is_a_clear_error(tmp_path):
    with Checkpointer(tmp_path) as ckpt:
        ckpt.save(1, {"w": jnp.zeros(3)})
        with pytest.raises(ValueError, match="does not match"):
            ckpt.restore({"w": jnp.zeros(3), "extra": jnp.zeros(2)})
        with pytest.raises(FileNotFoundError):
            Checkpointer(tmp_path / "empty").restore({"w": jnp.zeros(3)})


def test_kill_during_save_keeps_previous_checkpoint(tmp_path):
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        import jax, jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        from geomrep.train import Checkpointer
        ckpt = Checkpointer(sys.argv[1])
        ckpt.save(1, {"w": jnp.arange(5.0)})
        ckpt.wait()
        ckpt.save(2, {"w": jnp.ones(5), "big": jnp.ones(2_000_000)})  # async: returns before the write ends
        root = os.path.join(sys.argv[1], "checkpoints")
        deadline = time.time() + 30
        while not any(n.startswith("2.orbax-checkpoint-tmp") for n in os.listdir(root)):
            if os.path.exists(os.path.join(root, "2")) or time.time() > deadline:
                sys.exit(3)  # the save ended before we could interrupt it
            time.sleep(1e-4)  # wait until the write has begun, then die in the middle of it
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True)
    if proc.returncode == 3:
        pytest.skip("the save finished before the kill; nothing was interrupted")
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names[0] == "1" and len(names) == 2 and names[1].startswith("2.orbax-checkpoint-tmp"), names

    with Checkpointer(tmp_path) as ckpt:
        assert ckpt.latest_step() == 1
        restored = ckpt.restore({"w": jnp.zeros(5)})
        np.testing.assert_array_equal(restored["w"], np.arange(5.0))
        assert ckpt.save(2, {"w": jnp.full(5, 2.0)})  # the step can be written again
        ckpt.wait()
        assert ckpt.all_steps() == [1, 2]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["1", "2"]
