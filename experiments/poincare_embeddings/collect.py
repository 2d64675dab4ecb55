"""Print the runs of ``scripts/reproduce_nk_tables.sh`` as Markdown tables beside Nickel & Kiela's numbers.

    python experiments/poincare_embeddings/collect.py RUNS_DIR

Reads the last line of ``RUNS_DIR/<task>/<model>_d<dim>/metrics.jsonl`` for every run that finished (it holds
``train_and_eval_seconds``) and lists runs still in progress by name. Paper numbers: NK17 Table 1 and NK18 Table 2
as read in ``../shared/notes/tables.md`` (NK18 prints MAP ×100; here as fractions).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# NK17 Table 1 (nouns, directed closure): (mean rank, MAP) per model and dim.
NK17_RECON = {
    "euclidean": {5: (3542.3, 0.024), 10: (2286.9, 0.059), 20: (1685.9, 0.087), 50: (1281.7, 0.140),
                  100: (1187.3, 0.162), 200: (1157.3, 0.168)},
    "poincare": {5: (4.9, 0.823), 10: (4.02, 0.851), 20: (3.84, 0.855), 50: (3.98, 0.86), 100: (3.9, 0.857),
                 200: (3.83, 0.87)},
}  # fmt: skip
NK17_LP = {
    "euclidean": {5: (3311.1, 0.024), 10: (2199.5, 0.059), 20: (952.3, 0.176), 50: (351.4, 0.286),
                  100: (190.7, 0.428), 200: (81.5, 0.490)},
    "poincare": {5: (5.7, 0.825), 10: (4.3, 0.852), 20: (4.9, 0.861), 50: (4.6, 0.863), 100: (4.6, 0.856),
                 200: (4.6, 0.855)},
}  # fmt: skip
# NK18 Table 2 (nouns, undirected closure): (mean rank, MAP).
NK18 = {
    "poincare_sym": {2: (90.7, 0.118), 5: (4.9, 0.828), 10: (4.02, 0.865)},
    "lorentz_sym": {2: (22.8, 0.305), 5: (3.18, 0.923), 10: (2.95, 0.928)},
}

_RUN = re.compile(r"^(?P<model>[a-z_]+)_d(?P<dim>\d+)$")


def final_line(path: Path) -> dict | None:
    """The last record of a metrics.jsonl if the run finished (it holds ``train_and_eval_seconds``), else None."""
    last = None
    for line in path.read_text().splitlines():
        if line.strip():
            last = json.loads(line)
    return last if last is not None and "train_and_eval_seconds" in last else None


def _paper(table, model, dim):
    rank_map = table.get(model, {}).get(dim)
    return f"{rank_map[1]:.3f} / {rank_map[0]:g}" if rank_map else "–"


def _ours(record, prefix, suffix):
    return f"{record[prefix + 'map' + suffix]:.3f} / {record[prefix + 'mean_rank' + suffix]:.2f}"


def collect(runs: Path) -> str:
    """Markdown tables (MAP / mean rank, ours beside the paper's) for every finished run under ``runs``."""
    out, unfinished = [], []
    spec = {
        "recon": ("Reconstruction, NK17 protocol (directed closure)", "eval/closure_", "", NK17_RECON),
        "lp": ("Link prediction, NK17 protocol (filtered, test split)", "eval/lp_", "", NK17_LP),
        "lorentz": (
            "Reconstruction, NK18 protocol (undirected closure)",
            "eval/closure_",
            "_undirected",
            NK18,
        ),
    }
    for task, (title, prefix, suffix, paper) in spec.items():
        rows = []
        for metrics in sorted((runs / task).glob("*/metrics.jsonl")):
            match = _RUN.match(metrics.parent.name)
            if not match:
                continue
            model, dim = match["model"], int(match["dim"])
            record = final_line(metrics)
            if record is None:
                unfinished.append(str(metrics.parent))
                continue
            rows.append((model, dim, record))
        if rows:
            out += [f"### {title}", "", "| model | dim | ours MAP / MR | paper MAP / MR | epochs | wall |",
                    "|---|---|---|---|---|---|"]  # fmt: skip
            for model, dim, record in sorted(rows, key=lambda row: row[:2]):
                out.append(
                    f"| {model} | {dim} | {_ours(record, prefix, suffix)} | {_paper(paper, model, dim)} | "
                    f"{record.get('epoch', '?')} | {record['train_and_eval_seconds']:.0f} s |"
                )
            out.append("")
    if unfinished:
        out.append("Not finished: " + ", ".join(unfinished))
    return "\n".join(out) if out else f"no finished runs under {runs}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(collect(Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
