"""Well-separated unit vectors (spherical codes) for placing a node's children around it.

Sarkar's construction puts the children of a node, together with the direction back to its parent, at evenly
spread directions on the unit sphere S^{r−1} of the node's tangent space (Sala, De Sa, Gu & Ré 2018, §3 and
Appendix; reference ``combinatorial/rdim.jl``: "uniform" sphere tiling and a coding-theoretic placement on
hypercube vertices). The separation that matters is the smallest angle between any two of the k directions.

:func:`spread_directions` returns k directions in ℝʳ:

==========================  ================================================================  ==================
case                        construction                                                      smallest angle
==========================  ================================================================  ==================
r = 2                       angles 2πj/k                                                      2π/k (optimal)
k ≤ r + 1                   vertices of the regular simplex                                   arccos(−1/(k−1)) (optimal)
r + 1 < k ≤ 2r              vertices of the cross-polytope (±e_i)                             π/2 (optimal for k ≤ 2r)
k > 2r                      greedy max-min code: ±e_i first, then farthest-point picks from    measured; never below
                            the hypercube vertices (±1/√r)ʳ (binary codewords, r ≤ 12) and    2π/k (falls back to
                            seeded random directions                                          the planar set)
==========================  ================================================================  ==================

The greedy code is coding-theoretic in the reference's sense: among hypercube vertices, Euclidean distance is
2√(Hamming/r), so farthest-point selection picks codewords of large minimum Hamming distance (a lexicode-like
code), and it keeps going with generic directions once the codewords are used up.

:func:`align_first` turns a direction set so that its first vector points at a given direction (the parent's,
when children are placed around a non-root node) with a well-conditioned orthogonal map, which preserves every
angle.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["align_first", "min_angle", "spread_directions"]

# Hypercube vertices join the candidate pool of the greedy code up to this dimension (2^12 = 4096 of them).
_MAX_CUBE_DIM = 12
# Random candidates per wanted direction in the greedy code (plus a floor), drawn with a fixed seed.
_CANDIDATES_PER_POINT = 24
_MIN_CANDIDATES = 4096


def _planar(count: int, dim: int) -> np.ndarray:
    angles = 2.0 * np.pi * np.arange(count) / count
    out = np.zeros((count, dim))
    out[:, 0], out[:, 1] = np.cos(angles), np.sin(angles)
    return out


def _simplex(count: int, dim: int) -> np.ndarray:
    """Vertices of a regular simplex with ``count`` ≤ dim + 1 vertices, centred at 0, in the first count − 1 axes."""
    if count == 1:
        out = np.zeros((1, dim))
        out[0, 0] = 1.0
        return out
    centred = np.eye(count) - 1.0 / count  # vertices e_i − centroid, in the hyperplane Σx = 0 of ℝ^count
    basis = np.linalg.qr(centred[:, : count - 1])[0]  # orthonormal basis of that hyperplane
    points = centred @ basis
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    out = np.zeros((count, dim))
    out[:, : count - 1] = points
    return out


def _cross_polytope(count: int, dim: int) -> np.ndarray:
    out = np.zeros((2 * dim, dim))
    out[0::2][np.arange(dim), np.arange(dim)] = 1.0
    out[1::2][np.arange(dim), np.arange(dim)] = -1.0
    return out[:count]


@functools.lru_cache(maxsize=64)
def _greedy_code(count: int, dim: int) -> np.ndarray:
    """First ``count`` directions of a farthest-point ordering seeded with the cross-polytope."""
    pool = [_cross_polytope(2 * dim, dim)]
    if dim <= _MAX_CUBE_DIM:
        bits = (np.arange(2**dim)[:, None] >> np.arange(dim)[None, :]) & 1
        pool.append((1.0 - 2.0 * bits) / np.sqrt(dim))
    rng = np.random.default_rng(1_000_003 * dim + 17)
    draws = rng.standard_normal((max(_MIN_CANDIDATES, _CANDIDATES_PER_POINT * count), dim))
    pool.append(draws / np.linalg.norm(draws, axis=1, keepdims=True))
    pool = np.concatenate(pool)
    chosen = list(range(2 * dim))
    nearest = np.full(len(pool), np.inf)  # squared distance of each candidate to the chosen set
    for i in chosen:
        nearest = np.minimum(nearest, np.sum((pool - pool[i]) ** 2, axis=1))
    while len(chosen) < count:
        i = int(np.argmax(nearest))
        chosen.append(i)
        nearest = np.minimum(nearest, np.sum((pool - pool[i]) ** 2, axis=1))
    return pool[chosen]


def min_angle(directions: np.ndarray) -> float:
    """Smallest angle (radians) between two of the given unit vectors; π for fewer than two.

    >>> round(min_angle(spread_directions(3, 2)), 6) == round(2 * np.pi / 3, 6)
    True
    """
    directions = np.asarray(directions, dtype=np.float64)
    if len(directions) < 2:
        return float(np.pi)
    diff = directions[:, None, :] - directions[None, :, :]
    chord = np.sqrt(np.sum(diff * diff, axis=-1))
    chord[np.arange(len(directions)), np.arange(len(directions))] = np.inf
    return float(2.0 * np.arcsin(min(1.0, chord.min() / 2.0)))


def _tour(points: np.ndarray) -> np.ndarray:
    """The points reordered along a greedy nearest-neighbour tour from the first one."""
    left = np.ones(len(points), bool)
    left[0] = False
    order = [0]
    for _ in range(len(points) - 1):
        gap = np.sum((points - points[order[-1]]) ** 2, axis=1)
        order.append(int(np.argmin(np.where(left, gap, np.inf))))
        left[order[-1]] = False
    return points[order]


@functools.lru_cache(maxsize=1024)
def _spread_cached(count: int, dim: int) -> np.ndarray:
    if dim == 2:
        return _planar(count, dim)  # already a tour: consecutive angles are neighbours
    if count <= dim + 1:
        return _simplex(count, dim)  # all pairs equidistant
    if count <= 2 * dim:
        code = _cross_polytope(count, dim)
    else:
        code = _greedy_code(count, dim)
        if min_angle(code) < 2.0 * np.pi / count:  # never worse than the planar set, which fits in any ℝʳ
            return _planar(count, dim)
    return _tour(code)


def spread_directions(count: int, dim: int) -> np.ndarray:
    """``count`` unit vectors in ℝ^dim, pairwise well separated (table in the module docstring).

    Rows follow a nearest-neighbour tour from row 0 (for r = 2, increasing angle), so consecutive rows are near
    each other: children in consecutive slots get nearby directions, which the graph-aware child order relies on.
    Deterministic (the greedy code uses a fixed seed) and cached; the returned array is read-only.

    Args:
      count: k ≥ 1 directions.
      dim: r ≥ 2.

    Returns:
      (k, r) float64 unit vectors.

    >>> spread_directions(4, 2).round(12).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    >>> bool(round(min_angle(spread_directions(4, 3)), 6) == round(np.arccos(-1 / 3), 6))  # tetrahedron
    True
    """
    count, dim = int(count), int(dim)
    if count < 1:
        raise ValueError(f"count must be >= 1; got {count}")
    if dim < 2:
        raise ValueError(f"dim must be >= 2; got {dim}")
    out = _spread_cached(count, dim)
    out.flags.writeable = False
    return out


def align_first(directions: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Turn each direction set by an orthogonal map so that its first vector becomes ``target``.

    With d₀ the first vector and t the target, both unit:

    - if d₀·t < 0: the Householder reflection H = I − 2ŵŵᵀ, ŵ = (d₀ − t)/‖d₀ − t‖, which maps d₀ to t;
    - else: −(I − 2v̂v̂ᵀ), v̂ = (d₀ + t)/‖d₀ + t‖ (the reflection sends d₀ to −t, the sign flip back to t).

    Either way the normalising vector has length ≥ √2, so the map is well conditioned: a reflection through
    d₀ − t alone would be ill-defined when d₀ ≈ t (its direction is then rounding noise, and it would throw d₀
    anywhere). Both maps are orthogonal, so every angle of the set is kept.

    Args:
      directions: (..., k, r) unit vectors (a batch of sets, or one set).
      target: (..., r) unit vectors, one per set.

    Returns:
      (..., k, r) the turned sets; ``out[..., 0, :] == target`` to rounding.

    >>> d = spread_directions(3, 2)
    >>> (align_first(d, np.array([0.0, 1.0]))[0].round(12) + 0.0).tolist()
    [0.0, 1.0]
    >>> (align_first(d, np.array([1.0, 1e-17]))[0].round(12) + 0.0).tolist()  # nearly d[0] already
    [1.0, 0.0]
    """
    directions = np.asarray(directions, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    first = np.broadcast_to(
        directions[..., 0, :], np.broadcast_shapes(directions[..., 0, :].shape, target.shape)
    )
    same_side = np.sum(first * target, axis=-1, keepdims=True) >= 0
    w = np.where(same_side, first + target, first - target)  # ‖w‖ ≥ √2
    w_hat = w / np.linalg.norm(w, axis=-1, keepdims=True)
    proj = np.einsum("...kr,...r->...k", directions, w_hat)
    reflected = directions - 2.0 * proj[..., None] * w_hat[..., None, :]
    return np.where(same_side[..., None], -reflected, reflected)
