"""geomrep.nn.functional SPD layers against float64 NumPy/SciPy references; gradients at X = I and vs finite
differences; float32 kernels."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla

from geomrep.nn import functional as F
from geomrep.testing import quick_jit

DTYPES = [jnp.float32, jnp.float64]
METRICS = ["ai", "le", "lc"]
# relative tolerances for O(1) values (logits, matrix entries) computed through eigh / cholesky
TOL = {jnp.float32: 2e-4, jnp.float64: 1e-10}


def _spd(rng, shape, n, spread=0.6):
    a = rng.standard_normal((*shape, n, n))
    s = spread * (a + np.swapaxes(a, -1, -2)) / 2
    lam, U = np.linalg.eigh(s)
    return (U * np.exp(lam)[..., None, :]) @ np.swapaxes(U, -1, -2)


def _logm(A):
    return np.real(sla.logm(A))


def _np_lc_coords(A):
    L = np.linalg.cholesky(A)
    return np.tril(L, -1) + np.diag(np.log(np.diag(L)))


def _np_mlr(X, P, W, metric):
    """logit_k = ⟨⊖P_k ⊕ X, W_k⟩_gr from the closed forms of gyro.md §B1–B3, with SciPy's logm / sqrtm."""
    out = np.zeros((X.shape[0], P.shape[0]))
    for i in range(X.shape[0]):
        for k in range(P.shape[0]):
            if metric == "ai":
                r = np.linalg.inv(np.real(sla.sqrtm(P[k])))
                out[i, k] = np.sum(_logm(r @ X[i] @ r) * _logm(W[k]))
            elif metric == "le":
                out[i, k] = np.sum((_logm(X[i]) - _logm(P[k])) * _logm(W[k]))
            else:
                out[i, k] = np.sum((_np_lc_coords(X[i]) - _np_lc_coords(P[k])) * _np_lc_coords(W[k]))
    return out


_mlr = {m: quick_jit(lambda X, P, W, m=m: F.spd_mlr_logits(X, P, W, metric=m)) for m in METRICS}
_fc = {m: quick_jit(lambda X, P, W, m=m: F.spd_gyro_fc(X, P, W, metric=m)) for m in METRICS}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
def test_mlr_logits_match_scipy(metric, dtype):
    rng = np.random.default_rng(0)
    X, P, W = _spd(rng, (5,), 4), _spd(rng, (3,), 4), _spd(rng, (3,), 4)
    got = _mlr[metric](*(jnp.asarray(a, dtype) for a in (X, P, W)))
    assert got.shape == (5, 3) and got.dtype == dtype
    want = _np_mlr(X, P, W, metric)
    np.testing.assert_allclose(np.asarray(got), want, atol=TOL[dtype] * 10, rtol=TOL[dtype])


def test_mlr_logits_reduce_to_identity_inner_product_at_p_equal_identity():
    """gyro.md §B9: with P_k = I the logit is ⟨Log_I X, Log_I W_k⟩; with W_k = I it is 0 (all metrics)."""
    rng = np.random.default_rng(1)
    X, W = _spd(rng, (4,), 3), _spd(rng, (2,), 3)
    eye = np.broadcast_to(np.eye(3), (2, 3, 3))
    for metric in METRICS:
        chart = _np_lc_coords if metric == "lc" else _logm
        want = np.array([[np.sum(chart(x) * chart(w)) for w in W] for x in X])
        np.testing.assert_allclose(np.asarray(_mlr[metric](X, eye, W)), want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(_mlr[metric](X, W, eye)), 0.0, atol=1e-12)


