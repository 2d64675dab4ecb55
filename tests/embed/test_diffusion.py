"""Hyperbolic diffusion distance (Lin et al. 2023): HDD against an independent float64 NumPy implementation,
the embedding's half-space geometry, heat-kernel laws, the truncated path and its error bound, and bad input."""

import doctest
import importlib.util
import warnings
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed import diffusion as hd
from geomrep.embed.diffusion_operators import DiffusionInputError, operator_error_bound
from geomrep.embed.metrics import graph_distances
from geomrep.manifolds import poincare

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "diffusion_reference", ROOT / "scripts/benchmarks/diffusion_vs_numpy.py"
)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

F64, F32 = jnp.float64, jnp.float32


def _random_tree(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)


def _random_graph(n, p, seed=0):
    """A connected random graph: a random tree plus Erdős–Rényi edges."""
    rng = np.random.default_rng(seed)
    extra = np.argwhere(np.triu(rng.random((n, n)) < p, 1))
    return np.concatenate([_random_tree(n, seed), extra])


def _hdd(edges, n, k, dtype=F64, **kwargs):
    op = hd.graph_heat_operator(edges, n, dtype=dtype, **kwargs)
    return hd.hyperbolic_diffusion(op, k)


def _max_rel(got, want):
    off = ~np.eye(len(want), dtype=bool)
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)[off] / want[off]))


# --- equality with the NumPy reference (the correctness target: 1e-6 relative in float64) -----------------


@pytest.mark.parametrize(
    "name, edges, n, k",
    [
        ("tree", _random_tree(120, 1), 120, 3),
        ("graph", _random_graph(150, 0.03, 2), 150, 4),
        ("dense graph", _random_graph(60, 0.3, 3), 60, 6),
        ("path", np.stack([np.arange(49), np.arange(1, 50)], 1), 50, 10),
    ],
)
def test_float64_matrix_equals_numpy_reference(name, edges, n, k):
    want = reference.numpy_graph_hdd(edges, n, k)
    got = hd.hdd_matrix(_hdd(edges, n, k))
    assert got.dtype == F64 and got.shape == (n, n)
    assert _max_rel(got, want) < 1e-6, name
    np.testing.assert_array_equal(np.diag(got), 0.0)
    np.testing.assert_array_equal(got, got.T)


def test_normalized_laplacian_equals_numpy_reference():
    edges, n = _random_graph(80, 0.05, 4), 80
    want = reference.numpy_graph_hdd(edges, n, 4, normalized=True)
    assert _max_rel(hd.hdd_matrix(_hdd(edges, n, 4, normalized=True)), want) < 1e-6


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "sqeuclidean"])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_data_operator_equals_numpy_reference(distance, alpha):
    points = np.random.default_rng(0).standard_normal((70, 5)) + 0.5
    sigma = 2.0 if distance == "cosine" else 3.0
    want = reference.numpy_data_hdd(points, 6, distance=distance, sigma=sigma, alpha=alpha)
    op = hd.data_diffusion_operator(points, distance=distance, sigma=sigma, alpha=alpha, dtype=F64)
    assert _max_rel(hd.hdd_matrix(hd.hyperbolic_diffusion(op, 6)), want) < 1e-6


def test_float32_matrix_is_close_to_numpy_reference():
    edges, n = _random_graph(200, 0.02, 5), 200
    want = reference.numpy_graph_hdd(edges, n, 4)
    got = hd.hdd_matrix(_hdd(edges, n, 4, dtype=F32))
    assert got.dtype == F32
    # measured 1e-4 here; the Gram form's rounding is ≈ eps32·‖x̂‖²/‖Δx̂‖² relative for close pairs
    assert _max_rel(got, want) < 2e-3
    off = ~np.eye(n, dtype=bool)
    assert np.median(np.abs(np.asarray(got, np.float64) - want)[off] / want[off]) < 1e-5


@pytest.mark.parametrize("dtype", [F32, F64])
def test_pairs_rows_and_matrix_agree(dtype):
    edges, n = _random_graph(90, 0.04, 6), 90
    emb = _hdd(edges, n, 5, dtype=dtype)
    full = np.asarray(hd.hdd_matrix(emb))
    rows = np.array([0, 17, 89, 17])
    tol = 1e-12 if dtype == F64 else 2e-3
    np.testing.assert_allclose(hd.hdd_rows(emb, rows, chunk_size=32), full[rows], rtol=tol, atol=tol)
    i, j = np.random.default_rng(0).integers(0, n, (2, 300))
    pairs = hd.hdd_pairs(emb, i, j, block_size=64)
    assert pairs.dtype == dtype
    np.testing.assert_allclose(pairs, full[i, j], rtol=tol, atol=tol)


