"""geomrep.train (L3): train state, pure jitted steps, checkpoints, metrics, progress, sharding, configs.

A run (see DESIGN.md, "How data flows through a run")::

    state, resumed = restore_or_init(ckpt, TrainState.create(params, tx, seed=config.seed))
    step = jit_train_step(make_train_step(loss_fn, tx, apply_updates))
    state, metrics = step(state, batch)
    ckpt.save(int(state.step), state); writer.write(int(state.step), metrics)

Nothing else in geomrep imports this package.
"""

from geomrep.train.checkpoint import Checkpointer, restore_or_init
from geomrep.train.config import (
    ConfigError,
    apply_overrides,
    check_workdir_config,
    config_to_json,
    load_config,
    parse_value,
)
from geomrep.train.mesh import data_parallel_mesh, replicate, shard_batch, shard_rows
from geomrep.train.metrics import MetricsWriter, read_metrics
from geomrep.train.progress import PlainProgress, progress_bar
from geomrep.train.state import TrainState
from geomrep.train.step import jit_train_step, make_scan_steps, make_train_step

__all__ = [
    "Checkpointer",
    "ConfigError",
    "MetricsWriter",
    "PlainProgress",
    "TrainState",
    "apply_overrides",
    "check_workdir_config",
    "config_to_json",
    "data_parallel_mesh",
    "jit_train_step",
    "load_config",
    "make_scan_steps",
    "make_train_step",
    "parse_value",
    "progress_bar",
    "read_metrics",
    "replicate",
    "restore_or_init",
    "shard_batch",
    "shard_rows",
]
