"""SDGR18 graph metrics (distortion, graph MAP) against direct transcriptions of the reference protocol."""

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed.metrics import (
    Distortion,
    average_distortion,
    closure_reconstruction,
    distortion,
    graph_distance_rows,
    graph_distances,
    graph_map,
    graph_reconstruction,
    nearest_neighbour_edges,
    worst_case_distortion,
)
from geomrep.manifolds import Euclidean, Lorentz, PoincareBall

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
DTYPES = [np.float32, np.float64]


# --- references: loops over the formulas of notes §C.2 / HazyResearch utils/distortions.py --------------------


def _bfs_distances(edges, n):
    adjacency = [set() for _ in range(n)]
    for u, v in edges:
        if u != v:
            adjacency[u].add(v)
            adjacency[v].add(u)
    dist = np.full((n, n), np.inf)
    for s in range(n):
        dist[s, s], frontier = 0, [s]
        while frontier:
            nxt = []
            for u in frontier:
                for v in adjacency[u]:
                    if dist[s, v] == np.inf:
                        dist[s, v] = dist[s, u] + 1
                        nxt.append(v)
            frontier = nxt
    return dist


def _reference_distortion(d_emb, d_graph, scale):
    """distortion_row / distortion of the reference, plus skipping d_G = inf (the reference yields nan there)."""
    n = len(d_emb)
    row_means, expansion, contraction, bad = [], 0.0, 0.0, 0
    for i in range(n):
        total, good = 0.0, 0
        for j in range(n):
            if j == i:
                continue
            h, h_rec = d_graph[i, j], d_emb[i, j] / scale
            if np.isfinite(h_rec) and h_rec != 0 and np.isfinite(h) and h != 0:
                total += abs(h_rec - h) / h
                expansion, contraction = max(expansion, h_rec / h), max(contraction, h / h_rec)
                good += 1
            else:
                bad += 1
        row_means.append(total / good if good else 0.0)
    return sum(row_means) / n, expansion * contraction, bad


def _reference_map_ties(d_emb, d_graph):
    """(1/|A|) Σ_a mean_{b ∈ N_a} |N_a ∩ R_{a,b}| / |R_{a,b}|, R_{a,b} = {w ≠ a : d(a, w) ≤ d(a, b)}."""
    n = len(d_emb)
    aps = []
    for a in range(n):
        neighbours = {b for b in range(n) if d_graph[a, b] == 1}
        if not neighbours:
            continue
        precisions = []
        for b in neighbours:
            within = {w for w in range(n) if w != a and d_emb[a, w] <= d_emb[a, b]}
            precisions.append(len(neighbours & within) / len(within))
        aps.append(np.mean(precisions))
    return np.mean(aps)


def _reference_map_hazy(d_emb, d_graph):
    """map_score / map_row of the reference verbatim (argsort, skip the first entry); valid without ties."""
    n = len(d_emb)
    maps = []
    for row in range(n):
        edge_mask = d_graph[row] == 1.0
        m = int(np.sum(edge_mask))
        assert m > 0
        sorted_dist = np.argsort(d_emb[row])
        precs, n_correct, j = np.zeros(m), 0, 0
        for i in range(1, n):
            if edge_mask[sorted_dist[i]]:
                n_correct += 1
                precs[j] = n_correct / float(i)
                j += 1
                if j == m:
                    break
        maps.append(np.sum(precs) / m)
    return np.sum(maps) / n


def _pairwise(manifold, x):
    x = jnp.asarray(x, jnp.float64)
    return np.asarray(manifold.dist(x[:, None], x[None]))


def _random_graph(rng, n, p):
    """Random edges plus the clutter the metrics must ignore: a duplicate, a reversed copy and a self-loop."""
    edges = np.array([(u, v) for u, v in itertools.combinations(range(n), 2) if rng.random() < p])
    return np.concatenate([edges, edges[:2], edges[:2, ::-1], [[3, 3]]])


# --- graph_distances ------------------------------------------------------------------------------------------


