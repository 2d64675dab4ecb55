"""Mesh helpers on the one real CPU device, and data parallelism on 8 fake CPU devices (a subprocess)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

from geomrep.train import data_parallel_mesh, replicate, shard_batch, shard_rows

REPO = Path(__file__).resolve().parents[2]


def test_single_device_mesh():
    mesh = data_parallel_mesh()
    assert mesh.axis_names == ("data",) and mesh.size == jax.device_count()
    batch = shard_batch({"x": np.ones((4, 3)), "y": np.zeros(4)}, mesh)
    assert batch["x"].shape == (4, 3) and batch["x"].sharding.spec == jax.sharding.PartitionSpec("data")
    table = shard_rows(np.ones((6, 2)), mesh)
    assert table.shape == (6, 2)
    params = replicate({"w": np.ones(3), "key": jax.random.key(0)}, mesh)
    assert params["w"].sharding.is_fully_replicated
    n = jax.device_count()
    with pytest.raises(ValueError, match=f"{n + 1} devices; {n} available"):
        data_parallel_mesh(n + 1)


EIGHT_DEVICE_BODY = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp, numpy as np, optax, pytest
    jax.config.update("jax_enable_x64", True)
    from geomrep.train import (Checkpointer, TrainState, data_parallel_mesh, jit_train_step, make_scan_steps,
                               make_train_step, replicate, shard_batch, shard_rows)

    assert jax.device_count() == 8, jax.devices()
    mesh = data_parallel_mesh()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    y = x @ np.arange(1.0, 6.0) + 0.01 * rng.normal(size=64)

    def loss_fn(params, batch, key):
        xb, yb = batch
        return jnp.mean((xb @ params["w"] + params["b"] - yb) ** 2)

    tx = optax.sgd(0.05)
    step = make_train_step(loss_fn, tx)
    init = lambda: TrainState.create({"w": jnp.zeros(5), "b": jnp.zeros(())}, tx, seed=0)

    single = init()
    jitted = jit_train_step(step)
    for _ in range(20):
        single, metrics = jitted(single, (jnp.asarray(x), jnp.asarray(y)))
        float(metrics["loss"])

    sharded_batch = shard_batch((x, y), mesh)
    assert sharded_batch[0].addressable_shards[0].data.shape == (8, 5)
    parallel = replicate(init(), mesh)
    jitted = jit_train_step(step)
    for _ in range(20):
        parallel, metrics = jitted(parallel, sharded_batch)
        float(metrics["loss"])  # block every step: fake CPU devices deadlock otherwise
    assert len(parallel.params["w"].sharding.device_set) == 8
    for name in ("w", "b"):
        np.testing.assert_allclose(parallel.params[name], single.params[name], rtol=1e-12, atol=1e-14)

    stacked = shard_batch((np.stack([x] * 20), np.stack([y] * 20)), mesh, axis=1)
    assert stacked[0].addressable_shards[0].data.shape == (20, 8, 5)
    scanned, metrics = make_scan_steps(step)(replicate(init(), mesh), stacked)
    assert metrics["loss"].shape == (20,)
    np.testing.assert_allclose(scanned.params["w"], single.params["w"], rtol=1e-12, atol=1e-14)

    table = shard_rows(np.arange(32.0).reshape(16, 2), mesh)
    assert [s.data.shape for s in table.addressable_shards] == [(2, 2)] * 8
    gathered = jax.jit(lambda t, i: t[i])(table, jnp.array([0, 15, 7]))
    np.testing.assert_array_equal(gathered, np.arange(32.0).reshape(16, 2)[[0, 15, 7]])
    with pytest.raises(ValueError, match="not divisible by the 8 devices"):
        shard_rows(np.zeros((10, 2)), mesh)
    with pytest.raises(ValueError, match="not divisible by the 8 devices"):
        shard_batch({"x": np.zeros((12, 2))}, mesh)

    # A sharded state (row-sharded table, replicated key) restores onto the template's shardings.
    state = parallel.replace(params={**parallel.params, "table": table})
    template = state.replace(
        params=jax.tree.map(jnp.zeros_like, state.params), key=replicate(jax.random.key(9), mesh)
    )
    with Checkpointer(sys.argv[1]) as ckpt:
        ckpt.save(20, state)
        restored = ckpt.restore(template)
    assert restored.params["table"].sharding.spec == jax.sharding.PartitionSpec("data")
    assert restored.key.dtype == state.key.dtype and len(restored.key.sharding.device_set) == 8
    np.testing.assert_array_equal(restored.params["table"], state.params["table"])
    np.testing.assert_array_equal(restored.params["w"], state.params["w"])
    np.testing.assert_array_equal(jax.random.key_data(restored.key), jax.random.key_data(state.key))
    print("EIGHT_DEVICES_OK")
    """
)


def test_data_parallel_on_eight_fake_devices_matches_one_device(tmp_path):
    env = {
        **os.environ,
        "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip(),
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-c", EIGHT_DEVICE_BODY, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "EIGHT_DEVICES_OK" in proc.stdout
