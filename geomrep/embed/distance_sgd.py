"""Distance-fitting SGD: embed a (possibly incomplete) distance matrix by Riemannian gradient descent on a product
of hyperbolic, spherical and Euclidean factors (Sala, De Sa, Gu & Ré 2018, "Representation Tradeoffs for Hyperbolic
Embeddings", ICML, §5 "PyTorch"; reference code HazyResearch/hyperbolics ``pytorch/pytorch_hyperbolic.py``).

The loss over the sampled pairs P (notes §A.2; the reference's default, w_ij = 1):

    L(x, s) = (1/Σ w) Σ_{(i,j) ∈ P} w_ij ( d_M(x_i, x_j) / (s · d_ij) − 1 )²,    w_ij = exp(−γ (d_ij − 1)),

with d_M the product distance √(Σ_k d_k²) of ``geomrep.manifolds.Product`` (or any single manifold value), d_ij the
target distance and s > 0 the scale (learned as log s unless ``learn_scale=False``): the embedding's distances
divided by s approximate the targets, the convention of :mod:`geomrep.embed.metrics` (``scale=s``). The weights
are the reference's ``--exponential-rescale`` γ (``distance_decay``; 0, the reference's default, weighs every pair
alike, γ > 0 favours near pairs, which is what a neighbour ranking (graph MAP) rewards). The reference sums over
the batch; the weighted mean here only rescales the learning rate.

Sampling (the reference's row subsampler): each epoch visits every row i once, in shuffled mini-batches of rows;
row i contributes all its graph neighbours (``edges``) plus ``num_samples`` uniformly drawn other nodes j ≠ i,
fresh every step. Targets that are NaN, inf or 0 are *unknown* and carry no weight, so a matrix with only some
entries known (incomplete distance information) works directly.

The points start from a warm start (:func:`warm_start_points`: the Poincaré coordinates of h-MDS or the
combinatorial construction, with their scale) or near the origin. Updates are Riemannian Adam or SGD
(:func:`geomrep.optim.radam` / :func:`geomrep.optim.rsgd`) on the label pytree ``{"points": manifold,
"log_scale": Euclidean()}``; one epoch is one jitted ``lax.scan`` over its mini-batches.

>>> import numpy as np
>>> from geomrep.manifolds import PoincareBall
>>> d = np.array([[0.0, 1, 2], [1, 0, 1], [2, 1, 0]])  # a path of three nodes
>>> fit = fit_distances(d, PoincareBall(1.0), dim=2, epochs=300, lr=0.05, num_samples=2, batch_size=3, seed=0)
>>> bool(fit.losses[-1] < 1e-3)
True
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import Euclidean, Lorentz, PoincareBall, Product
from geomrep.optim import apply_updates, radam, rsgd

__all__ = [
    "DistanceProblem",
    "DistanceSGDResult",
    "distance_loss",
    "distance_problem",
    "fit_distances",
    "init_params",
    "make_epoch_fn",
    "make_optimizer",
    "warm_start_points",
]


class DistanceProblem(NamedTuple):
    """Device arrays of one fitting problem (a pytree, passed to the jitted epoch)."""

    distances: jax.Array  # (n, n) targets d_ij; NaN / inf / 0 off the diagonal = unknown (weight 0)
    neighbours: jax.Array  # (n, K) int32 graph neighbours of each row, padded with -1 (K ≥ 1)


class DistanceSGDResult(NamedTuple):
    """Result of :func:`fit_distances`."""

    points: np.ndarray  # (n, ambient size) points of the manifold
    scale: float  # s: the embedding's distances divided by s fit the targets
    losses: np.ndarray  # (epochs,) mean loss of each epoch


def distance_problem(distances, edges=None, *, dtype=None) -> DistanceProblem:
    """Validate the targets and build the neighbour table.

    Args:
      distances: (n, n) target distances, symmetric where known; NaN, inf or 0 off the diagonal mark unknown
        entries. Negative entries are an error naming the first one.
      edges: (m, 2) integer graph edges whose pairs are always in the loss (undirected; self-loops ignored), or
        None for the nearest neighbours of each row under ``distances`` (the pairs a graph MAP ranks).
      dtype: dtype of the stored targets (default: float64 when x64 is on, else float32).
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
        raise ValueError(f"distances must be an (n, n) matrix with n >= 2; got shape {d.shape}")
    n = d.shape[0]
    negative = d < 0
    if negative.any():
        i, j = np.argwhere(negative)[0]
        raise ValueError(f"distances[{i}, {j}] = {d[i, j]} is negative")
    known = np.isfinite(d) & (d > 0)
    np.fill_diagonal(known, False)
    if not known.any(axis=1).all():
        i = int(np.argmin(known.any(axis=1)))
        raise ValueError(f"row {i} of distances has no known positive entry: nothing to fit node {i} to")
    if edges is None:
        masked = np.where(known, d, np.inf)
        i, j = np.nonzero(masked == masked.min(axis=1, keepdims=True))
        pairs = np.stack([i, j], axis=1)
    else:
        pairs = np.asarray(edges, dtype=np.int64)
        if pairs.ndim != 2 or pairs.shape[1] != 2 or (len(pairs) and (pairs.min() < 0 or pairs.max() >= n)):
            raise ValueError(
                f"edges must be an (m, 2) array of node ids in [0, {n}); got shape {pairs.shape}"
            )
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        pairs = np.concatenate([pairs, pairs[:, ::-1]])
    pairs = np.unique(pairs, axis=0)
    counts = np.bincount(pairs[:, 0], minlength=n)
    width = max(1, int(counts.max(initial=0)))
    table = np.full((n, width), -1, np.int32)
    slot = np.arange(len(pairs)) - np.repeat(np.cumsum(counts) - counts, counts)
    table[pairs[:, 0], slot] = pairs[:, 1]
    dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    return DistanceProblem(jnp.asarray(d, dtype), jnp.asarray(table))


