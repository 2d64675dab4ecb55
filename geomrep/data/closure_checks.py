"""Structural checks of a transitive closure before training on it: isolated nodes and cycles.

A WordNet-style closure is the transitive closure of a partial order ("u is a kind of v"): every node has at
least one edge and there are no cycles. Files built by hand or by other tools break both. Neither stops
training (NK17's loss is defined for any edge list), but both change what the evaluation means, so the
experiment reports them:

- **isolated nodes** (no edge in either direction) are embedded like every other row but have no neighbours, so
  they are never ranked as sources (they still appear among every source's candidates, as in the reference);
- **cycles** (strongly connected components with more than one node: u → … → v → … → u) mean the file is not a
  partial order; the closure MAP is still computed, but the link-prediction split (a transitive reduction)
  needs a DAG and refuses them.

Public names:
    closure_report(edges, num_nodes) -> ClosureReport(isolated, cycles)
    ClosureReport.messages(where)   one warning line per problem, naming the file and example nodes

Example:
    >>> import numpy as np
    >>> report = closure_report(np.array([[0, 1], [1, 2], [2, 1]]), 4)
    >>> report.isolated.tolist(), [c.tolist() for c in report.cycles]
    ([3], [[1, 2]])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph

__all__ = ["ClosureReport", "closure_report"]

_EXAMPLES = 5


class ClosureReport(NamedTuple):
    """``isolated``: sorted ids of nodes without any edge; ``cycles``: the node ids (sorted) of every strongly
    connected component with ≥ 2 nodes, largest first."""

    isolated: np.ndarray
    cycles: tuple[np.ndarray, ...]

    def messages(self, where: str, names=None) -> list[str]:
        """Warning lines for the problems found (empty when there are none); ``names[i]`` labels node i."""

        def label(ids):
            shown = [str(names[i]) if names is not None else str(int(i)) for i in ids[:_EXAMPLES]]
            return ", ".join(shown) + (", ..." if len(ids) > _EXAMPLES else "")

        out = []
        if len(self.isolated):
            out.append(
                f"{where}: {len(self.isolated)} node(s) have no edge ({label(self.isolated)}): they are embedded "
                "but excluded from evaluation (no neighbours to rank)"
            )
        if self.cycles:
            sizes = sum(len(c) for c in self.cycles)
            out.append(
                f"{where}: {len(self.cycles)} cycle(s) over {sizes} nodes (the largest: {label(self.cycles[0])}): "
                "not a partial order; training and the closure MAP proceed, link prediction needs a DAG"
            )
        return out


def closure_report(edges, num_nodes: int) -> ClosureReport:
    """Isolated nodes and cycles of a directed edge list over ``num_nodes`` nodes (O(n + m), SciPy's Tarjan SCC).

    Self-loops are ignored (a loader drops them); ids must lie in [0, num_nodes).
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(f"edge ids must lie in [0, {num_nodes}); got range [{edges.min()}, {edges.max()}]")
    edges = edges[edges[:, 0] != edges[:, 1]]
    degree = np.bincount(edges.reshape(-1), minlength=num_nodes)
    isolated = np.flatnonzero(degree == 0)
    graph = scipy.sparse.csr_matrix(
        (np.ones(len(edges), np.int8), (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes)
    )
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes > 1)
    big = big[np.argsort(-sizes[big], kind="stable")]
    cycles = tuple(np.flatnonzero(labels == c) for c in big)
    return ClosureReport(isolated, cycles)
