"""geomrep.manifolds.numerics: per-dtype table and safe functions (values, gradients, dtypes).

Everything a dtype needs is computed by one jitted function (one compile per dtype); the tests then compare
numbers. Eager evaluation is exercised on a few calls at the end.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import numerics
from geomrep.testing import quick_jit

DTYPES = [jnp.float32, jnp.float64]
# Relative accuracy expected of the safe functions, per dtype.
RTOL = {jnp.float32: 2e-6, jnp.float64: 1e-14}
# A tiny vector whose squared norm is still a normal number (XLA flushes subnormals to zero).
TINY = {jnp.float32: 1e-15, jnp.float64: 1e-100}

ARTANH_X = np.array([-1.0, -0.5, 0.0, 0.3, 1.0 - 1e-3, 1.0, 2.0])
ARCOSH_X = np.array([0.5, 1.0, 1.0 + 1e-6, 1.5, 10.0, 1e6, 1e30])
SQRT_X = np.array([4.0, 0.0, -1.0])
RATIO_X = np.array([1e-30, 1e-9, 1e-5, 1e-3, 0.03, 0.1, 0.5, 0.9])
RATIO_DIRECT = {"sinhc": np.sinh, "tanhc": np.tanh, "artanhc": np.arctanh, "arsinhc": np.arcsinh}
RATIO_DERIV = {
    "sinhc": lambda x: (x * np.cosh(x) - np.sinh(x)) / x**2,
    "tanhc": lambda x: (x / np.cosh(x) ** 2 - np.tanh(x)) / x**2,
    "artanhc": lambda x: (x / (1 - x**2) - np.arctanh(x)) / x**2,
    "arsinhc": lambda x: (x / np.sqrt(1 + x**2) - np.arcsinh(x)) / x**2,
}


def _elementwise_grad(fn):
    return jax.vmap(jax.grad(fn))


def _compute(artanh_x, arcosh_x, sqrt_x, ratio_x, norm_x):
    out = {
        "artanh": numerics.artanh(artanh_x),
        "artanh_grad": _elementwise_grad(numerics.artanh)(artanh_x),
        "arcosh": numerics.arcosh(arcosh_x),
        "arcosh_grad": _elementwise_grad(numerics.arcosh)(arcosh_x),
        "tanh": numerics.tanh(jnp.array([-100.0, 0.5, 100.0], artanh_x.dtype)),
        "safe_sqrt": numerics.safe_sqrt(sqrt_x),
        "safe_sqrt_grad": _elementwise_grad(numerics.safe_sqrt)(sqrt_x),
        "norm": numerics.safe_norm(norm_x),
        "norm_keep": numerics.safe_norm(norm_x, keepdims=True),
        "norm_axis0": numerics.safe_norm(norm_x, axis=0),
        "norm_grad": jax.vmap(jax.grad(numerics.safe_norm))(norm_x),
    }
    for name in RATIO_DIRECT:
        fn = getattr(numerics, name)
        xs = jnp.concatenate([-ratio_x, jnp.zeros(1, ratio_x.dtype), ratio_x])
        out[name] = fn(xs)
        out[name + "_grad"] = _elementwise_grad(fn)(xs)
    return out


_compute_jit = quick_jit(_compute)


@pytest.fixture(scope="module", params=DTYPES, ids=lambda d: d.__name__)
def computed(request):
    dtype = request.param
    args = [jnp.asarray(a, dtype) for a in (ARTANH_X, ARCOSH_X, SQRT_X, RATIO_X)]
    norm_x = jnp.array([[3.0, 4.0], [0.0, 0.0], [TINY[dtype], 0.0]], dtype)
    out = jax.tree_util.tree_map(np.asarray, _compute_jit(*args, norm_x))
    return dtype, out


def test_table_values():
    assert numerics.ball_eps(jnp.float32) == 4e-3
    assert numerics.ball_eps(jnp.float64) == 1e-5
    assert numerics.ball_eps(np.dtype("float64")) == 1e-5
    assert numerics.min_norm(jnp.float64) == 1e-15
    assert 0 < numerics.min_norm(jnp.float32) <= 1e-12
    assert numerics.max_cosh_arg(jnp.float32) == 40.0
    assert numerics.max_cosh_arg(jnp.float64) == 350.0
    for dtype in DTYPES:
        big = np.cosh(np.asarray(numerics.max_cosh_arg(dtype), dtype))
        assert np.isfinite(big * big)
    # The documented distance caps ln((2 − eps)/eps): 6.2 (float32) and 12.2 (float64).
    assert math.log((2 - 4e-3) / 4e-3) == pytest.approx(6.21, abs=0.01)
    assert math.log((2 - 1e-5) / 1e-5) == pytest.approx(12.21, abs=0.01)


def test_unsupported_dtype_is_a_clear_error():
    with pytest.raises(TypeError, match="unsupported dtype"):
        numerics.ball_eps(jnp.int32)


def test_dtypes_are_preserved(computed):
    dtype, out = computed
    for name, value in out.items():
        assert value.dtype == dtype, name


def test_everything_finite(computed):
    _, out = computed
    for name, value in out.items():
        assert np.all(np.isfinite(value)), name


def test_safe_norm(computed):
    dtype, out = computed
    # Nothing is added under the square root: tiny vectors keep their norm.
    np.testing.assert_allclose(out["norm"], [5.0, 0.0, TINY[dtype]], rtol=1e-6)
    assert out["norm_keep"].shape == (3, 1) and out["norm_axis0"].shape == (2,)
    np.testing.assert_allclose(out["norm_grad"][0], [0.6, 0.8], rtol=RTOL[dtype])
    assert np.all(out["norm_grad"][1] == 0.0)  # the subgradient 0 at x = 0


def test_safe_sqrt(computed):
    _, out = computed
    np.testing.assert_allclose(out["safe_sqrt"], [2.0, 0.0, 0.0])
    np.testing.assert_allclose(out["safe_sqrt_grad"], [0.25, 0.0, 0.0])


def test_artanh(computed):
    dtype, out = computed
    np.testing.assert_allclose(out["artanh"][1:5], np.arctanh(ARTANH_X[1:5]), rtol=10 * RTOL[dtype])
    eps = float(jnp.finfo(dtype).eps)
    assert out["artanh"][-1] == pytest.approx(np.arctanh(1 - eps), rel=1e-3)  # clipped, finite
    assert out["artanh"][0] == -out["artanh"][5]


def test_arcosh(computed):
    dtype, out = computed
    ref = np.arccosh(np.maximum(ARCOSH_X, 1.0))
    np.testing.assert_allclose(out["arcosh"][3:], ref[3:], rtol=10 * RTOL[dtype])
    assert out["arcosh"][0] == 0.0 and out["arcosh"][1] == 0.0
    assert out["arcosh_grad"][4] == pytest.approx(1 / math.sqrt(99.0), rel=10 * RTOL[dtype])


def test_tanh_clip(computed):
    dtype, out = computed
    assert out["tanh"][2] == np.tanh(np.asarray(15.0, dtype))
    assert out["tanh"][1] == pytest.approx(math.tanh(0.5), rel=RTOL[dtype])


@pytest.mark.parametrize("name", sorted(RATIO_DIRECT))
def test_ratio_functions(computed, name):
    dtype, out = computed
    n = len(RATIO_X)
    values, grads = out[name], out[name + "_grad"]
    ref = RATIO_DIRECT[name](RATIO_X) / RATIO_X
    np.testing.assert_allclose(values[n + 1 :], ref, rtol=4 * RTOL[dtype])
    np.testing.assert_allclose(values[:n], ref, rtol=4 * RTOL[dtype])  # even functions: f(−x) = f(x)
    assert values[n] == 1.0 and grads[n] == 0.0
    # Gradients: exact Taylor slope near 0; away from it the direct formula's derivative is accurate. (Between,
    # it cancels to an absolute error ~eps/x, harmless once multiplied by the vector the ratio scales.)
    mid = RATIO_X >= 0.1
    np.testing.assert_allclose(
        grads[n + 1 :][mid], RATIO_DERIV[name](RATIO_X[mid]), rtol=1e-4 if dtype == jnp.float32 else 1e-10
    )
    tiny = RATIO_X < numerics._small_arg(dtype)
    np.testing.assert_allclose(grads[n + 1 :][tiny], RATIO_DERIV[name](0.1) / 0.1 * RATIO_X[tiny], rtol=0.02)


def test_eager_matches_jit_and_keeps_float32_under_x64():
    x = jnp.linspace(-0.9, 0.9, 5, dtype=jnp.float32)
    eager = numerics.tanhc(x)
    assert eager.dtype == jnp.float32
    np.testing.assert_allclose(eager, jax.jit(numerics.tanhc)(x), rtol=1e-6)
    assert numerics.artanh(x).dtype == jnp.float32
    assert numerics.safe_norm(x).dtype == jnp.float32
