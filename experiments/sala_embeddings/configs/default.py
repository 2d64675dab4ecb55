"""Hyperbolic embeddings without (or with little) training: Sala, De Sa, Gu & Ré 2018 ("Representation Tradeoffs
for Hyperbolic Embeddings", ICML).

Commands (from the repository root; data under ../shared/data, see SOURCES.md):

    python scripts/launch.py --experiment sala_embeddings \
        --config experiments/sala_embeddings/configs/default.py:combinatorial --workdir runs/comb_phylo \
        --config.data=../shared/data/phylo_tree/phylo_tree.edges --config.eps=0.1
    python scripts/launch.py --experiment sala_embeddings \
        --config experiments/sala_embeddings/configs/default.py:hmds --workdir runs/hmds_phylo \
        --config.data=D.npy --config.dim=10          # or an edge list: its shortest-path distances
    python scripts/launch.py --experiment sala_embeddings \
        --config experiments/sala_embeddings/configs/default.py:sgd --workdir runs/sgd_phylo \
        --config.data=../shared/data/phylo_tree/phylo_tree.edges --config.dim=10

Variants (the argument after ``:``):
  combinatorial  Sarkar's construction (geomrep.embed.combinatorial) in dim 2 with τ from ε (default 0.1): the tree
                 distances within 1 + ε. Metrics from the exact (factor-product) distances. Seconds for the small
                 graphs; WordNet (74k nodes) in minutes.
  hmds           h-MDS (geomrep.embed.hmds) of the distance matrix at rank ``dim`` (default 10), scale t = 1.
  sgd            distance-fitting Riemannian Adam (geomrep.embed.distance_sgd) in a Poincaré ball of dim 10, from
                 random points near the origin, 500 epochs, every neighbour plus 300 sampled pairs per row, learned
                 scale. Paper (phylo): distortion 0.237, MAP 0.951; measured here: 0.036 / 0.974 (see README.md).
  smoke          a few SGD epochs on the 40-node balanced tree (seconds), for tests.

Input (``data``): an edge list (``u v`` or ``u v w`` per line, optional header; self-loops are dropped with a
warning), whose unweighted shortest-path distances are the targets and whose edges are the neighbours of the
graph MAP; or a ``.npy`` (n, n) distance matrix (symmetric, ≥ 0, zero diagonal; for ``sgd`` NaN marks unknown
entries), whose nearest neighbours play the graph's neighbours. "" = Sala et al.'s "Bal. Tree", the balanced tree
of branching 3 and height 3 (40 nodes; the same graph as shared/data/balanced_tree/smalltree.edges), generated.

Outputs in the workdir: ``metrics.jsonl`` (final line: ``eval/distortion_avg``, ``eval/distortion_worst``,
``eval/graph_map``, ``eval/graph_mean_rank``, ``scale``, source counts; SGD also logs ``loss`` and ``scale``
per ``log_every`` epochs), ``embeddings.npy`` ((n, dim) float64 Poincaré coordinates of the unit ball, row i =
node i, distances divided by ``export_scale`` fit the targets), ``config.json``; SGD adds ``checkpoints/``.

Keys:
  method        combinatorial | hmds | sgd
  data          the edge list or .npy matrix
  dim           embedding dimension (combinatorial: 2 = Sarkar's planar construction, more = sphere codes)
  eps           combinatorial: ε > 0 (τ = the paper's formula); ignored when tau > 0
  tau           combinatorial: a fixed τ > 0 instead of eps (0 = from eps)
  export_tau    combinatorial: "auto" (export the ε-embedding's float64 coordinates, or, when some of its nodes
                do not fit float64, the largest τ that fits: the reference's -a) | "eps" | "float64"
  root          combinatorial: the node at the origin (-1 = the node of largest degree, as the reference)
  child_order   combinatorial: graph | bfs (see geomrep.embed.combinatorial)
  tree_only     combinatorial: refuse a non-tree instead of embedding its BFS tree
  precision_bits  combinatorial: bits of the arbitrary-precision cross-check (0 = automatic; not needed for the
                metrics, which use the exact factor representation)
  eval_tree     combinatorial: also report the BFS tree's MAP and distortion (the 1 + ε guarantee)
  scale         hmds: t > 0
  space         sgd: "" = a Poincaré ball of dimension dim; or a product "H5xS5xE2" (H = Poincaré ball, L =
                Lorentz, S = sphere, E = Euclidean; each followed by its dimension)
  curvature     sgd: c > 0 of the H/L/S factors (curvature −c / +c)
  init          sgd: random | hmds | combinatorial (warm start of the hyperbolic factor)
  init_tau      sgd with init=combinatorial: τ of the warm start (0 = the largest τ that fits float64)
  epochs, batch_size, num_samples, lr, optimizer (radam | rsgd), learn_scale, init_std: sgd
  distance_decay  sgd: γ ≥ 0, pair weights exp(−γ (d_ij − 1)) (the reference's --exponential-rescale)
  eval_every, log_every, ckpt_every: sgd, in epochs (0 = only at the end)
  eval_sample   graph MAP over this many uniformly drawn source nodes (0 = all: exact)
  distortion_sample  distortion over this many uniformly drawn rows (0 = all: exact; -1 = exact up to 20,000
                nodes, else 2,000)
  seed
"""

import ml_collections


def get_config(arg: str = "hmds") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.method = "hmds"
    c.data = ""
    c.dim = 10
    # combinatorial
    c.eps = 0.1
    c.tau = 0.0
    c.export_tau = "auto"
    c.root = -1
    c.child_order = "graph"
    c.tree_only = False
    c.precision_bits = 0
    c.eval_tree = True
    # hmds
    c.scale = 1.0
    # sgd
    c.space = ""
    c.curvature = 1.0
    c.init = "random"
    c.init_tau = 0.0
    c.epochs = 500
    c.batch_size = 32
    c.num_samples = 300
    c.lr = 0.03
    c.optimizer = "radam"
    c.learn_scale = True
    c.distance_decay = 0.0
    c.init_std = 1e-3
    c.eval_every = 0
    c.log_every = 50
    c.ckpt_every = 250
    # evaluation
    c.eval_sample = 0
    c.distortion_sample = -1
    c.seed = 0

    if arg == "combinatorial":
        c.method = "combinatorial"
        c.dim = 2
    elif arg == "hmds":
        pass
    elif arg == "sgd":
        c.method = "sgd"
    elif arg == "smoke":
        c.method = "sgd"
        c.dim = 2
        c.epochs = 6
        c.eval_every = 3
        c.log_every = 2
        c.ckpt_every = 3
        c.num_samples = 8
        c.batch_size = 16
    else:
        raise ValueError(f"unknown variant {arg!r}; use combinatorial, hmds, sgd or smoke")
    return c
