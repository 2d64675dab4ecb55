"""Distance-fitting SGD (Sala et al. 2018's PyTorch method): loss, gradients, sampling, warm starts, fitting."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed import distance_sgd as dsgd
from geomrep.embed.metrics import graph_distances
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall, Product, Sphere

TOL = {jnp.float32: dict(rtol=2e-5, atol=1e-6), jnp.float64: dict(rtol=1e-12, atol=1e-14)}


def _ball_points(n, dim, seed=0, radius=0.7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    return radius * x / np.linalg.norm(x, axis=1, keepdims=True) * rng.uniform(0.1, 1.0, size=(n, 1))


def _pairwise(manifold, x):
    x = jnp.asarray(x)
    return np.asarray(manifold.dist(x[:, None], x[None]))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_loss_is_the_formula(dtype):
    ball = PoincareBall(1.0)
    x = jnp.asarray(_ball_points(6, 3), dtype)
    params = dsgd.init_params(x, 1.7)
    rows = jnp.array([[0, 0, 1], [2, 3, 4]])
    cols = jnp.array([[1, 2, 5], [5, 0, 1]])
    targets = jnp.asarray([[1.0, 2.0, 0.5], [3.0, 1.0, 7.0]], dtype)
    weights = jnp.asarray([[1.0, 1.0, 0.0], [1.0, 2.0, 1.0]], dtype)
    got = dsgd.distance_loss(params, ball, rows, cols, targets, weights)
    d = _pairwise(ball, np.asarray(x, np.float64))[np.asarray(rows), np.asarray(cols)] / 1.7
    want = np.sum(np.asarray(weights) * (d / np.asarray(targets) - 1) ** 2) / np.sum(np.asarray(weights))
    assert got.dtype == dtype
    np.testing.assert_allclose(float(got), want, **TOL[dtype])
    # a zero-weight pair is ignored even with a nonsense target
    bad = targets.at[0, 2].set(jnp.nan)
    np.testing.assert_allclose(
        float(dsgd.distance_loss(params, ball, rows, cols, bad, weights)), float(got), rtol=1e-6
    )


def _central_difference(f, params, leaf, h=1e-6):
    flat = np.asarray(params[leaf], np.float64)
    grad = np.zeros_like(flat)
    for idx in np.ndindex(flat.shape):
        up, down = flat.copy(), flat.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (f({**params, leaf: jnp.asarray(up)}) - f({**params, leaf: jnp.asarray(down)})) / (2 * h)
    return grad


@pytest.mark.parametrize("manifold", [PoincareBall(1.0), Product((PoincareBall(0.5), Euclidean()), (2, 2))])
def test_gradient_matches_central_differences(manifold):
    x = _ball_points(5, 4, seed=1, radius=0.6)
    params = dsgd.init_params(jnp.asarray(x), 1.3)
    rows = jnp.array([[0, 1, 2], [3, 4, 0]])
    cols = jnp.array([[1, 2, 3], [0, 1, 4]])
    targets = jnp.array([[1.0, 2.0, 1.5], [0.7, 2.5, 3.0]])
    weights = jnp.ones_like(targets)

    loss = jax.jit(lambda p: dsgd.distance_loss(p, manifold, rows, cols, targets, weights))

    def f(p):
        return float(loss(p))

    grads = jax.grad(dsgd.distance_loss)(params, manifold, rows, cols, targets, weights)
    for leaf in ("points", "log_scale"):
        np.testing.assert_allclose(
            np.asarray(grads[leaf]), _central_difference(f, params, leaf), rtol=1e-5, atol=1e-8
        )
    # learn_scale=False: no gradient reaches the scale
    fixed = jax.grad(dsgd.distance_loss)(params, manifold, rows, cols, targets, weights, learn_scale=False)
    assert float(fixed["log_scale"]) == 0.0


@pytest.mark.parametrize("manifold", [PoincareBall(1.0), Lorentz(1.0), Sphere(1.0)])
def test_gradient_is_finite_at_coincident_points(manifold):
    ambient = manifold.ambient_dim(2)
    x = manifold.random(jax.random.key(0), (3, ambient), jnp.float64, std=0.3)
    x = x.at[1].set(x[0])  # the pair (0, 1) sits at distance 0
    params = dsgd.init_params(x, 1.0)
    rows, cols = jnp.array([[0, 0]]), jnp.array([[1, 2]])
    grads = jax.grad(dsgd.distance_loss)(
        params, manifold, rows, cols, jnp.array([[1.0, 2.0]]), jnp.ones((1, 2))
    )
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))


def test_problem_neighbours_and_unknown_entries():
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 3]])
    d = graph_distances(edges, 4)
    problem = dsgd.distance_problem(d, edges)
    table = np.asarray(problem.neighbours)
    assert [sorted(r[r >= 0].tolist()) for r in table] == [[1], [0, 2], [1, 3], [2]]
    # without edges: each row's nearest known neighbours
    d_missing = d.copy()
    d_missing[0, 1] = d_missing[1, 0] = np.nan
    table = np.asarray(dsgd.distance_problem(d_missing).neighbours)
    assert sorted(table[0][table[0] >= 0].tolist()) == [2]  # node 1 is unknown to node 0
    with pytest.raises(ValueError, match=r"distances\[0, 2\] = -1"):
        dsgd.distance_problem(np.where(np.arange(16).reshape(4, 4) == 2, -1.0, d))
    with pytest.raises(ValueError, match="row 3"):
        dsgd.distance_problem(
            np.where(np.isin(np.arange(4), [3])[:, None] | np.isin(np.arange(4), [3]), np.nan, d)
        )


def test_every_step_sees_all_neighbours_and_only_known_pairs():
    """One epoch with a recording loss: per row, its neighbours and num_samples draws j ≠ i, all rows once."""
    n, num_samples = 7, 3
    edges = np.array([(k, k + 1) for k in range(n - 1)])
    d = graph_distances(edges, n).astype(float)
    d[0, 4] = d[4, 0] = np.nan  # unknown
    problem = dsgd.distance_problem(d, edges)
    seen = []

    def record(params, manifold, rows, cols, targets, weights, learn_scale=True):
        jax.debug.callback(lambda *a: seen.append([np.asarray(v) for v in a]), rows, cols, weights)
        return dsgd.distance_loss(params, manifold, rows, cols, targets, weights)

    ball = PoincareBall(1.0)
    tx = dsgd.make_optimizer("radam", 0.01, ball)
    original, dsgd.distance_loss = dsgd.distance_loss, record
    try:
        run = dsgd.make_epoch_fn(ball, tx, num_nodes=n, batch_size=3, num_samples=num_samples)
    finally:
        dsgd.distance_loss = original
    params = dsgd.init_params(jnp.asarray(_ball_points(n, 2)), 1.0)
    run(params, tx.init(params), problem, jax.random.key(3))
    rows_seen = []
    for rows, cols, weights in seen:
        for r, c, w in zip(rows, cols, weights, strict=True):
            if w.sum() == 0:  # a padded row
                continue
            i = r[0]
            rows_seen.append(i)
            neighbours = {j for j in (i - 1, i + 1) if 0 <= j < n}
            assert neighbours <= set(c[w > 0].tolist())
            drawn = c[-num_samples:]
            assert np.all(drawn != i) and np.all((drawn >= 0) & (drawn < n))
            assert not any((i, j) in {(0, 4), (4, 0)} for j in c[w > 0])  # unknown pairs carry no weight
    assert sorted(rows_seen) == list(range(n))


def test_warm_start_keeps_distances_up_to_scale():
    p = _ball_points(8, 2, seed=2)
    want = _pairwise(PoincareBall(1.0), p) / 2.0  # the warm start's distances / its scale
    for manifold in (PoincareBall(0.5), Lorentz(2.0), Product((Lorentz(1.0), Sphere(1.0)), (2, 2))):
        points, scale = dsgd.warm_start_points(p, manifold, scale=2.0, std=1e-9)
        got = _pairwise(manifold, points) / scale
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        dsgd.warm_start_points(p, Product((PoincareBall(1.0),), (3,)))
    with pytest.raises(ValueError, match="hyperbolic factor"):
        dsgd.warm_start_points(p, Euclidean())


def test_fits_hyperbolic_distances_from_random_and_keeps_a_perfect_warm_start():
    ball = PoincareBall(1.0)
    truth = _ball_points(12, 2, seed=4, radius=0.8)
    d = _pairwise(ball, truth) / 0.5  # exactly hyperbolic targets, at scale 0.5
    np.fill_diagonal(d, 0.0)
    fit = dsgd.fit_distances(d, ball, dim=2, epochs=150, lr=0.03, batch_size=4, num_samples=11, seed=0)
    assert fit.losses[-1] < 0.05 * fit.losses[0]  # from points near the origin (a local minimum is allowed)
    start, scale = dsgd.warm_start_points(truth, ball, scale=0.5)
    kept = dsgd.fit_distances(  # plain Riemannian SGD: a zero gradient is no step (Adam would normalise it)
        d, ball, init=start, scale=scale, epochs=3, lr=0.01, optimizer="rsgd", batch_size=4, num_samples=11
    )
    assert kept.losses.max() < 1e-12 and abs(kept.scale - 0.5) < 1e-6


def test_product_space_and_float32_fit():
    edges = np.array([(k, (k - 1) // 2) for k in range(1, 15)])  # a binary tree
    d = graph_distances(edges, 15)
    space = Product((PoincareBall(1.0), Sphere(1.0), Euclidean()), (2, 2, 1))
    fit = dsgd.fit_distances(d, space, edges=edges, epochs=15, lr=0.05, batch_size=5, num_samples=4)
    assert fit.points.shape == (15, space.ambient_size) and np.isfinite(fit.points).all()
    assert fit.losses[-1] < fit.losses[0]
    fit32 = dsgd.fit_distances(d, PoincareBall(1.0), dim=2, epochs=15, lr=0.05, dtype=jnp.float32)
    assert fit32.points.dtype == np.float32 and fit32.losses[-1] < fit32.losses[0]
