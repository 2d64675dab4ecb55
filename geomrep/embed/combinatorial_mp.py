"""Arbitrary-precision (mpmath) coordinates of a combinatorial embedding: the reference to test against.

The reference implementation (HazyResearch/hyperbolics ``comb.jl``) stores Poincaré coordinates as Julia
``BigFloat`` and computes distances from them. This module does the same with mpmath, independently of the
float64 factor tables of :mod:`geomrep.embed.combinatorial`: it uses only the tree, τ and each node's direction
in its parent's frame, composes the isometries as (dim + 1) × (dim + 1) Lorentz matrices

    M_root = I,   M_v = M_parent(v) · B(u_v, τ·w_v),
    B(u, t) = [[cosh t, sinh t·uᵀ], [sinh t·u, I + (cosh t − 1)·u uᵀ]]        (a pure translation by t along u)

(u_v is the float64 direction renormalised at the working precision: a boost needs ‖u‖ = 1 exactly)
takes each node's hyperboloid point x_v = M_v e₀ to the ball, y_v = x̃_v/(1 + x_{v,0}), and measures

    d_H(a, b) = arcosh(1 + 2‖y_a − y_b‖²/((1 − ‖y_a‖²)(1 − ‖y_b‖²)))

from the coordinates, at ``precision_bits`` bits (default ``emb.precision_bits``, chosen from depth and τ by
:func:`geomrep.embed.combinatorial.required_precision_bits`). Pure Python over mpmath: fine for the small
trees of the tests, and the per-pair baseline of ``scripts/benchmarks/combinatorial_speed.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import mpmath
import numpy as np

__all__ = ["MPPoints", "mp_dist_rows", "mp_pair_distances", "mp_points"]


class MPPoints(NamedTuple):
    """Poincaré coordinates of an embedding in arbitrary precision."""

    points: np.ndarray  # (n, dim) object array of mpmath.mpf
    one_minus_norm2: np.ndarray  # (n,) object array: 1 − ‖y‖², from the coordinates
    precision_bits: int


def _boost(u, cosh_t, sinh_t):
    r = len(u)
    out = [[mpmath.mpf(0)] * (r + 1) for _ in range(r + 1)]
    out[0][0] = cosh_t
    for i in range(r):
        out[0][i + 1] = out[i + 1][0] = sinh_t * u[i]
        for j in range(r):
            out[i + 1][j + 1] = (cosh_t - 1) * u[i] * u[j] + (1 if i == j else 0)
    return out


def _matmul(a, b):
    size = len(a)
    return [[mpmath.fsum(a[i][k] * b[k][j] for k in range(size)) for j in range(size)] for i in range(size)]


def mp_points(emb, precision_bits: int | None = None, nodes=None) -> MPPoints:
    """Poincaré coordinates of every graph node of ``emb`` (a :class:`~geomrep.embed.combinatorial.CombinatorialEmbedding`).

    Args:
      emb: the embedding.
      precision_bits: working precision (default ``emb.precision_bits``); fewer than the embedding needs raises
        ValueError naming the bits needed.
      nodes: compute only these nodes (and their ancestors, which they need); the other rows are None.

    Returns:
      :class:`MPPoints`.
    """
    from geomrep.embed.combinatorial import required_precision_bits

    tree = emb.tree
    needed = required_precision_bits(emb.scale, tree.weighted_height, tree.height, emb.eps)
    bits = emb.precision_bits if precision_bits is None else int(precision_bits)
    if bits < needed:
        raise ValueError(
            f"precision_bits={bits} is too low for this embedding: τ = {emb.scale:.6g} over a tree of weighted "
            f"height {tree.weighted_height:g} needs at least {needed} bits"
        )
    n, dim = emb.num_nodes, emb.dim
    wanted = np.ones(tree.num_nodes, bool)
    if nodes is not None:  # only these nodes and their ancestors
        nodes = np.asarray(nodes, np.int64).reshape(-1)
        wanted[:] = False
        ancestors = tree.ancestors[nodes]
        wanted[ancestors[ancestors >= 0]] = True
    points = np.empty((n, dim), dtype=object)
    one_minus = np.empty(n, dtype=object)
    with mpmath.workprec(bits):
        tau = mpmath.mpf(emb.scale)
        matrices = {
            tree.root: [[mpmath.mpf(1 if i == j else 0) for j in range(dim + 1)] for i in range(dim + 1)]
        }
        hyperbolic = {}  # (cosh t, sinh t) per edge length
        for v in tree.order[1:].tolist():
            if not wanted[v]:
                continue
            length = float(tree.length[v])
            if length not in hyperbolic:
                t = tau * mpmath.mpf(length)
                hyperbolic[length] = (mpmath.cosh(t), mpmath.sinh(t))
            u = [mpmath.mpf(float(c)) for c in emb.directions[v]]
            norm = mpmath.sqrt(mpmath.fsum(c * c for c in u))  # float64 directions are unit only to rounding
            u = [c / norm for c in u]
            matrices[v] = _matmul(matrices[int(tree.parent[v])], _boost(u, *hyperbolic[length]))
        for v in np.flatnonzero(wanted[:n]).tolist():
            m = matrices[v]
            denominator = 1 + m[0][0]
            row = [m[i + 1][0] / denominator for i in range(dim)]
            points[v] = row
            one_minus[v] = 1 - mpmath.fsum(c * c for c in row)
    return MPPoints(points=points, one_minus_norm2=one_minus, precision_bits=bits)


def _distance(points: MPPoints, a: int, b: int):
    if a == b:
        return mpmath.mpf(0)
    ya, yb = points.points[a], points.points[b]
    gap = mpmath.fsum((x - y) ** 2 for x, y in zip(ya, yb, strict=True))
    return mpmath.acosh(1 + 2 * gap / (points.one_minus_norm2[a] * points.one_minus_norm2[b]))


def mp_pair_distances(points: MPPoints, u, v) -> np.ndarray:
    """d_H(u_i, v_i) computed from the coordinates at ``points.precision_bits``, returned as float64 (P,)."""
    u, v = np.asarray(u, np.int64).reshape(-1), np.asarray(v, np.int64).reshape(-1)
    with mpmath.workprec(points.precision_bits):
        return np.array([float(_distance(points, a, b)) for a, b in zip(u.tolist(), v.tolist(), strict=True)])


def mp_dist_rows(points: MPPoints, rows) -> np.ndarray:
    """(len(rows), n) float64 rows of d_H from the coordinates, one mpmath evaluation per pair."""
    rows = np.asarray(rows, np.int64).reshape(-1)
    n = len(points.points)
    out = np.empty((len(rows), n))
    with mpmath.workprec(points.precision_bits):
        for i, a in enumerate(rows.tolist()):
            out[i] = [float(_distance(points, a, b)) for b in range(n)]
    return out