def test_jit_and_eager_agree():
    edges, n = _random_tree(12, 7), 12
    emb = _hdd(edges, n, 2)
    with jax.disable_jit():
        eager = hd.hdd_pairs(emb, np.arange(n), np.roll(np.arange(n), 1))
    np.testing.assert_allclose(eager, hd.hdd_matrix(emb)[np.arange(n), np.roll(np.arange(n), 1)], rtol=1e-12)


# --- the embedding: points of the upper half-space, the paper's constants -----------------------------------------


def _half_space_to_ball(x):
    """The isometry ℍ^N → 𝔹^N (Cayley transform about the pole): p = (2x̂, |x|² − 1) / (|x̂|² + (1 + z)²)."""
    x = np.asarray(x, np.float64)
    flat, z = x[..., :-1], x[..., -1:]
    denominator = np.sum(flat**2, axis=-1, keepdims=True) + (1 + z) ** 2
    return np.concatenate([2 * flat, np.sum(x**2, axis=-1, keepdims=True) - 1], axis=-1) / denominator


def test_half_space_distance_equals_poincare_ball_distance():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((50, 3)), rng.uniform(0.1, 3, (50, 1))], axis=1)
    y = np.concatenate([rng.standard_normal((50, 3)), rng.uniform(0.1, 3, (50, 1))], axis=1)
    want = poincare.dist(jnp.asarray(_half_space_to_ball(x)), jnp.asarray(_half_space_to_ball(y)), c=1.0)
    np.testing.assert_allclose(hd.half_space_dist(x, y), want, rtol=1e-9)


def test_hdd_is_the_product_distance_of_the_half_space_points():
    edges, n = _random_graph(30, 0.1, 8), 30
    emb = _hdd(edges, n, 4)
    np.testing.assert_allclose(emb.heights, [0.25, 2**-1.5, 0.5, 2**-0.5])  # z_k = 2^{k/2 − 2}
    np.testing.assert_allclose(emb.times, [1, 0.5, 0.25, 0.125])
    total = 0.0
    for k in range(4):
        points = hd.half_space_points(emb, k)
        assert points.shape == (n, n + 1)
        np.testing.assert_allclose(points[:, -1], emb.heights[k])
        assert float(jnp.min(points[:, :-1])) >= np.sqrt(1e-6) * (1 - 1e-12)  # the floor
        total = total + hd.half_space_dist(points[:, None, :], points[None, :, :])
    np.testing.assert_allclose(total, hd.hdd_matrix(emb), rtol=1e-10, atol=1e-12)


def test_heat_kernel_is_a_symmetric_markov_semigroup():
    edges, n = _random_graph(40, 0.1, 9), 40
    op = hd.graph_heat_operator(edges, n, dtype=F64)

    def power(t):
        return (op.vectors * jnp.exp(t * op.log_eigenvalues)) @ op.vectors.T

    p1 = power(1.0)
    np.testing.assert_allclose(p1.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(p1, p1.T, atol=1e-14)
    np.testing.assert_allclose(power(0.5) @ power(0.5), p1, atol=1e-12)
    laplacian = _laplacian(edges, n)
    h = 1e-5  # d/dt e^{−tL} at t = 1 is −L e^{−L}
    np.testing.assert_allclose((power(1 + h) - power(1 - h)) / (2 * h), -laplacian @ p1, atol=1e-7)


def test_data_operator_rows_are_densities():
    points = np.random.default_rng(1).standard_normal((50, 3))
    op = hd.data_diffusion_operator(points, distance="euclidean", sigma=1.0, dtype=F64)
    p = op.left[:, None] * ((op.vectors * jnp.exp(op.log_eigenvalues)) @ op.vectors.T) * op.right[None, :]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)  # exact up to the eigenvalue floor


@hypothesis.settings(max_examples=8, deadline=None)
@hypothesis.given(seed=st.integers(0, 10_000), n=st.integers(5, 24), k=st.integers(1, 5))
def test_hdd_is_a_metric_and_relabelling_permutes_it(seed, n, k):
    edges = _random_graph(n, 0.15, seed)
    d = np.asarray(hd.hdd_matrix(_hdd(edges, n, k)))
    assert np.all(np.isfinite(d)) and np.all(d[~np.eye(n, dtype=bool)] > 0)
    # triangle inequality: d(i, j) ≤ d(i, l) + d(l, j)
    assert np.all(d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-9)
    perm = np.random.default_rng(seed).permutation(n)
    relabelled = np.asarray(hd.hdd_matrix(_hdd(np.argsort(perm)[edges], n, k)))
    np.testing.assert_allclose(relabelled[np.argsort(perm)][:, np.argsort(perm)], d, atol=1e-9)


