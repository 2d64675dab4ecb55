"""What a trained algebraic-task net learned: per-neuron irreps, norm shares, logit attribution, ablation losses.

Built on :mod:`geomrep.algebra.fourier` (per-irrep power ``P_ρ``) and the character of each irrep:

- **Neurons** (MEOZK Thm 7/9, notes C3): the power of each neuron's ``u_i, v_i, w_i`` in each irrep, its dominant
  non-trivial irrep, whether ``u, v, w`` agree on it, and the share of ``Σ_i ‖ω_i‖^ν`` each irrep carries (MEOZK
  predict ``d_R^{2.5} / Σ d^{2.5}`` where Thm 9 holds, uniform over frequencies for ``Z_p``). For the CCN MLP the
  "neurons" are the columns of the total embeddings ``E_a W_1``, ``E_b W_2`` and the rows of ``W_U``.
- **Z_p phases** (Thm 7): ``arg û(ζ) + arg v̂(ζ) − arg ŵ(ζ) ≡ 0 (mod 2π)`` at each neuron's frequency ζ.
- **Logit attribution** (Chughtai et al. 2023 App. E; notes C4): the cosine ``sim_ρ`` between the logits centred over
  the output ``c`` and the character tensor ``χ_ρ(a b c⁻¹)``; key irreps have ``sim_ρ > 0.005``; the characters are
  orthogonal, so ``Σ_ρ sim_ρ²`` is the fraction of logit variance they explain.
- **Restricted / excluded loss** (CCN §5, notes C4), at the logits (any net) and at the MLP's hidden layer.

Irreps are passed explicitly (``reps = irreps(group)``); for a modular-addition task use :func:`task_group`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.algebra import groups
from geomrep.algebra.fourier import irrep_power
from geomrep.algebra.irreps import Irrep
from geomrep.algebra.models import architecture, as_params, mlp_preactivations_table, population_logits
from geomrep.algebra.tasks import PairTask, ParityTask

_HIGHEST = jax.lax.Precision.HIGHEST
KEY_IRREP_THRESHOLD = 0.005  # CCN §4 (`determine_key_reps`)


def task_group(task: PairTask) -> groups.Group:
    """The group of a pair task: ``task.group``, or ``Z_p`` (``groups.cyclic(p)``) for modular addition."""
    if task.group is not None:
        return task.group
    if task.family == "modular_addition":
        return groups.cyclic(task.modulus)
    raise ValueError(f"{task.name}: a pair task without a group")


# --------------------------------------------------------------------------------------------- neurons


class NeuronPowers(NamedTuple):
    """Per-neuron normalised power in each irrep, each ``[m, num_irreps]`` (rows sum to 1; zero vectors give 0).

    ``u``, ``v``: the input weights (quadratic net) or the total embeddings ``E_a W_1``, ``E_b W_2`` (CCN MLP);
    ``w``: the output weights / rows of ``W_U``; ``sq_norms``: ``[m, 3]``, the squared norms of ``u_i, v_i, w_i``.
    """

    u: jax.Array
    v: jax.Array
    w: jax.Array
    sq_norms: jax.Array

    @property
    def neuron(self) -> jax.Array:
        """The power of the whole neuron ``ω_i = (u_i, v_i, w_i)``: the norm-weighted mean of its three parts."""
        sq = self.sq_norms
        total = jnp.sum(sq, axis=1, keepdims=True)
        mixed = sq[:, :1] * self.u + sq[:, 1:2] * self.v + sq[:, 2:] * self.w
        return jnp.where(total > 0, mixed / jnp.where(total > 0, total, 1), 0)


def neuron_weights(params: Any) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(U, V, W)`` with the group on axis 0 and one neuron per column: ``u, v, wᵀ`` (quadratic net) or
    ``E_a W_1, E_b W_2, W_Uᵀ`` (CCN MLP)."""
    params = as_params(params)
    kind = architecture(params)
    if kind == "quadratic":
        return params["u"], params["v"], params["w"].T
    if kind == "mlp":
        pa, pb = mlp_preactivations_table(params, precision=_HIGHEST)
        return pa, pb, params["unembed"].T
    raise ValueError(
        "neuron irreps are defined for pair-task nets (quadratic net, CCN MLP), not the power net"
    )


