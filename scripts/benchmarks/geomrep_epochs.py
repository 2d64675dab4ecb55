"""geomrep's side of the epoch-throughput benchmark: time whole training epochs on a closure, no evaluation.

    python scripts/benchmarks/geomrep_epochs.py EDGES [--dtype float32] [--epochs 3] [--batch 512]

The settings of the ``poincare_embeddings`` experiment (Poincaré ball c = 0.1, dim 10, row-sparse RAdam lr 0.25,
50 negatives): one untimed epoch first (JIT compilation, burn-in), then ``--epochs`` timed epochs, each ended by
``block_until_ready``. Prints one JSON object per line: a config line, then ``{"epoch", "epoch_s", "loss"}``.
Called by ``poincare_vs_geoopt.py --data ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("edges")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=512)
    args = p.parse_args(argv)

    import jax
    import jax.numpy as jnp

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    from geomrep.data import load_edges
    from geomrep.embed import poincare as pe
    from geomrep.manifolds import PoincareBall
    from geomrep.optim import sparse_radam

    dtype = jnp.dtype(args.dtype)
    data = load_edges(args.edges, directed=True)
    manifold = PoincareBall(0.1)
    graph = pe.closure_graph(data.edges, data.num_nodes, dtype=dtype)
    tx = sparse_radam(0.25, manifold)
    epoch = pe.make_epoch_fn(manifold, tx, graph, batch_size=args.batch, num_negatives=50)
    run = jax.jit(epoch.run, donate_argnums=(0, 1))
    table = pe.init_embeddings(0, data.num_nodes, 10, manifold, dtype=dtype)
    state = tx.init(table)
    key = jax.random.key(0)
    print(
        json.dumps(
            {
                "config": {
                    "tool": "geomrep",
                    "nodes": data.num_nodes,
                    "pairs": int(graph.edges.shape[0]),
                    "dtype": args.dtype,
                    "batch": epoch.batch_size,
                    "jax": jax.__version__,
                    "backend": jax.default_backend(),
                }
            }
        ),
        flush=True,
    )
    for e in range(args.epochs + 1):
        start = time.perf_counter()
        table, state, metrics = run(table, state, graph, jax.random.fold_in(key, e), jnp.asarray(e == 0))
        loss = float(jax.block_until_ready(metrics["loss"]))
        if e:  # epoch 0 compiles
            print(
                json.dumps({"epoch": e, "epoch_s": round(time.perf_counter() - start, 4), "loss": loss}),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
