"""h-MDS (Sala et al. 2018): exact recovery of hyperbolic point sets, truncation, validation and float64 limits."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed.hmds import HMDSResult, hmds, pga_reduce
from geomrep.embed.metrics import distortion, graph_distances, graph_map
from geomrep.manifolds import PoincareBall, lorentz, poincare

SOLVERS = ["eigh", "eigsh"]
N = 60


def _points(r, n=N, seed=0, std=1.0, offset=1.5):
    """n points of ℍʳ: expmap0 of Gaussians with a shifted mean, so the cloud is not centred at the origin."""
    tangent = std * jax.random.normal(jax.random.key(seed), (n, r), jnp.float64) + jnp.eye(r)[0] * offset
    return np.array(lorentz.expmap0(jnp.concatenate([jnp.zeros((n, 1)), tangent], axis=1)))


def _distances(points, model=lorentz):
    d = np.array(model.dist(jnp.asarray(points)[:, None], jnp.asarray(points)[None]))
    np.fill_diagonal(d, 0.0)
    return d


def _max_relative_error(d_rec, d_true):
    off = ~np.eye(len(d_true), dtype=bool)
    return float(np.max(np.abs(d_rec - d_true)[off] / d_true[off]))


def _balanced_tree(branching, depth):
    edges, frontier, nxt = [], [0], 1
    for _ in range(depth):
        children = []
        for parent in frontier:
            for _ in range(branching):
                edges.append((parent, nxt))
                children.append(nxt)
                nxt += 1
        frontier = children
    return np.array(edges), nxt


def _random_recursive_tree(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([np.arange(1, n), [rng.integers(0, i) for i in range(1, n)]], axis=1)


# --- exact recovery (the target: ≤ 1e-6 relative in float64 at scale 1) ----------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("r", [2, 3, 5])
def test_exact_recovery(r, solver):
    d = _distances(_points(r))
    result = hmds(d, dim=r, solver=solver)
    assert isinstance(result, HMDSResult) and result.solver == solver and result.scale == 1.0
    assert result.poincare.shape == (N, r) and result.hyperboloid.shape == (N, r + 1)
    assert result.poincare.dtype == result.hyperboloid.dtype == np.float64
    assert result.num_positive == r and len(result.eigenvalues) == r
    assert result.num_negative == (1 if solver == "eigh" else None)
    assert np.all(np.diff(result.eigenvalues) <= 0)
    # both coordinate systems recover the distances
    assert _max_relative_error(_distances(result.hyperboloid), d) <= 1e-6
    assert _max_relative_error(_distances(result.poincare, poincare), d) <= 1e-6
    # the points are on the hyperboloid, and the ball coordinates are lorentz.to_poincare of them
    x = jnp.asarray(result.hyperboloid)
    np.testing.assert_allclose(lorentz.minkowski_dot(x, x), -1.0, rtol=1e-12)
    np.testing.assert_allclose(lorentz.to_poincare(x), result.poincare, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("solver", SOLVERS)
def test_recovery_is_centred(solver):
    """The recovered configuration satisfies Σᵢ x₀ᵢ x̃ᵢ = 0 (notes §C.4), whatever the input's position."""
    x = _points(3, offset=3.0)
    before = np.abs(np.sum(x[:, :1] * x[:, 1:], axis=0)).max() / np.sum(
        x[:, 0] * np.linalg.norm(x[:, 1:], axis=1)
    )
    h = hmds(_distances(x), dim=3, solver=solver).hyperboloid
    moment = np.sum(h[:, :1] * h[:, 1:], axis=0)
    size = np.sum(h[:, 0] * np.linalg.norm(h[:, 1:], axis=1))
    assert before > 0.5  # the input is far from centred ...
    assert np.abs(moment).max() <= 1e-10 * size  # ... the output is centred


def test_solvers_agree_coordinatewise():
    """With the sign convention (each eigenvector's largest entry positive) both solvers give the same points."""
    d = _distances(_points(3))
    a, b = hmds(d, dim=3, solver="eigh"), hmds(d, dim=3, solver="eigsh")
    np.testing.assert_allclose(a.hyperboloid, b.hyperboloid, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=1e-10)


@pytest.mark.parametrize("scale", [0.25, 3.0])
def test_scale_divides_out(scale):
    """hmds(D/t, scale=t) embeds distances t·(D/t) = D, and the recovered distances are d_H/t = D/t."""
    d = _distances(_points(2))
    result = hmds(d / scale, dim=2, scale=scale)
    assert result.scale == scale
    assert _max_relative_error(_distances(result.hyperboloid), d) <= 1e-6
    avg = distortion(result.poincare, d / scale, PoincareBall(1.0), scale=result.scale).average
    assert avg <= 1e-6


