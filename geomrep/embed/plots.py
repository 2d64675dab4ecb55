"""Pictures of embeddings in the Poincaré disk (matplotlib is imported lazily: it costs ~0.5 s)."""

from __future__ import annotations

import numpy as np


def disk_coordinates(points: np.ndarray) -> np.ndarray:
    """Map (n, D) Poincaré-ball points to the unit disk, keeping every point's norm (hence its distance to 0).

    For D = 2 the points are returned as they are. Otherwise each point is projected on the top two principal
    directions (uncentred, so the origin stays at the origin) and rescaled to its original norm:
    ``y = ‖x‖ · Px / ‖Px‖``. Depth in the hierarchy (distance from the origin) is exact; angles are approximate.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape[1] == 2:
        return points
    _, _, vt = np.linalg.svd(points, full_matrices=False)
    projected = points @ vt[:2].T
    pnorm = np.linalg.norm(projected, axis=1, keepdims=True)
    norm = np.linalg.norm(points, axis=1, keepdims=True)
    return np.where(pnorm > 0, projected * norm / np.maximum(pnorm, 1e-300), 0.0)


def plot_disk(points, names, path, *, labels=(), title: str = "", edges=None) -> None:
    """Draw ball points in the unit disk and write a PNG.

    Args:
      points: (n, D) Poincaré-ball coordinates (projected with :func:`disk_coordinates` when D > 2).
      names: n node names.
      path: output file (PNG).
      labels: node ids to annotate.
      title: figure title.
      edges: optional (m, 2) node ids drawn as thin lines (e.g. parent links).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = disk_coordinates(points)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=110)
    ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, color="black", lw=1))
    if edges is not None and len(edges):
        segs = xy[np.asarray(edges)]
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(segs, colors="0.8", linewidths=0.3, zorder=0))
    radius = np.linalg.norm(xy, axis=1)
    ax.scatter(xy[:, 0], xy[:, 1], s=4, c=radius, cmap="viridis", vmin=0, vmax=1, zorder=1)
    for i in labels:
        ax.annotate(
            names[i].split(".")[0],
            xy[i],
            fontsize=8,
            xytext=(3, 3),
            textcoords="offset points",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0},
        )
        ax.plot(*xy[i], "o", color="crimson", ms=4, zorder=2)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def top_level_nodes(edges: np.ndarray, num_nodes: int, count: int = 10) -> np.ndarray:
    """The ``count`` nodes with the most descendants in a child→ancestor closure (the highest-level synsets)."""
    descendants = np.bincount(np.asarray(edges)[:, 1], minlength=num_nodes)
    return np.argsort(-descendants, kind="stable")[:count]


def parent_links(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    """For a child→ancestor closure, the link from each node to its direct parent.

    The direct parent of ``u`` is its ancestor with the most ancestors itself (the deepest one); returns (k, 2).
    """
    edges = np.asarray(edges)
    depth = np.bincount(edges[:, 0], minlength=num_nodes)  # number of ancestors
    order = np.lexsort((-depth[edges[:, 1]], edges[:, 0]))
    first = np.ones(len(order), bool)
    first[1:] = edges[order[1:], 0] != edges[order[:-1], 0]
    return edges[order[first]]
