"""Evaluations of the hyperbolic diffusion experiment that geomrep.embed.metrics does not provide.

- :func:`best_scale_distortion`: Sala et al.'s average distortion after the best global scale s (embedded
  distances divided by s), found exactly (a weighted median), then evaluated by ``geomrep.embed.metrics``.
- :func:`nearest_medoid_accuracy` with :func:`stratified_splits`: nearest-centroid classification under a
  distance matrix (the centroid of a class in a metric space is its medoid).
- :func:`triplet_accuracy`, :func:`clade_recovery`: how well a distance matrix recovers a known tree over
  clusters (the synthetic hierarchy of :mod:`experiments.hyperbolic_diffusion.synthetic`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import scipy.cluster.hierarchy
import scipy.spatial.distance
import scipy.stats

from geomrep.embed.metrics import Distortion, distortion

_BISECTION_STEPS = 40  # log(1/s) to 2^-40 of its range: s to ~1e-11 relative, far below the metric's flatness


@functools.partial(jax.jit, static_argnames=("steps",))
def _weighted_median_scale(d, g, *, steps):
    """argmin over s > 0 of Σ_ij ω_ij |d_ij/(s g_ij) − 1|, ω_ij = 1/(n |V_i|) on the valid pairs V_i.

    With u = 1/s and r = d/g this is Σ ω |u r − 1|, convex and piecewise linear in u, with slope
    Σ_{ur>1} ω r − Σ_{ur<1} ω r: non-decreasing, so its zero (a weighted median of 1/r, weights ω r) is found by
    bisection on log u between the extreme 1/r.
    """
    n = d.shape[0]
    valid = (
        ~jnp.eye(n, dtype=bool) & jnp.isfinite(d) & (d != 0) & jnp.isfinite(g) & (g > 0)
    )  # the pairs geomrep.embed.metrics.distortion counts
    per_row = jnp.sum(valid, axis=1, keepdims=True)
    weight = jnp.where(valid, 1.0 / (n * jnp.maximum(per_row, 1)), 0.0)
    r = jnp.where(valid, d / jnp.where(valid, g, 1.0), 1.0)
    log_r = jnp.log(r)
    lo = -jnp.max(jnp.where(valid, log_r, -jnp.inf))  # log u at the smallest 1/r
    hi = -jnp.min(jnp.where(valid, log_r, jnp.inf))
    wr = weight * r

    def slope(log_u):
        above = log_u + log_r > 0
        return jnp.sum(jnp.where(above, wr, 0.0)) - jnp.sum(jnp.where(above | (log_u + log_r == 0), 0.0, wr))

    def step(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        rising = slope(mid) >= 0  # the minimiser is at or below mid
        return jnp.where(rising, lo, mid), jnp.where(rising, mid, hi)

    lo, hi = jax.lax.fori_loop(0, steps, step, (lo, hi))
    return jnp.exp(-0.5 * (lo + hi))


def best_scale_distortion(distances, graph_dist) -> tuple[float, Distortion]:
    """(s*, distortion at s*): the global scale minimising the average distortion, and the metrics there.

    d_avg(s) = (1/n) Σ_i (1/|V_i|) Σ_{j∈V_i} |d_ij/s − g_ij|/g_ij over the valid pairs of
    ``geomrep.embed.metrics.distortion``; s* to ~1e-11 relative (40 bisection steps on log(1/s)).
    """
    d = jnp.asarray(distances, jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    g = jnp.asarray(graph_dist, d.dtype)
    scale = float(_weighted_median_scale(d, g, steps=_BISECTION_STEPS))
    return scale, distortion(np.asarray(distances), graph_dist, scale=scale)


# --- classification -----------------------------------------------------------------------------------------------


def stratified_splits(labels, *, train_fraction: float, repeats: int, seed: int):
    """``repeats`` random (train, test) index splits, each class split in the same proportion."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    splits = []
    for _ in range(repeats):
        train, test = [], []
        for c in classes:
            members = rng.permutation(np.flatnonzero(labels == c))
            k = min(len(members) - 1, max(1, int(round(train_fraction * len(members)))))
            train.append(members[:k])
            test.append(members[k:])
        splits.append((np.sort(np.concatenate(train)), np.sort(np.concatenate(test))))
    return splits


def nearest_medoid_accuracy(distances, labels, train, test) -> float:
    """Accuracy of the nearest-centroid rule in a metric space: each class is represented by its medoid (the
    training point with the least summed distance to the class's training points) and a test point takes the
    class of the nearest medoid."""
    d = np.asarray(distances)
    labels = np.asarray(labels)
    classes = np.unique(labels[train])
    medoids = []
    for c in classes:
        members = train[labels[train] == c]
        medoids.append(members[np.argmin(d[np.ix_(members, members)].sum(axis=1))])
    predicted = classes[np.argmin(d[np.ix_(test, np.array(medoids))], axis=1)]
    return float(np.mean(predicted == labels[test]))


