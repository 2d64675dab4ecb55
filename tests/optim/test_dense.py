"""Dense Riemannian optimizers: optax semantics on Euclidean leaves, convergence on curved ones."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from geomrep import optim
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall
from geomrep.testing import assert_on_manifold


def _run(tx, params, grad_fn, manifolds, steps):
    state = tx.init(params)

    @jax.jit
    def step(params, state):
        updates, state = tx.update(grad_fn(params), state, params)
        return optim.apply_updates(params, updates, manifolds), state

    for _ in range(steps):
        params, state = step(params, state)
    return params


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda m: optim.rsgd(0.1, m), optax.sgd(0.1)),
        (lambda m: optim.rsgd(0.1, m, momentum=0.9), optax.sgd(0.1, momentum=0.9)),
        (
            lambda m: optim.rsgd(0.1, m, momentum=0.9, nesterov=True),
            optax.sgd(0.1, momentum=0.9, nesterov=True),
        ),
        (lambda m: optim.radam(0.05, m), optax.adam(0.05)),
    ],
)
def test_euclidean_leaves_match_optax(ours, theirs):
    params = {"w": jnp.array([[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]]), "b": jnp.array([0.7, -0.4])}

    def grad_fn(p):
        return jax.grad(lambda p: jnp.sum(jnp.sin(p["w"]) ** 2) + jnp.sum(p["b"] ** 4))(p)

    got = _run(ours(Euclidean()), params, grad_fn, Euclidean(), 7)

    state = theirs.init(params)
    want = params
    for _ in range(7):
        updates, state = theirs.update(grad_fn(want), state, want)
        want = optax.apply_updates(want, updates)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12), got, want)


def test_rsgd_single_step_is_expmap_of_riemannian_gradient():
    ball = PoincareBall(1.0)
    x = jnp.array([[0.3, -0.2], [0.0, 0.5]])
    g = jnp.array([[1.0, 2.0], [-0.5, 0.1]])
    tx = optim.rsgd(0.05, ball)
    updates, _ = tx.update(g, tx.init(x), x)
    got = optim.apply_updates(x, updates, ball)
    lam = 2.0 / (1.0 - jnp.sum(x**2, -1, keepdims=True))
    want = ball.expmap(x, -0.05 * g / lam**2)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: optim.rsgd(0.3, m),
        lambda m: optim.rsgd(0.1, m, momentum=0.5),
        lambda m: optim.radam(0.05, m),
        lambda m: optim.radam(0.05, m, amsgrad=True),
    ],
)
@pytest.mark.parametrize("manifold", [PoincareBall(1.0), PoincareBall(0.3), Lorentz(1.0)], ids=str)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_converges_to_target_on_manifold(make, manifold, dtype):
    key = jax.random.key(0)
    x = manifold.random(key, (4, manifold.ambient_dim(3)), dtype, std=0.5)
    y = manifold.random(jax.random.key(1), (4, manifold.ambient_dim(3)), dtype, std=0.5)

    def grad_fn(p):
        return jax.grad(lambda p: jnp.sum(manifold.dist(p, y) ** 2))(p)

    out = _run(make(manifold), x, grad_fn, manifold, 300)
    assert out.dtype == dtype
    assert_on_manifold(manifold, out)
    tol = 1e-3 if dtype == jnp.float64 else 2e-2
    assert float(jnp.max(manifold.dist(out, y))) < tol


def test_composes_with_optax_chain_and_schedule():
    ball = PoincareBall(1.0)
    params = {"emb": jnp.array([[0.5, 0.1], [-0.2, 0.3]]), "w": jnp.array([1.0, 2.0])}
    labels = optim.manifold_labels(params, [("^emb$", ball)])
    schedule = optax.linear_schedule(0.5, 0.05, 50)
    tx = optax.chain(optax.clip_by_global_norm(1.0), optim.radam(schedule, labels))
    target = jnp.array([[0.1, 0.1], [0.0, -0.4]])

    def grad_fn(p):
        return jax.grad(lambda p: jnp.sum(ball.dist(p["emb"], target) ** 2) + jnp.sum(p["w"] ** 2))(p)

    out = _run(tx, params, grad_fn, labels, 200)
    assert float(jnp.max(ball.dist(out["emb"], target))) < 1e-2
    assert float(jnp.max(jnp.abs(out["w"]))) < 1e-2


def test_labels_from_paths_and_prefix_broadcast():
    params = {"enc": {"emb": jnp.zeros((3, 2)), "bias": jnp.zeros(2)}, "head": jnp.zeros(4)}
    labels = optim.manifold_labels(params, [(r"enc/emb", PoincareBall(0.5))])
    assert labels["enc"]["emb"] == PoincareBall(0.5)
    assert labels["enc"]["bias"] == Euclidean() and labels["head"] == Euclidean()
    full = optim.broadcast_manifolds({"enc": Lorentz(1.0), "head": Euclidean()}, params)
    assert full["enc"]["bias"] == Lorentz(1.0)
    with pytest.raises(ValueError, match="prefix"):
        optim.broadcast_manifolds({"other": Euclidean()}, params)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_nonpositive_learning_rate_is_rejected(bad):
    with pytest.raises(ValueError, match="learning_rate"):
        optim.rsgd(bad, Euclidean())
    with pytest.raises(ValueError, match="learning_rate"):
        optim.sparse_radam(bad, Euclidean())
