"""link_prediction (filtered ranking of held-out pairs) against a brute-force NumPy transcription, with ties."""

import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.embed import metrics
from geomrep.embed.metrics import closure_reconstruction, link_prediction
from geomrep.manifolds import Euclidean, PoincareBall


def _brute_force(dist, held_out, known):
    """Per source u of ``held_out``: candidates C(u) = H(u) ∪ {w ∉ K(u), w ≠ u}; rank among C(u) ∖ H(u) with
    strict <, precision at v = |{v' ∈ H(u): d ≤ d_v}| / |{w ∈ C(u): d ≤ d_v}|, AP = mean over H(u)."""
    n = dist.shape[0]
    ranks, aps = [], []
    for u in np.unique(held_out[:, 0]):
        held = {int(v) for v in held_out[held_out[:, 0] == u, 1]}
        true = {int(w) for w in known[known[:, 0] == u, 1]}
        candidates = [w for w in range(n) if w != u and (w in held or w not in true)]
        d = dist[u]
        precisions = []
        for v in sorted(held):
            ranks.append(1 + sum(1 for w in candidates if w not in held and d[w] < d[v]))
            at_most = [w for w in candidates if d[w] <= d[v]]
            precisions.append(sum(1 for w in at_most if w in held) / len(at_most))
        aps.append(np.mean(precisions))
    return float(np.mean(ranks)), float(np.mean(aps)), len(ranks), len(aps)


def _random_case(seed, n=29, p=0.3, hub=False):
    """A random DAG's edges (u → v for v < u), a random held-out part and grid points with tied distances."""
    rng = np.random.default_rng(seed)
    known = np.array([(u, v) for u in range(n) for v in range(u) if rng.random() < p or (hub and u == n - 1)])
    held = known[rng.random(len(known)) < 0.3]
    points = rng.integers(-2, 3, size=(n, 2)).astype(np.float64)  # a coarse integer grid: many exact ties
    return known, held, points


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("block_size", [None, 1, 4])
def test_matches_brute_force_with_ties(seed, block_size):
    known, held, points = _random_case(seed)
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    got = link_prediction(points, held, known, Euclidean(), block_size=block_size)
    rank, ap, pairs, sources = _brute_force(dist, held, known)
    assert (got.num_pairs, got.num_sources) == (pairs, sources)
    np.testing.assert_allclose([got.mean_rank, got.map], [rank, ap], rtol=1e-12)
    # the same from a precomputed distance matrix (the host-rows path of the kernel)
    from_matrix = link_prediction(dist, held, known, None, block_size=block_size)
    np.testing.assert_allclose([from_matrix.mean_rank, from_matrix.map], [rank, ap], rtol=1e-12)


def test_hub_sources_and_degree_buckets_match_brute_force(monkeypatch):
    """Three kinds of sources, each its own kernel shape once a tiny per-call budget splits sources into buckets:
    one held-out pair and at most one other known pair (ignored table as wide as the neighbour table), one
    held-out pair and 5-7 known pairs (a wider ignored table), and a hub with 40 held-out and 40 known pairs (the
    binary-search branch). Buckets of 9 sources in calls of 4 rows also pad the last call."""
    n = 60
    monkeypatch.setattr(metrics, "_ELEMENTS_PER_BLOCK", 4 * n)
    rng = np.random.default_rng(3)
    held, known = [], []
    for u in range(1, 19):
        others = rng.choice(np.delete(np.arange(n), u), size=9 if u > 9 else 3, replace=False)
        held.append((u, others[0]))
        known += [
            (u, int(w)) for w in others[: (1 + rng.integers(0, 2)) if u <= 9 else 6 + rng.integers(0, 2)]
        ]
    hub = rng.permutation(np.delete(np.arange(n), 0))[:80]
    held += [(0, int(w)) for w in hub[:40]]
    known += [(0, int(w)) for w in hub]
    held, known = np.array(held), np.array(known)
    points = rng.integers(-2, 3, size=(n, 2)).astype(np.float64)  # ties
    dist = np.linalg.norm(points[:, None] - points[None], axis=-1)
    got = link_prediction(jnp.asarray(points), held, known, Euclidean())
    rank, ap, pairs, sources = _brute_force(dist, held, known)
    assert (got.num_pairs, got.num_sources) == (pairs, sources) == (58, 19)
    np.testing.assert_allclose([got.mean_rank, got.map], [rank, ap], rtol=1e-12)


def test_poincare_ball_points_match_brute_force():
    rng = np.random.default_rng(5)
    known, held, _ = _random_case(5)
    ball = PoincareBall(1.0)
    points = ball.proj(jnp.asarray(rng.normal(size=(29, 3)) * 0.4))
    dist = np.asarray(ball.dist(points[:, None], points[None]))
    got = link_prediction(points, held, known, ball)
    rank, ap, _, _ = _brute_force(dist, held, known)
    np.testing.assert_allclose([got.mean_rank, got.map], [rank, ap], rtol=1e-10)


def test_filtering_changes_the_ranks_and_no_known_pairs_is_reconstruction():
    known, held, points = _random_case(7)
    plain = closure_reconstruction(points, held, Euclidean())
    unfiltered = link_prediction(points, held, held, Euclidean())  # known = the held-out pairs only
    assert (unfiltered.mean_rank, unfiltered.map) == (plain.mean_rank, plain.map)
    filtered = link_prediction(points, held, known, Euclidean())
    assert filtered.mean_rank < plain.mean_rank and filtered.map > plain.map  # fewer candidates ahead


def test_all_distances_tied():
    """Every distance equal: rank 1 for every pair, precision |H(u)| / |C(u)| for every source."""
    known, held, _ = _random_case(11)
    got = link_prediction(np.zeros((29, 2)), held, known, Euclidean())
    rank, ap, _, _ = _brute_force(np.zeros((29, 29)), held, known)
    assert got.mean_rank == rank == 1.0
    np.testing.assert_allclose(got.map, ap, rtol=1e-12)


def test_bad_known_pairs_are_reported():
    with pytest.raises(ValueError, match=r"known ids must lie in \[0, 3\)"):
        link_prediction(jnp.zeros((3, 2)), np.array([[0, 1]]), np.array([[0, 7]]), Euclidean())
    with pytest.raises(ValueError, match="known must be"):
        link_prediction(jnp.zeros((3, 2)), np.array([[0, 1]]), np.array([0, 1]), Euclidean())