def nearest_centroid_accuracy(points, labels, train, test, *, metric: str = "euclidean") -> float:
    """The usual nearest-centroid rule on raw features (class means), a baseline for the same splits."""
    x = np.asarray(points, np.float64)
    labels = np.asarray(labels)
    classes = np.unique(labels[train])
    centroids = np.stack([x[train][labels[train] == c].mean(axis=0) for c in classes])
    d = scipy.spatial.distance.cdist(x[test], centroids, metric=metric)
    return float(np.mean(classes[np.argmin(d, axis=1)] == labels[test]))


# --- hierarchy recovery -------------------------------------------------------------------------------------------


def _leaf_lca_depth(parent: np.ndarray, leaves: np.ndarray) -> np.ndarray:
    """(L, L) depth of the lowest common ancestor of every pair of leaves of the tree ``parent`` (root: -1)."""
    paths = []
    for leaf in leaves:
        path = [int(leaf)]
        while parent[path[-1]] >= 0:
            path.append(int(parent[path[-1]]))
        paths.append(path[::-1])  # root first
    depth = np.zeros((len(leaves), len(leaves)), np.int64)
    for a, pa in enumerate(paths):
        for b, pb in enumerate(paths):
            k = 0
            while k < min(len(pa), len(pb)) and pa[k] == pb[k]:
                k += 1
            depth[a, b] = k - 1
    return depth


def triplet_accuracy(distances, cluster, parent, leaves, *, samples: int = 20000, seed: int = 0) -> float:
    """Fraction of sampled point triplets (a, b, c) whose clusters satisfy lca(a, b) deeper than lca(a, c) in
    the true tree and d(a, b) < d(a, c): 1 for a distance that respects the hierarchy, about 1/2 for noise."""
    d = np.asarray(distances)
    lca = _leaf_lca_depth(np.asarray(parent), np.asarray(leaves))
    rng = np.random.default_rng(seed)
    n = len(cluster)
    a, b, c = rng.integers(0, n, (3, samples * 4))
    ca, cb, cc = cluster[a], cluster[b], cluster[c]
    informative = (lca[ca, cb] > lca[ca, cc]) & (a != b) & (a != c)
    a, b, c = a[informative][:samples], b[informative][:samples], c[informative][:samples]
    return float(np.mean(d[a, b] < d[a, c]))


def _clades(merges: np.ndarray, num_leaves: int) -> set[frozenset[int]]:
    members = {i: frozenset([i]) for i in range(num_leaves)}
    clades = set()
    for k, (x, y) in enumerate(merges[:, :2].astype(int)):
        members[num_leaves + k] = members[x] | members[y]
        clades.add(members[num_leaves + k])
    return clades


def true_clades(parent: np.ndarray, leaves: np.ndarray) -> set[frozenset[int]]:
    """The clusters of leaves (by leaf position) under every internal node with ≥ 2 leaves below it."""
    parent = np.asarray(parent)
    below: dict[int, set[int]] = {}
    for position, leaf in enumerate(leaves):
        node = int(leaf)
        while node >= 0:
            below.setdefault(node, set()).add(position)
            node = int(parent[node])
    return {frozenset(s) for s in below.values() if len(s) >= 2}


def clade_recovery(distances, cluster, parent, leaves) -> tuple[float, np.ndarray]:
    """(fraction of the true tree's clades found, cluster-level distances): average-linkage clustering of the
    clusters by their mean pairwise distance, its clades compared with the true tree's (1.0 = every true
    clade appears; a binary dendrogram of a non-binary tree also has extra clades, which are not penalised)."""
    d = np.asarray(distances)
    num_clusters = int(cluster.max()) + 1
    means = np.zeros((num_clusters, num_clusters))
    for a in range(num_clusters):
        ia = np.flatnonzero(cluster == a)
        for b in range(num_clusters):
            ib = np.flatnonzero(cluster == b)
            block = d[np.ix_(ia, ib)]
            means[a, b] = block.sum() / (block.size - (len(ia) if a == b else 0))
    off = means.copy()
    np.fill_diagonal(off, 0.0)
    merges = scipy.cluster.hierarchy.linkage(scipy.spatial.distance.squareform(off, checks=False), "average")
    truth = true_clades(parent, leaves)
    found = _clades(merges, num_clusters)
    return len(truth & found) / len(truth), means


def spearman_upper(a, b) -> float:
    """Spearman rank correlation of two symmetric matrices over the pairs i < j with finite entries."""
    a, b = np.asarray(a), np.asarray(b)
    iu = np.triu_indices(a.shape[0], 1)
    x, y = a[iu], b[iu]
    keep = np.isfinite(x) & np.isfinite(y)
    return float(scipy.stats.spearmanr(x[keep], y[keep]).statistic)
