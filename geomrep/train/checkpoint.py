"""Checkpoints of a whole training state under ``WORKDIR/checkpoints/<step>/`` (orbax, atomic).

One helper, :class:`Checkpointer`, wraps orbax's v0 ``CheckpointManager`` with ``StandardSave`` /
``StandardRestore`` (the API measured in notes/stack.md). Orbax writes each step into a temporary
directory and renames it when complete, so a run killed mid-save leaves the earlier checkpoints
intact; leftover temporary directories are removed when the next :class:`Checkpointer` opens.

Typed PRNG keys (``jax.random.key``) are stored as their raw ``key_data`` (uint32) and wrapped again
with the implementation of the template's key on restore, so they round-trip on every orbax version.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from etils import epath

T = TypeVar("T")


def _is_typed_key(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key)


def _keys_to_data(tree: Any) -> Any:
    """Replaces each typed-key leaf by its uint32 key data (abstract leaves stay abstract)."""

    def convert(x):
        if not _is_typed_key(x):
            return x
        if isinstance(x, jax.ShapeDtypeStruct):
            return jax.eval_shape(jax.random.key_data, x)
        return jax.random.key_data(x)

    return jax.tree.map(convert, tree)


def _data_to_keys(restored: Any, template: Any) -> Any:
    """Wraps key data back into typed keys wherever ``template`` holds a typed key."""

    def convert(data, like):
        if not _is_typed_key(like):
            return data
        # An abstract template (ShapeDtypeStruct) carries the implementation only in its dtype.
        impl = like.dtype._impl if isinstance(like, jax.ShapeDtypeStruct) else jax.random.key_impl(like)
        return jax.random.wrap_key_data(data, impl=impl)

    return jax.tree.map(convert, restored, template)


def _abstract(x: Any) -> Any:
    if isinstance(x, jax.ShapeDtypeStruct):
        return x
    return ocp.utils.to_shape_dtype_struct(x)


class Checkpointer:
    """Saves and restores a state pytree under ``WORKDIR/checkpoints/<step>/``.

    Args:
      workdir: the run's directory (created if missing); checkpoints go into its ``checkpoints/``.
      max_to_keep: how many of the latest checkpoints to keep (``None`` keeps all).
      save_every: ``save(step, ...)`` writes only when ``step % save_every == 0`` (or ``force=True``),
        so a loop can call ``save`` every step.
      async_save: write in a background thread (``save`` returns once the arrays are copied to host
        memory); ``wait()`` blocks until the write is committed.

    Example:
      >>> with Checkpointer(workdir, max_to_keep=2) as ckpt:        # doctest: +SKIP
      ...     state, restored = restore_or_init(ckpt, state)
      ...     for ...:
      ...         state, metrics = step(state, batch)
      ...         ckpt.save(int(state.step), state)
    """

    def __init__(
        self,
        workdir: str | os.PathLike,
        *,
        max_to_keep: int | None = 2,
        save_every: int = 1,
        async_save: bool = True,
    ):
        self.workdir = epath.Path(os.path.abspath(os.fspath(workdir)))
        self.directory = self.workdir / "checkpoints"
        options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep,
            save_interval_steps=save_every,
            create=True,
            cleanup_tmp_directories=True,
            enable_async_checkpointing=async_save,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        """The newest committed checkpoint step, or ``None`` if there is none."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """All committed checkpoint steps, ascending."""
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: Any, *, force: bool = False) -> bool:
        """Saves ``state`` as checkpoint ``step``; returns whether a checkpoint was written.

        Nothing is written when ``step`` is already saved, or when ``step`` is not a multiple of
        ``save_every`` and ``force`` is false. Older checkpoints beyond ``max_to_keep`` are removed
        after the new one is committed. Donating ``state`` to the next jitted step right after
        ``save`` returns is safe.
        """
        step = int(step)
        if step in self._manager.all_steps():
            return False
        return self._manager.save(step, args=ocp.args.StandardSave(_keys_to_data(state)), force=force)

    def restore(self, state_template: T, step: int | None = None) -> T:
        """Restores checkpoint ``step`` (default: the latest) into the structure of ``state_template``.

        ``state_template`` is a state of the same structure (e.g. the freshly initialised one) or its
        ``jax.ShapeDtypeStruct`` version; its leaves fix the dtypes, shapes and shardings of the result.
        Raises ``FileNotFoundError`` when there is no checkpoint and ``ValueError`` when the
        checkpoint's structure differs from the template's (e.g. written under another config).
        """
        if step is None:
            step = self.latest_step()
            if step is None:
                raise FileNotFoundError(f"no checkpoint in {self.directory}")
        self.wait()
        abstract = jax.tree.map(_abstract, _keys_to_data(state_template))
        try:
            restored = self._manager.restore(int(step), args=ocp.args.StandardRestore(abstract))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"checkpoint {self.directory / str(step)} does not match the state being restored "
                f"(was it written by a run with another config?): {err}"
            ) from err
        return _data_to_keys(restored, state_template)

    def wait(self) -> None:
        """Blocks until every pending save is committed to disk."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Waits for pending saves and releases the manager's threads."""
        self._manager.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def restore_or_init(
    workdir_or_checkpointer: str | os.PathLike | Checkpointer, init_state: T
) -> tuple[T, bool]:
    """Resumes from the latest checkpoint in a workdir, or starts from ``init_state``.

    Args:
      workdir_or_checkpointer: a workdir path (a temporary :class:`Checkpointer` is opened and closed)
        or an open :class:`Checkpointer`.
      init_state: the freshly initialised state; it is returned unchanged when there is no
        checkpoint, and serves as the restore template otherwise.

    Returns:
      ``(state, restored)``: ``restored`` is True when the state came from a checkpoint.

    Example:
      >>> state, resumed = restore_or_init(workdir, TrainState.create(params, tx, seed=0))  # doctest: +SKIP
    """
    if isinstance(workdir_or_checkpointer, Checkpointer):
        ckpt = workdir_or_checkpointer
        if ckpt.latest_step() is None:
            return init_state, False
        return ckpt.restore(init_state), True
    with Checkpointer(workdir_or_checkpointer) as ckpt:
        return restore_or_init(ckpt, init_state)
