"""Row-sparse Riemannian optimizers for embedding tables (the semantics of geoopt's SparseRiemannianSGD/Adam).

An embedding step touches a few rows of a large table (one row per node; up to 10^7 rows). The dense API would
materialise a table-sized gradient and update every row and every moment at each step. Here a step takes the
gradients with respect to the *gathered rows* and their row indices, sums the gradients of duplicate indices,
and reads and writes only those rows of the table and of the optimizer state: O(rows touched · dim) work and
O(rows touched) extra memory per step, independent of the table size::

    tx = sparse_rsgd(learning_rate, PoincareBall(1.0))
    state = tx.init(table)
    rows = table[idx]                                   # idx: any int array, e.g. (batch, 2 + negatives)
    row_grads = jax.grad(loss_of_rows)(rows)            # same shape as rows
    table, state = tx.update(row_grads, idx, state, table)

Rows that are not touched keep their value and their optimizer state (Adam's moments do not decay for them, as
in geoopt's sparse optimizers and ``torch.optim.SparseAdam``). Everything is jittable with static shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from geomrep.manifolds import PoincareBall, numerics
from geomrep.optim._common import check_learning_rate, learning_rate_at, second_moment, second_moment_shape


class SparseTransformation(NamedTuple):
    """A row-sparse optimizer: ``init(table) -> state``; ``update(row_grads, indices, state, table)``.

    ``update`` returns ``(new_table, new_state)``: unlike optax it applies the step itself, because only the
    touched rows are written.
    """

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


class SparseRSGDState(NamedTuple):
    count: jax.Array
    slots: jax.Array  # (num_rows,) int32 scratch for coalesce_rows
    momentum: Any  # (num_rows, dim) tangent vectors, or None without momentum


class SparseRAdamState(NamedTuple):
    count: jax.Array
    slots: jax.Array  # (num_rows,) int32 scratch for coalesce_rows
    mu: jax.Array  # (num_rows, dim) first moments, tangent at each row
    nu: jax.Array  # (num_rows, 1) squared Riemannian norms ((num_rows, dim) on Euclidean tables)


def coalesce_rows(indices, row_grads, slots):
    """Sum the gradients of repeated row indices in O(N) (no sort), using a row → slot scratch map.

    Each entry ``j`` writes its position into ``slots[indices[j]]``; reading the map back gives every entry the
    position of one *representative* entry of its row (the same for all duplicates). Representatives are then
    numbered by a prefix sum and the gradients are summed per distinct row with ``segment_sum``. The result has
    ``M = min(N, num_rows)`` rows (``N`` = number of indices), so a step on a small table costs O(num_rows) and a
    step on a huge one O(N): never more than both. ``slots`` is scratch: its contents are never trusted (only
    positions written in this call are read), so it lives in the optimizer state and costs 4 bytes per table
    row, with no per-step work proportional to the table.

    Args:
      indices: int array of any shape ``S``; values in ``[0, num_rows)`` are rows, ``num_rows`` (or more) marks
        padding that must touch nothing.
      row_grads: array of shape ``S + (dim,)``: the gradient with respect to ``table[indices]``.
      slots: (num_rows,) int32 scratch map.

    Returns:
      ``(rows, grads, slots)``: ``rows`` (M,) holds each distinct row index once (in an unspecified order),
      followed by ``num_rows`` as
      padding (gather with ``mode="clip"``, scatter with ``mode="drop"``); ``grads`` (M, dim) the summed gradient
      of each row (zero on padding); ``slots`` the updated scratch map.

    >>> rows, g, _ = coalesce_rows(jnp.array([2, 0, 2]), jnp.ones((3, 1)), jnp.zeros(4, jnp.int32))
    >>> sorted(zip(rows.tolist(), g[:, 0].tolist()))
    [(0, 1.0), (2, 2.0), (4, 0.0)]
    """
    flat = indices.reshape(-1)
    n = flat.shape[0]
    num_rows = slots.shape[0]
    size = min(n, num_rows)
    grads = row_grads.reshape((n,) + row_grads.shape[indices.ndim :])
    position = jnp.arange(n, dtype=slots.dtype)
    slots = slots.at[flat].set(position, mode="drop")
    representative = slots.at[flat].get(mode="fill", fill_value=n)  # padding entries get n: no representative
    is_rep = representative == position
    number = jnp.cumsum(is_rep, dtype=slots.dtype) - 1  # 0, 1, ... over representatives, in order
    # each entry's distinct-row number: that of its representative (padding -> size: dropped)
    segment = jnp.where(representative < n, number[jnp.minimum(representative, n - 1)], size)
    summed = jax.ops.segment_sum(grads, segment, num_segments=size)
    rows = jnp.full((size,), num_rows, flat.dtype).at[jnp.where(is_rep, number, size)].set(flat, mode="drop")
    return rows, summed, slots


def row_dots(*pairs, keepdims: bool = True):
    """``tuple(Σ_d a[..., d]·b[..., d] for (a, b) in pairs)``: several row-wise inner products in one reduction.

    A single variadic ``lax.reduce`` over the last axis, so XLA reads the operands in one fused pass; on CPU
    this is ~4× faster than separate ``jnp.sum`` calls for six products of (53k, 10) float32 rows.
    """
    products = tuple(a * b for a, b in pairs)
    zeros = tuple(jnp.zeros((), p.dtype) for p in products)
    axis = products[0].ndim - 1
    sums = jax.lax.reduce(
        products, zeros, lambda x, y: tuple(p + q for p, q in zip(x, y, strict=True)), (axis,)
    )
    return tuple(s[..., None] for s in sums) if keepdims else tuple(sums)


def tanhc_nonneg(t):
    """tanh(t)/t for t ≥ 0 from ``exp`` only (XLA's CPU ``tanh`` costs ~8 ns per float32 element here, ``exp`` ~2).

    tanh(t) = (1 − e)/(1 + e) with e = exp(−2 min(t, 15)) (the ±15 clip of ``numerics.tanh``); below
    t₀ = 0.1 (float32) or 0.04 (float64) the Taylor series 1 − t²/3 + 2t⁴/15 − 17t⁶/315 + 62t⁸/2835,
    whose next term (≤ 0.009 t¹⁰) is below the dtype's rounding there, as is the cancellation in 1 − e above t₀.
    """
    small = t < (0.1 if t.dtype == jnp.float32 else 0.04)
    t2 = t * t
    series = 1.0 + t2 * (-1.0 / 3.0 + t2 * (2.0 / 15.0 + t2 * (-17.0 / 315.0 + t2 * (62.0 / 2835.0))))
    safe = jnp.where(small, 1.0, t)
    e = jnp.exp(-2.0 * jnp.minimum(safe, 15.0))
    return jnp.where(small, series, (1.0 - e) / ((1.0 + e) * safe))


def span_gram(x, g, m0=None):
    """(‖x‖², ‖g‖², ⟨x,g⟩) and, with ``m0``, (‖m0‖², ⟨x,m0⟩, ⟨g,m0⟩), each (M, 1), in one pass (:func:`row_dots`)."""
    pairs = ((x, x), (g, g), (x, g))
    if m0 is not None:
        pairs += ((m0, m0), (x, m0), (g, m0))
    return row_dots(*pairs)


def ball_step_in_span(x, g, m0, a, b, kappa, *, c, gram):
    """One Poincaré-ball row step written in the span of (x, g, m0): two passes over the rows instead of ~12.

    With the direction ``mu = a·g + b·m0`` (``a``, ``b``, ``kappa`` per-row scalars of shape (M, 1), ``m0``
    may be None when ``b`` is 0) this returns::

        y  = proj(expmap_x(kappa · mu))          (geomrep.manifolds.poincare.expmap then proj)
        tr = transp(x, y, mu) = (λ_x/λ_y) gyr[y, −x] mu

    Every vector in those formulas is a combination of x and mu: with s = σ mu,
    σ = kappa·(λ_x/2)·tanhc(√c (λ_x/2)|kappa|‖mu‖), the Möbius sum is x ⊕ s = A x + B mu with
    A = (1 + 2c⟨x,s⟩ + c‖s‖²)/δ, B = (1 − c‖x‖²)σ/δ, δ = 1 + 2c⟨x,s⟩ + c²‖x‖²‖s‖²; proj rescales (A, B);
    the gyration (closed form of :func:`geomrep.manifolds.poincare.gyration`) needs only ⟨y,x⟩, ⟨y,mu⟩,
    ⟨x,mu⟩, ‖x‖², ‖y‖². So the whole step needs the six inner products of (x, g, m0) (one reduction pass)
    and per-row scalar algebra, then one elementwise pass that writes ``y`` and ``tr``. The same clamps as the
    manifold functions are applied (``min_norm`` floors, ``tanhc`` near 0, the ``ball_eps`` projection);
    results agree with the composed manifold functions to rounding (~1e-7 relative in float32).

    ``gram`` is :func:`span_gram` of (x, g, m0) (the caller needs ‖x‖², ‖g‖² for the step size too).
    Returns ``(y, tr, mu)``.
    """
    tiny = numerics.min_norm(x.dtype)
    xx, gg, xg = gram[:3]
    if m0 is None:
        mumu = a * a * gg
        xmu = a * xg
    else:
        mm, xm, gm = gram[3:]
        mumu = a * a * gg + 2.0 * a * b * gm + b * b * mm
        xmu = a * xg + b * xm
    mumu = jnp.maximum(mumu, 0.0)
    one_minus = 1.0 - c * xx
    half_lam = 1.0 / jnp.maximum(one_minus, tiny)  # λ_x / 2
    sqrt_c = c**0.5
    sigma = kappa * half_lam * tanhc_nonneg(sqrt_c * half_lam * jnp.abs(kappa) * jnp.sqrt(mumu))
    xs = sigma * xmu
    ss = sigma * sigma * mumu
    delta = jnp.maximum(1.0 + 2.0 * c * xs + (c * c) * xx * ss, tiny)
    ya = (1.0 + 2.0 * c * xs + c * ss) / delta
    yb = one_minus * sigma / delta
    # proj: rescale rows beyond (1 - eps)/sqrt(c)
    yy = jnp.maximum(ya * ya * xx + 2.0 * ya * yb * xmu + yb * yb * mumu, 0.0)
    max_norm = (1.0 - numerics.ball_eps(x.dtype)) / sqrt_c
    ny = jnp.maximum(jnp.sqrt(yy), tiny)
    shrink = ny > max_norm
    p = jnp.where(shrink, max_norm / ny, 1.0)
    ya, yb, yy = p * ya, p * yb, jnp.where(shrink, p * p * yy, yy)
    # gyr[y, -x] mu with k = -c: alpha, beta, delta of geomrep.manifolds.poincare.gyration
    k2 = c * c
    yx = ya * xx + yb * xmu
    ymu = ya * xmu + yb * mumu
    alpha = -k2 * ymu * xx - c * xmu + 2.0 * k2 * yx * xmu
    beta = k2 * xmu * yy - c * ymu
    gdelta = jnp.maximum(1.0 - 2.0 * c * yx + k2 * yy * xx, tiny)
    scale = jnp.maximum(1.0 - c * yy, tiny) * half_lam  # λ_x / λ_y
    tx = scale * 2.0 * (alpha * ya - beta) / gdelta
    tm = scale * (1.0 + 2.0 * alpha * yb / gdelta)
    mu = a * g if m0 is None else a * g + b * m0
    return ya * x + yb * mu, tx * x + tm * mu, mu


def _slots(table):
    return jnp.zeros((table.shape[0],), jnp.int32)


def _gather(table, rows):
    return table.at[rows].get(mode="clip")


def _scatter(table, rows, values):
    return table.at[rows].set(values.astype(table.dtype), mode="drop")


def _apply_to_rows(step_rows, row_grads, indices, slots, arrays, dense_fraction):
    """Apply ``step_rows(g, *rows) -> new rows`` to the touched rows of ``arrays`` (table, then per-row state).

    Two exact evaluations of the same update, chosen statically from the number of indices N and of rows n:

    - sparse (N < ``dense_fraction``·n): coalesce the N indices into M = min(N, n) distinct rows
      (:func:`coalesce_rows`), gather those rows of every array, step them, scatter them back;
    - masked dense (N ≥ ``dense_fraction``·n): sum the gradients into an (n, ...) buffer with one scatter-add,
      mark the touched rows with one scatter, step *every* row elementwise and keep the old value where a row
      was not touched. When a step touches a large part of the table this skips the scratch-map coalescing
      and the gathers and scatters of rows in random order, which cost more than the extra untouched rows.

    Both leave untouched rows and their state bit-for-bit unchanged. ``None`` entries of ``arrays`` pass
    through. Returns ``(new_arrays, slots)``.
    """
    num_rows = arrays[0].shape[0]
    dtype = arrays[0].dtype
    if indices.size >= dense_fraction * num_rows:
        flat = indices.reshape(-1)
        grads = row_grads.reshape((flat.shape[0],) + row_grads.shape[indices.ndim :]).astype(dtype)
        g = jnp.zeros((num_rows,) + grads.shape[1:], dtype).at[flat].add(grads, mode="drop")
        touched = jnp.zeros((num_rows,), bool).at[flat].set(True, mode="drop")
        new = step_rows(g, *arrays)

        def keep(a, b):
            if a is None:
                return None
            return jnp.where(touched.reshape((num_rows,) + (1,) * (a.ndim - 1)), b.astype(a.dtype), a)

        return tuple(keep(a, b) for a, b in zip(arrays, new, strict=True)), slots
    rows, g, slots = coalesce_rows(indices, row_grads, slots)
    gathered = tuple(None if a is None else _gather(a, rows) for a in arrays)
    new = step_rows(g.astype(dtype), *gathered)
    return tuple(None if a is None else _scatter(a, rows, b) for a, b in zip(arrays, new, strict=True)), slots


def sparse_rsgd(
    learning_rate, manifold, *, momentum: float = 0.0, dampening: float = 0.0, dense_fraction: float = 0.5
) -> SparseTransformation:
    """Row-sparse Riemannian SGD (Nickel & Kiela 2017, eq. 5) on a table whose rows lie on ``manifold``.

    For each distinct touched row ``x`` with summed Euclidean gradient ``g``::

        r = egrad2rgrad(x, g);  buf = momentum * buf + (1 - dampening) * r  (buf = r without momentum)
        x <- proj(expmap_x(-lr * buf));  buf <- transp(x_old, x, buf)

    Args:
      learning_rate: a positive float or an optax schedule of the step count.
      manifold: a manifold value (``PoincareBall(c)``, ``Lorentz(c)``, ``Euclidean()``) for every row.
      momentum, dampening: as in geoopt's ``SparseRiemannianSGD``.
      dense_fraction: a step with at least ``dense_fraction × num_rows`` indices updates the table as a masked
        dense pass instead of gathering and scattering rows (same result; see :func:`_apply_to_rows`);
        ``float("inf")`` always takes the row path.
    """
    check_learning_rate(learning_rate)

    def init_fn(table):
        buf = jnp.zeros_like(table) if momentum > 0 else None
        return SparseRSGDState(count=jnp.zeros([], jnp.int32), slots=_slots(table), momentum=buf)

    def update_fn(row_grads, indices, state, table):
        lr = learning_rate_at(learning_rate, state.count)

        def step_rows(g, x, m0):
            if isinstance(manifold, PoincareBall):  # same formulas, evaluated in the span of (x, g, m0)
                c = manifold.c
                gram = span_gram(x, g, m0)
                f = (1.0 - c * gram[0]) ** 2 / 4.0  # egrad2rgrad: r = f g
                a = (1.0 - dampening) * f if momentum > 0 else f
                kappa = -jnp.asarray(lr, x.dtype)
                x_new, moved_buf, _ = ball_step_in_span(x, g, m0, a, momentum, kappa, c=c, gram=gram)
                return x_new, moved_buf
            r = manifold.egrad2rgrad(x, g)
            buf = momentum * m0 + (1.0 - dampening) * r if momentum > 0 else r
            x_new = manifold.proj(manifold.expmap(x, (-lr * buf).astype(x.dtype)))
            return x_new, (manifold.transp(x, x_new, buf) if momentum > 0 else None)

        (table, new_buf), slots = _apply_to_rows(
            step_rows, row_grads, indices, state.slots, (table, state.momentum), dense_fraction
        )
        return table, SparseRSGDState(count=optax.safe_increment(state.count), slots=slots, momentum=new_buf)

    return SparseTransformation(init_fn, update_fn)


def sparse_radam(
    learning_rate,
    manifold,
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    dense_fraction: float = 0.5,
) -> SparseTransformation:
    """Row-sparse Riemannian Adam (Bécigneul & Ganea 2019, Alg. 1; geoopt's ``SparseRiemannianAdam``).

    Same formulas as :func:`geomrep.optim.radam`, applied to the touched rows only; the bias correction uses the
    global step count. ``dense_fraction`` as in :func:`sparse_rsgd`. On the Poincaré ball the step is evaluated
    by :func:`ball_step_in_span` (the same formulas in two passes over the rows).
    """
    check_learning_rate(learning_rate)

    def init_fn(table):
        return SparseRAdamState(
            count=jnp.zeros([], jnp.int32),
            slots=_slots(table),
            mu=jnp.zeros_like(table),
            nu=jnp.zeros(second_moment_shape(manifold, table), table.dtype),
        )

    def update_fn(row_grads, indices, state, table):
        count = optax.safe_increment(state.count)
        lr = learning_rate_at(learning_rate, state.count)
        bc1 = 1.0 - b1 ** count.astype(table.dtype)
        bc2 = 1.0 - b2 ** count.astype(table.dtype)

        def step_rows(g, x, m0, v0):
            if isinstance(manifold, PoincareBall):  # same formulas, evaluated in the span of (x, g, m0)
                c = manifold.c
                gram = span_gram(x, g, m0)
                xx, gg = gram[:2]
                one_minus = 1.0 - c * xx
                f = one_minus**2 / 4.0  # egrad2rgrad: r = f g
                lam = 2.0 / jnp.maximum(one_minus, numerics.min_norm(x.dtype))
                nu = b2 * v0 + (1.0 - b2) * jnp.maximum(lam * lam * (f * f) * gg, 0.0)  # <r, r>_x
                kappa = (-lr / bc1 / (jnp.sqrt(nu / bc2) + eps)).astype(x.dtype)  # u = kappa mu
                x_new, moved_mu, _ = ball_step_in_span(x, g, m0, (1.0 - b1) * f, b1, kappa, c=c, gram=gram)
                return x_new, moved_mu, nu
            r = manifold.egrad2rgrad(x, g)
            mu = b1 * m0 + (1.0 - b1) * r
            nu = b2 * v0 + (1.0 - b2) * second_moment(manifold, x, r)
            u = (-lr * (mu / bc1) / (jnp.sqrt(nu / bc2) + eps)).astype(x.dtype)
            x_new = manifold.proj(manifold.expmap(x, u))
            return x_new, manifold.transp(x, x_new, mu), nu

        (table, mu, nu), slots = _apply_to_rows(
            step_rows, row_grads, indices, state.slots, (table, state.mu, state.nu), dense_fraction
        )
        return table, SparseRAdamState(count=count, slots=slots, mu=mu, nu=nu)

    return SparseTransformation(init_fn, update_fn)