# --- trees: the nearest node is a neighbour (target ≥ 95 %) --------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nearest_node_on_random_trees_is_a_tree_neighbour(k, seed):
    n = 250
    edges = _random_tree(n, seed)
    d = np.array(hd.hdd_matrix(_hdd(edges, n, k)))
    np.fill_diagonal(d, np.inf)
    g = graph_distances(edges, n)
    assert np.mean(g[np.arange(n), np.argmin(d, axis=1)] == 1.0) >= 0.95


# --- truncated spectrum ---------------------------------------------------------------------------------------------


def test_truncated_graph_operator_is_within_its_error_bound():
    edges, n = _random_graph(300, 0.01, 10), 300
    dense = np.asarray(hd.hdd_matrix(_hdd(edges, n, 2)))
    emb = _hdd(edges, n, 2, num_eigenpairs=200)
    assert emb.operator.solver == "eigsh" and emb.operator.vectors.shape == (n, 200)
    # ARPACK's eigenvalues are the dense ones
    lam_dense = np.sort(np.linalg.eigvalsh(np.asarray(_laplacian(edges, n))))
    np.testing.assert_allclose(-emb.operator.log_eigenvalues, lam_dense[:200], atol=1e-8)
    np.testing.assert_allclose(-emb.operator.dropped_log_eigenvalue, lam_dense[200], atol=1e-8)
    i, j = np.random.default_rng(0).integers(0, n, (2, 2000))
    error = np.max(np.abs(np.asarray(hd.hdd_pairs(emb, i, j)) - dense[i, j]))
    bound = hd.hdd_error_bound(emb)
    assert 0 < error <= bound, (error, bound)


def _laplacian(edges, n):
    a = np.zeros((n, n))
    a[edges[:, 0], edges[:, 1]] = a[edges[:, 1], edges[:, 0]] = 1
    return np.diag(a.sum(1)) - a


def test_truncated_data_operator_matches_dense_top_eigenpairs():
    points = np.random.default_rng(2).standard_normal((120, 4))
    dense = hd.data_diffusion_operator(points, dtype=F64)
    top = hd.data_diffusion_operator(points, num_eigenpairs=30, dtype=F64)
    assert top.solver == "eigsh"
    want = np.sort(np.asarray(dense.log_eigenvalues))[::-1]
    np.testing.assert_allclose(top.log_eigenvalues, want[:30], atol=1e-8)
    np.testing.assert_allclose(top.right, dense.right, rtol=1e-12)
    assert operator_error_bound(top, 1.0) > 0 and operator_error_bound(dense, 1.0) == 0.0


# --- bad input: clear errors, documented handling, never NaN -------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_number_of_scales(k):
    op = hd.graph_heat_operator(_random_tree(5), 5, dtype=F64)
    with pytest.raises(DiffusionInputError, match="num_scales"):
        hd.hyperbolic_diffusion(op, k)


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.inf, np.nan])
def test_bad_sigma(sigma):
    with pytest.raises(DiffusionInputError, match="sigma"):
        hd.data_diffusion_operator(np.ones((4, 2)), sigma=sigma)


def test_zero_vector_under_cosine_names_the_row():
    x = np.random.default_rng(0).standard_normal((6, 3))
    x[4] = 0.0
    with pytest.raises(DiffusionInputError, match=r"points\[4\] is the zero vector"):
        hd.data_diffusion_operator(x)
    op = hd.data_diffusion_operator(x, distance="euclidean", dtype=F64)  # fine without directions
    assert np.all(np.isfinite(hd.hdd_matrix(hd.hyperbolic_diffusion(op, 3))))


def test_non_finite_points_and_bad_edges_name_the_index():
    x = np.ones((5, 2))
    x[3, 1] = np.nan
    with pytest.raises(DiffusionInputError, match=r"points\[3\]"):
        hd.data_diffusion_operator(x)
    with pytest.raises(DiffusionInputError, match=r"edges\[1\]"):
        hd.graph_heat_operator(np.array([[0, 1], [1, 9]]), 5)
    with pytest.raises(DiffusionInputError, match=r"weights\[0\]"):
        hd.graph_heat_operator(np.array([[0, 1], [1, 2]]), 3, weights=np.array([-1.0, 1.0]))
    with pytest.raises(DiffusionInputError, match="alpha"):
        hd.data_diffusion_operator(np.eye(3), alpha=-0.5)
    with pytest.raises(DiffusionInputError, match="rows"):
        hd.hdd_rows(_hdd(_random_tree(5), 5, 2), [7])


