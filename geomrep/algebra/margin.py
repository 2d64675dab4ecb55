"""Margins of the algebraic-task nets: normalised margin, the theoretical optimum γ*, the constructions reaching it.

Definitions (Morwani, Edelman, Oncescu, Zhao & Kakade 2023, "MEOZK", p4-3..p4-5):

- margin of an example ``g(θ, x, y) = f(θ, x)[y] − max_{y' ≠ y} f(θ, x)[y']``; the net's margin is the minimum
  over the **full population** of the task;
- normalised margin ``γ(θ) = min_x g(θ, x, y) / ‖θ‖_{2,ν}^ν`` where ``‖θ‖_{2,ν}^ν = Σ_i ‖ω_i‖_2^ν`` sums over the
  hidden neurons (``ω_i`` = all of neuron ``i``'s weights) and ν is the net's homogeneity degree: 3 for the
  quadratic net (``Z_p``, groups) and the CCN MLP, ``k + 1`` for the ``x^k`` parity net (notes C5);
- γ* = the maximum of γ over all widths, in closed form for ``Z_p`` (Thm 7), sparse parity (Thm 8) and groups
  whose irreps are all real and satisfy Thm 9's class condition.

Where Thm 9's condition fails (A5, S6), :func:`irrep_lp_margin` gives the best margin of nets built from
single-irrep blocks (an LP over the block weights, notes C5 "Beyond Thm 9"): a certificate that the formula value
is not the maximum there.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.algebra.irreps import character_table, irreps
from geomrep.algebra.models import architecture, as_params, population_logits
from geomrep.algebra.tasks import HypothesisWarning, PairTask, ParityTask, is_prime

_NORMS = ("auto", "l2nu", "l2")


class TheoremHypothesisError(ValueError):
    """γ* was asked for a task outside the hypotheses of the theorem that gives it; the message names them."""


# --------------------------------------------------------------------------------------------- margins


def example_margins(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """``g_i = logits[i, y_i] − max_{c ≠ y_i} logits[i, c]`` for every row ``i`` (MEOZK p4-5), shape ``[N]``."""
    labels = jnp.asarray(labels)
    correct = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
    others = jnp.where(jax.nn.one_hot(labels, logits.shape[1], dtype=bool), -jnp.inf, logits)
    return correct - jnp.max(others, axis=1)


def homogeneity(params: Any, task: PairTask | ParityTask) -> int:
    """ν with ``f(tθ) = t^ν f(θ)``: 3 for the quadratic net and the CCN MLP, ``k + 1`` for the ``x^k`` net."""
    kind = architecture(params)
    if kind == "power":
        if not isinstance(task, ParityTask):
            raise ValueError(f"a power net (keys u, w) belongs to a sparse-parity task, not {task.name}")
        return task.k + 1
    return 3


def neuron_norms(params: Any) -> jax.Array:
    """``‖ω_i‖_2`` for each hidden neuron of a quadratic net (``ω_i = (u_i, v_i, w_i)``) or power net (``(u_i, w_i)``)."""
    params = as_params(params)
    kind = architecture(params)
    if kind == "mlp":
        raise ValueError(
            "the CCN MLP shares its embeddings between hidden neurons, so it has no per-neuron L_{2,nu} norm; "
            "use norm='l2'"
        )
    sq = jnp.sum(params["u"] ** 2, axis=0) + jnp.sum(params["w"] ** 2, axis=1)
    if kind == "quadratic":
        sq = sq + jnp.sum(params["v"] ** 2, axis=0)
    return jnp.sqrt(sq)


def norm_power(params: Any, nu: float, *, norm: str = "l2nu") -> jax.Array:
    """``‖θ‖_{2,ν}^ν = Σ_i ‖ω_i‖_2^ν`` (``norm="l2nu"``, MEOZK) or ``‖θ‖_2^ν`` over all parameters (``"l2"``, Lyu–Li).

    The L_{2,ν} form is written as ``Σ_i (‖ω_i‖²)^{ν/2}`` so its gradient is finite (zero) at a dead neuron.
    """
    params = as_params(params)
    if norm == "l2":
        return sum(jnp.sum(p**2) for p in params.values()) ** (nu / 2)
    if norm != "l2nu":
        raise ValueError(f"norm={norm!r} must be 'l2nu' or 'l2'")
    kind = architecture(params)
    if kind == "mlp":
        neuron_norms(params)  # raises the explanation
    sq = jnp.sum(params["u"] ** 2, axis=0) + jnp.sum(params["w"] ** 2, axis=1)
    if kind == "quadratic":
        sq = sq + jnp.sum(params["v"] ** 2, axis=0)
    return jnp.sum(sq ** (nu / 2))


def normalized_margin(
    params: Any,
    task: PairTask | ParityTask,
    *,
    norm: str = "auto",
    examples: np.ndarray | None = None,
) -> jax.Array:
    """``γ(θ) = min_x g(θ, x, y) / ‖θ‖^ν`` on the task's population (MEOZK p4-5; notes C5).

    Args:
      params: a parameter dict or NNX module from :mod:`geomrep.algebra.models`.
      task: the task; the margin is taken over all of its examples (the theorems' setting).
      norm: ``"l2nu"`` (``Σ_i ‖ω_i‖^ν``, the norm of MEOZK's theorems), ``"l2"`` (``‖θ‖_2^ν``, the Lyu–Li
        implicit bias of unregularised GD), or ``"auto"``: ``"l2nu"`` for the quadratic and power nets, ``"l2"``
        for the CCN MLP (whose shared embeddings have no per-neuron norm).
      examples: optional indices into the population (e.g. ``task.train_idx``) to take the minimum over.

    Returns:
      A scalar in the parameters' dtype (jittable). Negative when some example is misclassified; invariant
      under ``θ -> tθ`` for ``t > 0``.

    Example:
      >>> from geomrep.algebra.tasks import modular_addition
      >>> task = modular_addition(7)
      >>> bool(jnp.isclose(normalized_margin(modular_addition_construction(7), task), gamma_star(task)))
      True
    """
    if norm not in _NORMS:
        raise ValueError(f"norm={norm!r} must be one of {list(_NORMS)}")
    params = as_params(params)
    if norm == "auto":
        norm = "l2" if architecture(params) == "mlp" else "l2nu"
    if norm == "l2nu":
        neuron_norms(params)  # a clear error for the MLP before tracing
    nu = homogeneity(params, task)
    examples = None if examples is None else jnp.asarray(examples)
    return _normalized_margin(params, examples, task, norm, nu)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _normalized_margin(params, examples, task, norm, nu):
    # One compiled program per task object and shapes (tasks hash by identity), not one per primitive.
    logits = population_logits(params, task, precision=jax.lax.Precision.HIGHEST)
    labels = jnp.asarray(task.labels)
    if examples is not None:
        logits, labels = logits[examples], labels[examples]
    return jnp.min(example_margins(logits, labels)) / norm_power(params, nu, norm=norm)


# --------------------------------------------------------------------------------------------- γ*


def theorem7_gamma(p: int) -> float:
    """MEOZK Thm 7: ``γ* = sqrt(2/27) / (sqrt(p) (p − 1))`` for ``Z_p``, ``p`` an odd prime, width ``≥ 4(p − 1)``."""
    return math.sqrt(2.0 / 27.0) / (math.sqrt(p) * (p - 1))


def theorem8_gamma(k: int) -> float:
    """MEOZK Thm 8: ``γ* = k! sqrt(2 (k + 1)^{−(k+1)})`` for ``(n, k)``-sparse parity, width ``≥ 2^{k−1}``."""
    return math.factorial(k) * math.sqrt(2.0 * (k + 1.0) ** (-(k + 1)))


def theorem9_gamma(order: int, dims: Sequence[int]) -> float:
    """MEOZK Thm 9's value ``2 / (3 sqrt(3|G|) Σ_{R≠1} d_R^{2.5})`` from the non-trivial irreps' dimensions."""
    return 2.0 / (3.0 * math.sqrt(3.0 * order) * sum(float(d) ** 2.5 for d in dims))


def _group_irreps(group: Any) -> list[Any]:
    reps = irreps(group)
    if reps[0].dim != 1 or not np.allclose(reps[0].character, 1.0):  # the contract of irreps(): trivial first
        raise ValueError(f"irreps({group.name}) must list the trivial irrep first")
    return reps


def theorem9_condition(group: Any) -> tuple[bool, float]:
    """MEOZK Thm 9's hypothesis on ``G``: ``max_{C ≠ {e}} Σ_{R ≠ 1} d_R^{1.5} χ_R(C) < 0``.

    Returns:
      ``(holds, value)`` with ``value`` = that maximum over the non-trivial conjugacy classes, computed from the
      character table of the real irreps (:func:`geomrep.algebra.irreps.character_table`, ``d_R`` their real
      dimension). ``holds`` also requires Thm 9's other hypothesis, that every irrep is of real type; so it is
      False for groups with complex- or quaternionic-type irreps (``Z_p``, ``A4``, ``Q8``) whatever the value.
      Notes C5: value −1 for S3, S4 and D_n; −0.303 for S5; +0.788 for A5 and +11 for S6 (fails).

    Example:
      >>> from geomrep.algebra import groups
      >>> theorem9_condition(groups.symmetric(3))
      (True, -1.0)
    """
    table = character_table(group)
    if table.values.shape[1] < 2:
        return False, -math.inf  # the trivial group: no non-trivial class, no non-trivial irrep
    dims = table.dims[1:].astype(np.float64)
    sums = (dims[:, None] ** 1.5 * table.values[1:, 1:]).sum(axis=0)
    value = float(np.round(sums.max(), 12))
    return bool(all(kind == "real" for kind in table.kinds) and value < 0), value


def gamma_star(task: PairTask | ParityTask) -> float:
    """The maximum normalised margin γ* of MEOZK's homogeneous nets on ``task`` (L_{2,ν} norm, full population).

    - ``modular_addition(p)``: Theorem 7, ``sqrt(2/27) / (sqrt(p)(p − 1))``; ``p`` must be an odd prime.
    - ``sparse_parity(n, k)``: Theorem 8, ``k! sqrt(2 (k + 1)^{−(k+1)})``.
    - ``group_composition(G)``: Theorem 9's formula ``2 / (3 sqrt(3|G|) Σ_{R≠1} d_R^{2.5})``; every irrep of ``G``
      must be of real type. When the class condition of Thm 9 fails (A5, S6) the formula is still the normalised
      margin of an explicit net (:func:`group_construction`), but not proven maximal, and a
      :class:`~geomrep.algebra.tasks.HypothesisWarning` says so (:func:`irrep_lp_margin` beats it there).

    Raises:
      TheoremHypothesisError: a modulus that is not an odd prime, or a group with a complex- or
        quaternionic-type irrep; the message names the hypothesis and the alternative.
    """
    if isinstance(task, ParityTask):
        return theorem8_gamma(task.k)
    if not isinstance(task, PairTask):
        raise TypeError(f"gamma_star expects a task from geomrep.algebra.tasks, got {type(task).__name__}")
    if task.family == "modular_addition":
        p = task.modulus
        if p == 2 or not is_prime(p):
            raise TheoremHypothesisError(
                f"gamma_star({task.name}): MEOZK Theorem 7 requires an odd prime modulus, got p={p}; "
                "irrep_lp_margin(cyclic(p)) gives the best single-irrep-block margin for any modulus"
            )
        return theorem7_gamma(p)
    group = task.group
    reps = _group_irreps(group)
    not_real = [f"{r.name} ({r.kind})" for r in reps if r.kind != "real"]
    if not_real:
        raise TheoremHypothesisError(
            f"gamma_star({task.name}): MEOZK Theorem 9 requires every irreducible representation to be of real "
            f"type; {group.name} has {', '.join(not_real)}. irrep_lp_margin(group) gives the best margin of "
            "single-irrep-block nets instead."
        )
    holds, value = theorem9_condition(group)
    if not holds:
        warnings.warn(
            f"gamma_star({task.name}): MEOZK Theorem 9's condition max_C sum_R d_R^1.5 chi_R(C) < 0 fails "
            f"(value {value:+.4g}); the returned formula value is reached by group_construction but is not "
            "proven maximal; irrep_lp_margin(group) gives a larger certified margin.",
            HypothesisWarning,
            stacklevel=2,
        )
    return theorem9_gamma(group.order, [r.dim for r in reps[1:]])


# --------------------------------------------------------------------------------------------- LP certificate


class IrrepMargin(NamedTuple):
    """Best normalised margin of a net made of single-irrep blocks (:func:`irrep_lp_margin`).

    Attributes:
      value: the LP optimum, a normalised margin (``Σ_i ‖ω_i‖³ = 1``).
      block_weights: ``λ_R = s_R³`` per irrep, in the order of ``irreps(group)`` (0 for the trivial irrep and for
        unused blocks); pass it to :func:`group_construction` to build the net.
      norm_shares: each block's share of ``Σ_i ‖ω_i‖³``.
      names: the irreps' names.
      theorem9_value: Thm 9's formula for the same group (for comparison; the LP equals it where Thm 9 holds).
    """

    value: float
    block_weights: np.ndarray
    norm_shares: np.ndarray
    names: tuple[str, ...]
    theorem9_value: float


def _block_cost(matrices: np.ndarray) -> float:
    """``Σ_{ijk} 2 (‖ρ_ij‖² + ‖ρ_jk‖² + ‖ρ_ik‖²)^{3/2}``: the ``Σ‖ω‖³`` of one irrep block at ``s = 1``.

    For a real-type irrep ``‖ρ_ij‖² = |G|/d`` (Schur), so this is ``2 d³ (3|G|/d)^{3/2}``.
    """
    sq = (matrices**2).sum(axis=0)  # [d, d]: ‖ρ_ij‖² over the group
    total = sq[:, :, None] + sq[None, :, :] + sq[:, None, :]  # [i, j, k] = sq_ij + sq_jk + sq_ik
    return float(2.0 * (total**1.5).sum())


def irrep_lp_margin(group: Any) -> IrrepMargin:
    """The best normalised margin of quadratic nets made of single-irrep blocks (notes C5, "Beyond Thm 9").

    Block ``R`` with scale ``s`` is the ``2 d_R³`` neurons ``(s ρ_ij, ±s ρ_jk, ±s ρ_ik)`` of
    :func:`group_construction`; it adds ``4 s³ χ_R(a b c⁻¹)`` to logit ``c`` of ``(a, b)``. With ``λ_R = s_R³``
    the margin is the same at every pair, ``min_{g ≠ e} 4 Σ_R λ_R (d_R − χ_R(g))``, and the cost is
    ``Σ_R cost_R λ_R`` (:func:`_block_cost`). The LP::

        maximise t  s.t.  t <= 4 Σ_R λ_R (d_R − χ_R(C))  for every conjugacy class C ≠ {e},
                          Σ_R cost_R λ_R = 1,  λ >= 0

    returns Thm 9's value and ``d^{2.5}`` shares where its condition holds, and more where it fails
    (A5: 1.034×, S6: 1.199×, notes C5). The LP covers only this family of nets, so it is a lower bound on γ*.
    """
    from scipy.optimize import linprog

    reps = _group_irreps(group)
    chars = character_table(group).values[1:, 1:]  # non-trivial irreps x non-trivial classes
    nontrivial = reps[1:]
    if chars.size == 0:
        raise ValueError(f"irrep_lp_margin: {group.name} is trivial; there is no margin to maximise")
    dims = np.asarray([r.dim for r in nontrivial], dtype=np.float64)
    gains = 4.0 * (dims[:, None] - chars)  # [R, C]
    costs = np.asarray([_block_cost(np.asarray(r.matrices, dtype=np.float64)) for r in nontrivial])
    num = len(nontrivial)
    # variables x = (λ_1..λ_R, t); minimise −t
    c = np.zeros(num + 1)
    c[-1] = -1.0
    a_ub = np.concatenate([-gains.T, np.ones((chars.shape[1], 1))], axis=1)
    b_ub = np.zeros(chars.shape[1])
    a_eq = np.concatenate([costs, [0.0]])[None, :]
    bounds = [(0, None)] * num + [(None, None)]
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if result.status != 0:
        raise RuntimeError(f"irrep_lp_margin({group.name}): the LP solver failed: {result.message}")
    lam = np.concatenate([[0.0], result.x[:num]])
    shares = np.concatenate([[0.0], costs * result.x[:num]])
    return IrrepMargin(
        value=float(result.x[-1]),
        block_weights=lam,
        norm_shares=shares,
        names=tuple(r.name for r in reps),
        theorem9_value=theorem9_gamma(group.order, [r.dim for r in nontrivial]),
    )


# --------------------------------------------------------------------------------------------- constructions


def _scale_to_unit_norm(u: np.ndarray, v: np.ndarray | None, w: np.ndarray, nu: float) -> float:
    sq = (u**2).sum(axis=0) + (w**2).sum(axis=1)
    if v is not None:
        sq = sq + (v**2).sum(axis=0)
    total = float((sq ** (nu / 2)).sum())
    return total ** (-1.0 / nu)


def modular_addition_construction(p: int, *, dtype: Any = jnp.float64) -> dict[str, jax.Array]:
    """A quadratic net with ``4(p − 1)`` neurons whose normalised margin on ``Z_p`` is Thm 7's γ* (notes C5).

    For each frequency ``ζ = 1..(p−1)/2`` and phases ``(θ_u, θ_v) ∈ {0, π/2}²``, ``θ_w = θ_u + θ_v``, the pair of
    neurons ``(u, v, w)`` and ``(u, −v, −w)`` with ``u(a) = cos(θ_u + 2πζa/p)``, ``v(b) = cos(θ_v + 2πζb/p)``,
    ``w(c) = cos(θ_w + 2πζc/p)``; a pair outputs ``4 u_a v_b w_c`` (the squares cancel) and the phase average leaves
    ``cos(2πζ(a + b − c)/p)``, so every wrong logit is equal. Scaled so that ``Σ_i ‖ω_i‖³ = 1``.
    """
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 3 or p % 2 == 0:
        raise ValueError(f"modular_addition_construction: p={p!r} must be an odd integer >= 3")
    x = 2.0 * np.pi * np.arange(p) / p
    us, vs, ws = [], [], []
    for zeta in range(1, (p - 1) // 2 + 1):
        for theta_u in (0.0, np.pi / 2):
            for theta_v in (0.0, np.pi / 2):
                u = np.cos(theta_u + zeta * x)
                v = np.cos(theta_v + zeta * x)
                w = np.cos(theta_u + theta_v + zeta * x)
                us += [u, u]
                vs += [v, -v]
                ws += [w, -w]
    u, v, w = np.stack(us, axis=1), np.stack(vs, axis=1), np.stack(ws, axis=0)
    scale = _scale_to_unit_norm(u, v, w, 3.0)
    return {name: jnp.asarray(scale * arr, dtype=dtype) for name, arr in (("u", u), ("v", v), ("w", w))}


def group_construction(
    group: Any, block_weights: Sequence[float] | None = None, *, dtype: Any = jnp.float64
) -> dict[str, jax.Array]:
    """A quadratic net with ``2 Σ_R d_R³`` neurons built from the irreps of ``group`` (MEOZK Lemma 20; notes C5).

    For each non-trivial irrep ``R`` with ``λ_R > 0`` and each ``(i, j, k) ∈ [d_R]³`` the pair of neurons
    ``u = s_R ρ_ij, v = ±s_R ρ_jk, w = ±s_R ρ_ik`` (``s_R³ = λ_R``); block ``R`` outputs ``4 λ_R χ_R(a b c⁻¹)``.

    Args:
      group: a :class:`geomrep.algebra.groups.Group`.
      block_weights: ``λ_R`` per irrep in the order of ``irreps(group)`` (the trivial one is ignored). Default:
        Thm 9's ``λ_R = d_R``, for which the logits are ``∝ |G| 1[c = ab] − 1`` (all wrong logits equal) and the
        normalised margin is Thm 9's formula; ``irrep_lp_margin(group).block_weights`` gives the LP optimum.
      dtype: the parameters' dtype.

    The net is scaled so that ``Σ_i ‖ω_i‖³ = 1``.
    """
    reps = _group_irreps(group)
    weights = [float(r.dim) for r in reps] if block_weights is None else [float(x) for x in block_weights]
    if len(weights) != len(reps):
        raise ValueError(f"block_weights has {len(weights)} entries; {group.name} has {len(reps)} irreps")
    if any(x < 0 for x in weights):
        raise ValueError(f"block_weights must be >= 0, got {weights}")
    us, vs, ws = [], [], []
    for rep, lam in zip(reps[1:], weights[1:], strict=True):
        if lam == 0:
            continue
        mats = np.asarray(rep.matrices, dtype=np.float64)  # [|G|, d, d]
        d = rep.dim
        i, j, k = (x.reshape(-1) for x in np.indices((d, d, d)))
        s = lam ** (1.0 / 3.0)
        u, v, w = s * mats[:, i, j], s * mats[:, j, k], s * mats[:, i, k]  # [|G|, d³]
        us += [u, u]
        vs += [v, -v]
        ws += [w.T, -w.T]
    if not us:
        raise ValueError("group_construction: every non-trivial block weight is 0")
    u, v, w = np.concatenate(us, axis=1), np.concatenate(vs, axis=1), np.concatenate(ws, axis=0)
    scale = _scale_to_unit_norm(u, v, w, 3.0)
    return {name: jnp.asarray(scale * arr, dtype=dtype) for name, arr in (("u", u), ("v", v), ("w", w))}


def parity_construction(
    n: int, k: int, support: Sequence[int] | None = None, *, dtype: Any = jnp.float64
) -> dict[str, jax.Array]:
    """A power net with ``2^{k−1}`` neurons whose normalised margin on ``(n, k)``-parity is Thm 8's γ*.

    Neuron ``σ`` (``σ ∈ {±1}^k`` with ``σ_1 = +1``): ``u = a σ`` on the support ``S`` (0 elsewhere) and
    ``w = a (Π_j σ_j) [1, −1] / sqrt(2)``, so ``|u_j| = ‖w‖`` and the sign rule of Thm 8 holds. Summing
    ``Π σ · (σ·x)^k`` over all ``σ`` keeps only the multilinear term, ``2^k k! Π_{j∈S} x_j``, so every point has the
    same margin ``sqrt(2) k! a^{k+1} 2^{k−1}``; with ``Σ_i ‖ω_i‖^{k+1} = 1`` that is γ*.
    """
    support = tuple(range(k)) if support is None else tuple(int(j) for j in support)
    if len(support) != k or not all(0 <= j < n for j in support) or len(set(support)) != k:
        raise ValueError(
            f"parity_construction: support {support} must be {k} distinct coordinates in [0, {n})"
        )
    signs = np.array(
        [[1] + [1 - 2 * ((m >> t) & 1) for t in range(k - 1)] for m in range(2 ** (k - 1))], dtype=np.float64
    )  # [2^{k-1}, k], first sign +1
    u = np.zeros((n, signs.shape[0]))
    u[list(support), :] = signs.T
    w = (np.prod(signs, axis=1)[:, None] * np.array([1.0, -1.0])[None, :]) / math.sqrt(2.0)
    scale = _scale_to_unit_norm(u, None, w, k + 1.0)
    return {"u": jnp.asarray(scale * u, dtype=dtype), "w": jnp.asarray(scale * w, dtype=dtype)}