def test_ai_mlr_is_invariant_under_a_common_congruence():
    """X → AXAᵀ, P_k → AP_kAᵀ, W_k → O W_k Oᵀ with O = (AP_kAᵀ)^{-1/2} A P_k^{1/2} orthogonal: logits unchanged."""
    rng = np.random.default_rng(2)
    X, P, W = _spd(rng, (6,), 4), _spd(rng, (2,), 4), _spd(rng, (2,), 4)
    A = rng.standard_normal((4, 4)) + 2 * np.eye(4)
    P2 = A @ P @ A.T
    O = [np.linalg.inv(np.real(sla.sqrtm(P2[k]))) @ A @ np.real(sla.sqrtm(P[k])) for k in range(2)]
    W2 = np.stack([O[k] @ W[k] @ O[k].T for k in range(2)])
    np.testing.assert_allclose(O[0] @ O[0].T, np.eye(4), atol=1e-10)
    got = _mlr["ai"](A @ X @ A.T, P2, W2)
    np.testing.assert_allclose(np.asarray(got), np.asarray(_mlr["ai"](X, P, W)), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
def test_gyro_fc_outputs_spd_with_the_logits_as_tangent_coordinates(metric, dtype):
    """§B6: LE/AI: log Y has entries v_ii and v_ij/√2; LC: φ(Y) has entries v_ij (lower triangle)."""
    rng = np.random.default_rng(3)
    m = 3
    X, P, W = _spd(rng, (4,), 5), _spd(rng, (6,), 5, 0.3), _spd(rng, (6,), 5, 0.3)
    Y = np.asarray(_fc[metric](*(jnp.asarray(a, dtype) for a in (X, P, W))), np.float64)
    assert Y.shape == (4, m, m)
    v = _np_mlr(X, P, W, metric)
    rows, cols = np.tril_indices(m)
    for i in range(4):
        assert np.linalg.eigvalsh(Y[i])[0] > 0
        np.testing.assert_allclose(Y[i], Y[i].T, atol=TOL[dtype] * 10)
        chart = _np_lc_coords(Y[i]) if metric == "lc" else _logm(Y[i])
        scale = np.where(rows == cols, 1.0, 1.0 if metric == "lc" else 1 / np.sqrt(2))
        np.testing.assert_allclose(
            chart[rows, cols], v[i] * scale, atol=TOL[dtype] * 50, rtol=TOL[dtype] * 10
        )


def test_gyro_fc_rejects_a_parameter_count_that_is_not_triangular():
    eye = jnp.broadcast_to(jnp.eye(2), (4, 2, 2))
    with pytest.raises(ValueError, match="m\\(m\\+1\\)/2"):
        F.spd_gyro_fc(jnp.eye(2), eye, eye, metric="le")


def test_unknown_metric_lists_the_valid_ones():
    eye = jnp.eye(2)[None]
    with pytest.raises(ValueError, match="valid metrics"):
        F.spd_mlr_logits(jnp.eye(2), eye, eye, metric="bw")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bimap_reeig_logeig_and_vectorisation_match_numpy(dtype):
    rng = np.random.default_rng(4)
    X = _spd(rng, (3,), 5)
    Wst = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    fn = quick_jit(
        lambda X, W: (F.bimap(X, W), F.reeig(F.bimap(X, W), eps=0.5), F.logeig(X), F.sym_to_vec(X))
    )
    y, r, lg, vec = (np.asarray(a, np.float64) for a in fn(jnp.asarray(X, dtype), jnp.asarray(Wst, dtype)))
    Y = Wst.T @ X @ Wst
    lam, U = np.linalg.eigh(Y)
    np.testing.assert_allclose(y, Y, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(
        r,
        (U * np.maximum(lam, 0.5)[..., None, :]) @ np.swapaxes(U, -1, -2),
        rtol=TOL[dtype] * 5,
        atol=TOL[dtype] * 5,
    )
    np.testing.assert_allclose(lg, np.stack([_logm(x) for x in X]), rtol=TOL[dtype] * 5, atol=TOL[dtype] * 5)
    np.testing.assert_allclose(
        np.linalg.norm(vec, axis=-1), np.linalg.norm(X, axis=(-2, -1)), rtol=TOL[dtype]
    )


def _spdnet_head(X, Wst, P, W, metric):
    return F.spd_mlr_logits(F.reeig(F.bimap(X, Wst), eps=1e-4), P, W, metric=metric)


def _loss(X, Wst, P, W, Pfc, Wfc, metric):
    """BiMap → ReEig → (LogEig summary + gyro-FC → gyro-MLR): every SPD kernel in one scalar."""
    H = F.reeig(F.bimap(X, Wst), eps=1e-4)
    logits = F.spd_mlr_logits(F.spd_gyro_fc(H, Pfc, Wfc, metric=metric), P, W, metric=metric)
    return jnp.sum(jax.nn.log_softmax(logits)[:, 0]) + jnp.sum(F.logeig(H) * jnp.arange(H.shape[-1]))


@pytest.mark.parametrize("metric", METRICS)
def test_gradients_are_finite_at_the_identity_where_layers_start(metric):
    """BiMap of X = I by a Stiefel W is I; ReEig, LogEig, gyro-FC and gyro-MLR then see repeated eigenvalues."""
    n, m, K = 5, 3, 2
    X = jnp.broadcast_to(jnp.eye(n), (2, n, n))
    Wst = jnp.eye(n)[:, :m]
    eye = jnp.broadcast_to(jnp.eye(m), (K, m, m))
    eye_fc = jnp.broadcast_to(jnp.eye(m), (6, m, m))
    grads = quick_jit(jax.grad(_loss, argnums=(0, 1, 2, 3, 4, 5)), static_argnums=6)(
        X, Wst, eye, eye, eye_fc, eye_fc, metric
    )
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g)))
    # at P = W = I everywhere the normals of the FC get no signal (its output is I for every input), but the
    # input side does: the LogEig term reaches X and the BiMap weight
    assert float(jnp.abs(grads[0]).max()) > 0 and float(jnp.abs(grads[1]).max()) > 0


