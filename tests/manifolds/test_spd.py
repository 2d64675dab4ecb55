"""geomrep.manifolds.spd and the SPD value: contract suite and gyro laws for the AI, LE and LC metrics, closed
forms against SciPy, finite gradients at the identity (where layers start), hypergyroplanes, bad input, RSGD."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep import optim
from geomrep.manifolds import SPD, Euclidean, spd
from geomrep.testing import (
    check_gyro_laws,
    check_manifold_contract,
    quick_jit,
)

METRICS = ["ai", "le", "lc"]
DTYPES = [jnp.float32, jnp.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("metric", METRICS)
def test_contract(metric, dtype):
    m = SPD(4, metric)
    check_manifold_contract(m, dim=m.dim, dtype=dtype, key=jax.random.key(0), n=8, std=0.5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("metric", METRICS)
def test_gyro_laws(metric, dtype):
    # 1e-10 in float64, 1e-4 in float32 (geomrep.testing.GYRO_TOLERANCES); LE and LC are gyrocommutative.
    check_gyro_laws(
        SPD(4, metric), dtype=dtype, key=jax.random.key(1), n=8, std=0.5, commutative=metric != "ai"
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), std=st.floats(0.05, 1.0), metric=st.sampled_from(METRICS))
def test_gyro_laws_hypothesis(seed, std, metric):
    # Same shapes as test_gyro_laws, so the compiled law function is reused across examples.
    check_gyro_laws(
        SPD(4, metric), dtype=jnp.float64, key=jax.random.key(seed), n=8, std=std, commutative=metric != "ai"
    )


def test_gyro_law_checker_catches_broken_operations():
    class WrongInverse(SPD):
        def gyro_inv(self, x):  # the transpose instead of the inverse
            return jnp.swapaxes(x, -1, -2)

    with pytest.raises(AssertionError, match="law 'left_cancellation' fails"):
        check_gyro_laws(WrongInverse(3, "le"), dtype=jnp.float64, n=4)
    with pytest.raises(AssertionError, match="law 'commutativity' fails"):
        check_gyro_laws(SPD(3, "ai"), dtype=jnp.float64, n=4, commutative=True)


# ---------------------------------------------------------------------------------------------------------------
# Closed forms against independent formulas (SciPy / NumPy, float64).


@functools.partial(quick_jit, static_argnames="shape")
def _random_spd_jit(seed, *, shape):
    return spd.random(jax.random.key(seed), shape, jnp.float64, std=0.6)


def _random_spd(seed, n=4, batch=()):
    """Random SPD matrices from one compiled function per shape (eager calls would compile every primitive)."""
    return np.asarray(_random_spd_jit(seed, shape=batch + (n, n)))


def _sqrtm(a):
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(w)) @ v.T


def _logm(a):
    w, v = np.linalg.eigh(a)
    return (v * np.log(w)) @ v.T


def _phi(a):
    low = np.linalg.cholesky(a)
    return np.tril(low, -1) + np.diag(np.log(np.diag(low)))


def _closed_forms(P, Q, R, V):
    return {
        "ai dist": spd.dist(P, Q, metric="ai"),
        "le dist": spd.dist(P, Q, metric="le"),
        "lc dist": spd.dist(P, Q, metric="lc"),
        "ai exp": spd.expmap(P, V, metric="ai"),
        "ai log": spd.logmap(P, Q, metric="ai"),
        "ai transp": spd.transp(P, Q, V, metric="ai"),
        "ai inner": spd.inner(P, V, R, metric="ai"),
        "ai add": spd.gyro_add(P, Q, metric="ai"),
        "le add": spd.gyro_add(P, Q, metric="le"),
        "lc add": spd.gyro_add(P, Q, metric="lc"),
        "ai scalar": spd.gyro_scalar_mul(0.7, P, metric="ai"),
        "lc scalar": spd.gyro_scalar_mul(0.7, P, metric="lc"),
        "lc inv": spd.gyro_inv(P, metric="lc"),
        "ai margin": spd.hypergyroplane_margin(R, P, Q, metric="ai"),
        "lc logmap0": spd.logmap0(P, metric="lc"),
    }


def test_closed_forms_match_independent_formulas():
    P, Q, R = _random_spd(0), _random_spd(1), _random_spd(2)
    V = R - np.eye(4)
    ps, pis = _sqrtm(P), np.linalg.inv(_sqrtm(P))
    got = quick_jit(_closed_forms)(P, Q, R, V)
    lp, lq = np.linalg.cholesky(P), np.linalg.cholesky(Q)
    e = np.real(scipy.linalg.sqrtm(Q @ np.linalg.inv(P)))

    def chol_inv(m):
        return m @ m.T

    want = {
        "ai dist": np.sqrt(np.sum(np.log(np.real(scipy.linalg.eigvals(np.linalg.solve(P, Q)))) ** 2)),
        "le dist": np.linalg.norm(_logm(P) - _logm(Q)),
        "lc dist": np.linalg.norm(_phi(P) - _phi(Q)),
        "ai exp": ps @ scipy.linalg.expm(pis @ V @ pis) @ ps,
        "ai log": ps @ _logm(pis @ Q @ pis) @ ps,
        "ai transp": e @ V @ e.T,
        "ai inner": np.trace(np.linalg.solve(P, V) @ np.linalg.solve(P, R)),
        "ai add": ps @ Q @ ps,
        "le add": scipy.linalg.expm(_logm(P) + _logm(Q)),
        "lc add": chol_inv(np.tril(lp, -1) + np.tril(lq, -1) + np.diag(np.diag(lp) * np.diag(lq))),
        "ai scalar": scipy.linalg.fractional_matrix_power(P, 0.7).real,
        "lc scalar": chol_inv(0.7 * np.tril(lp, -1) + np.diag(np.diag(lp) ** 0.7)),
        "lc inv": chol_inv(-np.tril(lp, -1) + np.diag(1.0 / np.diag(lp))),
        "ai margin": np.sum(_logm(pis @ R @ pis) * _logm(Q)),
        "lc logmap0": np.tril(lp, -1) + np.tril(lp, -1).T + 2 * np.diag(np.log(np.diag(lp))),
    }
    for name, value in got.items():
        np.testing.assert_allclose(np.asarray(value), want[name], rtol=1e-11, atol=1e-11, err_msg=name)


def test_ai_is_congruence_invariant():
    P, Q = _random_spd(3), _random_spd(4)
    A = np.random.default_rng(0).normal(size=(4, 4))
    d = spd.dist(P, Q, metric="ai")
    np.testing.assert_allclose(spd.dist(A @ P @ A.T, A @ Q @ A.T, metric="ai"), d, rtol=1e-11)
    assert abs(float(spd.dist(A @ P @ A.T, A @ Q @ A.T, metric="le")) - float(d)) > 1e-3  # LE is not


@functools.partial(quick_jit, static_argnames="metric")
def _mlr_pieces(X, P, W, t, *, metric):
    eye = jnp.eye(3, dtype=X.dtype)
    return {
        "logits": spd.hypergyroplane_margin(X, P, W, metric=metric),
        "one": spd.hypergyroplane_margin(X[2, 0], P[3], W[3], metric=metric),
        "generic": spd.gyro_inner(spd.gyro_inv_add(P, X, metric=metric), W, metric=metric),
        "at_identity": spd.hypergyroplane_margin(X, eye, W, metric=metric),
        "inner_at_identity": spd.inner(
            eye, spd.logmap0(X, metric=metric), spd.logmap0(W, metric=metric), metric=metric
        ),
        "scaled": spd.gyro_scalar_mul(t, X, metric=metric)[4, 0],
        "scaled_one": spd.gyro_scalar_mul(t[4, 0], X[4, 0], metric=metric),
    }


@pytest.mark.parametrize("metric", METRICS)
def test_batched_broadcasting_for_mlr(metric):
    # X (B, 1, n, n) against K class parameters (K, n, n) gives logits (B, K).
    X = _random_spd(5, 3, (6, 1))
    P, W = _random_spd(6, 3, (5,)), _random_spd(7, 3, (5,))
    t = jnp.linspace(-1, 1, 6)[:, None]
    out = _mlr_pieces(X, P, W, t, metric=metric)
    assert out["logits"].shape == (6, 5)
    np.testing.assert_allclose(out["logits"][2, 3], out["one"], rtol=1e-12)
    # = <⊖P ⊕ X, W>_gr written with the generic operations
    np.testing.assert_allclose(out["logits"], out["generic"], rtol=1e-10, atol=1e-12)
    # at P = I the logit is <Log_I X, Log_I W>_I
    np.testing.assert_allclose(out["at_identity"], out["inner_at_identity"], rtol=1e-10)
    # scalar gyro-multiplication with one factor per matrix
    np.testing.assert_allclose(out["scaled"], out["scaled_one"], rtol=1e-12)


@pytest.mark.parametrize("metric", ["le", "lc"])
def test_pseudo_gyrodistance_is_the_distance_to_the_hyperplane_for_flat_metrics(metric):
    # In the isometric coordinates c (log or φ) the hypergyroplane is the affine plane <c(Y) − c(P), c(W)> = 0;
    # the foot of the perpendicular Y* is on it and dist(X, Y*) equals the pseudo-gyrodistance.
    X, P, W = _random_spd(8), _random_spd(9), _random_spd(10)
    c = functools.partial(spd.gyro_coords, metric=metric)
    w = c(W)
    margin = spd.hypergyroplane_margin(X, P, W, metric=metric)
    foot_coords = c(X) - margin * w / jnp.sum(w * w)
    foot = spd.expmap0(foot_coords, metric="le") if metric == "le" else spd.log_cholesky_inv(foot_coords)
    assert abs(float(spd.hypergyroplane_margin(foot, P, W, metric=metric))) < 1e-12
    np.testing.assert_allclose(
        spd.dist(X, foot, metric=metric), spd.hypergyroplane_dist(X, P, W, metric=metric), rtol=1e-11
    )


@functools.partial(quick_jit, static_argnames="metric")
def _angles(eye, Q, R, *, metric):
    return (
        spd.gyro_coords(Q, metric=metric),
        spd.gyro_coords(R, metric=metric),
        spd.gyro_angle(eye, Q, R, metric=metric),
        spd.gyro_angle(R, Q, Q, metric=metric),
        spd.gyro_angle(eye, eye, Q, metric=metric),
    )


def test_gyro_angle():
    eye = np.eye(3)
    Q, R = _random_spd(11, 3), _random_spd(12, 3)
    for metric in METRICS:
        a, b, angle, same, undefined = _angles(eye, Q, R, metric=metric)
        want = np.arccos(np.sum(a * b) / np.linalg.norm(a) / np.linalg.norm(b))
        np.testing.assert_allclose(angle, want, rtol=1e-12)
        assert float(same) < 1e-6
        assert float(undefined) == pytest.approx(
            np.pi / 2
        )  # a zero gyrovector has no angle: π/2 by convention


# ---------------------------------------------------------------------------------------------------------------
# Gradients at the identity (every parameter starts there) and at repeated eigenvalues.


def _all_ops(metric):
    def f(X, P, W):
        terms = [
            spd.dist(X, P, metric=metric),
            spd.gyro_norm(spd.gyro_add(P, X, metric=metric), metric=metric),
            spd.hypergyroplane_margin(X, P, W, metric=metric),
            spd.hypergyroplane_dist(X, P, W, metric=metric),
            jnp.sum(spd.gyro_scalar_mul(0.5, X, metric=metric) * W),
            jnp.sum(spd.gyro_inv(P, metric=metric) * X),
            jnp.sum(spd.gyro_inv_add(P, X, metric=metric) * W),
            jnp.sum(spd.logmap0(X, metric=metric) * W),
            jnp.sum(spd.expmap0(X - P, metric=metric)),
            spd.dist0(W, metric=metric),
        ]
        return sum(jnp.sum(t) for t in terms)

    return f


@pytest.mark.parametrize("metric", METRICS)
def test_gradients_finite_at_identity_and_match_finite_differences(metric):
    f = _all_ops(metric)
    grad = quick_jit(jax.grad(f, argnums=(0, 1, 2)))
    f_jit = quick_jit(f)
    eye = np.eye(3)
    points = {
        "all identity": (eye, eye, eye),
        "diag(1,1,2)": (np.diag([1.0, 1.0, 2.0]), eye, np.diag([1.0, 2.0, 2.0])),
        "random": (_random_spd(13, 3), _random_spd(14, 3), _random_spd(15, 3)),
    }
    rng = np.random.default_rng(1)
    for name, args in points.items():
        for dtype in DTYPES:
            g = grad(*(jnp.asarray(a, dtype) for a in args))
            assert all(bool(jnp.all(jnp.isfinite(gi))) for gi in g), (metric, name, dtype)
        g = grad(*(jnp.asarray(a) for a in args))
        for k in range(3):
            d = rng.normal(size=(3, 3))
            d = d + d.T
            h = 1e-6
            plus = [np.asarray(a) for a in args]
            minus = [np.asarray(a) for a in args]
            plus[k] = plus[k] + h * d
            minus[k] = minus[k] - h * d
            fd = (float(f_jit(*plus)) - float(f_jit(*minus))) / (2 * h)
            got = float(jnp.sum(g[k] * d))
            if name == "all identity":
                break  # dist, ‖·‖_gr and the pseudo-distance are not differentiable at I (0 is a subgradient)
            assert abs(got - fd) <= 1e-6 * (1 + abs(fd)), (metric, name, k, got, fd)


# ---------------------------------------------------------------------------------------------------------------
# Bad input.


def test_check_spd_names_the_offending_matrix():
    good = _random_spd(16, 3, (2, 2))
    assert spd.check_spd(good).shape == (2, 2, 3, 3)
    indefinite = good.copy()
    indefinite[1, 0] = np.diag([1.0, -0.25, 2.0])
    with pytest.raises(
        spd.NotSPDError, match=r"X\[1, 0\] is not positive definite: smallest eigenvalue -0\.25"
    ):
        spd.check_spd(indefinite)
    asym = good.copy()
    asym[0, 1, 0, 2] += 0.1
    with pytest.raises(ValueError, match=r"W\[0, 1\] is not symmetric"):
        spd.check_spd(asym, name="W")
    nan = good.copy()
    nan[1, 1, 0, 0] = np.nan
    with pytest.raises(spd.NotSPDError, match=r"X\[1, 1\] has non-finite entries"):
        spd.check_spd(nan)
    with pytest.raises(spd.NotSPDError, match="shape"):
        spd.check_spd(np.ones((3, 2)))


def test_unknown_metric_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown metric 'aim'; valid metrics are 'ai' \(affine-invariant\), 'le'"
    ):
        spd.gyro_add(np.eye(2), np.eye(2), metric="aim")
    with pytest.raises(ValueError, match="unknown metric"):
        SPD(3, "bw")
    with pytest.raises(TypeError, match="n must be an int"):
        SPD(2.5)
    with pytest.raises(ValueError, match="n must be ≥ 1"):
        SPD(0)


def test_kernels_stay_finite_on_singular_input():
    # Kernels never return NaN on a PSD-singular input (proj, log, distance); check_spd is what rejects it.
    singular = jnp.diag(jnp.array([0.0, 1.0, 2.0], jnp.float32))
    for metric in ("ai", "le"):
        assert bool(jnp.isfinite(spd.gyro_norm(singular, metric=metric)))
    p = spd.proj(singular)
    assert float(jnp.linalg.eigvalsh(p)[0]) > 0
    assert bool(jnp.all(jnp.isfinite(spd.logmap0(p, metric="lc"))))


# ---------------------------------------------------------------------------------------------------------------
# The SPD value with geomrep.optim.


def test_value_delegates_and_is_a_static_leaf():
    m = SPD(3, "lc")
    assert hash(m) == hash(SPD(3, "lc")) and m != SPD(3, "le") and m.point_shape() == (3, 3)
    assert jax.tree_util.tree_leaves({"a": m}) == [m]
    P, Q = _random_spd(17, 3), _random_spd(18, 3)
    np.testing.assert_array_equal(m.gyro_add(P, Q), spd.gyro_add(P, Q, metric="lc"))
    np.testing.assert_array_equal(m.dist(P, Q), spd.dist(P, Q, metric="lc"))
    assert m.inner(P, Q, keepdims=True).shape == (1, 1)
    with pytest.raises(ValueError, match="fixed to 6"):
        m.point_shape(5)


@pytest.mark.parametrize(
    "metric, optimizer",
    [
        ("ai", "radam"),
        pytest.param("le", "rsgd", marks=pytest.mark.slow),
        pytest.param("lc", "radam", marks=pytest.mark.slow),
    ],
)
def test_riemannian_optimizers_reach_the_frechet_mean(metric, optimizer):
    # f(X) = Σ_i d(X, Y_i)²; for LE/LC its minimiser is the mean in the isometric coordinates (closed form).
    m = SPD(3, metric)
    Y = m.random(jax.random.key(2), (5, 3, 3), jnp.float64, std=0.5)
    params = {"x": jnp.eye(3), "b": jnp.zeros(2)}
    labels = {"x": m, "b": Euclidean()}

    def loss(p):
        return jnp.sum(m.dist(p["x"], Y) ** 2) + jnp.sum((p["b"] - 1.0) ** 2)

    schedule = optax.cosine_decay_schedule(0.1, 300)
    if optimizer == "rsgd":
        tx = optim.rsgd(schedule, labels, momentum=0.5)
    else:
        tx = optim.radam(schedule, labels)

    @quick_jit
    def run(p):
        def step(_, carry):
            p, s = carry
            updates, s = tx.update(jax.grad(loss)(p), s, p)
            return optim.apply_updates(p, updates, labels), s

        p = jax.lax.fori_loop(0, 300, step, (p, tx.init(p)))[0]
        return p, m.norm(p["x"], m.egrad2rgrad(p["x"], jax.grad(loss)(p)["x"]))

    p, grad_norm = run(params)
    spd.check_spd(p["x"])
    assert float(grad_norm) < 1e-4
    np.testing.assert_allclose(p["b"], 1.0, atol=1e-6)
    if metric != "ai":
        mean = jnp.mean(m.gyro_coords(Y), axis=0)
        np.testing.assert_allclose(m.gyro_coords(p["x"]), mean, atol=1e-5)
