"""SPD / Grassmann classification benchmarks with a Bayes reference (gyro.md §D4; issue 7).

Command (from the repository root):

    python scripts/launch.py --experiment spd_classification \
        --config experiments/spd_classification/configs/default.py:le_gaussian --workdir runs/spd_le \
        [--config.seed=1 --config.models=mlr_le,mlr_ai --config.dtype=float32 ...]

Variants (the argument after ``:``):
  le_gaussian  log X = G_y + 0.35·GOE(8), 10 classes, 200 train / 1000 test per class. Bayes ≈ 0.87; target: LE
               gyro-MLR within 2 points of Bayes. Models: every SPD model.
  wishart      covariance descriptors of T = 16 Gaussian frames, n = 8, 10 classes (HAR-like). Bayes ≈ 0.86;
               target: every SPD model within 8 points of Bayes.
  congruence   wishart with X → A X Aᵀ applied to train and test (cond(A) = 10), AI/LE/LC gyro-MLR started at
               P = W = I: AI-MLR's accuracy must equal the same run with --config.data.congruence=0 (after
               AI centering the two data sets differ by a fixed rotation, under which AI training is equivariant).
  grassmann    noisy 3-dim subspaces of ℝ¹⁰ around 10 class subspaces at distance 1 from I_{10,3}; reference =
               nearest class subspace (≈ 0.84).
  npz          your own covariance descriptors: --config.data.path=FILE.npz with X [N, n, n] and y [N] (or
               X_train/y_train/X_test/y_test); 30% of each class is held out when only X, y are given.
  smoke        8 epochs of LE gyro-MLR and SPDNet on a small LE-Gaussian set (seconds; used by the tests).

Keys: data.kind (le_gaussian | wishart | grassmann | npz), data.path (npz), data.n, data.num_classes, data.sigma,
data.delta, data.frames, data.jitter, data.p, data.noise, data.train_per_class, data.test_per_class,
data.mc_samples (draws of the Monte-Carlo Bayes accuracy), data.test_fraction (npz), data.congruence (cond(A) of
a common congruence applied to every matrix; 0 = off), data.center (none | ai: X ↦ M^{-1/2} X M^{-1/2}, M the
affine-invariant mean of the training matrices); models (comma-separated: spdnet, mlr_ai, mlr_le, mlr_lc,
gyrofc_ai, gyrofc_le, gyrofc_lc, gr_mlr, gr_fc); spdnet_dims (BiMap output sizes), reeig_eps, gyro_weight_std (normals of the gyro-MLR start at exp(S), S with N(0, std²) entries; -1 = the layer
default 1/n, 0 = W = I), fc_dims (gyro-FC
output sizes), gr_fc_dims ((n', p') of the Grassmann FC); dtype (float32 | float64); epochs, batch_size, lr
(Riemannian Adam), lr_schedule (constant | cosine: decays lr to 0 over the run), clip_norm (global-norm clipping of the Euclidean gradients; 0 = off), weight_decay (λ of
the penalty ½λ Σ ‖Log_I W‖² over SPD parameters and ½λ‖w‖² over Euclidean ones; 0 = off), seed (data, init and
shuffling), log_every, ckpt_every (epochs; 0 = only at the end), eval_batch.
"""

import ml_collections

SPD_ALL = "mlr_le,mlr_ai,mlr_lc,spdnet,gyrofc_le,gyrofc_ai,gyrofc_lc"


def get_config(arg: str = "le_gaussian") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.data = ml_collections.ConfigDict()
    d = c.data
    d.kind = "le_gaussian"
    d.path = ""
    d.n = 8
    d.num_classes = 10
    d.sigma = 0.35
    d.delta = 1.0
    d.frames = 16
    d.jitter = 0.0
    d.p = 3
    d.noise = 0.3
    d.train_per_class = 200
    d.test_per_class = 1000
    d.mc_samples = 100_000
    d.test_fraction = 0.3
    d.congruence = 0.0
    d.center = "none"

    c.models = SPD_ALL
    c.spdnet_dims = (8,)
    c.reeig_eps = 1e-4
    c.gyro_weight_std = -1.0
    c.fc_dims = (6,)
    c.gr_fc_dims = (8, 3)
    c.dtype = "float64"
    c.epochs = 100
    c.batch_size = 100
    c.lr = 0.02
    c.lr_schedule = "cosine"
    c.clip_norm = 0.0
    c.weight_decay = 0.0
    c.seed = 0
    c.log_every = 10
    c.ckpt_every = 50
    c.eval_batch = 2000

    if arg == "le_gaussian":
        pass
    elif arg == "wishart":
        d.kind = "wishart"
        d.center = "ai"
        c.lr = 0.05
        c.weight_decay = 3e-3
    elif arg == "congruence":
        d.kind = "wishart"
        d.center = "ai"
        d.congruence = 10.0
        c.models = "mlr_ai,mlr_le,mlr_lc"
        c.gyro_weight_std = 0.0
    elif arg == "grassmann":
        d.kind = "grassmann"
        d.n = 10
        c.models = "gr_mlr,gr_fc"
    elif arg == "npz":
        d.kind = "npz"
        d.center = "ai"
        c.models = "mlr_le,mlr_ai,mlr_lc,spdnet"
    elif arg == "smoke":
        d.n = 5
        d.num_classes = 4
        d.train_per_class = 40
        d.test_per_class = 50
        d.mc_samples = 2000
        c.models = "mlr_le,spdnet"
        c.spdnet_dims = (4,)
        c.fc_dims = (3,)
        c.epochs = 8
        c.batch_size = 32
        c.lr = 0.05
        c.log_every = 1
        c.ckpt_every = 4
    else:
        raise ValueError(
            f"unknown config variant {arg!r}; choose le_gaussian, wishart, congruence, grassmann, npz or smoke"
        )
    return c
