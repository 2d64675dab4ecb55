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


def _mlr_and_fc(metric):
    return quick_jit(
        lambda X, P, W, Pfc, Wfc: (
            F.spd_mlr_logits(X, P, W, metric=metric),
            F.spd_gyro_fc(X, Pfc, Wfc, metric=metric),
        )
    )


_KERNELS = {m: _mlr_and_fc(m) for m in METRICS}


def _arrays(seed, n=4, K=3, m=3):
    rng = np.random.default_rng(seed)
    d = m * (m + 1) // 2
    return (
        _spd(rng, (5,), n),
        _spd(rng, (K,), n),
        _spd(rng, (K,), n),
        _spd(rng, (d,), n, 0.3),
        _spd(rng, (d,), n, 0.3),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("metric", METRICS)
def test_mlr_logits_and_gyro_fc_match_scipy(metric, dtype):
    """MLR logits vs the §B1–B3 closed forms with SciPy; gyro-FC outputs are SPD with the §B6 tangent coordinates
    (LE/AI: log Y has entries v_ii and v_ij/√2; LC: φ(Y) has entries v_ij, lower triangle)."""
    X, P, W, Pfc, Wfc = _arrays(0)
    logits, Y = _KERNELS[metric](*(jnp.asarray(a, dtype) for a in (X, P, W, Pfc, Wfc)))
    assert logits.shape == (5, 3) and logits.dtype == dtype and Y.shape == (5, 3, 3) and Y.dtype == dtype
    np.testing.assert_allclose(
        np.asarray(logits), _np_mlr(X, P, W, metric), atol=TOL[dtype] * 10, rtol=TOL[dtype]
    )
    Y = np.asarray(Y, np.float64)
    v = _np_mlr(X, Pfc, Wfc, metric)
    rows, cols = np.tril_indices(3)
    scale = np.where(rows == cols, 1.0, 1.0 if metric == "lc" else 1 / np.sqrt(2))
    for i in range(5):
        assert np.linalg.eigvalsh(Y[i])[0] > 0
        np.testing.assert_allclose(Y[i], Y[i].T, atol=TOL[dtype] * 10)
        chart = _np_lc_coords(Y[i]) if metric == "lc" else _logm(Y[i])
        np.testing.assert_allclose(
            chart[rows, cols], v[i] * scale, atol=TOL[dtype] * 50, rtol=TOL[dtype] * 10
        )


def test_mlr_logits_reduce_to_identity_inner_product_at_p_equal_identity():
    """gyro.md §B9: with P_k = I the logit is ⟨Log_I X, Log_I W_k⟩; with W_k = I it is 0 (all metrics)."""
    X, _, W, Pfc, Wfc = _arrays(1)
    eye = np.broadcast_to(np.eye(4), W.shape)
    for metric in METRICS:
        chart = _np_lc_coords if metric == "lc" else _logm
        want = np.array([[np.sum(chart(x) * chart(w)) for w in W] for x in X])
        got, _ = _KERNELS[metric](X, eye, W, Pfc, Wfc)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(_KERNELS[metric](X, W, eye, Pfc, Wfc)[0]), 0.0, atol=1e-12)


def test_ai_mlr_is_invariant_under_a_common_congruence():
    """X → AXAᵀ, P_k → AP_kAᵀ, W_k → O W_k Oᵀ with O = (AP_kAᵀ)^{-1/2} A P_k^{1/2} orthogonal: logits unchanged."""
    X, P, W, Pfc, Wfc = _arrays(2)
    A = np.random.default_rng(2).standard_normal((4, 4)) + 2 * np.eye(4)
    P2 = A @ P @ A.T
    O = [np.linalg.inv(np.real(sla.sqrtm(P2[k]))) @ A @ np.real(sla.sqrtm(P[k])) for k in range(3)]
    W2 = np.stack([O[k] @ W[k] @ O[k].T for k in range(3)])
    np.testing.assert_allclose(O[0] @ O[0].T, np.eye(4), atol=1e-10)
    got, _ = _KERNELS["ai"](A @ X @ A.T, P2, W2, Pfc, Wfc)
    want, _ = _KERNELS["ai"](X, P, W, Pfc, Wfc)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-9, atol=1e-9)


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


def _loss(X, Wst, P, W, Pfc, Wfc, metric):
    """BiMap → ReEig → (LogEig summary + gyro-FC → gyro-MLR): every SPD kernel in one scalar."""
    H = F.reeig(F.bimap(X, Wst), eps=1e-4)
    logits = F.spd_mlr_logits(F.spd_gyro_fc(H, Pfc, Wfc, metric=metric), P, W, metric=metric)
    return jnp.sum(jax.nn.log_softmax(logits)[:, 0]) + jnp.sum(F.logeig(H) * jnp.arange(H.shape[-1]))


def _central_fd(f, x, h):
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (float(f(jnp.asarray(x + e))) - float(f(jnp.asarray(x - e)))) / (2 * h)
    return g


@pytest.mark.parametrize("metric", METRICS)
def test_gradients_are_finite_at_the_identity_and_match_central_finite_differences(metric):
    """At X = I with a Stiefel BiMap weight, BiMap gives I: ReEig, LogEig, gyro-FC and gyro-MLR then see fully
    repeated eigenvalues (where layers are initialised); gradients there are finite. At a random point they match
    central finite differences."""
    n, m, K = 4, 3, 2
    eye = jnp.broadcast_to(jnp.eye(m), (K, m, m))
    eye_fc = jnp.broadcast_to(jnp.eye(m), (6, m, m))
    value_and_grad = quick_jit(jax.value_and_grad(_loss, argnums=(0, 1, 2, 3, 4, 5)), static_argnums=6)

    def grad_fn(*args):
        return value_and_grad(*args)[1]

    def loss(*args):  # one compile serves the gradients and the finite differences
        return value_and_grad(*args)[0]

    at_identity = (jnp.broadcast_to(jnp.eye(n), (2, n, n)), jnp.eye(n)[:, :m], eye, eye, eye_fc, eye_fc)
    grads = grad_fn(*at_identity, metric)
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g)))
    # at P = W = I everywhere the FC normals get no signal (the FC output is I for every input), but the input
    # side does: the LogEig term reaches X and the BiMap weight
    assert float(jnp.abs(grads[0]).max()) > 0 and float(jnp.abs(grads[1]).max()) > 0

    rng = np.random.default_rng(5)
    args = [
        _spd(rng, (2,), n),
        np.linalg.qr(rng.standard_normal((n, m)))[0],
        _spd(rng, (K,), m, 0.3),
        _spd(rng, (K,), m, 0.3),
        _spd(rng, (6,), m, 0.3),
        _spd(rng, (6,), m, 0.3),
    ]
    args = [jnp.asarray(a) for a in args]
    grads = grad_fn(*args, metric)
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
