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


class _Composed:
    """The Poincaré ball seen through its methods only (not an instance of PoincareBall), so the sparse
    optimizers take the composed manifold-function path instead of the closed-form span step."""

    def __init__(self, c):
        self._ball = PoincareBall(c)

    def __getattr__(self, name):
        return getattr(self._ball, name)


def _rows_near_and_far(n=40, dim=5, c=0.1, dtype=jnp.float32):
    """Rows from the origin to the projection bound (where proj is active)."""
    ball = PoincareBall(c)
    x = ball.random(jax.random.key(3), (n, dim), dtype, std=0.3)
    radius = (1.0 - 4e-3) / np.sqrt(c)
    far = (radius * x[-6:] / jnp.linalg.norm(x[-6:], axis=1, keepdims=True)).astype(dtype)
    x = x.at[:4].set(0.0).at[-6:].set(far)
    return ball.proj(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, f: optim.sparse_radam(0.3, m, dense_fraction=f),
        lambda m, f: optim.sparse_rsgd(2.0, m, dense_fraction=f),
        lambda m, f: optim.sparse_rsgd(2.0, m, momentum=0.8, dense_fraction=f),
    ],
    ids=["radam", "rsgd", "rsgd-momentum"],
)
@pytest.mark.parametrize("dense_fraction", [float("inf"), 0.0], ids=["rows", "masked-dense"])
def test_closed_form_ball_step_matches_the_composed_manifold_functions(make, dense_fraction):
    """float32: the span-form step (ball_step_in_span) equals egrad2rgrad/expmap/proj/transp to rounding, near
    the origin, at the projection bound and for zero gradients; in both the row and the masked-dense path."""
    table = _rows_near_and_far()
    fast, slow = make(PoincareBall(0.1), dense_fraction), make(_Composed(0.1), float("inf"))
    fs, ss = fast.init(table), slow.init(table)
    ft = st = table
    idx = jnp.array([0, 1, 2, 5, 5, 7, 30, 35, 36, 39, 39, 12])  # duplicates, origin and boundary rows
    for step in range(4):
        g = jax.random.normal(jax.random.key(step), idx.shape + table.shape[1:], table.dtype)
        g = g.at[2].set(0.0)  # a touched row with a zero gradient
        ft, fs = jax.jit(fast.update)(g, idx, fs, ft)
        st, ss = jax.jit(slow.update)(g, idx, ss, st)
    np.testing.assert_allclose(ft, st, rtol=2e-6, atol=2e-6)
    for a, b in zip(jax.tree.leaves(fs)[2:], jax.tree.leaves(ss)[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    untouched = np.setdiff1d(np.arange(table.shape[0]), np.asarray(idx))
    np.testing.assert_array_equal(ft[untouched], table[untouched])


@pytest.mark.parametrize("manifold", [PoincareBall(1.0), Lorentz(1.0), Euclidean()], ids=str)
def test_masked_dense_path_equals_the_row_path_and_leaves_untouched_rows(manifold):
    table = _table(manifold, n=10)
    rows_tx = optim.sparse_radam(0.05, manifold, dense_fraction=float("inf"))
    dense_tx = optim.sparse_radam(0.05, manifold, dense_fraction=0.0)
    r_state, d_state = rows_tx.init(table), dense_tx.init(table)
    r_table = d_table = table
    for step, idx in enumerate([jnp.array([0, 1, 2, 2]), jnp.array([5, 5, 10, 1])]):  # 10: padding
        g = jax.random.normal(jax.random.key(step), idx.shape + table.shape[1:], table.dtype)
        r_table, r_state = rows_tx.update(g, idx, r_state, r_table)
        d_table, d_state = dense_tx.update(g, idx, d_state, d_table)
    np.testing.assert_allclose(d_table, r_table, rtol=1e-12, atol=1e-14)
    for a, b in zip(jax.tree.leaves(d_state)[2:], jax.tree.leaves(r_state)[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    untouched = np.array([3, 4, 6, 7, 8, 9])
    np.testing.assert_array_equal(d_table[untouched], table[untouched])
    for leaf in jax.tree.leaves(d_state)[2:]:
        np.testing.assert_array_equal(leaf[untouched], 0.0)  # moments of never-touched rows stay at init


def test_row_dots_is_several_inner_products():
    a, b = jnp.arange(6.0).reshape(2, 3), jnp.ones((2, 3))
    ab, aa = optim.sparse.row_dots((a, b), (a, a))
    np.testing.assert_array_equal(ab[:, 0], [3.0, 12.0])
    np.testing.assert_array_equal(aa[:, 0], [5.0, 50.0])
