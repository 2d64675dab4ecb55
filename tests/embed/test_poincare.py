"""The NK17 training pieces: membership tests, negative sampling, the loss and one jitted epoch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed import poincare as pe
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall
from geomrep.optim import sparse_radam, sparse_rsgd


def _tree_closure(branching=3, depth=3):
    """Child→ancestor closure of a balanced tree (node 0 is the root)."""
    parent = {}
    frontier, nxt = [0], 1
    for _ in range(depth):
        new = []
        for p in frontier:
            for _ in range(branching):
                parent[nxt] = p
                new.append(nxt)
                nxt += 1
        frontier = new
    edges = []
    for u in parent:
        a = parent[u]
        while True:
            edges.append((u, a))
            if a == 0:
                break
            a = parent[a]
    return np.array(edges), nxt


def test_is_edge_matches_a_set():
    edges, n = _tree_closure()
    graph = pe.closure_graph(edges, n)
    steps = pe._search_steps(graph)
    u, w = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    got = np.asarray(pe.is_edge(graph, jnp.asarray(u), jnp.asarray(w), steps=steps))
    want = np.zeros((n, n), bool)
    want[edges[:, 0], edges[:, 1]] = True
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("slots", [None, 2, 10_000], ids=["dense", "2-slots", "all-slots"])
@pytest.mark.parametrize("burnin", [False, True])
def test_negatives_are_never_self_or_neighbours(burnin, slots):
    edges, n = _tree_closure()
    graph = pe.closure_graph(edges, n)
    u = jnp.asarray(np.repeat(edges[:, 0], 4))
    negs, valid = pe.sample_negatives(
        jax.random.key(0),
        graph,
        u,
        30,
        burnin=jnp.asarray(burnin),
        rounds=4,
        steps=pe._search_steps(graph),
        slots=None if slots is None else min(slots, u.shape[0]),
    )
    negs, valid, u = np.asarray(negs), np.asarray(valid), np.asarray(u)
    edge_set = set(map(tuple, edges.tolist()))
    for i in range(len(u)):
        for j in range(negs.shape[1]):
            if valid[i, j]:
                assert negs[i, j] != u[i] and (u[i], negs[i, j]) not in edge_set
    # burn-in draws favour the frequent ancestors, which are often u's own: more redraws fail; with only 2
    # sources redrawn per round, most rejected uniform draws stay rejected (masked)
    assert valid.mean() > (0.85 if burnin else 0.80 if slots == 2 else 0.95)
    if burnin:  # only nodes that are someone's ancestor have a positive count
        ancestors = set(edges[:, 1].tolist())
        assert set(negs[valid].tolist()) <= ancestors
    else:
        assert len(set(negs[valid].tolist())) > n // 2


@pytest.mark.parametrize(
    "weights",
    [[0.0, 1.0, 3.0, 0.0, 6.0], [1.0] * 7, np.arange(40.0) ** 0.75, [5.0]],
    ids=["zeros", "uniform", "powers", "single"],
)
def test_alias_table_reproduces_the_weights(weights):
    weights = np.asarray(weights, np.float64)
    prob, alias = pe.alias_table(weights)
    n = len(weights)
    # exact: bucket i gives prob[i]/n to i and (1 - prob[i])/n to alias[i]
    mass = prob / n + np.bincount(alias, weights=(1.0 - prob) / n, minlength=n)
    np.testing.assert_allclose(mass, weights / weights.sum(), atol=1e-12)
    assert np.all((prob >= 0) & (prob <= 1)) and np.all((alias >= 0) & (alias < n))


@pytest.mark.parametrize("weights", [[1.0, -1.0], [], [0.0, 0.0], [1.0, np.nan]])
def test_alias_table_rejects_bad_weights(weights):
    with pytest.raises(ValueError, match="non-negative weights"):
        pe.alias_table(np.asarray(weights))


def test_burnin_negatives_follow_the_dampened_counts():
    edges, n = _tree_closure()  # ancestors: the root (39 descendants) and its 3 + 9 internal nodes
    graph = pe.closure_graph(edges, n, dampening=0.75)
    u = jnp.full((4000,), n - 1)  # a leaf: its 3 ancestors are rejected, every other draw is kept
    negs, valid = pe.sample_negatives(
        jax.random.key(3), graph, u, 25, burnin=jnp.asarray(True), rounds=1, steps=pe._search_steps(graph)
    )
    counts = np.bincount(edges[:, 1], minlength=n) ** 0.75
    want = counts / counts.sum()
    got = np.bincount(np.asarray(negs).ravel(), minlength=n) / negs.size  # before rejection: all draws
    np.testing.assert_allclose(got, want, atol=0.004)
    assert not np.asarray(valid)[:, :].all()  # the leaf's ancestors were drawn and rejected


def test_uniform_nodes_cover_the_range():
    ids = np.asarray(pe.uniform_nodes(jax.random.key(0), (20000,), 7))
    assert ids.dtype == np.int32 and ids.min() == 0 and ids.max() == 6
    np.testing.assert_allclose(np.bincount(ids) / ids.size, 1 / 7, atol=0.01)


def test_redraw_slots_bound():
    edges, n = _tree_closure()  # 40 nodes, out-degree up to 3
    graph = pe.closure_graph(edges, n)
    assert pe.redraw_slots(graph, 16, 10) == 16  # capped at the number of sources
    assert pe.redraw_slots(graph, 1000, 1) == 264  # 2 * 1000 * 4/40 + 64


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_closed_form_ball_loss_gradient_matches_autodiff(dtype):
    ball = PoincareBall(0.1)
    keys = jax.random.split(jax.random.key(1), 3)
    rows = ball.random(keys[0], (64, 12, 5), dtype, std=1.5)
    rows = rows.at[:, 3].set(rows[:, 0]).at[:2].set(0.0)  # a negative equal to u; two all-zero pairs
    valid = jax.random.uniform(keys[1], (64, 10)) > 0.2
    weights = (jax.random.uniform(keys[2], (64,)) > 0.1).astype(dtype)
    want_loss, want = jax.value_and_grad(pe.batch_loss)(rows, valid, weights, ball)
    loss, grads = pe.ball_loss_and_grad(rows, valid, weights, c=0.1)
    assert grads.dtype == dtype and grads.shape == rows.shape
    tol = 1e-12 if dtype == jnp.float64 else 3e-5
    np.testing.assert_allclose(loss, want_loss, rtol=tol)
    np.testing.assert_allclose(grads, want, rtol=tol, atol=tol * float(jnp.max(jnp.abs(want))))
    np.testing.assert_array_equal(grads[weights == 0], 0.0)
    masked = np.concatenate([np.zeros((64, 2), bool), ~np.asarray(valid)], axis=1)
    np.testing.assert_array_equal(np.asarray(grads)[masked], 0.0)


class _ComposedBall:
    """PoincareBall through its methods only: the epoch and optimizer take the generic autodiff path."""

    def __init__(self, c):
        self._ball = PoincareBall(c)

    def __getattr__(self, name):
        return getattr(self._ball, name)


def test_closed_form_epoch_matches_the_generic_epoch_in_float32():
    """One epoch with the closed-form loss gradient, span-form RAdam and the masked-dense update equals the
    autodiff + composed-manifold + row-sparse epoch on the same negatives, to rounding (float32)."""
    edges, n = _tree_closure()
    graph = pe.closure_graph(edges, n, dtype=jnp.float32)
    ball = PoincareBall(0.1)
    table = pe.init_embeddings(0, n, 4, ball, dtype=jnp.float32, scale=0.3)
    out = []
    for manifold, dense_fraction in ((ball, 0.0), (_ComposedBall(0.1), float("inf"))):
        tx = sparse_radam(0.2, manifold, dense_fraction=dense_fraction)
        epoch = pe.make_epoch_fn(manifold, tx, graph, batch_size=8, num_negatives=6)
        t, s = table, tx.init(table)
        for e in range(3):
            t, s, m = jax.jit(epoch.run)(t, s, graph, jax.random.key(e), jnp.asarray(e == 0))
        out.append((t, s, float(m["loss"])))
    (t1, s1, l1), (t2, s2, l2) = out
    assert not np.allclose(t1, table, atol=1e-3)  # it trained
    np.testing.assert_allclose(t1, t2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s1.mu, s2.mu, rtol=1e-4, atol=1e-6)
    assert l1 == pytest.approx(l2, rel=1e-5)


def test_loss_gradient_is_finite_when_rows_coincide():
    ball = PoincareBall(1.0)
    rows = jnp.zeros((2, 5, 3))  # the paper's init is near the origin: all rows (almost) equal
    valid = jnp.array([[True, True, False], [True, True, True]])
    loss, grads = jax.value_and_grad(pe.batch_loss)(rows, valid, jnp.array([1.0, 0.0]), ball)
    assert np.isfinite(loss) and np.all(np.isfinite(grads))
    np.testing.assert_allclose(loss, np.log(3.0))  # u, v and two valid negatives all at distance 0
    np.testing.assert_array_equal(grads[1], 0.0)  # padding pairs contribute nothing


@pytest.mark.parametrize(
    "manifold, dtype",
    [
        (PoincareBall(1.0), jnp.float64),
        (PoincareBall(1.0), jnp.float32),
        (Lorentz(1.0), jnp.float32),
        (Euclidean(), jnp.float64),
    ],
    ids=str,
)
def test_epochs_reduce_the_loss_and_keep_rows_on_the_manifold(manifold, dtype):
    edges, n = _tree_closure()
    graph = pe.closure_graph(edges, n, dtype=dtype)
    tx = sparse_radam(0.05, manifold) if isinstance(manifold, Euclidean) else sparse_rsgd(1.0, manifold)
    epoch = pe.make_epoch_fn(manifold, tx, graph, batch_size=16, num_negatives=10)
    run = jax.jit(epoch.run)
    table = pe.init_embeddings(0, n, 4, manifold, dtype=dtype)
    assert table.shape == (n, manifold.ambient_dim(4)) and table.dtype == dtype
    opt_state = tx.init(table)
    losses = []
    for e in range(15):
        table, opt_state, m = run(table, opt_state, graph, jax.random.key(e), jnp.asarray(e < 2))
        losses.append(float(m["loss"]))
    assert table.dtype == dtype
    assert np.all(np.isfinite(table))
    assert losses[-1] < 0.7 * losses[2]
    from geomrep.testing import assert_on_manifold

    assert_on_manifold(manifold, table)


def test_an_epoch_visits_every_pair_once_with_padding():
    assert pe.steps_per_epoch(10, 4) == 3 and pe.steps_per_epoch(10, 100) == 1
    sched = pe.burnin_schedule(2.0, burnin_steps=3, burnin_lr_mult=0.1)
    assert float(sched(2)) == pytest.approx(0.2) and float(sched(3)) == 2.0
