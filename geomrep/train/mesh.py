"""Data-parallel meshes and shardings: the same step runs on 1 CPU, 8 fake CPU devices, a GPU or a TPU pod.

The mesh has one axis (``"data"``). Batches are split along their leading axis, the train state is
replicated, and embedding tables can be split by row. The mesh axis is of type ``Auto``, so the jitted
step needs no sharding annotations: XLA inserts the gradient all-reduce.

Trap (notes/stack.md): on fake CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``),
dispatching 64+ collective steps without a sync deadlocks. Block on a result at least every 32 steps
(``float(metrics["loss"])``) or run many steps inside one jit with ``make_scan_steps``.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


def data_parallel_mesh(num_devices: int | None = None, axis_name: str = "data") -> Mesh:
    """A 1-D mesh over the first ``num_devices`` devices (default: all, across all hosts).

    Example:
      >>> mesh = data_parallel_mesh()
      >>> mesh.axis_names
      ('data',)
    """
    available = jax.device_count()
    num_devices = available if num_devices is None else int(num_devices)
    if not 1 <= num_devices <= available:
        raise ValueError(f"asked for a mesh of {num_devices} devices; {available} available")
    return jax.make_mesh(
        (num_devices,),
        (axis_name,),
        axis_types=(jax.sharding.AxisType.Auto,),
        devices=jax.devices()[:num_devices],
    )


def _check_divisible(tree: Any, axis: int, parts: int, what: str) -> None:
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        shape = np.shape(leaf)
        if len(shape) <= axis or shape[axis] % parts:
            name = jax.tree_util.keystr(path) or "the array"
            raise ValueError(
                f"cannot {what}: {name} has shape {shape}, whose axis {axis} is not divisible "
                f"by the {parts} devices of the mesh"
            )


def shard_batch(batch: Any, mesh: Mesh, axis_name: str = "data", *, axis: int = 0) -> Any:
    """Splits every leaf of ``batch`` along ``axis`` across the mesh's ``axis_name`` devices.

    ``batch`` is this process's data: on one host the global batch; on several hosts each process passes
    its own slice and the result is the global array (``jax.make_array_from_process_local_data``).
    Use ``axis=1`` for the stacked batches of ``make_scan_steps`` (shape ``(num_steps, batch, ...)``).

    Example:
      >>> mesh = data_parallel_mesh()
      >>> x = shard_batch(np.zeros((8, 3)), mesh)
      >>> x.shape
      (8, 3)
    """
    parts = mesh.shape[axis_name] // jax.process_count()
    _check_divisible(batch, axis, parts, "shard the batch")
    sharding = NamedSharding(mesh, P(*([None] * axis), axis_name))
    if jax.process_count() == 1:
        return jax.device_put(batch, sharding)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), batch)


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Puts a full copy of every leaf (params, optimizer state, PRNG key, ...) on every mesh device."""
    return jax.device_put(tree, NamedSharding(mesh, P()))


def shard_rows(table: Any, mesh: Mesh, axis_name: str = "data") -> Any:
    """Splits an embedding table (or a pytree of them) by row across the mesh's ``axis_name`` devices.

    A ``(num_rows, dim)`` table becomes one array whose device ``i`` holds rows
    ``[i * num_rows / n, (i + 1) * num_rows / n)``; ``num_rows`` must be divisible by the device count
    (pad the table if needed). Row gathers inside a jitted step then work unchanged.
    """
    _check_divisible(table, 0, mesh.shape[axis_name], "shard the table by row")
    return jax.device_put(table, NamedSharding(mesh, P(axis_name)))
