"""Peer for the Poincaré-embedding benchmark: geoopt/PyTorch on a transitive closure.

Protocol (shared/notes/stack.md §2, hyperbolic.md §C.1-§C.2), written from the notes:

* Data: a CSV ``id1,id2,weight`` of directed (child, ancestor) pairs, e.g. the WordNet mammals closure.
  Node ids are the sorted unique names.
* Model: ``geoopt.PoincareBall(c=--c)`` (default c=1; the curvature is -c); an (n, dim) ``ManifoldParameter``
  in ``--dtype`` (default float64) initialised U(-1e-3, 1e-3).
* Optimiser (``--optimizer``): dense ``geoopt.optim.RiemannianSGD`` (``rsgd``, the default) or dense
  ``geoopt.optim.RiemannianAdam`` with its default betas (0.9, 0.999) and eps 1e-8 (``radam``). PoincareBall's
  retraction is the exact expmap. Both are dense: RiemannianAdam moves every row with its moments at each
  step, whereas geomrep's RAdam (``sparse_radam``) updates only the rows a batch touches.
* Loss: each epoch shuffles the edges into batches of ``--batch``; per edge (u, v) the candidates are
  [v, K negatives] and the loss is the batch mean of ``-log_softmax(-d(u, .))[:, 0]``.
* Negatives: n != u with (u, n) not a directed edge, drawn uniformly; rejected draws are redrawn up to 10
  times and the leftovers are masked out of the softmax. During the first ``--burnin`` epochs negatives are
  drawn proportionally to count^0.75, count = how often a node occurs as id2 (as in the FB reference and
  geomrep; ``--burnin-degree total`` counts id1 and id2 occurrences instead), and the learning rate is
  lr x ``--burnin-lr-mult`` (default 0.1, as geomrep's ``burnin_lr_mult``). The burn-in matters: without it,
  RSGD at lr 15 stalls at MAP ~0.82 on mammals. The notes' measured curve
  (stack.md §2: 0.939 at epoch 300, 0.949 at 600, 0.950 at 1000) is reproduced with ``total``; the default
  ``id2`` keeps improving past epoch 300 (plateau ~0.958) and so reaches 0.95 earlier (epochs 400-500).
* Evaluation: directed reconstruction (NK17, FB ``hype/graph.py``) on the training closure. For each u with
  >= 1 ancestor, Pos(u) = its ancestors and d(u, u) = +inf; rank(u, v) = 1 + #{w not in Pos(u), w != u :
  d(u, w) < d(u, v)}; AP(u) = average precision (sklearn convention, ties grouped) of Pos(u) among all w != u
  scored by -d; MAP = mean AP over sources, mean rank = mean over all (u, v) pairs.
* ``torch.set_num_threads(1)``: with torch's default of one OpenMP thread per core and another process on a
  2-core box, tiny ops became 100-1000x slower (stack.md §2), so the peer runs single-threaded.

Command (from the repository root)::

    python scripts/benchmarks/peers/geoopt_poincare.py EDGES --dim 10 --batch 512 --lr 15 --negs 50 \
        --burnin 10 --epochs 1000 --eval-every 50 --stop-map 0.95 --seed 0 \
        [--optimizer rsgd|radam] [--c 1.0] [--burnin-lr-mult 0.1] [--dtype float64|float32]

The defaults (RSGD, c=1, burn-in lr x 0.1, float64) are the baseline of stack.md §2. geomrep's mammals settings
are ``--optimizer radam --c 0.1 --lr 0.25 --burnin 3`` (batch 512, 50 negatives, burn-in lr x 0.1).

Output, on stdout, one JSON object per line:

* first a ``{"config": {...}}`` line with the settings, the data size, versions and ``torch_threads``;
* then one line per evaluation: ``{"epoch", "elapsed_s", "train_s", "loss", "map", "mean_rank"}``.
  ``elapsed_s`` counts from ``T0``, the first statement of this script (Python interpreter start-up is
  outside it; the benchmark harness measures whole-process wall time itself). ``train_s`` is the time spent
  in training epochs only (no evaluation, no start-up). ``loss`` is the mean batch loss of the last epoch.

The run stops right after the first evaluation with MAP >= ``--stop-map`` (evaluation time included), or
after ``--epochs`` epochs (the last epoch is always evaluated).
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import geoopt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

MAX_RESAMPLE = 10
DTYPES = {"float64": torch.float64, "float32": torch.float32}
OPTIMIZERS = {"rsgd": geoopt.optim.RiemannianSGD, "radam": geoopt.optim.RiemannianAdam}
DAMPENING = 0.75
INIT_SCALE = 1e-3


def load_closure(path):
    """Read ``id1,id2[,weight]`` rows; return (names, edges as an (m, 2) int64 array of (child, ancestor))."""
    pairs = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        if header[:2] != ["id1", "id2"]:
            raise ValueError(f"{path}: expected a header 'id1,id2,...', got {header}")
        for line in f:
            line = line.strip()
            if line:
                a, b = line.split(",")[:2]
                pairs.append((a, b))
    names = sorted({x for p in pairs for x in p})
    index = {name: i for i, name in enumerate(names)}
    edges = np.array([(index[a], index[b]) for a, b in pairs], dtype=np.int64)
    edges = np.unique(edges, axis=0)
    return names, edges


class NegativeSampler:
    """Negatives n != u with (u, n) not a directed edge; up to MAX_RESAMPLE redraws, leftovers masked."""

    def __init__(self, n, edges, rng, burnin_degree="id2"):
        self.n = n
        self.rng = rng
        self.keys = np.sort(edges[:, 0] * n + edges[:, 1])
        counts = np.bincount(edges[:, 1], minlength=n).astype(np.float64)
        if burnin_degree == "total":
            counts += np.bincount(edges[:, 0], minlength=n)
        weights = counts**DAMPENING
        self.burnin_cdf = np.cumsum(weights / weights.sum())
        self.burnin_cdf[-1] = 1.0

    def _draw(self, size, burnin):
        if burnin:
            return np.searchsorted(self.burnin_cdf, self.rng.random(size), side="right")
        return self.rng.integers(0, self.n, size=size)

    def _invalid(self, u, cand):
        q = u * self.n + cand
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return (cand == u) | (self.keys[pos] == q)

    def sample(self, u, k, burnin):
        """Return (negatives (b, k) int64, valid mask (b, k) bool) for sources u of shape (b,)."""
        uu = np.broadcast_to(u[:, None], (len(u), k))
        cand = self._draw(uu.shape, burnin)
        bad = self._invalid(uu, cand)
        for _ in range(MAX_RESAMPLE):
            idx = np.nonzero(bad)
            if len(idx[0]) == 0:
                break
            redraw = self._draw(len(idx[0]), burnin)
            cand[idx] = redraw
            bad[idx] = self._invalid(uu[idx], redraw)
        return cand, ~bad


def reconstruction(ball, emb, n, edges, chunk_elems=1 << 21):
    """Directed NK17 reconstruction: (MAP over sources, mean rank over (u, v) pairs).

    Sources are processed in chunks so that the (rows, n, dim) temporaries of ``ball.dist`` stay near
    ``chunk_elems`` elements.
    """
    order = np.argsort(edges[:, 0], kind="stable")
    src_all, dst_all = edges[order, 0], edges[order, 1]
    sources = np.unique(src_all)
    starts = np.searchsorted(src_all, sources)
    ends = np.searchsorted(src_all, sources, side="right")
    rows = max(1, chunk_elems // (n * emb.shape[1]))
    ap_sum, rank_sum, n_pairs = 0.0, 0.0, 0
    with torch.no_grad():
        for c0 in range(0, len(sources), rows):
            src = sources[c0 : c0 + rows]
            b = len(src)
            pos = torch.zeros((b, n), dtype=torch.bool)
            lo, hi = starts[c0 : c0 + b], ends[c0 : c0 + b]
            row_ids = np.repeat(np.arange(b), hi - lo)
            col_ids = dst_all[lo[0] : hi[-1]]
            pos[torch.from_numpy(row_ids), torch.from_numpy(col_ids)] = True
            s = torch.from_numpy(src)
            d = ball.dist(emb[s].unsqueeze(1), emb.unsqueeze(0))  # (b, n)
            d[torch.arange(b), s] = float("inf")
            inf = torch.full_like(d, float("inf"))
            all_sorted = torch.sort(d, dim=1).values
            pos_sorted = torch.sort(torch.where(pos, d, inf), dim=1).values
            # Counts among w != u (self is at +inf): <= for AP precision, < for the rank.
            le_all = torch.searchsorted(all_sorted, d, right=True)
            le_pos = torch.searchsorted(pos_sorted, d, right=True)
            lt_all = torch.searchsorted(all_sorted, d, right=False)
            lt_pos = torch.searchsorted(pos_sorted, d, right=False)
            posf = pos.to(d.dtype)
            n_pos = posf.sum(dim=1)
            precision = le_pos.to(d.dtype) / le_all.to(d.dtype)
            ap_sum += ((precision * posf).sum(dim=1) / n_pos).sum().item()
            rank = 1 + (lt_all - lt_pos)
            rank_sum += (rank.to(d.dtype) * posf).sum().item()
            n_pairs += int(n_pos.sum().item())
    return ap_sum / len(sources), rank_sum / n_pairs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("edges", help="CSV with header id1,id2[,weight]: directed (child, ancestor) pairs")
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=15.0)
    p.add_argument("--negs", type=int, default=50)
    p.add_argument("--burnin", type=int, default=10)
    p.add_argument(
        "--burnin-lr-mult", type=float, default=0.1, help="lr multiplier during burn-in (default 0.1)"
    )
    p.add_argument(
        "--optimizer",
        choices=tuple(OPTIMIZERS),
        default="rsgd",
        help="geoopt RiemannianSGD (default) or RiemannianAdam (default betas)",
    )
    p.add_argument(
        "--c", type=float, default=1.0, help="PoincareBall(c=...); the curvature is -c (default 1)"
    )
    p.add_argument(
        "--dtype", choices=tuple(DTYPES), default="float64", help="embedding dtype (default float64)"
    )
    p.add_argument(
        "--burnin-degree",
        choices=("id2", "total"),
        default="id2",
        help="burn-in negatives ∝ count^0.75, count = occurrences as id2 (default) or as id1 or id2",
    )
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--stop-map", type=float, default=0.95, help="stop at the first eval with MAP >= this")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--no-eval",
        action="store_true",
        help="throughput mode: never evaluate; print each epoch's training time (epoch_s) instead",
    )
    return p.parse_args(argv)


def emit(obj):
    print(json.dumps(obj), flush=True)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    names, edges = load_closure(args.edges)
    n, m = len(names), len(edges)
    ball = geoopt.PoincareBall(c=args.c)
    init = torch.empty((n, args.dim), dtype=DTYPES[args.dtype]).uniform_(-INIT_SCALE, INIT_SCALE)
    emb = geoopt.ManifoldParameter(init, manifold=ball)
    opt = OPTIMIZERS[args.optimizer]([emb], lr=args.lr)
    burnin_lr = args.lr * args.burnin_lr_mult
    sampler = NegativeSampler(n, edges, rng, args.burnin_degree)
    emit(
        {
            "config": {
                "tool": "geoopt",
                "edges": args.edges,
                "nodes": n,
                "pairs": m,
                "dim": args.dim,
                "batch": args.batch,
                "optimizer": args.optimizer,
                "c": args.c,
                "lr": args.lr,
                "negs": args.negs,
                "burnin": args.burnin,
                "burnin_lr_mult": args.burnin_lr_mult,
                "burnin_lr": burnin_lr,
                "burnin_degree": args.burnin_degree,
                "epochs": args.epochs,
                "eval_every": args.eval_every,
                "stop_map": args.stop_map,
                "seed": args.seed,
                "dtype": args.dtype,
                "torch_threads": torch.get_num_threads(),
                "threads_note": "torch.set_num_threads(1): multi-threaded tiny ops stall on a shared box",
                "torch": torch.__version__,
                "geoopt": geoopt.__version__,
            }
        }
    )

    train_s = 0.0
    for epoch in range(1, args.epochs + 1):
        t_epoch = time.perf_counter()
        burnin = epoch <= args.burnin
        for group in opt.param_groups:
            group["lr"] = burnin_lr if burnin else args.lr
        perm = rng.permutation(m)
        loss_sum, n_batches = 0.0, 0
        for b0 in range(0, m, args.batch):
            batch = edges[perm[b0 : b0 + args.batch]]
            u = batch[:, 0]
            negs, valid = sampler.sample(u, args.negs, burnin)
            cand = torch.from_numpy(np.concatenate([batch[:, 1:2], negs], axis=1))
            mask = torch.from_numpy(np.concatenate([np.ones((len(u), 1), dtype=bool), valid], axis=1))
            d = ball.dist(emb[torch.from_numpy(u)].unsqueeze(1), emb[cand])  # (b, 1 + K)
            logits = torch.where(mask, -d, torch.full_like(d, float("-inf")))
            loss = -torch.log_softmax(logits, dim=1)[:, 0].mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            n_batches += 1
        epoch_s = time.perf_counter() - t_epoch
        train_s += epoch_s
        if args.no_eval:
            emit({"epoch": epoch, "epoch_s": round(epoch_s, 4), "loss": loss_sum / n_batches})
            continue
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            map_, mean_rank = reconstruction(ball, emb.detach(), n, edges)
            emit(
                {
                    "epoch": epoch,
                    "elapsed_s": round(time.perf_counter() - T0, 3),
                    "train_s": round(train_s, 3),
                    "loss": loss_sum / n_batches,
                    "map": map_,
                    "mean_rank": mean_rank,
                }
            )
            if map_ >= args.stop_map:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