def _hyperbolic_factor(manifold):
    """(index, factor) of the first Poincaré/Lorentz factor, index None for a single manifold."""
    if isinstance(manifold, (PoincareBall, Lorentz)):
        return None, manifold
    if isinstance(manifold, Product):
        for i, factor in enumerate(manifold.factors):
            if isinstance(factor, (PoincareBall, Lorentz)):
                return i, factor
    raise ValueError(f"a warm start needs a hyperbolic factor (PoincareBall or Lorentz); got {manifold!r}")


def warm_start_points(poincare, manifold, *, scale: float = 1.0, key=None, std: float = 1e-3, dtype=None):
    """Points of ``manifold`` from the Poincaré coordinates (curvature −1) of another embedding, and the scale.

    ``poincare`` (n, k) are coordinates in the unit ball whose distances divided by ``scale`` fit the targets (an
    h-MDS or combinatorial result). They go into the first hyperbolic factor (of dimension k) with curvature −c
    as p/√c (the ball of radius 1/√c; distances shrink by 1/√c, so the scale becomes scale/√c), mapped to the
    hyperboloid for a ``Lorentz`` factor; other factors start at ``factor.random(..., std)`` near their origin.

    Returns:
      ((n, ambient) points, scale) ready for :func:`init_params`.
    """
    p = np.asarray(poincare, dtype=np.float64)
    index, factor = _hyperbolic_factor(manifold)
    dims = manifold.dims if index is not None else (p.shape[1],)
    k = dims[index or 0]
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(
            f"warm start has shape {p.shape}; the hyperbolic factor of {manifold!r} needs (n, {k})"
        )
    dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    root_c = math.sqrt(factor.c)
    hyperbolic = jnp.asarray(p / root_c, dtype)
    if isinstance(factor, Lorentz):
        hyperbolic = factor.from_poincare(hyperbolic)
    hyperbolic = factor.proj(hyperbolic)
    if index is None:
        return hyperbolic, scale / root_c
    key = jax.random.key(0) if key is None else key
    parts = []
    for i, (f, dim) in enumerate(zip(manifold.factors, manifold.dims, strict=True)):
        if i == index:
            parts.append(hyperbolic)
        else:
            parts.append(
                f.random(jax.random.fold_in(key, i), (p.shape[0], f.ambient_dim(dim)), dtype, std=std)
            )
    return jnp.concatenate(parts, axis=-1), scale / root_c