def _central_fd(f, x, h):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(jnp.asarray(x + e))) - float(f(jnp.asarray(x - e)))) / (2 * h)
    return g


@pytest.mark.parametrize("metric", METRICS)
def test_gradients_match_central_finite_differences(metric):
    rng = np.random.default_rng(5)
    n, m = 4, 2
    args = [
        _spd(rng, (2,), n),
        np.linalg.qr(rng.standard_normal((n, m)))[0],
        _spd(rng, (2,), m, 0.3),
        _spd(rng, (2,), m, 0.3),
        _spd(rng, (3,), m, 0.3),
        _spd(rng, (3,), m, 0.3),
    ]
    args = [jnp.asarray(a) for a in args]
    loss = quick_jit(_loss, static_argnums=6)
    grads = quick_jit(jax.grad(_loss, argnums=(0, 1, 2, 3, 4, 5)), static_argnums=6)(*args, metric)
    for i in (0, 1, 3, 5):  # inputs, BiMap weight, MLR normals, FC normals (offsets enter symmetrically)

        def f(v, i=i):
            return loss(*[v if j == i else args[j] for j in range(6)], metric)

        # finite differences perturb single entries (non-symmetric directions); every kernel symmetrises its
        # input, so compare symmetrised gradients for the SPD arguments
        fd = _central_fd(f, args[i], 1e-6)
        g = np.asarray(grads[i])
        if i != 1:
            fd, g = 0.5 * (fd + np.swapaxes(fd, -1, -2)), 0.5 * (g + np.swapaxes(g, -1, -2))
        np.testing.assert_allclose(g, fd, atol=1e-6, rtol=1e-5)


def test_mismatched_parameter_shapes_are_one_clear_error():
    eye3 = jnp.broadcast_to(jnp.eye(3), (2, 3, 3))
    with pytest.raises(ValueError, match=r"need parameters P, W of shape \(K, 2, 2\); got P \(2, 3, 3\)"):
        F.spd_mlr_logits(jnp.eye(2), eye3, eye3, metric="le")
