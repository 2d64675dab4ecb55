"""geomrep.data.closure_checks: isolated nodes and cycles of a closure, and the warning lines naming them."""

import numpy as np
import pytest

from geomrep.data import load_closure
from geomrep.data.closure_checks import closure_report


def test_a_clean_closure_has_nothing_to_report():
    closure = load_closure()  # the shipped mammal closure: a partial order, every node has an edge
    report = closure_report(closure.edges, closure.num_nodes)
    assert len(report.isolated) == 0 and report.cycles == ()
    assert report.messages("mammals") == []


def test_isolated_nodes_and_cycles_are_found_and_named():
    # 0→1→2→0 is a 3-cycle, 3↔4 a 2-cycle, 5→6 fine, 7 and 8 isolated, 9 only has a self-loop (ignored)
    edges = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 3], [5, 6], [9, 9]])
    report = closure_report(edges, 10)
    assert report.isolated.tolist() == [7, 8, 9]
    assert [c.tolist() for c in report.cycles] == [[0, 1, 2], [3, 4]]  # largest first
    names = [f"n{i}" for i in range(10)]
    isolated, cycles = report.messages("data/x.csv", names)
    assert isolated.startswith("data/x.csv: 3 node(s) have no edge (n7, n8, n9)")
    assert "excluded from evaluation" in isolated
    assert cycles.startswith("data/x.csv: 2 cycle(s) over 5 nodes (the largest: n0, n1, n2)")


def test_long_lists_are_shortened_and_bad_ids_refused():
    report = closure_report(np.array([[0, 1]]), 20)
    (line,) = report.messages("f")
    assert "18 node(s)" in line and "2, 3, 4, 5, 6, ..." in line
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        closure_report(np.array([[0, 3]]), 3)