def neuron_powers(params: Any, reps: Sequence[Irrep]) -> NeuronPowers:
    """The irrep power (:func:`geomrep.algebra.fourier.irrep_power`) of every neuron's ``u_i``, ``v_i``, ``w_i``."""
    u, v, w = neuron_weights(params)
    sq = jnp.stack([jnp.sum(x**2, axis=0) for x in (u, v, w)], axis=1)
    return NeuronPowers(*(irrep_power(x, reps, axis=0) for x in (u, v, w)), sq_norms=sq)


class NeuronReport(NamedTuple):
    """Summary of a net's neurons against the max-margin predictions (notes C3).

    Attributes:
      live: ``[m]`` bool, ``‖ω_i‖ > live_fraction · max_j ‖ω_j‖``.
      dominant: ``[m]`` int, the argmax over non-trivial irreps of the whole neuron's power (index into reps).
      max_power: ``[m, 3]``, ``max_ρ P_ρ`` of ``u_i, v_i, w_i``.
      same_dominant: ``[m]`` bool, the dominant non-trivial irreps of ``u_i, v_i, w_i`` agree.
      trivial_power: ``[m]``, the whole neuron's power in the trivial irrep.
      counts: ``[num_irreps]``, live neurons per dominant irrep.
      norm_shares: ``[num_irreps]``, share of ``Σ_i ‖ω_i‖^ν`` per dominant irrep (live neurons).
    """

    live: np.ndarray
    dominant: np.ndarray
    max_power: np.ndarray
    same_dominant: np.ndarray
    trivial_power: np.ndarray
    counts: np.ndarray
    norm_shares: np.ndarray

    def fraction_single_irrep(self, threshold: float = 0.9) -> float:
        """Share of live neurons whose ``u, v, w`` all have max power above ``threshold``."""
        ok = np.all(self.max_power > threshold, axis=1)
        return float(ok[self.live].mean())

    def fraction_same_dominant(self) -> float:
        """Share of live neurons whose ``u, v, w`` share their dominant irrep."""
        return float(self.same_dominant[self.live].mean())


def neuron_report(
    params: Any, reps: Sequence[Irrep], *, nu: float = 3.0, live_fraction: float = 1e-3
) -> NeuronReport:
    """Per-neuron irreps and per-irrep norm shares of a quadratic net or CCN MLP (host-side NumPy result)."""
    powers = neuron_powers(params, reps)
    u, v, w = (np.asarray(x, np.float64) for x in (powers.u, powers.v, powers.w))
    whole = np.asarray(powers.neuron, np.float64)
    sq = np.asarray(powers.sq_norms, np.float64)
    norms = np.sqrt(sq.sum(axis=1))
    live = norms > live_fraction * norms.max() if norms.max() > 0 else np.zeros_like(norms, bool)
    dominant = 1 + np.argmax(whole[:, 1:], axis=1) if len(reps) > 1 else np.zeros(len(norms), int)
    dom_parts = [1 + np.argmax(x[:, 1:], axis=1) for x in (u, v, w)] if len(reps) > 1 else [dominant] * 3
    same = (dom_parts[0] == dom_parts[1]) & (dom_parts[1] == dom_parts[2])
    counts = np.bincount(dominant[live], minlength=len(reps))
    mass = norms**nu * live
    shares = np.bincount(dominant, weights=mass, minlength=len(reps)) / max(mass.sum(), np.finfo(float).tiny)
    return NeuronReport(
        live=live,
        dominant=dominant,
        max_power=np.stack([x.max(axis=1) for x in (u, v, w)], axis=1),
        same_dominant=same,
        trivial_power=whole[:, 0],
        counts=counts,
        norm_shares=shares,
    )


