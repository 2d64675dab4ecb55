"""Synthetic data with a known hierarchy: a Gaussian mixture whose centres are the leaves of a tree.

The root sits at the origin; a child's centre is its parent's plus a random direction of length
``spread · decay^level`` (level 0 = the root's children), so clusters that share a deeper ancestor are closer.
Each leaf gets ``points_per_leaf`` points drawn from N(centre, noise² I). The true tree is returned with the
points, so hierarchy recovery can be scored (:mod:`experiments.hyperbolic_diffusion.evaluation`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class HierarchicalMixture(NamedTuple):
    points: np.ndarray  # (N, dim) float64
    cluster: np.ndarray  # (N,) index of the point's leaf in ``leaves``
    parent: np.ndarray  # (T,) parent of every tree node, -1 for the root (node 0)
    leaves: np.ndarray  # (L,) tree node ids of the leaves, in cluster order
    centres: np.ndarray  # (T, dim) centre of every tree node


def hierarchical_mixture(
    *,
    branching: int,
    depth: int,
    dim: int,
    spread: float,
    decay: float,
    noise: float,
    points_per_leaf: int,
    seed: int,
) -> HierarchicalMixture:
    """A complete ``branching``-ary tree of the given depth, its node centres, and points around its leaves."""
    if branching < 2 or depth < 1 or dim < 1 or points_per_leaf < 1:
        raise ValueError("need branching >= 2, depth >= 1, dim >= 1 and points_per_leaf >= 1")
    if not (spread > 0 and 0 < decay <= 1 and noise >= 0):
        raise ValueError("need spread > 0, 0 < decay <= 1 and noise >= 0")
    rng = np.random.default_rng(seed)
    parent, centres, level_nodes = [-1], [np.zeros(dim)], [0]
    for level in range(depth):
        next_nodes = []
        for node in level_nodes:
            for _ in range(branching):
                direction = rng.standard_normal(dim)
                parent.append(node)
                centres.append(centres[node] + spread * decay**level * direction / np.linalg.norm(direction))
                next_nodes.append(len(parent) - 1)
        level_nodes = next_nodes
    centres = np.stack(centres)
    leaves = np.asarray(level_nodes)
    cluster = np.repeat(np.arange(len(leaves)), points_per_leaf)
    points = centres[leaves][cluster] + noise * rng.standard_normal((len(cluster), dim))
    return HierarchicalMixture(points, cluster, np.asarray(parent), leaves, centres)


def balanced_tree_edges(branching: int, depth: int) -> np.ndarray:
    """Edges (parent, child) of the complete ``branching``-ary tree of the given depth, nodes in BFS order."""
    edges, frontier, next_id = [], [0], 1
    for _ in range(depth):
        children = []
        for node in frontier:
            for _ in range(branching):
                edges.append((node, next_id))
                children.append(next_id)
                next_id += 1
        frontier = children
    return np.asarray(edges, np.int64)
