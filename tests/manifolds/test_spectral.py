"""geomrep.manifolds.spectral: values against SciPy, Daleckii–Krein gradients against central differences at
repeated eigenvalues (X = I, diag(1, 1, 2)) and at random SPD matrices, cancellation-free divided differences."""

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.linalg

from geomrep.manifolds import spectral
from geomrep.testing import quick_jit

DTYPES = [jnp.float32, jnp.float64]


def _spd(rng, n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + 0.5 * np.eye(n)


def _frac_power(x, t):
    w, v = np.linalg.eigh(x)
    return (v * w**t) @ v.T


# name -> (geomrep function of X, reference on one float64 matrix, scalar f for the Loewner check)
FUNCTIONS = {
    "logm": (spectral.sym_logm, lambda x: np.real(scipy.linalg.logm(x))),
    "expm": (spectral.sym_expm, scipy.linalg.expm),
    "sqrtm": (spectral.sym_sqrtm, lambda x: np.real(scipy.linalg.sqrtm(x))),
    "invsqrtm": (spectral.sym_invsqrtm, lambda x: np.linalg.inv(np.real(scipy.linalg.sqrtm(x)))),
    "invm": (spectral.sym_invm, np.linalg.inv),
    "powm(0.3)": (lambda x: spectral.sym_powm(x, 0.3), lambda x: _frac_power(x, 0.3)),
    "powm(-1.7)": (lambda x: spectral.sym_powm(x, -1.7), lambda x: _frac_power(x, -1.7)),
    "funcm(log)": (
        lambda x: spectral.sym_funcm(x, jnp.log, lambda t: 1.0 / t),
        lambda x: scipy.linalg.logm(x),
    ),
    "funcm(x³)": (lambda x: spectral.sym_funcm(x, lambda t: t**3, lambda t: 3 * t**2), lambda x: x @ x @ x),
    "clampm(0.7)": (
        lambda x: spectral.sym_clampm(x, 0.7),
        lambda x: (lambda w, v: (v * np.maximum(w, 0.7)) @ v.T)(*np.linalg.eigh(x)),
    ),
    "clamped_logm(0.7)": (
        lambda x: spectral.sym_clamped_logm(x, 0.7),
        lambda x: (lambda w, v: (v * np.log(np.maximum(w, 0.7))) @ v.T)(*np.linalg.eigh(x)),
    ),
}
VALUE_TOL = {jnp.float32: 2e-5, jnp.float64: 1e-12}


@quick_jit
def _all_values(x):
    return {name: fn(x) for name, (fn, _) in FUNCTIONS.items()}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_values_match_scipy_batched_jit_and_eager(dtype):
    rng = np.random.default_rng(0)
    xs = _spd(rng, 5, (2, 3))
    x = jnp.asarray(xs, dtype)
    values = _all_values(x)
    for name, (_, ref) in FUNCTIONS.items():
        got = values[name]
        assert got.dtype == dtype and got.shape == (2, 3, 5, 5), name
        want = np.stack([np.real(ref(m)) for m in xs.reshape(-1, 5, 5)]).reshape(xs.shape)
        scale = 1.0 + np.abs(want).max()
        err = np.abs(np.asarray(got, np.float64) - want).max() / scale
        assert err < VALUE_TOL[dtype], (name, err)
    eager = spectral.sym_logm(x)  # the eager path gives the jitted values
    np.testing.assert_allclose(eager, values["logm"], rtol=0, atol=10 * VALUE_TOL[dtype])


def test_sqrtm_invsqrtm_pair_and_clamped_domain():
    x = jnp.asarray(_spd(np.random.default_rng(1), 4), jnp.float64)
    s, r = spectral.sym_sqrtm_invsqrtm(x)
    np.testing.assert_allclose(s @ s, x, atol=1e-13)
    np.testing.assert_allclose(s @ r, np.eye(4), atol=1e-13)
    # A singular (PSD) matrix gives large finite values, never NaN/inf.
    for dtype in DTYPES:
        z = jnp.diag(jnp.array([0.0, 1.0, -1e-9], dtype))
        for fn in (
            spectral.sym_logm,
            spectral.sym_invsqrtm,
            spectral.sym_invm,
            lambda m: spectral.sym_powm(m, -2),
        ):
            assert bool(jnp.all(jnp.isfinite(fn(z))))


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"sym_logm: expected symmetric matrices of shape \(\.\.\., n, n\)"):
        spectral.sym_logm(jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="sym_powm"):
        spectral.sym_powm(jnp.ones(3), 2.0)


# ---------------------------------------------------------------------------------------------------------------
# Gradients: reverse mode against central differences in float64, at degenerate and random spectra.

HARD_POINTS = {
    "identity": np.eye(3),
    "diag(1,1,2)": np.diag([1.0, 1.0, 2.0]),
    "near-degenerate": np.diag([1.0, 1.0 + 1e-9, 2.0]),
    "random": _spd(np.random.default_rng(2), 3),
}