def test_graph_distances_match_bfs():
    rng = np.random.default_rng(1)
    edges = _random_graph(rng, 14, 0.15)
    edges = edges[(edges != 13).all(axis=1)]  # node 13 isolated
    got = graph_distances(edges, 15)  # and node 14 never named
    assert got.dtype == np.float64 and got.shape == (15, 15)
    np.testing.assert_array_equal(got, _bfs_distances(edges, 15))
    assert np.isinf(got[13, :13]).all() and np.isinf(got[14, :14]).all() and (np.diag(got) == 0).all()


# --- distortion -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("block_size", [None, 1, 5, 64])
def test_distortion_matches_reference(dtype, block_size):
    rng = np.random.default_rng(0)
    n = 19
    edges = _random_graph(rng, 16, 0.2)  # nodes 16..18: 16–17 a second component, 18 isolated
    edges = np.concatenate([edges, [[16, 17]]])
    d_graph = graph_distances(edges, n)
    ball = PoincareBall(1.0)
    x = (0.6 * rng.uniform(-1, 1, size=(n, 3)) / np.sqrt(3)).astype(dtype)
    x[5] = x[2]  # two nodes at one point: d_emb = 0 is skipped, as in the reference
    want = _reference_distortion(_pairwise(ball, x), d_graph, scale=1.7)
    got = distortion(x, d_graph, ball, scale=1.7, block_size=block_size)
    assert (
        isinstance(got, Distortion) and isinstance(got.average, float) and isinstance(got.skipped_pairs, int)
    )
    np.testing.assert_allclose([got.average, got.worst_case], want[:2], **TOL[dtype])
    assert got.skipped_pairs == want[2] > 2 * 18 + 2  # isolated node, two components, the coincident pair
    assert average_distortion(x, d_graph, ball, scale=1.7, block_size=block_size) == got.average
    assert worst_case_distortion(x, d_graph, ball, scale=1.7, block_size=block_size) == got.worst_case


def test_distortion_reads_graph_rows_from_a_memmap(tmp_path):
    rng = np.random.default_rng(3)
    d_graph = graph_distances(_random_graph(rng, 12, 0.3), 12)
    stored = np.lib.format.open_memmap(tmp_path / "d.npy", mode="w+", dtype=np.float64, shape=d_graph.shape)
    stored[:] = d_graph
    x = rng.normal(size=(12, 2))
    assert distortion(x, stored, Euclidean(), block_size=5) == distortion(x, d_graph, Euclidean())


@pytest.mark.parametrize("dtype", DTYPES)
def test_isometric_path_and_star(dtype):
    path = np.array([(k, k + 1) for k in range(8)])
    d_path = graph_distances(path, 9)
    # Euclidean points on a line and points on a geodesic of the ball, spaced s apart in hyperbolic distance
    s = 0.7
    line = np.arange(9, dtype=dtype)[:, None]
    geodesic = np.stack([np.tanh((np.arange(9) - 4) * s / 2), np.zeros(9)], axis=1).astype(dtype)
    for x, manifold, scale in [
        (line, Euclidean(), 1.0),
        (3 * line, Euclidean(), 3.0),
        (geodesic, PoincareBall(1.0), s),
    ]:
        got = distortion(x, d_path, manifold, scale=scale)
        np.testing.assert_allclose([got.average, got.worst_case], [0.0, 1.0], **TOL[dtype])
        assert got.skipped_pairs == 0
        assert graph_map(x, path, manifold) == 1.0
    # the wrong scale halves every distance: relative error 1/2 everywhere, yet no worst-case distortion
    half = distortion(line, d_path, Euclidean(), scale=2.0)
    np.testing.assert_allclose([half.average, half.worst_case], [0.5, 1.0], **TOL[dtype])
    # a star (a tree) with the centre at the origin and 5 leaves on the unit circle ranks perfectly
    angles = 2 * np.pi * np.arange(5) / 5
    star = np.concatenate([[[0.0, 0.0]], np.stack([np.cos(angles), np.sin(angles)], axis=1)]).astype(dtype)
    assert graph_map(star, np.array([(0, k) for k in range(1, 6)]), Euclidean()) == 1.0