def test_input_forms_and_no_mutation():
    d = _distances(_points(2, n=20))
    copy = d.copy()
    reference = hmds(d, dim=2).hyperboloid
    np.testing.assert_array_equal(d, copy)
    np.testing.assert_allclose(hmds(jnp.asarray(d), dim=2).hyperboloid, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hmds(d.tolist(), dim=2).hyperboloid, reference, rtol=1e-12, atol=1e-12)
    # asymmetry and a non-zero diagonal within the tolerance are accepted and cleaned, not written back
    noisy = d + 1e-9 * np.triu(np.ones_like(d))
    noisy_copy = noisy.copy()
    np.testing.assert_allclose(hmds(noisy, dim=2).hyperboloid, reference, rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(noisy, noisy_copy)
    # float32 distances are upcast; the output is float64
    assert hmds(d.astype(np.float32), dim=2).poincare.dtype == np.float64


# --- rank reduction ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_truncation(solver):
    """dim < r keeps the top eigen-directions: finite points in the ball, the full-rank coordinates truncated,
    and a distortion no smaller than at full rank."""
    r = 5
    d = _distances(_points(r))
    full = hmds(d, dim=r, solver=solver)
    ball = PoincareBall(1.0)
    full_avg = distortion(full.poincare, d, ball).average
    assert full_avg <= 1e-9
    for k in (1, 2, 3):
        low = hmds(d, dim=k, solver=solver)
        assert low.poincare.shape == (N, k) and np.all(np.isfinite(low.poincare))
        assert np.all(np.sum(low.poincare**2, axis=1) < 1.0)
        np.testing.assert_allclose(
            low.hyperboloid[:, 1:], full.hyperboloid[:, 1 : k + 1], rtol=1e-8, atol=1e-8
        )
        np.testing.assert_allclose(low.eigenvalues, full.eigenvalues[:k], rtol=1e-10)
        low_distortion = distortion(low.poincare, d, ball)
        assert low_distortion.average >= full_avg and low_distortion.worst_case >= 1.0
        assert np.isfinite(low_distortion.average) and low_distortion.skipped_pairs == 0


def test_fewer_positive_eigenvalues_than_dim():
    """ℍ² data asked for dim 4: the 2 positive eigenpairs are kept, the other columns are 0, with a warning."""
    d = _distances(_points(2))
    with pytest.warns(RuntimeWarning, match="only 2 positive eigenvalues"):
        result = hmds(d, dim=4)
    assert result.num_positive == 2 and len(result.eigenvalues) == 2 and result.poincare.shape == (N, 4)
    np.testing.assert_array_equal(result.hyperboloid[:, 3:], 0.0)
    assert _max_relative_error(_distances(result.hyperboloid), d) <= 1e-6


def test_degenerate_sizes():
    with pytest.warns(RuntimeWarning, match="only 0 positive"):
        single = hmds(np.zeros((1, 1)), dim=2)
    np.testing.assert_array_equal(single.poincare, [[0.0, 0.0]])
    pair = hmds(np.array([[0.0, 1.5], [1.5, 0.0]]), dim=1)
    assert (
        abs(float(lorentz.dist(jnp.asarray(pair.hyperboloid[0]), jnp.asarray(pair.hyperboloid[1]))) - 1.5)
        < 1e-12
    )
    with pytest.warns(RuntimeWarning, match="only 0 positive"):
        same = hmds(np.zeros((4, 4)), dim=1)  # four copies of one point: all at the centre
    np.testing.assert_array_equal(same.poincare, 0.0)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_pga_reduce_matches_hmds(k):
    r = 5
    x = _points(r)
    d = _distances(x)
    reduced = pga_reduce(x, dim=k, scale=2.0)
    assert reduced.solver == "gram" and reduced.scale == 2.0
    assert reduced.num_positive == r and reduced.num_negative == 1
    via_hmds = hmds(d, dim=k)
    np.testing.assert_allclose(reduced.eigenvalues, via_hmds.eigenvalues, rtol=1e-9)
    np.testing.assert_allclose(
        _distances(reduced.hyperboloid), _distances(via_hmds.hyperboloid), rtol=1e-8, atol=1e-8
    )
    if k == r:
        assert _max_relative_error(_distances(reduced.hyperboloid), d) <= 1e-8
    # from an h-MDS embedding, reduction is the same truncation as h-MDS at that rank
    again = pga_reduce(hmds(d, dim=r).hyperboloid, dim=k)
    np.testing.assert_allclose(again.hyperboloid, via_hmds.hyperboloid, rtol=1e-8, atol=1e-8)


def test_pga_reduce_validation():
    with pytest.raises(ValueError, match="shape"):
        pga_reduce(np.zeros((3,)), 1)
    bad = _points(2, n=5)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"points\[3\]"):
        pga_reduce(bad, 1)
    with pytest.raises(ValueError, match="dim"):
        pga_reduce(_points(2, n=5), 0)


# --- trees -------------------------------------------------------------------------------------------------------


