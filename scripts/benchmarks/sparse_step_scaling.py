"""Benchmark: cost of one Riemannian Adam step on an embedding table, row-sparse vs dense, as the table grows.

Command (from the repository root)::

    python scripts/benchmarks/sparse_step_scaling.py [--rows 10000,100000,1000000,10000000] [--dim 10]

Each step touches the rows of one minibatch of the Poincaré trainer: 512 pairs × (2 + 50 negatives) = 26,624
indices drawn uniformly (with repeats). The row-sparse step (``geomrep.optim.sparse_radam``) gathers those rows,
sums repeated ones (O(N), no sort) and writes back only them and their moments; the dense step
(``geomrep.optim.radam`` + ``apply_updates``, i.e. what an optax-style optimizer does) scatters the row
gradients into a table-sized gradient and updates every row and every moment. Both run jitted in float32 with
the table and optimizer state donated; the figure is the median of 20 steps after a warm-up. The ratio
dense / sparse is printed per table size: the sparse step should stay flat while the dense one grows with the
table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp

from geomrep import optim
from geomrep.manifolds import PoincareBall

TOUCHED = 512 * 52


def _median_step_seconds(step, carry, idx, grads, reps=20):
    carry = step(*carry, idx, grads)
    jax.block_until_ready(carry)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        carry = step(*carry, idx, grads)
        jax.block_until_ready(carry)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000,10000000")
    parser.add_argument("--dim", type=int, default=10)
    args = parser.parse_args()
    ball = PoincareBall(1.0)
    print(
        f"jax {jax.__version__}, {jax.devices()[0].platform}, float32, dim {args.dim}, {TOUCHED} indices/step"
    )
    print(f"{'rows':>10} {'sparse ms':>10} {'dense ms':>10} {'dense/sparse':>13}")
    sparse = optim.sparse_radam(1e-2, ball)
    dense = optim.radam(1e-2, ball)

    def dense_update(t, s, i, g):
        full = jnp.zeros_like(t).at[i].add(g)
        updates, s = dense.update(full, s, t)
        return optim.apply_updates(t, updates, ball), s

    sparse_step = jax.jit(lambda t, s, i, g: sparse.update(g, i, s, t), donate_argnums=(0, 1))
    dense_step = jax.jit(dense_update, donate_argnums=(0, 1))
    for n in (int(r) for r in args.rows.split(",")):
        table = ball.random(jax.random.key(0), (n, args.dim), jnp.float32, std=0.5)
        idx = jax.random.randint(jax.random.key(1), (TOUCHED,), 0, n)
        grads = 1e-3 * jax.random.normal(jax.random.key(2), (TOUCHED, args.dim), jnp.float32)

        t_sparse = _median_step_seconds(sparse_step, (table, sparse.init(table)), idx, grads)

        table = ball.random(jax.random.key(0), (n, args.dim), jnp.float32, std=0.5)
        t_dense = _median_step_seconds(dense_step, (table, dense.init(table)), idx, grads)
        print(
            f"{n:>10} {t_sparse * 1e3:>10.2f} {t_dense * 1e3:>10.2f} {t_dense / t_sparse:>12.1f}x", flush=True
        )
        del table


if __name__ == "__main__":
    main()
