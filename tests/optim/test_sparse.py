"""Row-sparse optimizers: coalescing, agreement with the dense optimizers, untouched rows untouched."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep import optim
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall


def test_coalesce_rows_sums_duplicates_and_pads_out_of_range():
    idx = jnp.array([[3, 1], [3, 3]])
    g = jnp.arange(8.0).reshape(2, 2, 2)
    slots = jnp.full((5,), 7, jnp.int32)  # stale scratch contents must not matter
    rows, summed, _ = optim.coalesce_rows(idx, g, slots)
    rows, summed = np.asarray(rows), np.asarray(summed)
    assert sorted(rows[:2].tolist()) == [1, 3] and rows[2:].tolist() == [5, 5]  # distinct rows, then padding
    np.testing.assert_array_equal(summed[rows == 1][0], g[0, 1])
    np.testing.assert_array_equal(summed[rows == 3][0], g[0, 0] + g[1, 0] + g[1, 1])
    np.testing.assert_array_equal(summed[rows == 5], 0.0)


def test_coalesce_rows_ignores_padding_indices():
    idx = jnp.array([2, 4, 4, 0])  # 4 == num_rows: padding
    rows, summed, _ = optim.coalesce_rows(idx, jnp.ones((4, 1)), jnp.zeros(4, jnp.int32))
    assert np.asarray(rows).tolist() == [2, 0, 4, 4]
    assert np.asarray(summed[:, 0]).tolist() == [1.0, 1.0, 0.0, 0.0]


def test_coalesce_rows_output_is_bounded_by_the_table_size():
    idx = jnp.array([1, 1, 0, 1, 0, 1, 1])
    rows, summed, _ = optim.coalesce_rows(idx, jnp.ones((7, 2)), jnp.zeros(2, jnp.int32))
    assert sorted(zip(np.asarray(rows).tolist(), np.asarray(summed[:, 0]).tolist(), strict=True)) == [
        (0, 2.0),
        (1, 5.0),
    ]


def _table(manifold, n=6, dim=3, dtype=jnp.float64):
    return manifold.random(jax.random.key(0), (n, manifold.ambient_dim(dim)), dtype, std=0.4)


@pytest.mark.parametrize("manifold", [PoincareBall(1.0), Lorentz(1.0), Euclidean()], ids=str)
@pytest.mark.parametrize(
    "sparse, dense",
    [
        (lambda m: optim.sparse_rsgd(0.1, m), lambda m: optim.rsgd(0.1, m)),
        (lambda m: optim.sparse_rsgd(0.1, m, momentum=0.8), lambda m: optim.rsgd(0.1, m, momentum=0.8)),
        (lambda m: optim.sparse_radam(0.05, m), lambda m: optim.radam(0.05, m)),
    ],
)
def test_matches_dense_when_every_row_is_touched(manifold, sparse, dense):
    table = _table(manifold)
    n = table.shape[0]
    idx = jnp.array([0, 1, 2, 3, 4, 5, 2, 4])  # every row, two of them twice
    stx, dtx = sparse(manifold), dense(manifold)
    s_state, d_state = stx.init(table), dtx.init(table)
    s_table = d_table = table
    for step in range(3):
        row_grads = jax.random.normal(jax.random.key(step), idx.shape + table.shape[1:], table.dtype)
        s_table, s_state = stx.update(row_grads, idx, s_state, s_table)
        dense_grad = jnp.zeros_like(table).at[idx].add(row_grads)
        updates, d_state = dtx.update(dense_grad, d_state, d_table)
        d_table = optim.apply_updates(d_table, updates, manifold)
    assert n == 6
    np.testing.assert_allclose(s_table, d_table, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "make", [lambda m: optim.sparse_rsgd(0.1, m, momentum=0.9), lambda m: optim.sparse_radam(0.1, m)]
)
def test_untouched_rows_and_their_state_do_not_change(make):
    ball = PoincareBall(1.0)
    table = _table(ball, n=10)
    tx = make(ball)
    state = tx.init(table)
    update = jax.jit(tx.update)
    first = jnp.array([0, 1, 2])
    table1, state1 = update(jnp.ones((3, 3)), first, state, table)
    table2, state2 = update(jnp.ones((2, 3)), jnp.array([5, 5]), state1, table1)
    untouched = np.array([3, 4, 6, 7, 8, 9])
    np.testing.assert_array_equal(table2[untouched], table[untouched])
    np.testing.assert_array_equal(table2[:3], table1[:3])  # touched at step 1 only: not moved at step 2
    for leaf1, leaf2 in zip(jax.tree.leaves(state1)[2:], jax.tree.leaves(state2)[2:], strict=True):
        np.testing.assert_array_equal(leaf2[:3], leaf1[:3])  # no decay of moments of untouched rows
    assert not np.allclose(table2[5], table1[5])


def test_learning_rate_schedule_is_applied_per_step():
    ball = PoincareBall(1.0)
    table = jnp.zeros((2, 2))
    tx = optim.sparse_rsgd(lambda count: jnp.where(count < 1, 0.0 + 1e-30, 0.1), ball)
    state = tx.init(table)
    g = jnp.array([[1.0, 0.0]])
    table1, state = tx.update(g, jnp.array([0]), state, table)
    assert float(jnp.abs(table1[0, 0])) < 1e-20
    table2, _ = tx.update(g, jnp.array([0]), state, table1)
    np.testing.assert_allclose(table2[0], ball.expmap(table1[0], -0.1 * g[0] / 4.0), rtol=1e-12)
