"""The networks of the algebraic-task papers: pure forward functions on parameter dicts, and thin NNX modules.

Three families, each a dict of arrays (the functional core every trainer and analysis uses) and a
``flax.nnx`` module that holds the same dict as ``nnx.Param`` attributes:

- **Quadratic net** (MEOZK p4-3, groups and ``Z_p``): ``f(a, b)_c = sum_i (u_i[a] + v_i[b])^2 w_i[c]``, no biases,
  homogeneous of degree ν = 3. Params ``{"u": [n, m], "v": [n, m], "w": [m, n]}``: column ``i`` of ``u``/``v`` and
  row ``i`` of ``w`` are neuron ``i``'s weights ``ω_i = (u_i, v_i, w_i)``.
- **Power net** (MEOZK p4-5, ``(n, k)``-parity): ``f(x) = sum_i (u_i · x)^k w_i`` with ``w_i ∈ R^2``, homogeneous of
  degree ν = k + 1. Params ``{"u": [n, m], "w": [m, 2]}``.
- **CCN MLP** (Chughtai et al. 2023, ``OneLayerMLP``): ``logits = ReLU(E_a[a] W_1 + E_b[b] W_2) W_U`` where
  ``W = [W_1; W_2]`` is the ``[2E, H]`` hidden layer on the concatenated embeddings, no biases, homogeneous of
  degree 3. Params ``{"embed_a": [n, E], "embed_b": [n, E], "hidden": [2E, H], "unembed": [H, n]}``.

``architecture(params)`` names the family of a dict from its keys; :func:`population_logits` evaluates any of
them on a task's whole population.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from geomrep.algebra.tasks import PairTask, ParityTask

Params = Mapping[str, jax.Array]

_KEYS = {
    "quadratic": frozenset({"u", "v", "w"}),
    "power": frozenset({"u", "w"}),
    "mlp": frozenset({"embed_a", "embed_b", "hidden", "unembed"}),
}


def architecture(params: Any) -> str:
    """``"quadratic"``, ``"power"`` or ``"mlp"`` from the keys of a parameter dict (or an NNX module of this file)."""
    params = as_params(params)
    keys = frozenset(params)
    for name, want in _KEYS.items():
        if keys == want:
            return name
    raise ValueError(
        f"unknown parameter dict with keys {sorted(keys)}; expected one of "
        + ", ".join(f"{name}: {sorted(want)}" for name, want in _KEYS.items())
    )


def as_params(model_or_params: Any) -> dict[str, jax.Array]:
    """The plain ``{name: array}`` dict of an NNX module of this file, or the dict itself."""
    if isinstance(model_or_params, nnx.Module):
        return nnx.to_pure_dict(nnx.state(model_or_params, nnx.Param))
    if isinstance(model_or_params, Mapping):
        return dict(model_or_params)
    raise TypeError(f"expected a parameter dict or an nnx.Module, got {type(model_or_params).__name__}")


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def linear(x: jax.Array, w: jax.Array, precision=None) -> jax.Array:
    """``x @ w`` (``[N, K] @ [K, C]``) whose weight gradient XLA:CPU computes with a fast kernel.

    Reverse-mode autodiff gives ``dw = xᵀ g``, a contraction over the long leading axis of both operands, which
    XLA:CPU (jax 0.10) lowers to a generic dot about 3x slower than the YNNPACK kernel it uses for ``gᵀ x``: 148
    vs 52 µs for ``[529, 128]ᵀ [529, 23]`` on one core (scripts/benchmarks/algebra_vs_torch.py, the quadratic
    net on Z_23). The custom VJP computes ``dw = (gᵀ x)ᵀ`` with both transposes behind optimisation barriers so
    the compiler cannot fold them back. Reverse mode only (``jax.grad``, ``jax.vjp``); use ``jnp.matmul`` for
    forward-mode derivatives.
    """
    return jnp.matmul(x, w, precision=precision)


def _linear_fwd(x, w, precision):
    return jnp.matmul(x, w, precision=precision), (x, w)


def _linear_bwd(precision, residuals, g):
    x, w = residuals
    g_t = jax.lax.optimization_barrier(g.T)
    dw_t = jax.lax.optimization_barrier(jnp.matmul(g_t, x, precision=precision))
    return jnp.matmul(g, w.T, precision=precision), dw_t.T


linear.defvjp(_linear_fwd, _linear_bwd)


def quadratic_logits(params: Params, a: jax.Array, b: jax.Array, *, precision=None) -> jax.Array:
    """``f(a, b) = (u[a] + v[b])^2 @ w``: logits ``[N, n_out]`` for int pairs ``a, b`` of shape ``[N]`` (MEOZK p4-3)."""
    h = params["u"][a] + params["v"][b]
    return jnp.matmul(h * h, params["w"], precision=precision)


def quadratic_logits_table(params: Params, *, precision=None) -> jax.Array:
    """The quadratic net on all ``n²`` pairs in row-major order, ``[n², n_out]``, without gathers.

    ``h[a, b] = u[a] + v[b]`` is a broadcast sum, so the backward pass is two reductions instead of scatters,
    and the output layer is :func:`linear`: the fast path for full-batch training (reverse mode only).
    """
    u, v, w = params["u"], params["v"], params["w"]
    h = u[:, None, :] + v[None, :, :]
    n = u.shape[0]
    return linear((h * h).reshape(n * v.shape[0], -1), w, precision)


# XLA:CPU's dot costs ~1.6x more per row from 513 rows on (jax 0.10, m = 128, 23 columns: 26 -> 42 µs).
_BLOCK_ROWS = 512
_MAX_BLOCKS = 8  # bounds the unrolled program for big tables (Z_71, S5): their blocks exceed _BLOCK_ROWS


def _row_blocks(n_a: int, n_b: int, block_rows: int) -> tuple[tuple[int, int], ...]:
    """Near-equal ranges of ``a`` whose ``(a, b)`` rows number at most ``block_rows`` (at most ``_MAX_BLOCKS``)."""
    count = min(-(-n_a // max(1, block_rows // n_b)), _MAX_BLOCKS)
    base, extra = divmod(n_a, count)
    bounds, lo = [], 0
    for k in range(count):
        hi = lo + base + (k < extra)
        bounds.append((lo, hi))
        lo = hi
    return tuple(bounds)


def _fold(op, terms):
    """``op(...op(op(t0, t1), t2)..., tk)``: XLA fuses it into one loop over the output (no reduction kernel)."""
    acc = terms[0]
    for term in terms[1:]:
        acc = op(acc, term)
    return acc


def _table_ce_parts(u, v, w, onehot_t, precision, blocks):
    """Mean CE and the residuals ``(h² per block, exp(z), Σ exp(z))``, the logits classes-first ``[C, n²]``."""
    hsqs, logits = [], []
    for lo, hi in blocks:
        h = u[lo:hi, None, :] + v[None, :, :]
        hsqs.append((h * h).reshape(-1, u.shape[1]))
        logits.append(jax.lax.optimization_barrier(jnp.matmul(hsqs[-1], w, precision=precision)))
    # The barrier keeps the transpose a copy: folded into the dot it becomes a ~3x slower transposed-output dot.
    logits_t = jax.lax.optimization_barrier(jnp.concatenate(logits).T)
    z = logits_t - jnp.max(logits_t, axis=0)
    e = jnp.exp(z)
    s = jnp.sum(e, axis=0)
    z_label = _fold(jnp.add, [z[c] * onehot_t[c] for c in range(z.shape[0])])
    return jnp.mean(jnp.log(s) - z_label), (hsqs, e, s)


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def _table_ce(u, v, w, onehot_t, precision, blocks):
    return _table_ce_parts(u, v, w, onehot_t, precision, blocks)[0]


def _table_ce_fwd(u, v, w, onehot_t, precision, blocks):
    ce, res = _table_ce_parts(u, v, w, onehot_t, precision, blocks)
    return ce, (u, v, w, onehot_t, res)


def _table_ce_bwd(precision, blocks, residuals, g):
    u, v, w, onehot_t, (hsqs, e, s) = residuals
    n = v.shape[0]
    dlogits_t = (e / s - onehot_t) * (g / onehot_t.shape[1])  # [C, n²]: softmax − one-hot
    w_t = jax.lax.optimization_barrier(w.T)
    dw_t, du, dv = [], [], []
    for (lo, hi), hsq in zip(blocks, hsqs, strict=True):
        d_t = dlogits_t[:, lo * n : hi * n]
        # dwᵀ = dlogitsᵀ h²: the contraction over the long axis as the lhs's minor one (XLA:CPU's fast kernel).
        dw_t.append(jax.lax.optimization_barrier(jnp.matmul(d_t, hsq, precision=precision)))
        d = jax.lax.optimization_barrier(d_t.T)
        dh = jnp.matmul(d, w_t, precision=precision).reshape(hi - lo, n, -1)  # ∂/∂h² [a, b, m]
        u_blk = u[lo:hi]
        # ∂/∂u[a] = Σ_b 2 h[a, b] ∂h²[a, b] and ∂/∂v[b] = Σ_a (same): folds over the slices, so XLA emits two
        # loops that read ∂h² once and never store 2 h ∂h² (its reduction kernels were 3-5x slower here).
        du.append(_fold(jnp.add, [2 * (u_blk + v[k]) * dh[:, k] for k in range(n)]))
        dv.append(_fold(jnp.add, [2 * (u_blk[k] + v) * dh[k] for k in range(hi - lo)]))
    return jnp.concatenate(du), _fold(jnp.add, dv), _fold(jnp.add, dw_t).T, jnp.zeros_like(onehot_t)


_table_ce.defvjp(_table_ce_fwd, _table_ce_bwd)


def quadratic_table_cross_entropy(
    params: Params, labels: Any, *, precision=None, block_rows: int = _BLOCK_ROWS
) -> jax.Array:
    """Mean cross-entropy of the quadratic net over all ``n²`` pairs (row-major ``(a, b)``, as
    :func:`quadratic_logits_table`), with a hand-written VJP: the fast path of full-batch max-margin training.

    Equal to ``cross_entropy(quadratic_logits_table(params), labels)`` up to float rounding (same operations,
    different order of the sums), and so are its gradients. A whole GD step on XLA:CPU (jax 0.10, one thread) is
    1.8x faster for Z_23 at m = 128 (231 -> 126 µs of CPU), 1.3x for S4 (m = 200) and 2.3x for A5 (m = 500),
    because it (1) works on the logits classes-first, ``[C, n²]``, so exp and the softmax sums run along the
    long axis; (2) gets ``∂u`` and ``∂v`` straight from ``∂h²`` in two fused loops, never storing ``2 h ∂h²``
    or calling the slow reduction kernels; (3) runs the matmuls on blocks of at most ``block_rows`` rows (whole
    ``a`` rows), below the size where XLA:CPU's dot gets ~1.6x slower per row. Compilation takes longer
    (Z_23: 0.9 vs 0.6 s). Reverse mode only.

    Args:
      params: quadratic-net parameters ``{"u": [n, m], "v": [n, m], "w": [m, C]}``.
      labels: int array ``[n²]``, the class of pair ``(a, b)`` at ``a * n + b``.
      precision: passed to the matmuls.
      block_rows: the most rows per matmul block (at most 8 blocks; bigger tables get bigger blocks).
    """
    params = as_params(params)
    u, v, w = params["u"], params["v"], params["w"]
    rows = u.shape[0] * v.shape[0]
    if np.shape(labels) != (rows,):
        raise ValueError(f"labels must have shape ({rows},) (one per pair), got {np.shape(labels)}")
    if block_rows < 1:
        raise ValueError(f"block_rows={block_rows} must be >= 1")
    blocks = _row_blocks(u.shape[0], v.shape[0], block_rows)
    try:  # host labels: the one-hot is a constant of the program (not recomputed per step)
        onehot_t = np.eye(w.shape[1], dtype=np.dtype(w.dtype))[np.asarray(labels)].T.copy()
    except jax.errors.TracerArrayConversionError:
        onehot_t = jax.nn.one_hot(labels, w.shape[1], dtype=w.dtype).T
    return _table_ce(u, v, w, onehot_t, precision, blocks)


def power_logits(params: Params, x: jax.Array, k: int, *, precision=None) -> jax.Array:
    """``f(x) = (x @ u)^k @ w``: logits ``[N, 2]`` for ``x`` of shape ``[N, n]`` (MEOZK p4-5)."""
    z = jnp.matmul(x, params["u"], precision=precision)
    return jnp.matmul(z**k, params["w"], precision=precision)


def mlp_preactivations_table(params: Params, *, precision=None) -> tuple[jax.Array, jax.Array]:
    """``(E_a W_1, E_b W_2)``, each ``[n, H]``: the hidden pre-activation of ``(a, b)`` is their row sum."""
    e = params["embed_a"].shape[1]
    hidden = params["hidden"]
    pa = jnp.matmul(params["embed_a"], hidden[:e], precision=precision)
    pb = jnp.matmul(params["embed_b"], hidden[e:], precision=precision)
    return pa, pb


def mlp_hidden(params: Params, a: jax.Array, b: jax.Array, *, precision=None) -> jax.Array:
    """Post-ReLU hidden activations ``[N, H]`` of the CCN MLP for pairs ``a, b``."""
    pa, pb = mlp_preactivations_table(params, precision=precision)
    return jax.nn.relu(pa[a] + pb[b])


def mlp_logits(params: Params, a: jax.Array, b: jax.Array, *, precision=None) -> jax.Array:
    """``ReLU(concat(E_a[a], E_b[b]) @ W) @ W_U``, ``[N, n]`` (CCN ``OneLayerMLP``, no biases)."""
    return linear(mlp_hidden(params, a, b, precision=precision), params["unembed"], precision)


def pair_logits(params: Params, a: jax.Array, b: jax.Array, *, precision=None) -> jax.Array:
    """Logits of a quadratic net or CCN MLP on the pairs ``(a[i], b[i])``."""
    kind = architecture(params)
    if kind == "quadratic":
        return quadratic_logits(params, a, b, precision=precision)
    if kind == "mlp":
        return mlp_logits(params, a, b, precision=precision)
    raise ValueError(f"a {kind} net takes ±1 vectors, not pairs; use power_logits")


def population_logits(params: Any, task: PairTask | ParityTask, *, precision=None) -> jax.Array:
    """Logits ``[N, C]`` on the task's whole population, in the task's example order."""
    params = as_params(params)
    kind = architecture(params)
    if isinstance(task, ParityTask):
        if kind != "power":
            raise ValueError(f"{task.name} needs a power net (keys u, w), got a {kind} net")
        x = jnp.asarray(task.inputs, dtype=params["u"].dtype)
        return power_logits(params, x, task.k, precision=precision)
    if kind == "power":
        raise ValueError(f"{task.name} takes pairs; a power net (keys u, w) is for sparse parity")
    n = task.num_symbols
    first = params["u"] if kind == "quadratic" else params["embed_a"]
    if first.shape[0] != n:
        raise ValueError(
            f"{task.name} has {n} symbols but the {kind} net's input layer has {first.shape[0]} rows"
        )
    if kind == "quadratic":
        return quadratic_logits_table(params, precision=precision)
    pa, pb = mlp_preactivations_table(params, precision=precision)
    h = jax.nn.relu(pa[:, None, :] + pb[None, :, :]).reshape(n * n, -1)
    return linear(h, params["unembed"], precision)


def _normal(rngs: nnx.Rngs, shape: tuple[int, ...], std: float, dtype) -> jax.Array:
    return std * jax.random.normal(rngs.params(), shape, dtype)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be an integer >= 1")


class QuadraticNet(nnx.Module):
    """MEOZK's one-hidden-layer net with ``x²`` activation for ``Z_p`` and groups (see the module docstring).

    Init: every entry ``N(0, init_scale² / n)`` (notes C6: ``N(0, 1/n)`` converges under lr doubling).

    Example:
      >>> net = QuadraticNet(5, 8, param_dtype=jnp.float32, rngs=nnx.Rngs(0))
      >>> net(jnp.array([1, 2]), jnp.array([3, 4])).shape
      (2, 5)
    """

    def __init__(
        self,
        num_symbols: int,
        width: int,
        *,
        num_classes: int | None = None,
        init_scale: float = 1.0,
        param_dtype: Any,
        rngs: nnx.Rngs,
    ):
        num_classes = num_symbols if num_classes is None else num_classes
        _check_sizes(num_symbols=num_symbols, width=width, num_classes=num_classes)
        std = init_scale / num_symbols**0.5
        self.u = nnx.Param(_normal(rngs, (num_symbols, width), std, param_dtype))
        self.v = nnx.Param(_normal(rngs, (num_symbols, width), std, param_dtype))
        self.w = nnx.Param(_normal(rngs, (width, num_classes), std, param_dtype))

    def __call__(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return quadratic_logits(as_params(self), a, b)


class PowerNet(nnx.Module):
    """MEOZK's ``x^k`` net for ``(n, k)``-sparse parity: ``f(x) = sum_i (u_i · x)^k w_i``, ``w_i ∈ R^2``.

    Init: every entry ``N(0, init_scale² / n)``.
    """

    def __init__(
        self, n: int, k: int, width: int, *, init_scale: float = 1.0, param_dtype: Any, rngs: nnx.Rngs
    ):
        _check_sizes(n=n, k=k, width=width)
        self.k = k
        std = init_scale / n**0.5
        self.u = nnx.Param(_normal(rngs, (n, width), std, param_dtype))
        self.w = nnx.Param(_normal(rngs, (width, 2), std, param_dtype))

    def __call__(self, x: jax.Array) -> jax.Array:
        return power_logits(as_params(self), x, self.k)


class OneLayerMLP(nnx.Module):
    """Chughtai et al.'s ``OneLayerMLP``: untied embeddings, concat, ``[2E, H]`` hidden ReLU layer, unembed; no biases.

    Init (CCN ``models.py``): ``randn / sqrt(fan_in)`` with fan-in ``n`` for the embeddings, ``2E`` for the
    hidden layer and ``H`` for the unembedding. CCN use E = 256, H = 128.
    """

    def __init__(
        self,
        num_symbols: int,
        *,
        embed_dim: int = 256,
        hidden_dim: int = 128,
        num_classes: int | None = None,
        param_dtype: Any,
        rngs: nnx.Rngs,
    ):
        num_classes = num_symbols if num_classes is None else num_classes
        _check_sizes(
            num_symbols=num_symbols, embed_dim=embed_dim, hidden_dim=hidden_dim, num_classes=num_classes
        )
        n, e, h = num_symbols, embed_dim, hidden_dim
        self.embed_a = nnx.Param(_normal(rngs, (n, e), n**-0.5, param_dtype))
        self.embed_b = nnx.Param(_normal(rngs, (n, e), n**-0.5, param_dtype))
        self.hidden = nnx.Param(_normal(rngs, (2 * e, h), (2 * e) ** -0.5, param_dtype))
        self.unembed = nnx.Param(_normal(rngs, (h, num_classes), h**-0.5, param_dtype))

    def __call__(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return mlp_logits(as_params(self), a, b)


def load_params(model: nnx.Module, params: Params) -> None:
    """Writes a parameter dict (e.g. the result of a training loop) back into ``model``'s ``nnx.Param`` s."""
    state = nnx.state(model, nnx.Param)
    nnx.replace_by_pure_dict(state, dict(params))
    nnx.update(model, state)