def init_params(points, scale: float = 1.0) -> dict:
    """``{"points": points, "log_scale": log s}`` (the trained pytree)."""
    points = jnp.asarray(points)
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number; got {scale}")
    return {"points": points, "log_scale": jnp.asarray(math.log(scale), points.dtype)}


def distance_loss(params, manifold, rows, cols, targets, weights, *, learn_scale: bool = True):
    """(1/Σw) Σ w (d_M(x_rows, x_cols) / (s · targets) − 1)² over a batch of pairs (module docstring; ``weights``
    already hold the γ factor and are 0 for unknown or padded pairs).

    Shapes: rows, cols (b, k) int; targets, weights (b, k). Pairs with weight 0 contribute nothing, also to the
    gradient (their targets are replaced by 1 before dividing).
    """
    x = params["points"]
    log_scale = params["log_scale"] if learn_scale else jax.lax.stop_gradient(params["log_scale"])
    d = manifold.dist(x[rows], x[cols]) * jnp.exp(-log_scale)
    safe_targets = jnp.where(weights > 0, targets, 1)
    residual = d / safe_targets - 1
    return jnp.sum(weights * residual**2) / jnp.maximum(jnp.sum(weights), 1)


def make_epoch_fn(
    manifold,
    tx,
    *,
    num_nodes: int,
    batch_size: int,
    num_samples: int,
    learn_scale: bool = True,
    distance_decay: float = 0.0,
):
    """A pure epoch ``run(params, opt_state, problem, key) -> (params, opt_state, mean loss)``; jit it.

    Rows are shuffled by ``key`` and split into ⌈n / batch_size⌉ mini-batches (the last one padded with masked
    rows); each step samples ``num_samples`` columns per row with ``fold_in(key, step)`` and takes one Riemannian
    step of ``tx`` (an optax transformation from :mod:`geomrep.optim`) on ``{"points": manifold, "log_scale":
    Euclidean()}``. The steps run inside one ``lax.scan``.
    """
    if batch_size < 1 or num_samples < 0:
        raise ValueError(f"batch_size must be >= 1 and num_samples >= 0; got {batch_size}, {num_samples}")
    steps = -(-num_nodes // batch_size)
    labels = {"points": manifold, "log_scale": Euclidean()}
    loss_fn = functools.partial(distance_loss, manifold=manifold, learn_scale=learn_scale)

    def run(params, opt_state, problem: DistanceProblem, key):
        order_key, sample_key = jax.random.split(key)
        order = jax.random.permutation(order_key, num_nodes)
        order = jnp.pad(order, (0, steps * batch_size - num_nodes), constant_values=-1).reshape(
            steps, batch_size
        )

        def step(carry, inputs):
            params, opt_state = carry
            batch, index = inputs
            valid_row = batch >= 0
            rows = jnp.where(valid_row, batch, 0)
            neighbours = problem.neighbours[rows]  # (b, K)
            drawn = jax.random.randint(
                jax.random.fold_in(sample_key, index), (batch_size, num_samples), 0, num_nodes - 1
            )
            drawn = drawn + (drawn >= rows[:, None])  # uniform over j ≠ i
            cols = jnp.concatenate([neighbours, drawn], axis=1)
            valid = valid_row[:, None] & (cols >= 0)
            cols = jnp.where(valid, cols, 0)
            targets = problem.distances[rows[:, None], cols]
            known = valid & jnp.isfinite(targets) & (targets > 0)
            targets = jnp.where(known, targets, 1)
            weights = jnp.where(known, jnp.exp(-distance_decay * (targets - 1)), 0).astype(targets.dtype)
            row_ids = jnp.broadcast_to(rows[:, None], cols.shape)
            loss, grads = jax.value_and_grad(loss_fn)(
                params, rows=row_ids, cols=cols, targets=targets, weights=weights
            )
            updates, opt_state = tx.update(grads, opt_state, params)
            params = apply_updates(params, updates, labels)
            return (params, opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (order, jnp.arange(steps)))
        return params, opt_state, jnp.mean(losses)

    return run


def make_optimizer(name: str, lr, manifold):
    """``radam`` or ``rsgd`` from :mod:`geomrep.optim` over ``{"points": manifold, "log_scale": Euclidean()}``."""
    labels = {"points": manifold, "log_scale": Euclidean()}
    if name == "radam":
        return radam(lr, labels)
    if name == "rsgd":
        return rsgd(lr, labels)
    raise ValueError(f"optimizer must be 'radam' or 'rsgd'; got {name!r}")


def fit_distances(
    distances,
    manifold,
    *,
    dim: int | None = None,
    edges=None,
    init=None,
    scale: float = 1.0,
    learn_scale: bool = True,
    distance_decay: float = 0.0,
    epochs: int = 100,
    batch_size: int = 64,
    num_samples: int = 32,
    lr: float = 0.01,
    optimizer: str = "radam",
    seed: int = 0,
    init_std: float = 1e-3,
    dtype=None,
) -> DistanceSGDResult:
    """Fit points of ``manifold`` to target distances (module docstring): the whole loop in one call.

    Args:
      distances: (n, n) targets (NaN / inf / 0 off the diagonal = unknown); see :func:`distance_problem`.
      manifold: a manifold value (``PoincareBall``, ``Lorentz``, ``Sphere``, ``Euclidean``) or a ``Product``.
      dim: for a single manifold without ``init``, its dimension (a ``Product`` knows its own).
      edges: graph edges always in the loss, or None for each row's nearest neighbours.
      init: warm-start points of ``manifold`` (e.g. from :func:`warm_start_points`, with ``scale``), or None for
        ``manifold.random(std=init_std)`` near the origin.
      scale: the initial s (the warm start's scale).
      learn_scale: learn s jointly (as log s) or keep it fixed.
      distance_decay: γ ≥ 0 of the pair weights exp(−γ (d_ij − 1)).
      epochs, batch_size, num_samples, lr, optimizer, seed: the loop (``optimizer`` = "radam" | "rsgd").
      dtype: of points and targets (default: float64 with x64 on, else float32).

    Returns:
      :class:`DistanceSGDResult` (NumPy points, the final scale, per-epoch mean losses).
    """
    problem = distance_problem(distances, edges, dtype=dtype)
    n = problem.distances.shape[0]
    dtype = problem.distances.dtype
    key = jax.random.key(seed)
    if init is None:
        if isinstance(manifold, Product):
            ambient = manifold.ambient_size
        elif dim is None:
            raise ValueError("dim is needed for a single manifold without init")
        else:
            ambient = manifold.ambient_dim(dim) if hasattr(manifold, "ambient_dim") else dim
        init = manifold.random(jax.random.fold_in(key, 1), (n, ambient), dtype, std=init_std)
    init = jnp.asarray(init, dtype)
    if init.ndim != 2 or init.shape[0] != n:
        raise ValueError(f"init must hold one point per node, ({n}, ambient); got shape {init.shape}")
    params = init_params(init, scale)
    tx = make_optimizer(optimizer, lr, manifold)
    run = jax.jit(
        make_epoch_fn(
            manifold,
            tx,
            num_nodes=n,
            batch_size=batch_size,
            num_samples=num_samples,
            learn_scale=learn_scale,
            distance_decay=distance_decay,
        ),
        donate_argnums=(0, 1),
    )
    opt_state = tx.init(params)
    losses = []
    for epoch in range(epochs):
        params, opt_state, loss = run(params, opt_state, problem, jax.random.fold_in(key, epoch))
        losses.append(float(loss))
    points = np.asarray(params["points"])
    if not np.isfinite(points).all() or not np.isfinite(losses[-1]):
        raise FloatingPointError("distance SGD diverged (non-finite points or loss): lower lr")
    return DistanceSGDResult(
        points=points, scale=float(np.exp(params["log_scale"])), losses=np.asarray(losses)
    )
