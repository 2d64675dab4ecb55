"""Data for the SPD / Grassmann classification benchmarks: synthetic generators with a Bayes reference, and a
loader for covariance descriptors stored as ``.npz``.

Synthetic benchmarks (gyro.md §D4; everything is fixed by the seed, float64 NumPy):

* ``le_gaussian``: log X = G_y + σ·GOE(n). The class means are G_k = δ·Ĝ_k, with Ĝ_k a GOE(n) matrix scaled to unit
  Frobenius norm, and GOE(n) = (A + Aᵀ)/2, A with iid N(0, 1) entries — isotropic in the Frobenius geometry of
  Sym(n) (each isometric coordinate is N(0, 1)). Equal priors and a shared isotropic covariance make the Bayes
  rule the nearest class mean in the log-Euclidean distance, argmin_k ‖log X − G_k‖_F, and the posterior
  softmax_k(⟨log X, G_k⟩/σ² − ‖G_k‖²/2σ²), which LE gyro-MLR represents exactly.
* ``wishart``: Σ_k = exp(G_k); X = (1/T) Σ_t x_t x_tᵀ + εI with x_t ~ N(0, Σ_y) (T frames, HAR-like covariance
  descriptors). The Bayes rule is the Wishart likelihood argmin_k log det Σ_k + tr(Σ_k⁻¹ X) (the εI jitter is a
  deterministic shift, ignored by the rule: ε = 0 by default).
* ``grassmann``: class subspaces U_k at geodesic distance δ from I_{n,p} (random directions); a sample is the
  span of the top-p left singular vectors of U_y + τN, N with iid N(0, 1) entries. The Bayes rule has no closed form; the reference is
  the nearest class subspace in geodesic (principal-angle) distance, which for this isotropic noise model is the
  maximum-likelihood rule up to the dependence of the noise law on the angles, and is reported as "reference".

The reference accuracy is reported twice: ``mc`` (the rule applied to ``mc_samples`` fresh draws from the same
class parameters, standard error ≈ √(a(1−a)/N)) and ``test`` (the rule applied to the actual test set, i.e. on
exactly the samples the models see).

Centering: :func:`ai_center` maps X ↦ M^{-1/2} X M^{-1/2} with M the affine-invariant (Karcher) mean of the
training matrices. M is congruence-equivariant (the mean of A X Aᵀ is A M Aᵀ), so after centering, data that
differ by a common congruence differ only by a fixed orthogonal conjugation O (·) Oᵀ, O = (AMAᵀ)^{-1/2} A M^{1/2};
an AI gyro-MLR started at P = W = I then trains exactly equivariantly (the AI metric, Riemannian Adam and the
logits are all invariant under it).

Real data: :func:`load_npz` reads ``X`` [N, n, n] (SPD) and ``y`` [N] (integer labels), or the four arrays
``X_train, y_train, X_test, y_test``; a matrix that is not symmetric or not positive definite is reported with its
file, array and index and its smallest eigenvalue (:class:`SPDDataError`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

__all__ = [
    "Dataset",
    "SPDDataError",
    "goe",
    "class_means",
    "le_gaussian",
    "wishart",
    "grassmann_subspaces",
    "le_gaussian_bayes_rule",
    "wishart_bayes_rule",
    "grassmann_nearest_subspace_rule",
    "load_npz",
    "split_stratified",
    "ai_mean",
    "ai_center",
]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train/test arrays plus the reference accuracy of the Bayes (or reference) rule.

    ``X_*``: [N, n, n] SPD matrices, or [N, n, p] orthonormal bases for Grassmann data; ``y_*``: [N] int labels in
    0..num_classes−1. ``reference_mc`` / ``reference_test``: accuracy of the rule on fresh draws / on the test set
    (None for real data). ``reference_name``: "bayes" or "nearest subspace".
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    kind: str
    reference_name: str | None = None
    reference_mc: float | None = None
    reference_mc_se: float | None = None
    reference_test: float | None = None


class SPDDataError(ValueError):
    """An ``.npz`` file that cannot be used as SPD classification data; the message names file, array and index."""


# ---------------------------------------------------------------------------------------------------------------
# Generators


def goe(rng: np.random.Generator, shape, n: int) -> np.ndarray:
    """GOE(n) = (A + Aᵀ)/2, A iid N(0, 1): Frobenius-isotropic symmetric matrices, shape (*shape, n, n)."""
    a = rng.standard_normal((*tuple(shape), n, n))
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def class_means(rng: np.random.Generator, num_classes: int, n: int, delta: float) -> np.ndarray:
    """G_k = δ·Ĝ_k, Ĝ_k a GOE(n) draw scaled to unit Frobenius norm; shape (K, n, n)."""
    g = goe(rng, (num_classes,), n)
    return delta * g / np.linalg.norm(g, axis=(-2, -1), keepdims=True)


def _sym_fun(S: np.ndarray, fun) -> np.ndarray:
    lam, U = np.linalg.eigh(S)
    return (U * fun(lam)[..., None, :]) @ np.swapaxes(U, -1, -2)


def _labels(rng, num_classes, per_class):
    y = np.repeat(np.arange(num_classes), per_class)
    return y[rng.permutation(y.size)]


def le_gaussian_bayes_rule(log_x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """argmin_k ‖log X − G_k‖_F for log X [N, n, n] and G [K, n, n] → [N] labels."""
    d2 = np.sum((log_x[:, None] - means[None]) ** 2, axis=(-2, -1))
    return np.argmin(d2, axis=1)


def _le_log_samples(rng, means, sigma, y):
    n = means.shape[-1]
    return means[y] + sigma * goe(rng, (y.size,), n)


def _mc_accuracy(rng, num_classes, mc_samples, chunk, draw, rule):
    """Accuracy of ``rule`` on ``mc_samples`` fresh draws (in chunks), and its standard error."""
    correct = 0
    done = 0
    while done < mc_samples:
        m = min(chunk, mc_samples - done)
        y = rng.integers(0, num_classes, m)
        correct += int(np.sum(rule(draw(rng, y)) == y))
        done += m
    acc = correct / mc_samples
    return acc, float(np.sqrt(acc * (1 - acc) / mc_samples))


def le_gaussian(
    seed: int,
    *,
    n: int = 8,
    num_classes: int = 10,
    sigma: float = 0.35,
    delta: float = 1.0,
    train_per_class: int = 200,
    test_per_class: int = 1000,
    mc_samples: int = 100_000,
) -> Dataset:
    """The LE-Gaussian benchmark (gyro.md §D4 A): X = exp(G_y + σ·GOE(n)), with its Monte-Carlo Bayes accuracy."""
    rng = np.random.default_rng(seed)
    means = class_means(rng, num_classes, n, delta)
    y_train = _labels(rng, num_classes, train_per_class)
    y_test = _labels(rng, num_classes, test_per_class)
    log_train = _le_log_samples(rng, means, sigma, y_train)
    log_test = _le_log_samples(rng, means, sigma, y_test)
    test_acc = float(np.mean(le_gaussian_bayes_rule(log_test, means) == y_test))
    mc, se = _mc_accuracy(
        np.random.default_rng([seed, 1]),
        num_classes,
        mc_samples,
        20_000,
        lambda r, y: _le_log_samples(r, means, sigma, y),
        lambda lx: le_gaussian_bayes_rule(lx, means),
    )
    return Dataset(
        _sym_fun(log_train, np.exp),
        y_train,
        _sym_fun(log_test, np.exp),
        y_test,
        num_classes,
        "le_gaussian",
        "bayes",
        mc,
        se,
        test_acc,
    )


def wishart_bayes_rule(X: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """argmin_k log det Σ_k + tr(Σ_k⁻¹ X) (Wishart likelihood, equal priors) for X [N, n, n], Σ [K, n, n]."""
    inv = np.linalg.inv(covariances)
    _, logdet = np.linalg.slogdet(covariances)
    score = logdet[None] + np.einsum("kij,nji->nk", inv, X)
    return np.argmin(score, axis=1)


def _wishart_samples(rng, chol, y, frames, jitter):
    n = chol.shape[-1]
    z = rng.standard_normal((y.size, frames, n))
    x = np.einsum("nij,ntj->nti", chol[y], z)  # x_t = L_y z_t ~ N(0, Σ_y)
    X = np.einsum("nti,ntj->nij", x, x) / frames
    return X + jitter * np.eye(n)


def wishart(
    seed: int,
    *,
    n: int = 8,
    num_classes: int = 10,
    frames: int = 16,
    delta: float = 1.0,
    jitter: float = 0.0,
    train_per_class: int = 200,
    test_per_class: int = 1000,
    mc_samples: int = 100_000,
) -> Dataset:
    """The Wishart covariance-descriptor benchmark (gyro.md §D4 B), with its Monte-Carlo Bayes accuracy.

    ``jitter`` (εI) is needed when frames < n (the sample covariance is then singular).
    """
    if frames < n and jitter <= 0:
        raise ValueError(f"wishart: frames={frames} < n={n} gives singular covariances; set jitter > 0")
    rng = np.random.default_rng(seed)
    covariances = _sym_fun(class_means(rng, num_classes, n, delta), np.exp)
    chol = np.linalg.cholesky(covariances)
    y_train = _labels(rng, num_classes, train_per_class)
    y_test = _labels(rng, num_classes, test_per_class)
    X_train = _wishart_samples(rng, chol, y_train, frames, jitter)
    X_test = _wishart_samples(rng, chol, y_test, frames, jitter)
    test_acc = float(np.mean(wishart_bayes_rule(X_test, covariances) == y_test))
    mc, se = _mc_accuracy(
        np.random.default_rng([seed, 1]),
        num_classes,
        mc_samples,
        10_000,
        lambda r, y: _wishart_samples(r, chol, y, frames, jitter),
        lambda X: wishart_bayes_rule(X, covariances),
    )
    return Dataset(X_train, y_train, X_test, y_test, num_classes, "wishart", "bayes", mc, se, test_acc)


def grassmann_nearest_subspace_rule(U: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """argmin_k ‖θ(U, U_k)‖₂ (principal angles θ = arccos σ(UᵀU_k)) for U [N, n, p], U_k [K, n, p]."""
    s = np.linalg.svd(np.einsum("nip,kiq->nkpq", U, bases), compute_uv=False)
    theta = np.arccos(np.clip(s, -1.0, 1.0))
    return np.argmin(np.sum(theta**2, axis=-1), axis=1)


def _orthonormal(rng, shape, n, p):
    q, r = np.linalg.qr(rng.standard_normal((*tuple(shape), n, p)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def grassmann_class_bases(
    rng: np.random.Generator, num_classes: int, n: int, p: int, delta: float
) -> np.ndarray:
    """U_k = Exp_{I_{n,p}}([0; δ B̂_k]) = [V cos Σ Vᵀ; W sin Σ Vᵀ] with δB̂_k = W Σ Vᵀ (thin SVD), B̂_k Gaussian of unit
    Frobenius norm: class subspaces at geodesic distance δ from I_{n,p} (all principal angles ≤ δ); (K, n, p)."""
    B = rng.standard_normal((num_classes, n - p, p))
    B = delta * B / np.linalg.norm(B, axis=(-2, -1), keepdims=True)
    W, sig, Vt = np.linalg.svd(B, full_matrices=False)
    V = np.swapaxes(Vt, -1, -2)
    top = (V * np.cos(sig)[:, None, :]) @ Vt
    bottom = (W * np.sin(sig)[:, None, :]) @ Vt
    return np.concatenate([top, bottom], axis=-2)


def _grassmann_samples(rng, bases, y, noise):
    n, p = bases.shape[-2:]
    M = bases[y] + noise * rng.standard_normal((y.size, n, p))
    u, _, _ = np.linalg.svd(M, full_matrices=False)
    return u[..., :p]


def grassmann_subspaces(
    seed: int,
    *,
    n: int = 10,
    p: int = 3,
    num_classes: int = 10,
    delta: float = 1.0,
    noise: float = 0.3,
    train_per_class: int = 200,
    test_per_class: int = 1000,
    mc_samples: int = 100_000,
) -> Dataset:
    """Noisy class subspaces on Gr(n, p) (gyro.md §D4, Grassmann variant); reference = nearest class subspace.

    Class subspaces are drawn at geodesic distance ``delta`` from I_{n,p} (:func:`grassmann_class_bases`, the
    analogue of the SPD class means at distance δ from I); a sample of class y spans the top-p left singular
    vectors of U_y + noise·N.
    """
    rng = np.random.default_rng(seed)
    bases = grassmann_class_bases(rng, num_classes, n, p, delta)
    y_train = _labels(rng, num_classes, train_per_class)
    y_test = _labels(rng, num_classes, test_per_class)
    X_train = _grassmann_samples(rng, bases, y_train, noise)
    X_test = _grassmann_samples(rng, bases, y_test, noise)
    test_acc = float(np.mean(grassmann_nearest_subspace_rule(X_test, bases) == y_test))
    mc, se = _mc_accuracy(
        np.random.default_rng([seed, 1]),
        num_classes,
        mc_samples,
        20_000,
        lambda r, y: _grassmann_samples(r, bases, y, noise),
        lambda U: grassmann_nearest_subspace_rule(U, bases),
    )
    return Dataset(
        X_train, y_train, X_test, y_test, num_classes, "grassmann", "nearest subspace", mc, se, test_acc
    )


# ---------------------------------------------------------------------------------------------------------------
# Real data from .npz


def _check_spd(path, name, X, sym_rtol):
    if X.ndim != 3 or X.shape[1] != X.shape[2] or X.shape[1] < 1:
        raise SPDDataError(f"{path}: array {name!r} must have shape [N, n, n]; got {list(X.shape)}")
    if not np.issubdtype(X.dtype, np.floating):
        raise SPDDataError(f"{path}: array {name!r} must hold floats; got dtype {X.dtype}")
    X = X.astype(np.float64)
    finite = np.all(np.isfinite(X), axis=(1, 2))
    if not np.all(finite):
        i = int(np.argmin(finite))
        raise SPDDataError(f"{path}: {name}[{i}] has a non-finite entry (NaN or inf)")
    scale = np.maximum(np.max(np.abs(X), axis=(1, 2)), np.finfo(np.float64).tiny)
    asym = np.max(np.abs(X - np.swapaxes(X, 1, 2)), axis=(1, 2)) / scale
    if np.any(asym > sym_rtol):
        i = int(np.argmax(asym))
        raise SPDDataError(
            f"{path}: {name}[{i}] is not symmetric (max |X - Xᵀ| / max |X| = {asym[i]:.3g} > {sym_rtol:g})"
        )
    lam_min = np.linalg.eigvalsh(0.5 * (X + np.swapaxes(X, 1, 2)))[:, 0]
    bad = lam_min <= 0
    if np.any(bad):
        i = int(np.argmax(bad))
        raise SPDDataError(
            f"{path}: {name}[{i}] is not positive definite (smallest eigenvalue {lam_min[i]:.6g}; "
            f"{int(bad.sum())} of {X.shape[0]} matrices are not SPD). Regularise covariances with X + εI."
        )
    return X


def _check_labels(path, name, y, count):
    if y.ndim != 1 or y.shape[0] != count:
        raise SPDDataError(
            f"{path}: array {name!r} must have shape [{count}] (one label per matrix); got {list(y.shape)}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            bad = (
                int(np.argmax(~np.isfinite(y) | (y != np.round(y))))
                if np.issubdtype(y.dtype, np.floating)
                else 0
            )
            raise SPDDataError(f"{path}: {name} must hold integer class labels; {name}[{bad}] = {y[bad]!r}")
    return y.astype(np.int64)


def split_stratified(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with ``round(test_fraction·count)`` test samples from each class (≥ 1 train each)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        k = min(int(round(test_fraction * idx.size)), idx.size - 1)
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_npz(
    path: str | os.PathLike, *, test_fraction: float = 0.3, seed: int = 0, sym_rtol: float = 1e-6
) -> Dataset:
    """SPD classification data from an ``.npz`` file.

    The file holds either ``X`` [N, n, n] and ``y`` [N] (split here, stratified, ``test_fraction`` of each class
    to the test set, fixed by ``seed``) or ``X_train, y_train, X_test, y_test``. Matrices must be symmetric (to
    ``sym_rtol`` relative to their largest entry; they are then symmetrised) and positive definite; labels are
    integers (any values: they are mapped to 0..K−1 in sorted order).

    Raises:
      SPDDataError: naming the file, the array and the index of the first offending matrix (with its smallest
        eigenvalue if it is not positive definite), or the missing arrays and the ones present.
    """
    path = Path(path)
    if not path.is_file():
        raise SPDDataError(f"{path}: no such file")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise SPDDataError(f"{path}: not a readable .npz archive ({err})") from err
    with archive:
        names = set(archive.files)
        if {"X_train", "y_train", "X_test", "y_test"} <= names:
            X_train = _check_spd(path, "X_train", archive["X_train"], sym_rtol)
            X_test = _check_spd(path, "X_test", archive["X_test"], sym_rtol)
            y_train = _check_labels(path, "y_train", archive["y_train"], X_train.shape[0])
            y_test = _check_labels(path, "y_test", archive["y_test"], X_test.shape[0])
            if X_train.shape[1:] != X_test.shape[1:]:
                raise SPDDataError(
                    f"{path}: X_train matrices are {X_train.shape[1]}x{X_train.shape[2]} but X_test matrices are "
                    f"{X_test.shape[1]}x{X_test.shape[2]}"
                )
        elif {"X", "y"} <= names:
            X = _check_spd(path, "X", archive["X"], sym_rtol)
            y = _check_labels(path, "y", archive["y"], X.shape[0])
            train, test = split_stratified(y, test_fraction, seed)
            X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
        else:
            raise SPDDataError(
                f"{path}: expected arrays 'X' and 'y' (or 'X_train', 'y_train', 'X_test', 'y_test'); "
                f"found {sorted(names) or 'none'}"
            )
    classes = np.unique(np.concatenate([y_train, y_test]))
    if classes.size < 2:
        raise SPDDataError(f"{path}: need at least 2 classes; found labels {classes.tolist()}")
    lookup = {int(c): i for i, c in enumerate(classes)}
    remap = np.vectorize(lookup.__getitem__, otypes=[np.int64])
    sym = lambda A: 0.5 * (A + np.swapaxes(A, 1, 2))  # noqa: E731
    return Dataset(sym(X_train), remap(y_train), sym(X_test), remap(y_test), int(classes.size), "npz")


# ---------------------------------------------------------------------------------------------------------------
# Affine-invariant centering


def ai_mean(X: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Karcher mean of SPD matrices under the affine-invariant metric (float64 fixed point, from the arithmetic mean):

    M ← M^{1/2} exp(mean_i log(M^{-1/2} X_i M^{-1/2})) M^{1/2}, until ‖mean log‖_F < tol.
    """
    M = np.mean(X, axis=0)
    for _ in range(max_iter):
        root = _sym_fun(M, np.sqrt)
        inv_root = _sym_fun(M, lambda lam: 1.0 / np.sqrt(lam))
        S = np.mean(_sym_fun(inv_root @ X @ inv_root, np.log), axis=0)
        M = root @ _sym_fun(S, np.exp) @ root
        M = 0.5 * (M + M.T)
        if np.linalg.norm(S) < tol:
            break
    return M


def ai_center(ds: Dataset) -> Dataset:
    """X ↦ M^{-1/2} X M^{-1/2} on train and test, M = :func:`ai_mean` of the training matrices."""
    inv_root = _sym_fun(ai_mean(ds.X_train), lambda lam: 1.0 / np.sqrt(lam))

    def center(X):
        Y = inv_root @ X @ inv_root
        return 0.5 * (Y + np.swapaxes(Y, 1, 2))

    return dataclasses.replace(ds, X_train=center(ds.X_train), X_test=center(ds.X_test))
