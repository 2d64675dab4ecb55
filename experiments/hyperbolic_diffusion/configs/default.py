"""Hyperbolic diffusion distance (Lin, Coifman, Mishne & Talmon 2023) on graphs and point clouds.

Command (graph MAP and distortion of any edge list; writes metrics.jsonl and the n × n hdd.npy):

    python scripts/launch.py --experiment hyperbolic_diffusion \
        --config experiments/hyperbolic_diffusion/configs/default.py:graph --workdir runs/hdd_phylo \
        --config.data=../shared/data/phylo_tree/phylo_tree.edges [--config.K=3 --config.dtype=float32 ...]

Variants (the argument after ``:``):
  graph          an edge list (--config.data=FILE, read by geomrep.data.load_edges); K=0 takes the authors'
                 README K when the file is one of Sala et al.'s graphs (smalltree 3, phylo_tree 3,
                 bio-diseasome 3, ca-CSphd 4, grqc 10), otherwise pass --config.K.
  balanced_tree, phylo_tree, diseases, cs_phd, grqc
                 the same on ../shared/data/<graph> with the README's K. Paper (HDD MAP / avg distortion):
                 1.0/0.144, 1.0/0.520, 0.970/0.206, 0.999/0.274, 0.930/0.179. Measured: see README.md.
  points         a point cloud (--config.data=FILE.npy or FILE.csv; a non-numeric last CSV column is a class
                 label and turns on nearest-centroid classification), cosine distance, σ = 2, α = 1, K = 6.
  iris           UCI Iris (shipped in data/iris.csv, CC BY 4.0), K = 6: nearest-centroid accuracy under HDD.
  hierarchy      a Gaussian mixture whose centres are the leaves of a known tree (synthetic.py): triplet
                 accuracy, clade recovery and Spearman vs the tree, for HDD and for the raw Euclidean distance.
  smoke          graph mode on a balanced tree (3, 3) generated in memory, for tests (seconds).

Keys: mode (graph | points | hierarchy), data (file; "" = the variant's default), K (number of dyadic scales
t_k = 2^-k; 0 = the README value in graph mode), laplacian (unnormalized | normalized), distance (cosine |
euclidean | sqeuclidean; points), sigma (> 0; points), alpha (≥ 0; points), floor (density floor, 1e-6),
num_eigenpairs (0 = full spectrum up to n = 10^4, else the top m by Lanczos), dtype (float64 | float32),
save_hdd (write hdd.npy, n ≤ 10^4), best_scale (also distortion after the best global scale), spearman
(Spearman HDD vs graph distance), eval_sample (source rows for metrics when n > 10^4), classification.* and
hierarchy.* (see below).
"""

from pathlib import Path

import ml_collections

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SALA_GRAPHS = {
    "balanced_tree": "balanced_tree/smalltree.edges",
    "phylo_tree": "phylo_tree/phylo_tree.edges",
    "diseases": "diseases/bio-diseasome.edges",
    "cs_phd": "cs_phd/ca-CSphd.edges",
    "grqc": "grqc/grqc.edges",
}
IRIS = Path(__file__).resolve().parents[1] / "data" / "iris.csv"


def get_config(arg: str = "graph") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.mode = "graph"
    c.data = ""
    c.K = 0
    c.laplacian = "unnormalized"
    c.distance = "cosine"
    c.sigma = 2.0
    c.alpha = 1.0
    c.floor = 1e-6
    c.num_eigenpairs = 0
    c.dtype = "float64"
    c.save_hdd = True
    c.best_scale = True
    c.spearman = True
    c.eval_sample = 1000
    c.classification = ml_collections.ConfigDict({"splits": 20, "train_fraction": 0.5, "seed": 1234})
    c.hierarchy = ml_collections.ConfigDict(
        {
            "branching": 3,
            "depth": 3,
            "dim": 20,
            "spread": 4.0,
            "decay": 0.5,
            "noise": 0.25,
            "points_per_leaf": 20,
            "seed": 0,
        }
    )

    if arg == "graph":
        pass
    elif arg in SALA_GRAPHS:
        c.data = str(SHARED_DATA / SALA_GRAPHS[arg])
    elif arg == "points":
        c.mode = "points"
        c.K = 6
    elif arg == "iris":
        c.mode = "points"
        c.data = str(IRIS)
        c.K = 6
    elif arg == "hierarchy":
        c.mode = "hierarchy"
        c.distance = "euclidean"
        c.sigma = 1.0
        c.K = 6
    elif arg == "smoke":
        c.K = 3
    else:
        raise ValueError(
            f"unknown config variant {arg!r}; choose graph, {', '.join(SALA_GRAPHS)}, points, iris, hierarchy "
            "or smoke"
        )
    return c
