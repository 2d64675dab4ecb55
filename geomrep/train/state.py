"""The training state: one pytree that holds everything a resumed run needs."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct


@struct.dataclass
class TrainState:
    """Everything that changes during training, as one pytree (checkpointed as a whole).

    Attributes:
      step: int32 scalar array, the number of optimizer steps taken so far.
      params: any pytree of arrays (a dict, a NamedTuple, or the state half of ``nnx.split``).
      opt_state: the optax state of ``tx.init(params)``.
      key: a typed PRNG key (``jax.random.key``); each step uses ``fold_in(key, step)``, so the
        key itself never changes and a restored run draws the same numbers as an uninterrupted one.

    Being a ``flax.struct.dataclass`` it has ``.replace(**fields)`` and passes through ``jax.jit``,
    ``lax.scan`` and orbax unchanged.

    Example:
      >>> import optax, jax.numpy as jnp
      >>> tx = optax.sgd(0.1)
      >>> state = TrainState.create({"w": jnp.zeros(3)}, tx, seed=0)
      >>> int(state.step)
      0
    """

    step: jax.Array
    params: Any
    opt_state: Any
    key: jax.Array

    @classmethod
    def create(
        cls,
        params: Any,
        tx: optax.GradientTransformation,
        key: jax.Array | None = None,
        *,
        seed: int | None = None,
        step: int = 0,
    ) -> TrainState:
        """A fresh state: ``step`` as an int32 array, ``opt_state = tx.init(params)``.

        Args:
          params: the initial parameter pytree.
          tx: the optimizer (any ``optax.GradientTransformation``, e.g. ``geomrep.optim.rsgd``).
          key: a PRNG key; a raw ``uint32[2]`` key is wrapped into a typed one. Give ``key`` or ``seed``.
          seed: an int, used as ``jax.random.key(seed)`` when ``key`` is not given.
          step: the starting step (0 for a new run).
        """
        if key is None:
            if seed is None:
                raise ValueError("TrainState.create needs a PRNG key or a seed")
            key = jax.random.key(seed)
        elif not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.wrap_key_data(key)
        return cls(step=jnp.asarray(step, jnp.int32), params=params, opt_state=tx.init(params), key=key)