def frequency_phase_errors(params: Any, task: PairTask) -> np.ndarray:
    """``(arg û(ζ) + arg v̂(ζ) − arg ŵ(ζ))`` wrapped to ``(−π, π]`` for every neuron of a quadratic net on ``Z_p``.

    ζ is the neuron's dominant frequency (the largest ``|û|² + |v̂|² + |ŵ|²`` over ``ζ = 1..(p−1)/2``) and
    ``f̂(j) = Σ_k f(k) e^{−2πijk/p}`` (MEOZK's DFT). Thm 7: every max-margin neuron has error 0.
    """
    params = as_params(params)
    if architecture(params) != "quadratic" or task.family != "modular_addition":
        raise ValueError("frequency_phase_errors needs a quadratic net on a modular-addition task")
    u, v, w = (np.asarray(x, np.float64) for x in (params["u"], params["v"], params["w"].T))
    fu, fv, fw = (np.fft.fft(x, axis=0) for x in (u, v, w))  # [p, m]
    half = (task.modulus - 1) // 2
    amp = sum(np.abs(f[1 : half + 1]) ** 2 for f in (fu, fv, fw))
    zeta = 1 + np.argmax(amp, axis=0)
    cols = np.arange(u.shape[1])
    phase = np.angle(fu[zeta, cols]) + np.angle(fv[zeta, cols]) - np.angle(fw[zeta, cols])
    return np.angle(np.exp(1j * phase))


def parity_neuron_share(params: Any, task: ParityTask, *, tol: float = 0.05) -> float:
    """Share of ``Σ_i ‖ω_i‖^{k+1}`` in neurons of the shape MEOZK Thm 8 proves for every max-margin neuron.

    A neuron ``(u_i, w_i)`` of the ``x^k`` net qualifies when, within ``tol``: ``spt(u_i) = S``
    (``max_{j∉S} |u_j| <= tol · min_{j∈S} |u_j|``), ``|u_j| / ‖w_i‖ ∈ [1 − tol, 1 + tol]`` for ``j ∈ S``,
    ``w_i ∥ [1, −1]`` (``|w_i · [1, 1]| <= tol · sqrt(2) ‖w_i‖``), and the sign rule
    ``(Π_{j∈S} u_j) (w_i · [1, −1]) >= 0`` holds.
    """
    params = as_params(params)
    if architecture(params) != "power" or not isinstance(task, ParityTask):
        raise ValueError("parity_neuron_share needs a power net on a sparse-parity task")
    u = np.asarray(params["u"], np.float64)  # [n, m]
    w = np.asarray(params["w"], np.float64)  # [m, 2]
    support = np.asarray(task.support)
    off = np.setdiff1d(np.arange(task.n), support)
    on = np.abs(u[support])  # [k, m]
    w_norm = np.linalg.norm(w, axis=1)
    off_max = np.abs(u[off]).max(axis=0) if off.size else np.zeros(u.shape[1])
    ok = off_max <= tol * on.min(axis=0)
    ok &= np.all(np.abs(on / np.maximum(w_norm, 1e-300) - 1.0) <= tol, axis=0)
    ok &= np.abs(w.sum(axis=1)) <= tol * np.sqrt(2.0) * w_norm
    ok &= np.prod(u[support], axis=0) * (w[:, 0] - w[:, 1]) >= 0
    mass = (np.sum(u**2, axis=0) + w_norm**2) ** ((task.k + 1) / 2)
    return float(mass[ok].sum() / mass.sum())


