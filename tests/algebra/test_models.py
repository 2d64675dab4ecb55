"""Models: forward passes equal their defining formulas (float32 and float64), homogeneity, NNX round trips,
and gradients of the training losses against central finite differences, finite at a dead neuron."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from geomrep.algebra import margin, models, tasks, training

DTYPES = [jnp.float32, jnp.float64]
RTOL = {jnp.float32: 2e-5, jnp.float64: 1e-12}


def _quadratic_reference(u, v, w, a, b):
    """Σ_i (u_i[a] + v_i[b])² w_i, neuron by neuron."""
    out = np.zeros((len(a), w.shape[1]))
    for i in range(u.shape[1]):
        out += ((u[a, i] + v[b, i]) ** 2)[:, None] * w[i][None, :]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_quadratic_net_is_the_sum_of_its_neurons(dtype):
    net = models.QuadraticNet(7, 5, param_dtype=dtype, rngs=nnx.Rngs(0))
    params = models.as_params(net)
    assert all(p.dtype == dtype for p in params.values())
    assert params["u"].shape == (7, 5) and params["w"].shape == (5, 7)
    task = tasks.modular_addition(7)
    a, b = task.inputs[:, 0], task.inputs[:, 1]
    ref = _quadratic_reference(*(np.asarray(params[k], np.float64) for k in "uvw"), a, b)
    np.testing.assert_allclose(net(a, b), ref, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(models.population_logits(net, task), ref, rtol=RTOL[dtype], atol=RTOL[dtype])
    assert models.population_logits(net, task).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_power_net_is_the_sum_of_its_neurons(dtype):
    net = models.PowerNet(6, 3, 4, param_dtype=dtype, rngs=nnx.Rngs(1))
    params = {k: np.asarray(v, np.float64) for k, v in models.as_params(net).items()}
    task = tasks.sparse_parity(6, 3)
    x = task.inputs
    ref = sum(((x @ params["u"][:, i]) ** 3)[:, None] * params["w"][i][None, :] for i in range(4))
    np.testing.assert_allclose(net(jnp.asarray(x, dtype)), ref, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(models.population_logits(net, task), ref, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_is_relu_of_the_concatenated_embeddings(dtype):
    """CCN's OneLayerMLP: concat(W_x[a], W_y[b]) @ W -> ReLU -> W_U."""
    net = models.OneLayerMLP(5, embed_dim=6, hidden_dim=4, param_dtype=dtype, rngs=nnx.Rngs(2))
    p = {k: np.asarray(v, np.float64) for k, v in models.as_params(net).items()}
    task = tasks.modular_addition(5)
    a, b = task.inputs[:, 0], task.inputs[:, 1]
    concat = np.concatenate([p["embed_a"][a], p["embed_b"][b]], axis=1)
    ref = np.maximum(concat @ p["hidden"], 0.0) @ p["unembed"]
    np.testing.assert_allclose(net(a, b), ref, rtol=RTOL[dtype], atol=RTOL[dtype])
    np.testing.assert_allclose(models.population_logits(net, task), ref, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize(
    ("make", "task", "nu"),
    [
        (
            lambda: models.QuadraticNet(5, 3, param_dtype=jnp.float64, rngs=nnx.Rngs(0)),
            tasks.modular_addition(5),
            3,
        ),
        (
            lambda: models.PowerNet(5, 3, 3, param_dtype=jnp.float64, rngs=nnx.Rngs(0)),
            tasks.sparse_parity(5, 3),
            4,
        ),
        (
            lambda: models.OneLayerMLP(
                5, embed_dim=4, hidden_dim=3, param_dtype=jnp.float64, rngs=nnx.Rngs(0)
            ),
            tasks.modular_addition(5),
            3,
        ),
    ],
)
def test_nets_are_homogeneous_of_their_stated_degree(make, task, nu):
    params = models.as_params(make())
    scaled = jax.tree.map(lambda x: 1.7 * x, params)
    np.testing.assert_allclose(
        models.population_logits(scaled, task), 1.7**nu * models.population_logits(params, task), rtol=1e-12
    )


def test_load_params_round_trips_through_the_module():
    net = models.QuadraticNet(5, 3, param_dtype=jnp.float64, rngs=nnx.Rngs(0))
    new = jax.tree.map(lambda x: x + 1.0, models.as_params(net))
    models.load_params(net, new)
    for k, v in models.as_params(net).items():
        np.testing.assert_array_equal(v, new[k])


def test_init_scale_and_seed():
    a = models.as_params(models.QuadraticNet(50, 400, param_dtype=jnp.float64, rngs=nnx.Rngs(0)))
    b = models.as_params(models.QuadraticNet(50, 400, param_dtype=jnp.float64, rngs=nnx.Rngs(1)))
    assert abs(float(jnp.std(a["u"])) - 50**-0.5) < 0.01 and not np.array_equal(a["u"], b["u"])


def test_bad_sizes_and_mismatched_parameters_are_refused():
    with pytest.raises(ValueError, match="width=0"):
        models.QuadraticNet(5, 0, param_dtype=jnp.float32, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="unknown parameter dict"):
        models.architecture({"u": 1, "x": 2})
    net = models.QuadraticNet(5, 3, param_dtype=jnp.float32, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="7 symbols"):
        models.population_logits(net, tasks.modular_addition(7))
    with pytest.raises(ValueError, match="power net"):
        models.population_logits(net, tasks.sparse_parity(5, 2))


def _fd_check(loss, params, *, eps=1e-6, rtol=1e-6):
    loss = jax.jit(loss)
    grads = jax.jit(jax.grad(loss))(params)
    rng = np.random.default_rng(0)
    host = {k: np.asarray(v) for k, v in params.items()}
    for name, value in host.items():
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in value.shape)
            shifted = []
            for sign in (1.0, -1.0):
                moved = value.copy()
                moved[idx] += sign * eps
                shifted.append(loss({**params, name: jnp.asarray(moved)}))
            fd = (shifted[0] - shifted[1]) / (2 * eps)
            np.testing.assert_allclose(grads[name][idx], fd, rtol=rtol, atol=1e-8)
    return grads