def test_balanced_tree_embeds():
    edges, n = _balanced_tree(2, 5)  # 63 nodes
    d = graph_distances(edges, n)
    ball = PoincareBall(1.0)
    averages = []
    for dim in (2, 10, 20):
        result = hmds(d, dim=dim)
        assert result.num_positive >= 20 and result.num_negative >= 1  # a tree is not exactly hyperbolic
        assert np.all(np.isfinite(result.poincare)) and np.all(np.sum(result.poincare**2, axis=1) < 1.0)
        report = distortion(result.poincare, d, ball, scale=result.scale)
        assert np.isfinite(report.average) and np.isfinite(report.worst_case)
        # at rank 2 sibling leaves coincide (only low eigen-directions tell them apart): those pairs are skipped
        assert (report.skipped_pairs > 0) == (dim == 2)
        assert 0.0 < graph_map(result.poincare, edges, ball) <= 1.0
        averages.append(report.average)
    assert averages[0] > averages[1] > averages[2]  # more rank, less distortion


def test_auto_solver_choice():
    small = graph_distances(*_balanced_tree(2, 4))
    assert hmds(small, dim=3).solver == "eigh"
    edges = _random_recursive_tree(2000)
    large = graph_distances(edges, 2000)
    result = hmds(large, dim=5, scale=0.5)
    assert result.solver == "eigsh" and result.num_negative is None and np.all(np.isfinite(result.poincare))
    assert hmds(large[:100, :100], dim=5).solver == "eigh"


# --- bad input and float64 limits ---------------------------------------------------------------------------------


def _valid(n=5):
    return graph_distances(np.stack([np.arange(n - 1), np.arange(1, n)], axis=1), n)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d[:, :4], r"square"),
        (lambda d: d[0], r"square"),
        (
            lambda d: np.where(np.eye(5, dtype=bool), 0.0, d) + np.diag([0, 0, 0.5, 0, 0]),
            r"distances\[2, 2\]",
        ),
        (lambda d: _set(d, (1, 3), -1.0, both=True), r"distances\[1, 3\] = -1.0 is negative"),
        (lambda d: _set(d, (2, 4), np.nan, both=True), r"distances\[2, 4\] = nan is not finite"),
        (
            lambda d: _set(d, (0, 4), np.inf, both=True),
            r"distances\[0, 4\] = inf is not finite \(a disconnected",
        ),
        (
            lambda d: _set(d, (3, 1), 7.0),
            r"not symmetric: distances\[1, 3\] = 2.0 but distances\[3, 1\] = 7.0",
        ),
        (lambda d: d.astype(complex), r"real"),
    ],
)
def test_bad_distances(edit, message):
    with pytest.raises(ValueError, match=message):
        hmds(edit(_valid()), dim=2)


def _set(d, index, value, both=False):
    d = d.copy()
    d[index] = value
    if both:
        d[index[::-1]] = value
    return d


def test_asymmetry_found_beyond_the_first_tile():
    """The symmetry check runs tile by tile (128 × 128): an entry in a far tile is still found and named."""
    d = _valid(300)
    with pytest.raises(ValueError, match=r"distances\[5, 250\] = 245.0 but distances\[250, 5\] = 246.0"):
        hmds(_set(d, (250, 5), 246.0), dim=1)
    with pytest.raises(ValueError, match=r"distances\[140, 141\] = 1.0 but distances\[141, 140\] = 2.0"):
        hmds(_set(d, (141, 140), 2.0), dim=1)


def test_disconnected_graph_is_refused():
    d = graph_distances(np.array([[0, 1], [2, 3]]), 4)
    with pytest.raises(ValueError, match=r"distances\[0, 2\] = inf .*disconnected"):
        hmds(d, dim=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dim=0), "dim"),
        (dict(dim=2, scale=0.0), "scale"),
        (dict(dim=2, scale=np.inf), "scale"),
        (dict(dim=2, solver="lobpcg"), "solver"),
        (dict(dim=4, solver="eigsh"), "dim < n - 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hmds(_valid(), **kwargs)


def test_overflow_is_detected():
    d = _valid(5)  # max distance 4
    with pytest.raises(ValueError, match=r"overflows float64.*use scale < 177"):
        hmds(d, dim=2, scale=200.0)


@pytest.mark.parametrize("scale", [1.0, 20.0, 60.0, 120.0, 170.0, 177.5, 178.0])
def test_never_nan_or_inf(scale):
    """Across scales up to and past cosh's float64 limit: finite output or a ValueError, nothing silent."""
    d = _valid(5)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = hmds(d, dim=2, scale=scale)
    except ValueError as error:
        assert "overflow" in str(error)
    else:
        assert np.all(np.isfinite(result.poincare)) and np.all(np.isfinite(result.hyperboloid))
        assert np.all(np.isfinite(result.eigenvalues))


def test_poincare_resolution_warning():
    """Points far from the centre: a warning that the ball coordinates lose precision (the hyperboloid keeps it)."""
    d = _valid(5)
    with pytest.warns(RuntimeWarning, match="Poincaré coordinates resolve"):
        result = hmds(d, dim=1, scale=20.0)  # the path's ends land 40 from the centre
    assert _max_relative_error(_distances(result.hyperboloid) / 20.0, d) <= 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hmds(d, dim=1, scale=5.0)  # 10 from the centre: no warning
