"""Group Fourier transform: inversion, Plancherel and the convolution theorem for groups with real-, complex-
and quaternionic-type irreps; per-irrep power (sums to 1, translation invariant, FFT agreement on Z_n); float32
and float64, jitted, batched over any axis."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.algebra import fourier, groups
from geomrep.algebra import irreps as ir

GROUPS = {
    "Z7": lambda: groups.cyclic(7),
    "Z8": lambda: groups.cyclic(8),
    "D6": lambda: groups.dihedral(6),
    "S4": lambda: groups.symmetric(4),
    "A4": lambda: groups.alternating(4),  # a complex-type irrep
    "Q8": groups.quaternion,  # a quaternionic-type irrep
    "S3xZ3": lambda: groups.direct_product(groups.symmetric(3), groups.cyclic(3)),
    "A5": lambda: groups.alternating(5),
}
TOL = {jnp.float64: 1e-11, jnp.float32: 2e-5}


@pytest.fixture(params=list(GROUPS), ids=list(GROUPS))
def group(request):
    return GROUPS[request.param]()


def _reference_transform(f: np.ndarray, reps) -> list[np.ndarray]:
    return [np.einsum("...g,gij->...ij", f, r.matrices) for r in reps]


def test_transform_inversion_plancherel_and_convolution(group):
    """One batch per group: random rows, a delta at the last element, and a convolution f * h with
    (f * h)(x) = Σ_y f(y) h(y⁻¹x), whose transform must be f̂(ρ)ĥ(ρ)."""
    reps = ir.irreps(group)
    n, t, inv = group.order, group.table, group.inverses
    rng = np.random.default_rng(0)
    f = np.zeros((5, n))
    f[:3] = rng.standard_normal((3, n))
    f[3, n - 1] = 1.0
    f[4] = [sum(f[0, y] * f[1, t[inv[y], x]] for y in range(n)) for x in range(n)]
    f_hat = [np.asarray(b) for b in fourier.fourier_transform(f, reps)]
    for r, b, ref in zip(reps, f_hat, _reference_transform(f, reps), strict=True):
        assert b.shape == (5, r.dim, r.dim) and b.dtype == np.float64
        assert np.allclose(b, ref, atol=1e-12)
        assert np.allclose(b[3], r.matrices[n - 1], atol=1e-14)  # the transform of a delta is ρ(g)
        assert np.allclose(b[0] @ b[1], b[4], atol=1e-10)  # convolution theorem
    back = np.asarray(fourier.inverse_fourier_transform(f_hat, reps))
    assert back.shape == f.shape and np.abs(back - f).max() < 1e-11 * np.abs(f).max()
    energy = sum(
        (r.dim / r.commutant_dim) * np.sum(b**2, axis=(-2, -1)) for r, b in zip(reps, f_hat, strict=True)
    )
    assert np.allclose(energy / n, np.sum(f**2, axis=-1), rtol=1e-12)


@pytest.mark.parametrize("name", ["Z8", "A4", "Q8"])
def test_float32_transform_round_trip(name):
    g = GROUPS[name]()
    reps = ir.irreps(g)
    f = jnp.asarray(np.random.default_rng(0).standard_normal((3, g.order)), jnp.float32)
    f_hat = jax.jit(lambda x: fourier.fourier_transform(x, reps))(f)
    assert all(b.dtype == jnp.float32 for b in f_hat)
    back = fourier.inverse_fourier_transform(f_hat, reps)
    assert back.dtype == jnp.float32
    assert np.abs(np.asarray(back) - np.asarray(f)).max() < 2e-5 * float(jnp.abs(f).max())


def test_fourier_basis_is_orthonormal_and_spans_each_irrep(group):
    reps = ir.irreps(group)
    basis = fourier.fourier_basis(reps)
    assert np.allclose(basis.matrix.T @ basis.matrix, np.eye(group.order), atol=1e-12)
    for i, r in enumerate(reps):
        cols = basis.matrix[:, basis.irrep_index == i]
        assert cols.shape[1] == r.dim**2 // r.commutant_dim
        entries = r.matrices.reshape(group.order, -1)
        assert np.allclose(cols @ (cols.T @ entries), entries, atol=1e-12)  # the columns span ρ's entries


def test_irrep_power_sums_to_one_matches_the_transform_and_is_one_hot_on_irrep_entries(group):
    reps = ir.irreps(group)
    x = np.concatenate(
        [np.random.default_rng(2).standard_normal((4, group.order))]
        + [r.matrices[:, -1, 0][None] for r in reps]
    )
    power = np.asarray(fourier.irrep_power(x, reps))
    assert power.shape == (4 + len(reps), len(reps))
    assert np.allclose(power.sum(-1), 1.0, atol=1e-12)
    direct = np.stack(
        [
            (r.dim / (r.commutant_dim * group.order)) * np.sum(b**2, axis=(-2, -1))
            for r, b in zip(reps, _reference_transform(x, reps), strict=True)
        ],
        -1,
    )
    assert np.allclose(power, direct / np.sum(x**2, -1, keepdims=True), atol=1e-12)
    assert np.allclose(power[4:], np.eye(len(reps)), atol=1e-12)  # an entry of ρ_i is all in ρ_i


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["S4", "A4", "Q8", "Z8"]), st.data())
def test_irrep_power_is_invariant_under_translations(name, data):
    g = GROUPS[name]()
    reps = ir.irreps(g)
    s = data.draw(st.integers(0, g.order - 1))
    x = np.random.default_rng(data.draw(st.integers(0, 2**16))).standard_normal(g.order)
    left = x[g.table[s]]  # x(s∘·)
    right = x[g.table[:, s]]  # x(·∘s)
    p = fourier.irrep_power(x, reps)
    assert np.allclose(fourier.irrep_power(left, reps), p, atol=1e-12)
    assert np.allclose(fourier.irrep_power(right, reps), p, atol=1e-12)


@pytest.mark.parametrize("n", [7, 8, 23])
def test_cyclic_basis_and_frequency_power(n):
    reps = ir.irreps(groups.cyclic(n))
    a = np.arange(n)
    basis = fourier.fourier_basis(reps).matrix
    expected = [np.ones(n) / np.sqrt(n)]
    for k in range(1, (n + 1) // 2):
        expected += [
            np.sqrt(2 / n) * np.cos(2 * np.pi * k * a / n),
            np.sqrt(2 / n) * np.sin(2 * np.pi * k * a / n),
        ]
    if n % 2 == 0:
        expected.append((-1.0) ** a / np.sqrt(n))
    assert np.allclose(basis, np.stack(expected, 1), atol=1e-12)
    x = np.random.default_rng(3).standard_normal((5, n))
    assert np.allclose(fourier.frequency_power(x), fourier.irrep_power(x, reps), atol=1e-12)
    assert np.allclose(fourier.frequency_power(x, normalize=False).sum(-1), (x**2).sum(-1))
    wave = np.cos(2 * np.pi * 3 * a / n + 1.1)
    assert np.allclose(fourier.frequency_power(wave), np.eye(n // 2 + 1)[3], atol=1e-12)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_axis_dtype_jit_and_zero_vectors(dtype):
    g = groups.symmetric(4)
    reps = ir.irreps(g)
    w = jnp.asarray(np.random.default_rng(4).standard_normal((g.order, 6)), dtype)  # one neuron per column
    w = w.at[:, 2].set(0.0)
    by_axis = jax.jit(lambda m: fourier.irrep_power(m, reps, axis=0))(w)
    assert by_axis.dtype == dtype and by_axis.shape == (6, len(reps))
    assert np.allclose(by_axis, fourier.irrep_power(w.T, reps), atol=TOL[dtype])
    assert np.all(np.asarray(by_axis[2]) == 0.0) and np.all(np.isfinite(np.asarray(by_axis)))
    blocks = fourier.fourier_transform(w, reps, axis=0)
    assert blocks[1].shape == (6, 3, 3)
    assert np.allclose(fourier.inverse_fourier_transform(blocks, reps, axis=0), w, atol=TOL[dtype] * 10)
    freq = fourier.frequency_power(jnp.zeros((2, 5), dtype))
    assert freq.dtype == dtype and np.all(np.asarray(freq) == 0.0)


def test_power_gradient_matches_finite_differences_and_is_finite_at_zero():
    reps = ir.irreps(groups.alternating(4))
    x = np.random.default_rng(5).standard_normal(12)
    weights = np.arange(1.0, len(reps) + 1)
    loss = lambda v: jnp.sum(fourier.irrep_power(v, reps) * weights)  # noqa: E731
    grad = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    eps = 1e-6
    fd = np.array([(loss(x + eps * e) - loss(x - eps * e)) / (2 * eps) for e in np.eye(12)])
    assert np.allclose(grad, fd, atol=1e-7)
    assert np.all(np.isfinite(np.asarray(jax.grad(loss)(jnp.zeros(12)))))


def test_bad_input():
    reps = ir.irreps(groups.symmetric(3))
    with pytest.raises(ValueError, match="group's order 6"):
        fourier.irrep_power(np.ones(5), reps)
    with pytest.raises(ValueError, match="axis 0"):
        fourier.fourier_transform(np.ones((5, 6)), reps, axis=0)
    with pytest.raises(TypeError, match="list of irreps"):
        fourier.irrep_power(np.ones(6), reps[1])
    with pytest.raises(ValueError, match="different orders"):
        fourier.fourier_transform(np.ones(6), [*reps, ir.irreps(groups.cyclic(4))[0]])
    with pytest.raises(ValueError, match="span 5 of 6"):
        fourier.fourier_basis(reps[:2])
    with pytest.raises(ValueError, match="expected"):
        fourier.inverse_fourier_transform([np.ones((1, 1)), np.ones((3, 3)), np.ones((1, 1))], reps)