@pytest.mark.parametrize(
    ("make", "task"),
    [
        (
            lambda: models.QuadraticNet(5, 4, param_dtype=jnp.float64, rngs=nnx.Rngs(3)),
            tasks.modular_addition(5),
        ),
        (
            lambda: models.PowerNet(5, 3, 4, param_dtype=jnp.float64, rngs=nnx.Rngs(3)),
            tasks.sparse_parity(5, 3),
        ),
    ],
)
def test_max_margin_loss_gradient_matches_finite_differences_and_is_finite_at_a_dead_neuron(make, task):
    loss_fn = training.max_margin_loss(task, reg=1e-2)
    loss = lambda p: loss_fn(p, None, None)[0]
    params = models.as_params(make())
    _fd_check(loss, params)
    dead = {k: (v.at[:, 0].set(0.0) if k != "w" else v.at[0].set(0.0)) for k, v in params.items()}
    grads = jax.grad(loss)(dead)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())


def test_split_loss_gradient_matches_finite_differences_for_the_mlp():
    task = tasks.modular_addition(5, train_fraction=0.6, seed=0)
    net = models.OneLayerMLP(5, embed_dim=4, hidden_dim=6, param_dtype=jnp.float64, rngs=nnx.Rngs(4))
    loss_fn = training.split_loss(task)
    _fd_check(lambda p: loss_fn(p, None, None)[0], models.as_params(net))


def test_one_gd_step_in_float32_keeps_the_dtype_and_lowers_the_loss():
    task = tasks.modular_addition(5)
    params = models.as_params(models.QuadraticNet(5, 8, param_dtype=jnp.float32, rngs=nnx.Rngs(0)))
    loss_fn = training.max_margin_loss(task, reg=1e-4)
    new, history = training.train(params, loss_fn, optax.sgd(0.05), num_steps=20, eval_every=10)
    assert all(v.dtype == jnp.float32 for v in new.values())
    assert history[-1]["loss"] < history[0]["loss"] and [h["step"] for h in history] == [10, 20]