# --- graph MAP ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("block_size", [None, 1, 4, 64])
def test_graph_map_matches_reference_with_ties(dtype, block_size):
    rng = np.random.default_rng(2)
    n = 21
    edges = _random_graph(rng, 20, 0.2)  # node 20 has no neighbour (and 3 a self-loop)
    points = rng.integers(-2, 3, size=(n, 2)).astype(dtype)  # an integer grid: exact, tied distances
    want = _reference_map_ties(_pairwise(Euclidean(), points), graph_distances(edges, n))
    got = graph_map(points, edges, Euclidean(), block_size=block_size)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    # the same number as the closure kernel's AP on the symmetric edge list without self-loops
    symmetric = np.concatenate([edges, edges[:, ::-1]])
    closure = closure_reconstruction(points, symmetric[symmetric[:, 0] != symmetric[:, 1]], Euclidean())
    np.testing.assert_allclose(got, closure.map, **TOL[dtype])


def test_graph_map_matches_hazy_research_without_ties_on_every_manifold():
    rng = np.random.default_rng(4)
    n = 24
    tree = np.array([(k, int(rng.integers(k))) for k in range(1, n)])  # connected: every node has a neighbour
    edges = np.concatenate([tree, _random_graph(rng, n, 0.05)])
    ball, lorentz = PoincareBall(1.0), Lorentz(1.0)
    x = 0.8 * rng.uniform(-1, 1, size=(n, 2)) / np.sqrt(2)
    want = _reference_map_hazy(_pairwise(ball, x), graph_distances(edges, n))
    np.testing.assert_allclose(graph_map(x, edges, ball, block_size=7), want, rtol=1e-12)
    on_hyperboloid = lorentz.from_poincare(jnp.asarray(x))
    np.testing.assert_allclose(graph_map(on_hyperboloid, edges, lorentz), want, rtol=1e-12)


def test_jitted_once_per_shape():
    from geomrep.embed import metrics

    x, edges = np.random.default_rng(5).normal(size=(10, 2)), np.array([[0, 1], [1, 2], [4, 5]])
    d_graph = graph_distances(edges, 10)
    distortion(x, d_graph, Euclidean(), block_size=3)
    graph_map(x, edges, Euclidean(), block_size=3)
    sizes = metrics._distortion_block._cache_size(), metrics._block_stats._cache_size()
    distortion(x + 1, d_graph, Euclidean(), scale=2.5, block_size=3)
    graph_map(jax.numpy.asarray(x) * 2, edges, Euclidean(), block_size=3)
    assert (metrics._distortion_block._cache_size(), metrics._block_stats._cache_size()) == sizes


# --- bad input ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _NotAMetric:
    """dist = √⟨x, y⟩: nan for points at an obtuse angle."""

    def dist(self, x, y):
        return jnp.sqrt(jnp.sum(x * y, axis=-1))


def test_bad_input_is_reported():
    x, edges = jnp.ones((4, 2)), np.array([[0, 1], [1, 2]])
    d_graph = graph_distances(edges, 4)
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        distortion(x, d_graph[:3], Euclidean())
    with pytest.raises(ValueError, match="index 2"):
        distortion(x.at[2, 1].set(jnp.inf), d_graph, Euclidean())
    with pytest.raises(ValueError, match="index 1"):
        graph_map(x.at[1, 0].set(jnp.nan), edges, Euclidean())
    with pytest.raises(ValueError, match=r"\(n, D\)"):
        graph_map(jnp.ones(4), edges, Euclidean())
    with pytest.raises(ValueError, match="scale"):
        distortion(x, d_graph, Euclidean(), scale=0.0)
    with pytest.raises(ValueError, match="negative"):
        distortion(x, -d_graph, Euclidean())
    for metric in (graph_map, lambda x, e, m: graph_distances(e, 4)):
        with pytest.raises(ValueError, match="non-empty"):
            metric(x, np.zeros((0, 2), int), Euclidean())
        with pytest.raises(ValueError, match=r"\[0, 4\)"):
            metric(x, np.array([[0, 4]]), Euclidean())
        with pytest.raises(ValueError, match="integer"):
            metric(x, np.array([[0, 1.5]]), Euclidean())
    with pytest.raises(ValueError, match="self-loops"):
        graph_map(x, np.array([[1, 1]]), Euclidean())
    with pytest.raises(ValueError, match="not finite"):
        graph_map(jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.array([[0, 1]]), _NotAMetric())


