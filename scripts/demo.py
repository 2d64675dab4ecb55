"""`make demo`: Poincaré embeddings of the WordNet mammal closure (ships inside the package) in 5, 10 and 2 dims.

Prints the mean rank and MAP (Nickel & Kiela's reconstruction protocol) of each and writes a picture of the
2-dimensional embedding, with the top-level synsets labelled, to runs/demo/mammals_dim2/disk.png. Each run
is a normal experiment workdir: re-running the demo resumes (and so finishes at once).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from launch import main as launch  # noqa: E402  (scripts/launch.py, the one launcher)

CONFIG = "experiments/poincare_embeddings/configs/default.py:mammals"
RUNS = [
    ("mammals_dim5", ["--config.dim=5"]),
    ("mammals_dim10", ["--config.dim=10"]),
    ("mammals_dim2", ["--config.dim=2", "--config.epochs=100"]),
]


def main() -> int:
    results = []
    for name, flags in RUNS:
        workdir = ROOT / "runs" / "demo" / name
        argv = [
            "--experiment",
            "poincare_embeddings",
            "--config",
            str(ROOT / CONFIG),
            "--workdir",
            str(workdir),
        ]
        code = launch(argv + flags)
        if code:
            return code
        from geomrep.train.metrics import read_metrics

        final = [m for m in read_metrics(workdir / "metrics.jsonl") if "eval/closure_map" in m][-1]
        results.append((name, final["eval/closure_mean_rank"], final["eval/closure_map"], workdir))
    print("\nWordNet mammals closure (1,180 nodes, 6,540 edges), Poincaré ball, directed reconstruction:")
    print(f"{'run':<16}{'mean rank':>11}{'MAP':>9}")
    for name, rank, ap, _ in results:
        print(f"{name:<16}{rank:>11.3f}{ap:>9.4f}")
    print("Nickel & Kiela 2017 (dim 5): mean rank 1.26, MAP 0.927")
    print(f"picture of the 2-d embedding: {results[-1][3] / 'disk.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
