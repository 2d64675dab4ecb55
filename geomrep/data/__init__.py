"""Data loaders (layer L2): edge lists and transitive closures, plus the data sets shipped with geomrep.

Public names:
    load_edges(path, ...)   any edge-list file (CSV/TSV/whitespace, optional header and weights) -> EdgeList
    load_closure(path=None) a directed transitive closure; default: the shipped WordNet mammal closure
    EdgeList                edges (m, 2) int32, weights, names, num_nodes, id_of(name), to_csr()
    EdgeFileError           ValueError subclass for malformed files; the message names file and line
    dataset_path(name)      path of a shipped data set ("mammals")
    DATASETS                the shipped data sets: name -> (file name, description)
    transitive_reduction    the basic edges of a DAG (no other path u -> ... -> v)
    link_prediction_split   seeded held-out validation/test edges among a closure's non-basic edges -> LinkSplit
    split_for_workdir       read back and check a workdir's split.npz, or make and save it (SplitFileError)
    closure_report          isolated nodes and cycles of a closure (ClosureReport.messages: warning lines)

Example:
    >>> from geomrep.data import load_closure
    >>> closure = load_closure()
    >>> closure.num_nodes, closure.num_edges, closure.names[closure.id_of("mammal.n.01")]
    (1180, 6540, 'mammal.n.01')
"""

from geomrep.data.closure_checks import ClosureReport, closure_report
from geomrep.data.edges import EdgeFileError, EdgeList, load_closure, load_edges
from geomrep.data.registry import DATASETS, dataset_path
from geomrep.data.splits import (
    LinkSplit,
    SplitFileError,
    link_prediction_split,
    load_split,
    save_split,
    split_for_workdir,
    transitive_reduction,
)

__all__ = [
    "ClosureReport",
    "DATASETS",
    "EdgeFileError",
    "EdgeList",
    "LinkSplit",
    "SplitFileError",
    "closure_report",
    "dataset_path",
    "link_prediction_split",
    "load_closure",
    "load_edges",
    "load_split",
    "save_split",
    "split_for_workdir",
    "transitive_reduction",
]