# --- distance sources: a precomputed matrix, a row function, BFS rows, sampling ---------------------------------


class _CountingRows:
    """A row function over a matrix that records every call (the contract: ascending distinct int64 rows)."""

    def __init__(self, matrix, with_num_nodes=True):
        self.matrix, self.calls = matrix, []
        if with_num_nodes:
            self.num_nodes = len(matrix)

    def __call__(self, rows):
        assert rows.dtype == np.int64 and np.all(np.diff(rows) > 0)
        self.calls.append(rows.copy())
        return self.matrix[rows]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("block_size", [None, 4])
def test_precomputed_distances_match_the_embedding_path(dtype, block_size):
    rng = np.random.default_rng(6)
    n = 17
    edges = np.concatenate(
        [np.array([(k, int(rng.integers(k))) for k in range(1, n)]), _random_graph(rng, n, 0.1)]
    )
    d_graph = graph_distances(edges, n)
    ball = PoincareBall(1.0)
    x = (0.7 * rng.uniform(-1, 1, size=(n, 3)) / np.sqrt(3)).astype(dtype)
    d_emb = np.asarray(ball.dist(jnp.asarray(x)[:, None], jnp.asarray(x)[None])).astype(dtype)
    np.fill_diagonal(d_emb, 0)
    want_d = distortion(x, d_graph, ball, scale=1.3, block_size=block_size)
    want_map = graph_reconstruction(x, edges, ball, block_size=block_size)
    for embedded in (
        d_emb,
        jnp.asarray(d_emb),
        _CountingRows(d_emb),
        _CountingRows(d_emb, with_num_nodes=False),
    ):
        for graph in (d_graph, graph_distance_rows(edges, n), _CountingRows(d_graph)):
            got = distortion(embedded, graph, scale=1.3, block_size=block_size)
            np.testing.assert_allclose(
                [got.average, got.worst_case], [want_d.average, want_d.worst_case], **TOL[dtype]
            )
            assert (got.skipped_pairs, got.num_sources, got.sampled) == (0, n, False)
        got_map = graph_reconstruction(embedded, edges, block_size=block_size)
        np.testing.assert_allclose(
            [got_map.map, got_map.mean_rank], [want_map.map, want_map.mean_rank], **TOL[dtype]
        )
        assert graph_map(embedded, edges, block_size=block_size) == got_map.map
    np.testing.assert_allclose(
        want_map.map, _reference_map_hazy(d_emb.astype(np.float64), d_graph), **TOL[dtype]
    )


def test_row_function_sees_blocks_not_the_whole_matrix():
    rng = np.random.default_rng(7)
    n = 30
    edges = np.array([(k, int(rng.integers(k))) for k in range(1, n)])
    rows = _CountingRows(graph_distances(edges, n) * 1.5)
    distortion(rows, graph_distance_rows(edges, n), scale=1.5, block_size=8)
    assert sorted(len(c) for c in rows.calls) == [6, 8, 8, 8]  # worker threads may finish in any order
    rows.calls.clear()
    graph_map(rows, edges, block_size=8)
    assert max(len(c) for c in rows.calls) <= 8 and sum(len(c) for c in rows.calls) == n


def test_graph_distance_rows_match_the_matrix():
    rng = np.random.default_rng(8)
    edges = _random_graph(rng, 14, 0.15)
    rows = graph_distance_rows(edges, 16)
    assert rows.num_nodes == 16
    np.testing.assert_array_equal(rows(np.array([0, 5, 15])), graph_distances(edges, 16)[[0, 5, 15]])