def _plain_table_ce(params, labels):
    """The generic path: autodiff through the logits table and the log-softmax CE."""
    return training.cross_entropy(models.quadratic_logits_table(params), labels)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("n", "num_classes", "block_rows"),
    [(7, 7, 512), (7, 7, 15), (6, 4, 1), (23, 23, 512)],  # one block; 4 uneven; one a per block; 2 blocks
)
def test_quadratic_table_cross_entropy_and_its_vjp_equal_plain_autodiff(dtype, n, num_classes, block_rows):
    """The hand-written VJP against jax.grad of the generic path, float32 and float64, one block and several."""
    params = models.as_params(
        models.QuadraticNet(
            n, 9, num_classes=num_classes, init_scale=1.5, param_dtype=dtype, rngs=nnx.Rngs(5)
        )
    )
    labels = np.random.default_rng(n).integers(0, num_classes, n * n)
    fused = lambda p: models.quadratic_table_cross_entropy(p, labels, block_rows=block_rows)
    tol = {jnp.float32: 2e-5, jnp.float64: 1e-12}[dtype]
    value, grads = jax.jit(jax.value_and_grad(fused))(params)
    ref_value, ref_grads = jax.jit(jax.value_and_grad(_plain_table_ce))(params, labels)
    assert value.dtype == dtype and all(grads[k].dtype == dtype for k in grads)
    np.testing.assert_allclose(value, ref_value, rtol=tol)
    for k in "uvw":
        scale = float(jnp.max(jnp.abs(ref_grads[k])))
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=tol, atol=tol * scale, err_msg=k)
    # traced labels take the same path with an in-program one-hot
    traced = jax.jit(jax.grad(lambda p, y: models.quadratic_table_cross_entropy(p, y, block_rows=block_rows)))
    for k, g in traced(params, jnp.asarray(labels)).items():
        np.testing.assert_allclose(
            g, ref_grads[k], rtol=tol, atol=tol * float(jnp.max(jnp.abs(ref_grads[k])))
        )


def test_quadratic_table_blocks_cover_the_table_in_order():
    assert models._row_blocks(23, 23, 512) == ((0, 12), (12, 23))
    assert models._row_blocks(22, 23, 512) == ((0, 22),)
    assert models._row_blocks(7, 7, 15) == ((0, 2), (2, 4), (4, 6), (6, 7))  # at most 15 rows: 2 a-rows of 7
    assert models._row_blocks(120, 120, 512) == tuple((15 * k, 15 * k + 15) for k in range(8))
    with pytest.raises(ValueError, match="labels must have shape"):
        models.quadratic_table_cross_entropy(
            models.as_params(models.QuadraticNet(3, 2, param_dtype=jnp.float32, rngs=nnx.Rngs(0))),
            np.zeros(8, int),
        )


def test_max_margin_loss_of_the_quadratic_net_equals_the_generic_path(monkeypatch):
    """max_margin_loss takes the fused CE for the quadratic net; value and gradient equal the logits-table path."""
    calls = []
    fused = training.quadratic_table_cross_entropy
    monkeypatch.setattr(
        training, "quadratic_table_cross_entropy", lambda *a, **k: calls.append(1) or fused(*a, **k)
    )
    task = tasks.group_composition(tasks.group_from_name("S3"))
    params = models.as_params(models.QuadraticNet(6, 5, param_dtype=jnp.float64, rngs=nnx.Rngs(6)))
    loss_fn = training.max_margin_loss(task, reg=1e-2)
    (loss, aux), grads = jax.value_and_grad(lambda p: loss_fn(p, None, None), has_aux=True)(params)
    assert calls, "max_margin_loss no longer takes the fast path for the quadratic net"

    def generic(p):
        ce = _plain_table_ce(p, task.labels)
        return ce + 1e-2 * margin.norm_power(p, 3), ce

    (ref, ref_ce), ref_grads = jax.value_and_grad(generic, has_aux=True)(params)
    np.testing.assert_allclose(loss, ref, rtol=1e-12)
    np.testing.assert_allclose(aux["ce"], ref_ce, rtol=1e-12)
    for k in "uvw":
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-10, atol=1e-14)
