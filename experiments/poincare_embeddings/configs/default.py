"""Poincaré embeddings of WordNet closures (Nickel & Kiela 2017).

Command (the mammals closure ships inside the package; about 6 s whole process on a 2-core CPU):

    python scripts/launch.py --experiment poincare_embeddings \
        --config experiments/poincare_embeddings/configs/default.py:mammals --workdir runs/mammals \
        [--config.dim=5 --config.manifold=lorentz --config.dtype=float32 ...]

Variants (the argument after ``:``):
  mammals  the WordNet mammal closure (1,180 nodes, 6,540 edges), dim 10, float64, Poincaré ball with c = 0.1,
           Riemannian Adam. Paper: MAP 0.927 / mean rank 1.26 at dim 5; target here MAP ≥ 0.95, mean rank ≤ 1.25
           at dim 10. Measured: MAP 0.979, mean rank 1.057 after 50 epochs (dim 5: 0.956 / 1.249).
  mammals_f32  the same in float32 (what runs on TPU); target MAP ≥ 0.93. Measured: MAP 0.979, mean rank 1.061.
  nouns    the WordNet noun closure (82,115 nodes, 743,086 edges; pass --config.data=PATH to noun_closure.csv),
           dim 10, float64, c = 0.1, RAdam lr 0.25, batch 1024, 400 epochs (10 of burn-in). Measured on one H100:
           2017 protocol MAP 0.918 / mean rank 3.08 (paper 0.851 / 4.02), 444 s with eval (see README.md).
  nouns_f32  the same in float32: MAP 0.853 / mean rank 2.41 (H100).
  nouns_sym  trained on the symmetrised closure, for the 2018 (undirected) protocol; after 120 epochs
           undirected MAP 0.641 / mean rank 113 (target 0.93 / 2.9: not reached).
  nouns_lorentz, nouns_euclidean  the Lorentz model (c = 1) and Euclidean space with the same settings; on the
           noun closure the Lorentz run's loss stalls at 1.30 (see README.md); Euclidean has not been run.
  smoke    a few epochs on the mammals closure, for tests (seconds).
  VARIANT_lp  any variant above with link_prediction=True (mammals_lp, nouns_lp, smoke_lp, ...): 5 % + 5 % of
           the closure's non-basic edges held out as validation + test (split.npz in the workdir); the test
           edges' filtered mean rank and MAP are eval/lp_mean_rank and eval/lp_map. Paper (nouns, dim 10):
           mean rank 4.3, MAP 0.852. Measured: mammals_lp MAP 0.893 / mean rank 1.49 (30 s on 2 CPU cores);
           nouns_lp cut to 30 epochs on CPU: 0.546 / 8.42 (see README.md).

Keys: data (edge/closure file; "" = the shipped mammals), symmetric (train on both directions), dim, manifold (poincare | lorentz | euclidean), c (> 0;
the curvature is −c), dtype (float32 | float64), epochs, batch_size, lr, optimizer (rsgd | radam), negatives,
burnin_epochs (counted inside epochs), burnin_lr_mult, burnin_dampening, init_scale, eval_every (epochs; 0 = only
at the end), eval_undirected (also report the 2018 protocol's eval/closure_*_undirected), stop_map (stop at the first evaluation with MAP >= stop_map; 0 = train all epochs), ckpt_every
(epochs; 0 = only at the end), log_every (epochs), seed, sharding (none | replicated | rows: data-parallel over all devices, the table
replicated or split by row), eval_block_size (0 = auto),
plot_labels (how many top-level nodes to label in disk.png), link_prediction (hold out edges, train on the rest,
report eval/lp_*), lp_valid_frac and lp_test_frac (fractions of the non-basic edges, sum <= 1), lp_seed (the
split's seed).
"""

import ml_collections


def get_config(arg: str = "mammals") -> ml_collections.ConfigDict:
    link_prediction = arg.endswith("_lp")
    if link_prediction:
        arg = arg[: -len("_lp")]
    c = ml_collections.ConfigDict()
    c.data = ""
    c.dim = 10
    c.manifold = "poincare"
    c.c = 0.1
    c.dtype = "float64"
    c.epochs = 50
    c.batch_size = 512
    c.lr = 0.25
    c.optimizer = "radam"
    c.negatives = 50
    c.symmetric = False
    c.burnin_epochs = 3
    c.burnin_lr_mult = 0.1
    c.burnin_dampening = 0.75
    c.init_scale = 1e-3
    c.eval_every = 0
    c.eval_undirected = True
    c.stop_map = 0.0
    c.ckpt_every = 50
    c.log_every = 5
    c.seed = 0
    c.sharding = "none"
    c.eval_block_size = 0
    c.plot_labels = 12
    c.link_prediction = link_prediction
    c.lp_valid_frac = 0.05
    c.lp_test_frac = 0.05
    c.lp_seed = 0

    if arg == "mammals":
        pass
    elif arg == "mammals_f32":
        c.dtype = "float32"
    elif arg.startswith("nouns"):
        c.epochs = 400
        c.batch_size = 1024
        c.burnin_epochs = 10
        c.eval_every = 0
        c.ckpt_every = 25
        c.log_every = 5
        if arg == "nouns_f32":
            c.dtype = "float32"
        elif arg == "nouns_sym":  # the 2018 protocol's training: both directions, descendants never negatives
            c.symmetric = True
        elif arg == "nouns_lorentz":
            c.manifold = "lorentz"
            c.c = 1.0
        elif arg == "nouns_euclidean":
            c.manifold = "euclidean"
        elif arg != "nouns":
            raise ValueError(
                f"unknown config variant {arg!r}; the nouns variants are nouns, nouns_f32, "
                "nouns_sym, nouns_lorentz and nouns_euclidean"
            )
    elif arg == "smoke":
        c.dim = 5
        c.epochs = 4
        c.batch_size = 512
        c.lr = 0.1
        c.burnin_epochs = 1
        c.eval_every = 2
        c.ckpt_every = 2
        c.log_every = 1
        c.plot_labels = 4
    else:
        raise ValueError(
            f"unknown config variant {arg!r}; choose mammals, mammals_f32, nouns[_f32|_sym|_lorentz|_euclidean] or "
            "smoke, each optionally with the suffix _lp (link prediction)"
        )
    return c