def test_sampled_sources_are_stated_and_exact_per_row():
    rng = np.random.default_rng(9)
    n = 40
    edges = np.concatenate(
        [np.array([(k, int(rng.integers(k))) for k in range(1, n)]), _random_graph(rng, n, 0.05)]
    )
    d_graph = graph_distances(edges, n)
    x = rng.normal(size=(n, 2))
    d_emb = _pairwise(Euclidean(), x)
    got = distortion(x, d_graph, Euclidean(), sample=10, seed=3)
    assert got.sampled and got.num_sources == 10
    chosen = np.sort(np.random.default_rng(3).choice(n, size=10, replace=False))  # the documented draw
    ratio = d_emb[chosen] / np.where(d_graph[chosen] > 0, d_graph[chosen], 1)
    off = d_graph[chosen] > 0
    want_avg = np.mean([np.mean(np.abs(r[o] - 1)) for r, o in zip(ratio, off, strict=True)])
    np.testing.assert_allclose(got.average, want_avg, rtol=1e-12)
    np.testing.assert_allclose(got.worst_case, ratio[off].max() * (1 / ratio[off]).max(), rtol=1e-12)
    assert got.skipped_pairs == 0 and got.worst_case <= distortion(x, d_graph, Euclidean()).worst_case
    # the sampled graph MAP is the mean AP over the drawn sources (all nodes have a neighbour here)
    sampled = graph_reconstruction(x, edges, Euclidean(), sample=10, seed=3)
    assert sampled.sampled and sampled.num_sources == 10
    per_row = []
    for a in chosen:
        neighbours = np.flatnonzero(d_graph[a] == 1)
        precisions = [
            np.sum(d_emb[a, neighbours] <= d_emb[a, b]) / (np.sum(d_emb[a] <= d_emb[a, b]) - 1)
            for b in neighbours
        ]
        per_row.append(np.mean(precisions))
    np.testing.assert_allclose(sampled.map, np.mean(per_row), rtol=1e-12)
    # asking for at least every source is exact
    full = graph_reconstruction(x, edges, Euclidean(), sample=n)
    assert not full.sampled and full.map == graph_map(x, edges, Euclidean())


def test_nearest_neighbour_edges():
    rng = np.random.default_rng(10)
    edges = _random_graph(rng, 12, 0.3)
    d_graph = graph_distances(edges, 12)
    nn = nearest_neighbour_edges(d_graph, block_size=5)
    want = np.unique(np.concatenate([edges, edges[:, ::-1]]), axis=0)
    want = want[want[:, 0] != want[:, 1]]
    np.testing.assert_array_equal(np.unique(nn, axis=0), want)  # of a connected graph's d_G: its edges
    x = np.array([[0.0], [1.0], [3.0], [4.5], [9.0]])
    d = _pairwise(Euclidean(), x)
    np.testing.assert_array_equal(nearest_neighbour_edges(d), [[0, 1], [1, 0], [2, 3], [3, 2], [4, 3]])
    assert graph_map(d, nearest_neighbour_edges(d), directed=True) == 1.0
    assert graph_map(d, nearest_neighbour_edges(d)) == 0.95  # undirected, node 3 also ranks 4 (behind 1)


def test_bad_distance_sources_are_reported():
    d = graph_distances(np.array([[0, 1], [1, 2]]), 3)
    with pytest.raises(ValueError, match="square"):
        graph_map(np.ones((3, 4)), np.array([[0, 1]]))
    bad = d.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"\[2, 0\]"):
        distortion(bad, d)
    bad[2, 0] = -1.0
    with pytest.raises(ValueError, match=r"\[2, 0\].*>= 0"):
        distortion(bad, d)
    with pytest.raises(ValueError, match=r"\[2, 0\]"):
        nearest_neighbour_edges(bad)
    with pytest.raises(ValueError, match="not finite"):
        graph_map(np.where(np.eye(3) > 0, 0, np.inf), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        distortion(lambda rows: np.zeros((2, 3)), d)
    with pytest.raises(ValueError, match="sample"):
        distortion(d, d, sample=0)
    with pytest.raises(ValueError, match="block_size"):
        graph_map(d, np.array([[0, 1]]), block_size=0)


def test_block_size_is_capped_by_free_memory(monkeypatch):
    from geomrep.embed import metrics

    monkeypatch.setattr(metrics, "_free_memory_bytes", lambda: 8 * metrics._BYTES_PER_ELEMENT * 100 * 10)
    with pytest.warns(UserWarning, match="block_size=100"):
        assert metrics._block_rows(10**6, 100, block_size=10**6) == 10
    assert metrics._block_rows(10**6, 100, block_size=None) == 10  # the default just fits, without a warning