def wrong_logit_spread(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """``(max − min of the wrong logits) / margin`` per example: 0 when every wrong logit is equal (notes C5)."""
    labels = jnp.asarray(labels)
    wrong = jax.nn.one_hot(labels, logits.shape[1], dtype=bool)
    top = jnp.max(jnp.where(wrong, -jnp.inf, logits), axis=1)
    bottom = jnp.min(jnp.where(wrong, jnp.inf, logits), axis=1)
    correct = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    return (top - bottom) / (correct - top)


# --------------------------------------------------------------------------------------------- logits


def _difference_index(group: groups.Group) -> np.ndarray:
    """``D[x, c]`` = index of ``x c⁻¹``, shape ``[n, n]``."""
    return group.table[:, group.inverses]


def logit_similarity(logits: jax.Array, task: PairTask, reps: Sequence[Irrep]) -> jax.Array:
    """``sim_ρ = ⟨L̃, K_ρ⟩ / (‖L̃‖ ‖K_ρ‖)`` for each irrep (CCN App. E; notes C4), shape ``[num_irreps]``.

    ``L̃[a, b, c] = L[a, b, c] − mean_c L[a, b, c]`` (logits ``[n², n]`` on the whole population in task order) and
    ``K_ρ[a, b, c] = χ_ρ(a b c⁻¹)``. Computed without the ``n³`` tensor: ``⟨L̃, K_ρ⟩ = Σ_g χ_ρ(g) B[g]`` with
    ``B[g] = Σ_{(a, b, c): a b c⁻¹ = g} L̃[a, b, c]`` and ``‖K_ρ‖² = n² Σ_g χ_ρ(g)²``.
    """
    diff = _difference_index(task_group(task))[np.asarray(task.labels)]  # [n², n]: index of (ab) c⁻¹
    chars = np.stack([r.character for r in reps])  # [R, n]
    return _similarity(logits, jnp.asarray(diff), jnp.asarray(chars, logits.dtype))


@jax.jit
def _similarity(logits, diff, chars):
    n = chars.shape[1]
    centred = logits - jnp.mean(logits, axis=1, keepdims=True)
    b = jax.ops.segment_sum(centred.reshape(-1), diff.reshape(-1), num_segments=n)
    dots = jnp.matmul(chars, b, precision=_HIGHEST)
    k_norms = n * jnp.sqrt(jnp.sum(chars**2, axis=1))
    norm = jnp.sqrt(jnp.sum(centred**2))
    return dots / (k_norms * jnp.where(norm > 0, norm, 1))


def key_irreps(similarities: Any, threshold: float = KEY_IRREP_THRESHOLD) -> np.ndarray:
    """Indices of the irreps with ``sim_ρ > threshold`` (CCN: 0.005)."""
    return np.flatnonzero(np.asarray(similarities) > threshold)


def _character_tensor(task: PairTask, rep: Irrep, dtype) -> jax.Array:
    """``K_ρ`` as ``[n², n]`` (task order), normalised to unit Frobenius norm."""
    diff = _difference_index(task_group(task))[np.asarray(task.labels)]
    k = np.asarray(rep.character)[diff]
    return jnp.asarray(k / np.linalg.norm(k), dtype)


def restricted_logits(
    logits: jax.Array, task: PairTask, reps: Sequence[Irrep], key: Sequence[int]
) -> jax.Array:
    """The projection of the centred logits on the character tensors of the ``key`` irreps (logit-level
    restriction, notes C4): ``Σ_{ρ ∈ key} ⟨L̃, K̂_ρ⟩ K̂_ρ``."""
    if len(key) == 0:
        return jnp.zeros_like(logits)
    kmats = jnp.stack([_character_tensor(task, reps[int(i)], logits.dtype) for i in key])
    return _project_on_characters(logits, kmats)


@jax.jit
def _project_on_characters(logits, kmats):
    centred = logits - jnp.mean(logits, axis=1, keepdims=True)
    coeffs = jnp.einsum("kxc,xc->k", kmats, centred, precision=_HIGHEST)
    return jnp.einsum("k,kxc->xc", coeffs, kmats, precision=_HIGHEST)


def excluded_logits(
    logits: jax.Array, task: PairTask, reps: Sequence[Irrep], key: Sequence[int]
) -> jax.Array:
    """The logits minus their :func:`restricted_logits` part (logit-level exclusion)."""
    return logits - restricted_logits(logits, task, reps, key)


def _product_basis(task: PairTask, reps: Sequence[Irrep], which: Sequence[int]) -> jax.Array:
    """An orthonormal basis (SVD) of the span over pairs of the entries of ``ρ(ab)`` for the irreps ``which``.

    Rank-revealing, because the ``d²`` entries of a complex- or quaternionic-type irrep span only ``d²/2`` or
    ``d²/4`` functions."""
    labels = np.asarray(task.labels)
    cols = [np.asarray(reps[int(i)].matrices)[labels].reshape(labels.size, -1) for i in which]
    u, s, _ = np.linalg.svd(np.concatenate(cols, axis=1), full_matrices=False)
    return jnp.asarray(u[:, s > 1e-9 * s.max()])


def _cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


class AblationLosses(NamedTuple):
    """Cross-entropies of ablated nets (CCN §5; notes C4).

    ``restricted``: keep only the key irreps (and the mean), evaluated on all pairs; ``excluded``: remove the key
    irreps, evaluated on the train split; ``full``: the unablated loss on all pairs.
    """

    full: float
    restricted: float
    excluded: float


def logit_ablation_losses(
    params: Any, task: PairTask, reps: Sequence[Irrep], key: Sequence[int]
) -> AblationLosses:
    """Restricted/excluded loss with the logits projected on / off the key irreps' character tensors.

    The restricted logits keep the per-pair mean over ``c`` (it does not change the loss)."""
    logits = population_logits(params, task, precision=_HIGHEST)
    restricted = restricted_logits(logits, task, reps, key)
    losses = _logit_ablation(logits, restricted, jnp.asarray(task.labels), jnp.asarray(task.train_idx))
    return AblationLosses(*(float(x) for x in losses))


@jax.jit
def _logit_ablation(logits, restricted, labels, train):
    excluded = logits - restricted
    return (
        _cross_entropy(logits, labels),
        _cross_entropy(restricted, labels),
        _cross_entropy(excluded[train], labels[train]),
    )


def hidden_ablation_losses(
    params: Any, task: PairTask, reps: Sequence[Irrep], key: Sequence[int]
) -> AblationLosses:
    """Restricted/excluded loss of the CCN MLP with its hidden activations projected on / off ``ρ(ab)``.

    ``H`` (``[n², H]``, all pairs) is projected on ``Q``, an orthonormal basis of the entries of ``ρ(ab)`` over the
    pairs for the key irreps (CCN App. E); the trivial irrep (the mean activation) is kept in the restricted net
    and left in the excluded one. Then logits ``= H' W_U``.
    """
    params = as_params(params)
    if architecture(params) != "mlp":
        raise ValueError("hidden_ablation_losses is for the CCN MLP (a hidden layer before the unembedding)")
    n = task.num_symbols
    dtype = params["unembed"].dtype
    key = [int(i) for i in key if int(i) != 0]
    q_key = _product_basis(task, reps, key).astype(dtype) if key else jnp.zeros((n * n, 0), dtype)
    q_keep = _product_basis(task, reps, [0, *key]).astype(dtype)
    losses = _hidden_ablation(params, q_key, q_keep, jnp.asarray(task.labels), jnp.asarray(task.train_idx))
    return AblationLosses(*(float(x) for x in losses))


@jax.jit
def _hidden_ablation(params, q_key, q_keep, labels, train):
    pa, pb = mlp_preactivations_table(params, precision=_HIGHEST)
    n = pa.shape[0]
    hidden = jax.nn.relu(pa[:, None, :] + pb[None, :, :]).reshape(n * n, -1)
    restricted = jnp.matmul(q_keep, jnp.matmul(q_keep.T, hidden, precision=_HIGHEST), precision=_HIGHEST)
    excluded = hidden - jnp.matmul(q_key, jnp.matmul(q_key.T, hidden, precision=_HIGHEST), precision=_HIGHEST)
    unembed = params["unembed"]
    return (
        _cross_entropy(jnp.matmul(hidden, unembed, precision=_HIGHEST), labels),
        _cross_entropy(jnp.matmul(restricted, unembed, precision=_HIGHEST), labels),
        _cross_entropy(jnp.matmul(excluded[train], unembed, precision=_HIGHEST), labels[train]),
    )


def embedding_fve(weights: jax.Array, reps: Sequence[Irrep], *, axis: int = 0) -> jax.Array:
    """Fraction of ``‖W‖_F²`` in each irrep, with the group on ``axis`` (CCN "FVE" of embeddings, Table 1)."""
    power = irrep_power(weights, reps, axis=axis, normalize=False)
    return jnp.sum(power, axis=0) / jnp.sum(weights**2)
