"""Sarkar's combinatorial construction (Sala, De Sa, Gu & Ré 2018): guarantee, exactness against mpmath, errors.

Fast tests use small trees; the reproductions on the paper's graphs are marked slow.
"""

import math
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep.embed import combinatorial_mp
from geomrep.embed.combinatorial import (
    FLOAT64_MAX_RADIUS,
    combinatorial_embedding,
    float64_scale,
    required_precision_bits,
    sarkar_scale,
    tree_embedding,
)
from geomrep.embed.metrics import distortion, graph_distances, graph_map, graph_reconstruction
from geomrep.embed.rooted_tree import NotATreeError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _balanced_tree(branching, height):
    edges, frontier, nxt = [], [0], 1
    for _ in range(height):
        new = []
        for p in frontier:
            for _ in range(branching):
                edges.append((p, nxt))
                new.append(nxt)
                nxt += 1
        frontier = new
    return np.array(edges), nxt


def _random_tree(n, seed, max_depth=3):
    """A random tree whose nodes lie within ``max_depth`` of node 0 (so its height is ≤ 2·max_depth from any
    root: the tests' trees share a few compiled kernel shapes, n ≤ 256 and height ≤ 7)."""
    rng = np.random.default_rng(seed)
    depth, edges = [0], []
    for v in range(1, n):
        parent = int(rng.choice(np.flatnonzero(np.array(depth) < max_depth)))
        edges.append((parent, v))
        depth.append(depth[parent] + 1)
    return np.array(edges)


def _all_pairs(emb):
    return emb.dist_rows(np.arange(emb.num_nodes))


def _assert_sarkar_guarantee(emb, tree_edges, eps, weights=None):
    """τ·d_T/(1 + ε) ≤ d_H ≤ τ·d_T for every pair (d_T the weighted tree distance)."""
    import scipy.sparse
    import scipy.sparse.csgraph

    n = emb.num_nodes
    w = np.ones(len(tree_edges)) if weights is None else np.asarray(weights, float)
    adjacency = scipy.sparse.coo_matrix((w, tree_edges.T), shape=(n, n)).tocsr()
    d_tree = scipy.sparse.csgraph.shortest_path(adjacency, directed=False)
    ratio = _all_pairs(emb)[~np.eye(n, dtype=bool)] / (emb.scale * d_tree[~np.eye(n, dtype=bool)])
    assert ratio.max() <= 1 + 1e-12
    assert ratio.min() >= 1 / (1 + eps) - 1e-12
    return ratio.max() / ratio.min()


@pytest.fixture(scope="module")
def balanced():
    edges, n = _balanced_tree(3, 3)  # the 40-node "Bal. Tree" of the paper (nx.balanced_tree(3, 3))
    return edges, n


# --- the scale ----------------------------------------------------------------------------------------------------


def test_sarkar_scale_is_the_reference_formula():
    for eps, degree, w in [(0.1, 4, 1.0), (1.0, 16, 1.0), (0.5, 404, 2.0), (2.0, 1, 1.0)]:
        beta = math.pi / (1.2 * degree)
        v = -2 * math.log(math.tan(beta / 2))
        alpha = 2 * math.pi / degree - 2 * beta
        nu = -2 * math.log(math.tan(alpha / 2))
        assert sarkar_scale(eps, degree, w) == pytest.approx(max((1 + eps) / eps * v, nu) / w, rel=1e-15)
    # the notes' table (hyperbolic.md §C.3): Δ = 4 → 4.3 / 23.8, Δ = 16 → 10.0 / 55.0, Δ = 404 → 22.9 / 126.1
    assert [round(sarkar_scale(e, d), 1) for d in (4, 16, 404) for e in (1.0, 0.1)] == [
        4.3,
        23.8,
        10.0,
        55.0,
        22.9,
        126.1,
    ]


def test_float64_scale_and_precision_bits():
    assert float64_scale(10.0) == pytest.approx(math.log(2.0**54 - 1) / 13.0, rel=1e-15)
    # the notes' bit table: 1.44·τ·ℓ = 103 for the balanced tree at ε = 0.1, plus the documented guard bits
    assert (
        required_precision_bits(23.8, 3, 3, 0.1)
        == math.ceil(math.log2(math.e) * 23.8 * 3 + math.log2(10) + 2) + 24
    )


# --- exactness: factor representation vs arbitrary-precision coordinates -------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_factor_distances_match_mpmath(balanced, dim):
    edges, n = balanced
    emb = tree_embedding(edges, n, eps=0.1, dim=dim)
    points = emb.mp_points()
    assert points.precision_bits == emb.precision_bits
    exact = combinatorial_mp.mp_dist_rows(points, np.arange(n))
    ours = _all_pairs(emb)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(ours[off], exact[off], rtol=1e-14)
    np.testing.assert_array_equal(np.diag(ours), 0.0)