FD_STEP = 1e-6


@quick_jit
def _grads_and_fd(x, cot, direction):
    """Per point of the batch x and per function: the reverse-mode gradient of Σ cot ∘ f(X) and the central
    difference of that loss along ``direction``."""
    out = {}
    for name, (fn, _) in FUNCTIONS.items():

        def loss(m, fn=fn):
            return jnp.sum(cot * fn(m), axis=(-2, -1))

        grad = jax.grad(lambda m, loss=loss: jnp.sum(loss(m)))(x)
        fd = (loss(x + FD_STEP * direction) - loss(x - FD_STEP * direction)) / (2 * FD_STEP)
        out[name] = (grad, fd)
    return out


def test_gradients_match_central_differences_float64():
    names = list(HARD_POINTS)
    x = jnp.asarray(np.stack([HARD_POINTS[k] for k in names]))
    rng = np.random.default_rng(3)
    cot = jnp.asarray(rng.normal(size=(3, 3)))
    direction = rng.normal(size=(3, 3))
    direction = jnp.asarray(direction + direction.T)
    for name, (g, fd) in _grads_and_fd(x, cot, direction).items():
        assert bool(jnp.all(jnp.isfinite(g))), name
        # The gradient of F(sym X) is symmetric: the rule must not depend on how X's off-diagonal is split.
        np.testing.assert_allclose(g, jnp.swapaxes(g, -1, -2), atol=1e-12)
        if name.startswith("clampm"):
            continue  # max(λ, 0.7): central differences across the kink are meaningless; values tested above
        got = jnp.sum(g * direction, axis=(-2, -1))
        for i, point in enumerate(names):
            assert abs(float(got[i]) - float(fd[i])) <= 1e-7 * (1 + abs(float(fd[i]))), (
                name,
                point,
                got[i],
                fd[i],
            )


def test_gradients_float32_are_finite_and_match_float64():
    names = ["identity", "diag(1,1,2)", "random"]
    x = np.stack([HARD_POINTS[k] for k in names])
    cot = np.random.default_rng(4).normal(size=(3, 3))
    out = {
        dtype: _grads_and_fd(*(jnp.asarray(a, dtype) for a in (x, cot, np.zeros((3, 3))))) for dtype in DTYPES
    }
    for name in FUNCTIONS:
        g32, g64 = out[jnp.float32][name][0], out[jnp.float64][name][0]
        assert g32.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(g32))), name
        err = np.abs(np.asarray(g32, np.float64) - np.asarray(g64)).max() / (
            1 + np.abs(np.asarray(g64)).max()
        )
        assert err < 1e-4, (name, err)


