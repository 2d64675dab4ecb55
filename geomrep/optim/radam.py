"""Riemannian Adam (Bécigneul & Ganea 2019, "Riemannian Adaptive Optimization Methods", Alg. 1)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from geomrep.optim._common import (
    check_learning_rate,
    learning_rate_at,
    second_moment,
    second_moment_shape,
    unzip_tree,
)
from geomrep.optim.labels import broadcast_manifolds


class RAdamState(NamedTuple):
    """State of :func:`radam`: count, first moments (tangent vectors), second moments, running max (amsgrad)."""

    count: jax.Array
    mu: Any
    nu: Any
    nu_max: Any


def radam(
    learning_rate,
    manifolds,
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> optax.GradientTransformation:
    """Riemannian Adam, as in ``geoopt.optim.RiemannianAdam``.

    Per leaf ``x`` on ``M`` with Euclidean gradient ``g`` at step ``t`` (1-based)::

        r  = M.egrad2rgrad(x, g + weight_decay * x)
        m  = b1 * m + (1 - b1) * r                    # tangent at x
        v  = b2 * v + (1 - b2) * <r, r>_x              # one scalar per point (elementwise on Euclidean leaves)
        u  = -lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
        m  = M.transp(x, proj(expmap_x(u)), m)         # first moment moves with the point

    On ``Euclidean()`` leaves this is exactly Adam. Must be the last transformation of an ``optax.chain``.

    Args:
      learning_rate: a positive float or an optax schedule.
      manifolds: label pytree (parallel to or a prefix of the params).
      b1, b2, eps, weight_decay, amsgrad: as in ``torch.optim.Adam`` / geoopt.
    """
    check_learning_rate(learning_rate)

    def init_fn(params):
        labels = broadcast_manifolds(manifolds, params)
        mu = jax.tree.map(jnp.zeros_like, params)
        nu = jax.tree.map(lambda m, x: jnp.zeros(second_moment_shape(m, x), x.dtype), labels, params)
        nu_max = jax.tree.map(jnp.zeros_like, nu) if amsgrad else None
        return RAdamState(count=jnp.zeros([], jnp.int32), mu=mu, nu=nu, nu_max=nu_max)

    def update_fn(grads, state, params=None):
        if params is None:
            raise ValueError("radam needs the current params: tx.update(grads, state, params)")
        labels = broadcast_manifolds(manifolds, params)
        count = optax.safe_increment(state.count)
        lr = learning_rate_at(learning_rate, state.count)
        nu_max = state.nu_max if amsgrad else state.nu  # placeholder, unused without amsgrad

        def step(m, x, g, mu, nu, nmax):
            if weight_decay:
                g = g + weight_decay * x
            r = m.egrad2rgrad(x, g)
            mu = b1 * mu + (1.0 - b1) * r
            nu = b2 * nu + (1.0 - b2) * second_moment(m, x, r)
            if amsgrad:
                nmax = jnp.maximum(nmax, nu)
                denom_nu = nmax
            else:
                denom_nu = nu
            bc1 = 1.0 - b1 ** count.astype(x.dtype)
            bc2 = 1.0 - b2 ** count.astype(x.dtype)
            u = (-lr * (mu / bc1) / (jnp.sqrt(denom_nu / bc2) + eps)).astype(x.dtype)
            x_new = m.proj(m.expmap(x, u))
            return u, m.transp(x, x_new, mu).astype(x.dtype), nu.astype(x.dtype), nmax

        out = jax.tree.map(step, labels, params, grads, state.mu, state.nu, nu_max)
        u, mu, nu, nmax = unzip_tree(params, out)
        return u, RAdamState(count=count, mu=mu, nu=nu, nu_max=nmax if amsgrad else None)

    return optax.GradientTransformation(init_fn, update_fn)