def test_factor_distances_match_mpmath_weighted_tree_in_4d():
    # τ ≈ 100 over weighted edges: distances of hundreds, far beyond float64 coordinates
    edges = _random_tree(40, seed=7)
    weights = np.random.default_rng(7).uniform(0.5, 2.0, len(edges))
    emb = tree_embedding(edges, 40, eps=0.1, dim=4, weights=weights)
    assert emb.root_distance.max() > 10 * FLOAT64_MAX_RADIUS
    points = emb.mp_points()
    u, v = np.triu_indices(40, 1)
    exact = combinatorial_mp.mp_pair_distances(points, u, v)
    np.testing.assert_allclose(emb.pair_distances(u, v), exact, rtol=1e-14)
    _assert_sarkar_guarantee(emb, edges, 0.1, weights)


def test_required_bits_suffice_and_too_few_raise(balanced):
    edges, n = balanced
    emb = tree_embedding(edges, n, eps=0.5)
    needed = required_precision_bits(emb.scale, emb.tree.weighted_height, emb.tree.height, 0.5)
    assert emb.precision_bits == needed + 40
    # at exactly the required bits, rounding moves distances by far less than ε·2⁻²⁰
    points = combinatorial_mp.mp_points(emb, precision_bits=needed)
    exact = combinatorial_mp.mp_dist_rows(points, [0, 17])
    np.testing.assert_allclose(exact[:, 1:], emb.dist_rows([0, 17])[:, 1:], rtol=0.5 * 2.0**-20)
    with pytest.raises(ValueError, match=rf"needs at least {needed} bits"):
        tree_embedding(edges, n, eps=0.5, precision_bits=needed - 1)
    with pytest.raises(ValueError, match=rf"needs at least {needed} bits"):
        emb.mp_points(precision_bits=64)


# --- Sarkar's guarantee and reconstruction ------------------------------------------------------------------------


@pytest.mark.parametrize("dim, eps", [(2, 1.0), (2, 0.1), (3, 0.1), (6, 1.0)])
def test_sarkar_guarantee_and_tree_map(balanced, dim, eps):
    edges, n = balanced
    emb = tree_embedding(edges, n, eps=eps, dim=dim)
    worst = _assert_sarkar_guarantee(emb, edges, eps)
    assert worst <= 1 + eps
    assert graph_map(emb.dist_rows, edges) == 1.0
    report = distortion(emb.dist_rows, graph_distances(edges, n), scale=emb.scale)
    assert report.worst_case == pytest.approx(worst, rel=1e-12)


@pytest.mark.parametrize("seed, dim", [(0, 2), (1, 2), (2, 3)])
def test_sarkar_guarantee_random_trees(seed, dim):
    edges = _random_tree(40, seed)
    emb = tree_embedding(edges, 40, eps=0.2, dim=dim)
    _assert_sarkar_guarantee(emb, edges, 0.2)
    assert graph_map(emb.dist_rows, edges) == 1.0


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(2, 60),
    seed=st.integers(0, 2**31 - 1),
    eps=st.floats(0.05, 3.0),
    dim=st.sampled_from([2, 3]),
)
def test_sarkar_guarantee_property(n, seed, eps, dim):
    # any tree (here: random, within depth 3 of node 0 so all examples share one compiled shape), any ε > 0
    edges = _random_tree(n, seed)
    emb = tree_embedding(edges, n, eps=eps, dim=dim)
    assert _assert_sarkar_guarantee(emb, edges, eps) <= 1 + eps + 1e-12
    np.testing.assert_array_equal(np.diag(_all_pairs(emb)), 0.0)


def test_star_and_path_and_single_node():
    star = np.stack([np.zeros(39, int), np.arange(1, 40)], axis=1)  # one node of degree 39
    _assert_sarkar_guarantee(tree_embedding(star, 40, eps=0.1), star, 0.1)
    path = np.stack([np.arange(7), np.arange(1, 8)], axis=1)
    _assert_sarkar_guarantee(tree_embedding(path, 8, eps=0.1, root=0), path, 0.1)
    single = tree_embedding(np.zeros((0, 2), int), 1, eps=0.1)
    assert single.dist_rows([0]).tolist() == [[0.0]]


