"""Print the README tables from the workdirs that ``reproduce.sh`` wrote.

Usage: python experiments/sala_embeddings/collect.py [RUNS_DIR]   (default runs/sala)

One markdown row per run: graph, setting, average and worst-case distortion, graph MAP (and, for the combinatorial
construction, the BFS tree's MAP and worst-case distortion), the scale, and the run's wall time (launcher process,
JAX start-up included, as ``wall_seconds`` in metrics.jsonl).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _final(workdir: Path) -> dict:
    lines = [json.loads(s) for s in (workdir / "metrics.jsonl").read_text().splitlines() if s.strip()]
    finals = [m for m in lines if "wall_seconds" in m]
    return finals[-1] if finals else {}


def _fmt(value, digits=4):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def main() -> None:
    runs = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/sala")
    hmds_pivot(runs)
    for method in ("hmds", "combinatorial", "sgd"):
        folder = runs / method
        if not folder.is_dir():
            continue
        print(f"\n### {method}\n")
        tree = method == "combinatorial"
        head = (
            "| run | d_avg | d_wc | graph MAP |"
            + (" tree MAP | tree d_wc |" if tree else "")
            + " scale | wall s |"
        )
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for workdir in sorted(folder.iterdir()):
            if not (workdir / "metrics.jsonl").is_file():
                continue
            m = _final(workdir)
            if not m:
                print(f"| {workdir.name} | (unfinished) |")
                continue
            cells = [
                workdir.name,
                _fmt(m.get("eval/distortion_avg")),
                _fmt(m.get("eval/distortion_worst")),
                _fmt(m.get("eval/graph_map")),
            ]
            if tree:
                cells += [_fmt(m.get("eval_tree/graph_map")), _fmt(m.get("eval_tree/distortion_worst"))]
            cells += [_fmt(m.get("scale")), _fmt(m.get("wall_seconds"), 3)]
            print("| " + " | ".join(cells) + " |")


def hmds_pivot(runs: Path) -> None:
    """h-MDS as graph × t rows and rank columns, cells ``d_avg / MAP`` (from workdirs named GRAPH_tT_rK)."""
    cells: dict = {}
    ranks = set()
    for workdir in sorted((runs / "hmds").glob("*_t*_r*")):
        m = _final(workdir) if (workdir / "metrics.jsonl").is_file() else {}
        graph, t, rank = workdir.name.rsplit("_", 2)
        ranks.add(int(rank[1:]))
        value = f"{m['eval/distortion_avg']:.3f} / {m['eval/graph_map']:.3f}" if m else "(unfinished)"
        cells.setdefault((graph, t[1:]), {})[int(rank[1:])] = value
    if not cells:
        return
    ranks = sorted(ranks)
    print("\n### h-MDS, d_avg / graph MAP by rank\n")
    print("| graph | t | " + " | ".join(f"rank {k}" for k in ranks) + " |")
    print("|---|---|" + "---|" * len(ranks))
    for (graph, t), row in sorted(cells.items()):
        print(f"| {graph} | {t} | " + " | ".join(row.get(k, "–") for k in ranks) + " |")


if __name__ == "__main__":
    main()
