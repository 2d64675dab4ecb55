"""Rooted BFS trees, tree validation and graph-aware child ordering for the combinatorial construction."""

import warnings

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph

from geomrep.embed.rooted_tree import NotATreeError, bfs_tree, check_tree, order_children_by_graph


def _random_graph(n, extra, seed):
    rng = np.random.default_rng(seed)
    tree = np.stack([rng.integers(0, np.arange(1, n)), np.arange(1, n)], axis=1)  # random recursive tree
    more = rng.integers(0, n, (extra, 2))
    return np.concatenate([tree, more])


def _check_consistent(tree):
    n = tree.num_nodes
    parent, depth = tree.parent, tree.depth
    child = np.flatnonzero(parent >= 0)
    np.testing.assert_array_equal(depth[child], depth[parent[child]] + 1)
    # preorder ranges nest exactly like subtrees
    pos, size = tree.preorder_position, tree.subtree_size
    assert sorted(pos.tolist()) == list(range(n))
    assert np.all(
        (pos[parent[child]] < pos[child])
        & (pos[child] + size[child] <= pos[parent[child]] + size[parent[child]])
    )
    # ancestor table: depth k holds the ancestor at depth k, v itself at depth(v)
    for v in range(n):
        chain = [v]
        while parent[chain[-1]] >= 0:
            chain.append(parent[chain[-1]])
        np.testing.assert_array_equal(tree.ancestors[v, : depth[v] + 1], chain[::-1])
        assert np.all(tree.ancestors[v, depth[v] + 1 :] == -1)
    # slots: siblings numbered 0..c-1 in the order they appear
    for p in range(n):
        kids = [v for v in tree.order if parent[v] == p]
        assert tree.slot[kids].tolist() == list(range(len(kids)))


def test_bfs_tree_of_a_graph():
    edges = _random_graph(60, 40, seed=1)
    tree = bfs_tree(edges, 60)
    adjacency = scipy.sparse.coo_matrix((np.ones(len(edges)), edges.T), shape=(60, 60)).tocsr()
    degree = np.diff(((adjacency + adjacency.T) > 0).astype(int).tocsr().indptr)
    assert tree.root == int(np.argmax(degree))  # largest degree, smallest id among ties
    hops = scipy.sparse.csgraph.shortest_path(adjacency, directed=False, unweighted=True, indices=tree.root)
    np.testing.assert_array_equal(tree.depth, hops)  # a BFS tree keeps distances from the root
    assert not tree.has_hub and tree.num_nodes == 60 and len(tree.edges) == 59
    _check_consistent(tree)


def test_bfs_tree_root_and_edge_lengths():
    edges = np.array([[0, 1], [1, 2], [2, 1], [2, 3]])
    tree = bfs_tree(edges, 4, root=0, weights=[1.0, 5.0, 2.0, 0.5])
    assert tree.root == 0
    np.testing.assert_array_equal(
        tree.length, [0.0, 1.0, 2.0, 0.5]
    )  # the repeated edge 1–2 keeps its smallest
    assert tree.weighted_height == pytest.approx(3.5)
    with pytest.raises(ValueError, match="root"):
        bfs_tree(edges, 4, root=7)


def test_disconnected_graph_gets_a_hub():
    edges = np.array([[0, 1], [2, 3], [3, 4]])
    with pytest.warns(UserWarning, match="3 connected components"):
        tree = bfs_tree(edges, 6, hub_stretch=0.5)  # node 5 is isolated
    assert tree.has_hub and tree.root == 6 and tree.num_graph_nodes == 6
    np.testing.assert_array_equal(np.flatnonzero(tree.parent == 6), [0, 3, 5])  # component roots
    assert tree.hub_length == pytest.approx(1.5 * 1 + 1)  # (1 + stretch)·(largest component height) + 1
    np.testing.assert_array_equal(tree.length[[0, 3, 5]], tree.hub_length)
    _check_consistent(tree)


@pytest.mark.parametrize(
    "edges, n, message",
    [
        ([[0, 1], [1, 1]], 2, r"row 1 is a self-loop"),
        ([[0, 1], [1, 2], [2, 1]], 3, r"row 2 \(2, 1\) repeats the edge at row 1"),
        ([[0, 1], [1, 2], [2, 3], [3, 1], [3, 4]], 5, r"row 3 \(3, 1\) closes a cycle"),
        ([[0, 1], [2, 3]], 4, r"2 connected components \(node 2 has no path to node 0\)"),
        ([[0, 1]], 3, r"2 connected components"),
    ],
)
def test_check_tree_names_the_problem(edges, n, message):
    with pytest.raises(NotATreeError, match=message):
        check_tree(np.array(edges), n)


def test_check_tree_accepts_trees_and_validates_input():
    check_tree(_random_graph(50, 0, seed=3), 50)
    check_tree(np.zeros((0, 2), int), 1)
    with pytest.raises(ValueError, match=r"row 1 is \(1, 9\)"):
        check_tree(np.array([[0, 1], [1, 9]]), 3)
    with pytest.raises(ValueError, match="row 0"):
        bfs_tree(np.array([[0, 1]]), 2, weights=[-1.0])
    with pytest.raises(ValueError, match="integer"):
        bfs_tree(np.array([[0.5, 1.0]]), 2)


def test_order_children_by_graph_puts_linked_subtrees_side_by_side():
    # root 0 with children 1..6; the graph links 2–5 and a grandchild under 3 to node 6's subtree
    tree_edges = [[0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0, 6], [3, 7], [6, 8]]
    edges = np.array(tree_edges + [[2, 5], [7, 8]])
    tree = bfs_tree(edges, 9, root=0)
    ordered = order_children_by_graph(tree, edges)
    np.testing.assert_array_equal(ordered.parent, tree.parent)
    np.testing.assert_array_equal(ordered.depth, tree.depth)
    assert abs(int(ordered.slot[2]) - int(ordered.slot[5])) == 1
    assert abs(int(ordered.slot[3]) - int(ordered.slot[6])) == 1
    _check_consistent(ordered)
    # a tree has no edge left out: nothing moves
    plain = bfs_tree(np.array(tree_edges), 9, root=0)
    assert order_children_by_graph(plain, np.array(tree_edges)) is plain


def test_order_children_by_graph_random_graphs_stay_consistent():
    for seed in range(3):
        edges = _random_graph(80, 60, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ordered = order_children_by_graph(bfs_tree(edges, 80), edges)
        _check_consistent(ordered)