def test_dist_rows_and_pair_distances_agree(balanced):
    edges, n = balanced
    emb = tree_embedding(edges, n, eps=0.1)
    full = _all_pairs(emb)
    np.testing.assert_allclose(full, full.T, rtol=1e-14)
    rows = np.array([39, 3, 3, 0])  # any order, repeats allowed
    np.testing.assert_array_equal(emb.dist_rows(rows), full[rows])
    u, v = np.triu_indices(n, 1)
    np.testing.assert_allclose(emb.pair_distances(u, v), full[u, v], rtol=1e-14)
    assert emb.pair_distances([5], [5]).tolist() == [0.0]
    assert emb.pair_distances([], []).shape == (0,)
    assert repr(emb).startswith("CombinatorialEmbedding(num_nodes=40, dim=2, scale=23.7")


def test_float64_even_when_x64_is_off(balanced):
    edges, n = balanced
    reference = tree_embedding(edges, n, eps=0.1)
    with jax.enable_x64(False):
        emb = tree_embedding(edges, n, eps=0.1)
        rows = emb.dist_rows(np.arange(n))
    assert rows.dtype == np.float64
    np.testing.assert_array_equal(rows, _all_pairs(reference))


# --- graphs ------------------------------------------------------------------------------------------------------


def test_graph_uses_a_spanning_bfs_tree():
    rng = np.random.default_rng(5)
    edges = np.concatenate([_random_tree(40, 5), rng.integers(0, 40, (25, 2))])
    for order in ("graph", "bfs"):
        emb = combinatorial_embedding(edges, 40, eps=0.1, child_order=order)
        tree = emb.tree_edges
        assert len(tree) == 39
        _assert_sarkar_guarantee(emb, tree, 0.1)
        assert graph_map(emb.dist_rows, tree) == 1.0
        assert 0 < graph_map(emb.dist_rows, edges) < 1


def test_disconnected_graph_embeds_every_component():
    edges = np.concatenate([_random_tree(20, 1), _random_tree(19, 2) + 20])  # two trees, node 39 isolated
    with pytest.warns(UserWarning, match="3 connected components"):
        emb = combinatorial_embedding(edges, 40, eps=0.1)
    assert emb.root == 40 and emb.num_nodes == 40
    d = _all_pairs(emb)
    assert d.shape == (40, 40) and np.isfinite(d).all()
    graph = graph_distances(edges, 40)
    report = distortion(emb.dist_rows, graph, scale=emb.scale)
    assert report.worst_case <= 1.1 and report.skipped_pairs == 2 * (
        20 * 19 + 20 * 1 + 19 * 1
    )  # across components
    # every other component is farther than anything in a node's own component: MAP is not harmed
    same = np.isfinite(graph)
    assert np.max(np.where(same, d, 0), axis=1).max() < np.min(np.where(same, np.inf, d), axis=1).min()
    assert graph_map(emb.dist_rows, edges) == 1.0


# --- float64 coordinates ------------------------------------------------------------------------------------------


def test_poincare_coordinates_saturation_is_reported(balanced):
    edges, n = balanced
    emb = tree_embedding(edges, n, eps=0.1)  # τ ≈ 23.8, nodes at up to ~70 from the origin
    with pytest.warns(UserWarning, match=r"\d+ of 40 nodes lie farther"):
        points = emb.poincare
    assert np.isfinite(points).all() and (np.sum(points**2, axis=1) < 1).all()
    saturated = emb.saturated
    np.testing.assert_array_equal(saturated, emb.root_distance > FLOAT64_MAX_RADIUS)
    assert 0 < saturated.sum() < n
    # unsaturated nodes keep their distance from the origin, to float64's resolution there (≈ ulp·e^D)
    r = np.linalg.norm(points[~saturated], axis=1)
    exact = emb.root_distance[~saturated]
    assert np.all(np.abs(2 * np.arctanh(r) - exact) <= 2.0**-52 * np.exp(exact) + 1e-15)


def test_poincare_coordinates_that_fit_float64(balanced):
    edges, n = balanced
    emb = tree_embedding(edges, n, tau="float64")
    assert emb.scale == pytest.approx(float64_scale(emb.tree.weighted_height)) and emb.eps is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        points = emb.poincare
    assert not emb.saturated.any()
    gap = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    alpha = 1 - np.sum(points**2, axis=1)
    coords = np.arccosh(1 + 2 * gap / (alpha[:, None] * alpha[None, :]))  # the Poincaré distance, in float64
    exact = _all_pairs(emb)
    off = ~np.eye(n, dtype=bool)
    # float64 coordinates near the boundary resolve distances only to ~e^{D}·1e-16 (D ≤ 28.8 here)
    np.testing.assert_allclose(coords[off], exact[off], rtol=1e-3)


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(eps=0.0), "eps must be a positive number"),
        (dict(eps=-1.0), "eps must be a positive number"),
        (dict(eps=float("nan")), "eps must be a positive number"),
        (dict(), "exactly one of eps"),
        (dict(eps=0.1, tau=2.0), "exactly one of eps"),
        (dict(tau="float32"), "tau must be a positive number or 'float64'"),
        (dict(tau=-3.0), "tau must be a positive finite number"),
        (dict(eps=0.1, dim=1), "dim must be >= 2"),
    ],
)
def test_bad_arguments(balanced, kwargs, message):
    edges, n = balanced
    with pytest.raises(ValueError, match=message):
        tree_embedding(edges, n, **kwargs)


