"""Riemannian SGD (Bonnabel 2013; the update of Nickel & Kiela 2017, eq. 5) as an optax transformation."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from geomrep.optim._common import check_learning_rate, learning_rate_at, unzip_tree
from geomrep.optim.labels import broadcast_manifolds


class RSGDState(NamedTuple):
    """State of :func:`rsgd`: step count and the momentum buffer (tangent at the current params, or None)."""

    count: jax.Array
    momentum: Any


def rsgd(
    learning_rate,
    manifolds,
    *,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> optax.GradientTransformation:
    """Riemannian SGD with optional momentum, as in ``geoopt.optim.RiemannianSGD``.

    Per leaf ``x`` on manifold ``M`` with Euclidean gradient ``g``::

        r   = M.egrad2rgrad(x, g + weight_decay * x)          # λ_x^{-2} g on the Poincaré ball
        buf = momentum * buf + (1 - dampening) * r            # (buf = r at the first step)
        d   = r + momentum * buf if nesterov else buf         # (d = r without momentum)
        u   = -lr * d                                         # the update (optax sign convention)
        buf = M.transp(x, proj(expmap_x(u)), buf)             # momentum moves with the point

    ``apply_updates(params, u, manifolds)`` then takes ``x <- proj(expmap_x(u))``; with momentum the transport
    target is computed here too, so this transformation must be the last one in an ``optax.chain``
    (clipping and scaling of the Euclidean gradients go before it).

    Args:
      learning_rate: a positive float or an optax schedule ``count -> lr``.
      manifolds: label pytree (parallel to or a prefix of the params).
      momentum, dampening, nesterov, weight_decay: as in ``torch.optim.SGD`` / geoopt.

    Returns:
      An ``optax.GradientTransformation``.
    """
    check_learning_rate(learning_rate)
    if momentum < 0:
        raise ValueError(f"momentum must be >= 0; got {momentum}")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")

    def init_fn(params):
        buf = jax.tree.map(jnp.zeros_like, params) if momentum > 0 else None
        return RSGDState(count=jnp.zeros([], jnp.int32), momentum=buf)

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("rsgd needs the current params: tx.update(grads, state, params)")
        labels = broadcast_manifolds(manifolds, params)
        lr = learning_rate_at(learning_rate, state.count)

        def rgrad(m, x, g):
            if weight_decay:
                g = g + weight_decay * x
            return m.egrad2rgrad(x, g)

        r = jax.tree.map(rgrad, labels, params, grads)
        if momentum <= 0:
            updates = jax.tree.map(lambda x, d: (-lr * d).astype(x.dtype), params, r)
            return updates, RSGDState(count=optax.safe_increment(state.count), momentum=None)

        first = state.count == 0

        def step(m, x, d, buf):
            buf = jnp.where(first, d, momentum * buf + (1.0 - dampening) * d)
            direction = d + momentum * buf if nesterov else buf
            u = (-lr * direction).astype(x.dtype)
            x_new = m.proj(m.expmap(x, u))
            return u, m.transp(x, x_new, buf).astype(x.dtype)

        out = jax.tree.map(step, labels, params, r, state.momentum)
        updates, bufs = unzip_tree(params, out)
        return updates, RSGDState(count=optax.safe_increment(state.count), momentum=bufs)

    return optax.GradientTransformation(init_fn, update_fn)
