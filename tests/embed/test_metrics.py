"""closure_reconstruction against a direct transcription of the reference protocol."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed import metrics
from geomrep.embed.metrics import closure_reconstruction
from geomrep.manifolds import Euclidean, PoincareBall


def _reference(dist, edges):
    """For each source: rank among non-neighbours, AP with ties grouped (sklearn's average_precision)."""
    n = dist.shape[0]
    ranks, aps = [], []
    for u in np.unique(edges[:, 0]):
        pos = set(edges[edges[:, 0] == u, 1].tolist())
        others = [w for w in range(n) if w != u]
        d = dist[u]
        for v in pos:
            ranks.append(1 + sum(1 for w in others if w not in pos and d[w] < d[v]))
        # sklearn: thresholds at each distinct score, precision counts everything scored >= threshold
        precisions = []
        for v in pos:
            at_least = [w for w in others if d[w] <= d[v]]
            precisions.append(sum(1 for w in at_least if w in pos) / len(at_least))
        aps.append(np.mean(precisions))
    return np.mean(ranks), np.mean(aps)


@pytest.mark.parametrize("counting", ["direct", "merged"])
@pytest.mark.parametrize("block_size", [None, 1, 3, 64])
def test_matches_reference_protocol_with_ties(block_size, counting, monkeypatch):
    # both ways of counting the nodes below each threshold: summed comparisons and the merged-threshold search
    monkeypatch.setattr(metrics, "_UNROLLED_THRESHOLDS", 10**6 if counting == "direct" else 0)
    jax.clear_caches()  # the kernels read the constant when traced: retrace them
    rng = np.random.default_rng(0)
    n = 23
    # a random DAG closure-like edge set plus points on a coarse grid so that distances tie
    edges = np.array([(u, v) for u in range(n) for v in range(u) if rng.random() < 0.2])
    points = rng.integers(-3, 4, size=(n, 2)).astype(np.float64)  # integer grid: exact, tied distances
    got = closure_reconstruction(points, edges, Euclidean(), block_size=block_size)
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    want_rank, want_map = _reference(dist, edges)
    assert got.num_pairs == len(edges)
    assert got.num_sources == len(np.unique(edges[:, 0]))
    np.testing.assert_allclose(got.mean_rank, want_rank, rtol=1e-12)
    np.testing.assert_allclose(got.map, want_map, rtol=1e-12)


def test_perfect_and_poor_embeddings():
    # a path 0 <- 1 <- 2 <- 3 closure embedded along a geodesic: ancestors are always the closest nodes? No:
    # node 1's ancestor is 0 while its descendant 2 is equally close; make descendants farther instead.
    edges = np.array([(1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2)])
    x = jnp.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.3], [0.3, 0.7]])
    ball = PoincareBall(1.0)
    perfect = closure_reconstruction(x, edges, ball)
    dist = np.asarray(ball.dist(x[:, None], x[None]))
    want_rank, want_map = _reference(dist, edges)
    assert perfect.mean_rank == pytest.approx(want_rank) and perfect.map == pytest.approx(want_map)
    same = closure_reconstruction(jnp.zeros((4, 2)) + 0.1, edges, ball)  # all ties: everything at distance 0
    assert same.map == pytest.approx(_reference(np.zeros((4, 4)), edges)[1])


def test_non_finite_embeddings_are_reported_not_ranked():
    x = jnp.zeros((4, 2)).at[2, 1].set(jnp.nan)
    with pytest.raises(ValueError, match="index 2"):
        closure_reconstruction(x, np.array([[1, 0]]), Euclidean())


def test_bad_edges_are_reported():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        closure_reconstruction(jnp.zeros((3, 2)), np.array([[0, 5]]), Euclidean())
    with pytest.raises(ValueError, match="non-empty"):
        closure_reconstruction(jnp.zeros((3, 2)), np.zeros((0, 2), int), Euclidean())