def test_bad_input_to_the_entry_points(balanced):
    edges, n = balanced
    with pytest.raises(NotATreeError, match=r"row 39 \(5, 7\) closes a cycle"):
        tree_embedding(np.concatenate([edges, [[5, 7]]]), n, eps=0.1)
    with pytest.raises(ValueError, match="child_order"):
        combinatorial_embedding(edges, n, eps=0.1, child_order="random")
    emb = tree_embedding(edges, n, eps=0.1)
    with pytest.raises(ValueError, match=r"rows\[1\] = 40 is not a node id"):
        emb.dist_rows([0, 40])
    with pytest.raises(ValueError, match="same length"):
        emb.pair_distances([0, 1], [2])


# --- reproductions (slow) -----------------------------------------------------------------------------------------

_SMALL = {
    "balanced_tree": "balanced_tree/smalltree.edges",
    "phylo_tree": "phylo_tree/phylo_tree.edges",
    "cs_phd": "cs_phd/ca-CSphd.edges",
    "diseases": "diseases/bio-diseasome.edges",
    "yeast": "yeast/bio-yeast.edges",
    "grqc": "grqc/grqc.edges",
}


def _load(relative):
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"data set not found: {path}")
    edges = np.loadtxt(path, dtype=np.int64)[:, :2]
    return edges, int(edges.max()) + 1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_SMALL))
def test_paper_graphs_tree_guarantee_2d(name):
    """Every tree and the BFS tree of every small graph: MAP 1.0 and d_wc ≤ 1 + ε over all pairs, ε = 0.1, 2-D."""
    edges, n = _load(_SMALL[name])
    emb = combinatorial_embedding(edges, n, eps=0.1)
    tree = emb.tree_edges
    assert graph_map(emb.dist_rows, tree) == 1.0
    report = distortion(emb.dist_rows, graph_distances(tree, n), scale=emb.scale)
    assert report.worst_case <= 1.1 and report.skipped_pairs == 0 and not report.sampled


# the paper's 2-D combinatorial numbers (tables.md, from a third-party reading of SDGR18): match or beat
_PAPER_DISTORTION = {"balanced_tree": 0.013, "phylo_tree": 0.006}
_PAPER_MAP = {"balanced_tree": 1.0, "phylo_tree": 1.0, "cs_phd": 0.991, "diseases": 0.822, "grqc": 0.696}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_PAPER_MAP))
def test_paper_graphs_reference_numbers(name):
    edges, n = _load(_SMALL[name])
    emb = combinatorial_embedding(edges, n, eps=0.1)
    assert graph_map(emb.dist_rows, edges) >= _PAPER_MAP[name]
    if name in _PAPER_DISTORTION:
        report = distortion(emb.dist_rows, graph_distances(edges, n), scale=emb.scale)
        assert round(report.average, 3) <= _PAPER_DISTORTION[name]


@pytest.mark.slow
def test_phylo_factor_distances_match_mpmath():
    edges, n = _load(_SMALL["phylo_tree"])  # depth 50 at τ = 55: ~4,000 bits
    emb = combinatorial_embedding(edges, n, eps=0.1)
    rows = np.arange(0, n, 43)
    exact = combinatorial_mp.mp_dist_rows(emb.mp_points(), rows)
    np.testing.assert_allclose(emb.dist_rows(rows), exact, rtol=1e-14, atol=1e-12)


@pytest.mark.slow
def test_wordnet_graph_map_2d():
    """SDGR18's headline: WordNet hypernym graph, 2-D, ε = 0.1, graph MAP ≥ 0.989 over all 74,374 sources."""
    edges, n = _load("wordnet_hypernym_graph/wordnet.edges")
    emb = combinatorial_embedding(edges, n, eps=0.1)
    result = graph_reconstruction(emb.dist_rows, edges)
    assert not result.sampled and result.num_sources == n
    assert result.map >= 0.989