def test_gradients_batched_and_under_jit():
    rng = np.random.default_rng(5)
    x = np.concatenate([np.broadcast_to(np.eye(4), (1, 4, 4)), _spd(rng, 4, (3,))])
    cot = rng.normal(size=x.shape)

    @functools.partial(quick_jit)
    def grad_batch(m):
        return jax.grad(lambda a: jnp.sum(cot * spectral.sym_logm(a)))(m)

    gb = grad_batch(jnp.asarray(x))
    for i in range(len(x)):
        gi = jax.grad(lambda a, i=i: jnp.sum(cot[i] * spectral.sym_logm(a)))(jnp.asarray(x[i]))
        np.testing.assert_allclose(gb[i], gi, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_clamped_logm_equals_logm_of_clampm_in_value_and_gradient(dtype):
    """LogEig ∘ ReEig fused into one eigh: same value and same gradient as the composition, with eigenvalues
    below, at and above the floor, repeated ones (I, a double eigenvalue below the floor) and random SPD."""
    rng = np.random.default_rng(11)
    q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    points = np.stack(
        [
            np.eye(4),
            q @ np.diag([0.1, 0.1, 0.5, 2.0]) @ q.T,  # a repeated eigenvalue below the floor 0.3
            q @ np.diag([0.05, 0.3, 0.3, 3.0]) @ q.T,  # a double eigenvalue at the floor
            _spd(rng, 4) * 0.6,
        ]
    )
    cot = jnp.asarray(rng.normal(size=(4, 4)), dtype)
    x = jnp.asarray(points, dtype)

    @quick_jit
    def both(m):
        def fused(a):
            return jnp.sum(cot * spectral.sym_clamped_logm(a, 0.3))

        def composed(a):
            return jnp.sum(cot * spectral.sym_logm(spectral.sym_clampm(a, 0.3)))

        return (
            spectral.sym_clamped_logm(m, 0.3),
            spectral.sym_logm(spectral.sym_clampm(m, 0.3)),
            jax.grad(fused)(m),
            jax.grad(composed)(m),
        )

    value, value_ref, grad, grad_ref = both(x)
    tol = VALUE_TOL[dtype] * 10
    assert bool(jnp.all(jnp.isfinite(grad)))
    np.testing.assert_allclose(value, value_ref, atol=tol)
    np.testing.assert_allclose(grad, grad_ref, atol=tol, rtol=tol)
    assert float(jnp.max(jnp.abs(grad[1]))) > 0.1  # the gradient is not trivially zero
    with pytest.raises(ValueError, match="floor must be > 0"):
        spectral.sym_clamped_logm(x, 0.0)


def test_identity_gradient_is_the_exact_derivative():
    # d log(I + tE)/dt = E and d exp(tE)/dt = E at t = 0: the Jacobian at I is the identity on symmetric matrices.
    e = np.random.default_rng(6).normal(size=(4, 4))
    e = jnp.asarray(e + e.T)
    for fn in (spectral.sym_logm, spectral.sym_expm, lambda m: 2.0 * spectral.sym_sqrtm(m)):
        point = jnp.zeros((4, 4)) if fn is spectral.sym_expm else jnp.eye(4)
        _, tangent = jax.jvp(fn, (point,), (e,))
        np.testing.assert_allclose(tangent, e, atol=1e-14)


def test_powm_gradient_in_the_exponent_batched():
    rng = np.random.default_rng(7)
    x = jnp.asarray(_spd(rng, 3, (4,)))
    t = jnp.asarray([0.5, -1.0, 2.0, 0.0])

    def loss(tt):
        return jnp.sum(spectral.sym_powm(x, tt) ** 2)

    f = quick_jit(loss)
    g = quick_jit(jax.grad(loss))(t)
    h = 1e-6
    for i in range(4):
        e = jnp.zeros(4).at[i].set(h)
        fd = (f(t + e) - f(t - e)) / (2 * h)
        assert abs(float(g[i]) - float(fd)) <= 1e-7 * (1 + abs(float(fd)))
    # scalar t broadcasts over the batch; X^1 = X, X^0 = I
    np.testing.assert_allclose(spectral.sym_powm(x, 1.0), x, atol=1e-13)
    np.testing.assert_allclose(spectral.sym_powm(x, 0.0), np.broadcast_to(np.eye(3), x.shape), atol=1e-14)


# ---------------------------------------------------------------------------------------------------------------
# Divided differences: exact (to rounding) at every spacing, including the ones where (f(a) − f(b))/(a − b)
# cancels catastrophically.

mpmath.mp.dps = 50


def _mp_divdiff(f, a, b):
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a == b:
        return mpmath.diff(f, a)
    return (f(a) - f(b)) / (a - b)


MP = {
    "log": (spectral.LOG, mpmath.log, ()),
    "exp": (spectral.EXP, mpmath.exp, ()),
    "sqrt": (spectral.SQRT, mpmath.sqrt, ()),
    "invsqrt": (spectral.INVSQRT, lambda x: 1 / mpmath.sqrt(x), ()),
    "inv": (spectral.INV, lambda x: 1 / x, ()),
    "pow(0.3)": (spectral.POW, lambda x: x ** mpmath.mpf(0.3), (0.3,)),
    "pow(-2.5)": (spectral.POW, lambda x: x ** mpmath.mpf(-2.5), (-2.5,)),
}


@pytest.mark.parametrize("name", list(MP))
def test_divided_differences_are_cancellation_free(name):
    fun, f_mp, params = MP[name]
    base = 1.7
    gaps = [0.0] + [10.0**-k for k in range(1, 16)] + [3.0, 50.0]
    lam = jnp.asarray([base] + [base + g for g in gaps[1:]], jnp.float64)
    lam_np = np.asarray(lam)
    L = np.asarray(spectral.loewner_matrix(lam, fun, *(jnp.asarray(p) for p in params)))
    for j in range(len(lam_np)):
        want = float(_mp_divdiff(f_mp, float(lam_np[0]), float(lam_np[j])))
        assert abs(L[0, j] - want) <= 4e-15 * abs(want), (name, j, L[0, j], want)
        assert L[0, j] == L[j, 0]


def test_generic_divided_difference_accuracy():
    # sym_funcm's generic rule: ε^{1/3}-switch, ≈ ε^{2/3} relative accuracy at the worst spacing.
    fun = spectral._generic(jnp.log, lambda t: 1.0 / t)
    for dtype, tol in ((jnp.float64, 1e-10), (jnp.float32, 2e-5)):
        gaps = [0.0] + [10.0**-k for k in range(1, 16)]
        lam = jnp.asarray([1.7] + [1.7 + g for g in gaps[1:]], dtype)
        L = np.asarray(spectral.loewner_matrix(lam, fun), np.float64)
        lam64 = np.asarray(lam, np.float64)
        for j in range(len(lam64)):
            want = float(_mp_divdiff(mpmath.log, lam64[0], lam64[j]))
            assert abs(L[0, j] - want) <= tol * abs(want), (dtype, j, L[0, j], want)