@pytest.mark.parametrize("dtype", [F32, F64])
def test_duplicate_points(dtype):
    """The reference's eigenvalue floor keeps duplicates apart (documented); dropping small modes joins them."""
    x = np.random.default_rng(3).standard_normal((30, 4))
    x[7] = x[2]
    others = np.setdiff1d(np.arange(30), [2, 7])
    floored = hd.hyperbolic_diffusion(hd.data_diffusion_operator(x, dtype=dtype), 6)
    d = np.asarray(hd.hdd_matrix(floored))
    assert np.all(np.isfinite(d)) and d[2, 7] > 0.1  # the null mode e_2 − e_7 at (1e-6)^(2^-k)
    dropped = hd.hyperbolic_diffusion(hd.data_diffusion_operator(x, small_eigenvalues="drop", dtype=dtype), 6)
    d = np.asarray(hd.hdd_matrix(dropped))
    assert np.all(np.isfinite(d))
    assert float(hd.hdd_pairs(dropped, [2], [7])[0]) < (
        1e-5 if dtype == F64 else 5e-2
    )  # float32 eigenvectors
    assert d[2, 7] < (1e-5 if dtype == F64 else 5e-2) < np.min(d[2, others])


@pytest.mark.parametrize("normalized", [False, True])
def test_disconnected_graph_warns_and_works_per_component(normalized):
    edges = np.concatenate([_random_tree(10), _random_tree(8) + 10])  # nodes 18, 19 isolated
    with pytest.warns(RuntimeWarning, match="4 connected components"):
        op = hd.graph_heat_operator(edges, 20, normalized=normalized, dtype=F64)
    assert op.num_components == 4
    d = np.asarray(hd.hdd_matrix(hd.hyperbolic_diffusion(op, 3)))
    assert np.all(np.isfinite(d))
    # within a component, HDD equals that of the component on its own
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alone = hd.hdd_matrix(
            hd.hyperbolic_diffusion(
                hd.graph_heat_operator(_random_tree(10), 10, normalized=normalized, dtype=F64), 3
            )
        )
    # the floor makes the other component's 10 entries contribute √floor each to both rows: they cancel
    np.testing.assert_allclose(d[:10, :10], alone, rtol=1e-9)


def test_self_loops_and_repeated_edges():
    edges = np.array([[0, 1], [1, 2], [2, 2], [1, 0]])  # a self-loop and a repeat in the other direction
    got = hd.hdd_matrix(_hdd(edges, 3, 2))
    np.testing.assert_allclose(got, hd.hdd_matrix(_hdd(np.array([[0, 1], [1, 2]]), 3, 2)), rtol=1e-12)
    weighted = _hdd(
        edges, 3, 2, weights=np.array([1.0, 1.0, 5.0, 2.0])
    )  # the repeat keeps the largest weight
    want = _hdd(np.array([[0, 1], [1, 2]]), 3, 2, weights=np.array([2.0, 1.0]))
    np.testing.assert_allclose(hd.hdd_matrix(weighted), hd.hdd_matrix(want), rtol=1e-12)
    with pytest.raises(DiffusionInputError, match="only self-loops"):
        hd.graph_heat_operator(np.array([[1, 1]]), 3)


# --- gradients: HDD is differentiable in the spectrum (e.g. for a learned operator) -------------------------------


def test_gradient_in_the_eigenvalues_matches_finite_differences():
    edges, n = _random_graph(20, 0.2, 11), 20
    emb = _hdd(edges, n, 3)
    i, j = np.triu_indices(n, 1)

    def total(log_mu):
        op = emb.operator._replace(log_eigenvalues=log_mu)
        return jnp.sum(hd.hdd_pairs(emb._replace(operator=op), i, j))

    log_mu = emb.operator.log_eigenvalues
    grad = jax.grad(total)(log_mu)
    assert np.all(np.isfinite(grad))
    direction = jax.random.normal(jax.random.key(0), log_mu.shape, F64)
    h = 1e-6
    fd = (total(log_mu + h * direction) - total(log_mu - h * direction)) / (2 * h)
    np.testing.assert_allclose(jnp.dot(grad, direction), fd, rtol=1e-6)


@pytest.mark.parametrize("module", ["geomrep.embed.diffusion", "geomrep.embed.diffusion_operators"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
