"""The Fourier transform on a finite group and the per-irrep power of functions and weight vectors.

For the real irreps ρ of G (see :func:`geomrep.algebra.irreps.irreps`; dimension d_ρ, commutant dimension
k_ρ = 1, 2, 4 for real, complex and quaternionic type), and f: G → ℝ (notes C3; Morwani et al. 2023 §6,
Chughtai et al. 2023 App. C):

    f̂(ρ) = Σ_g f(g) ρ(g)                                        (transform, d_ρ × d_ρ)
    f(g) = (1/|G|) Σ_ρ (d_ρ/k_ρ) tr(ρ(g)ᵀ f̂(ρ))                   (inversion)
    Σ_g f(g)² = (1/|G|) Σ_ρ (d_ρ/k_ρ) ‖f̂(ρ)‖_F²                  (Plancherel)

The term of ρ in the inversion is the orthogonal projection of f onto the span of the matrix entries of ρ
(the ρ-isotypic functions, of dimension d_ρ²/k_ρ), so the *power* of f in ρ is

    P_ρ(f) = (d_ρ/(k_ρ|G|)) ‖f̂(ρ)‖_F² / ‖f‖²,        Σ_ρ P_ρ(f) = 1.

The factor 1/k_ρ is what makes this right for complex- and quaternionic-type irreps (the 4 entries of a Z_n
rotation block span only cos and sin). :func:`fourier_basis` gives an orthonormal basis of ℝ^G adapted to the
irreps (MEOZK's "basis vectors"); for Z_n it is exactly the real Fourier basis (1/√n, then √(2/n)cos and
√(2/n)sin of each frequency, then the alternating vector for even n), and :func:`frequency_power` computes
the Z_n case with an FFT, merging ±k: power at k ∝ c_k² + s_k².

Everything is jax.numpy, works in float32 and float64 (following the input's dtype), jits, and takes the
group axis anywhere (``axis``), batching over all others: a weight matrix W of shape (|G|, m) with one neuron
per column gives per-neuron powers with ``irrep_power(W, reps, axis=0)``.

Example:
    >>> import jax.numpy as jnp
    >>> from geomrep.algebra import groups, irreps
    >>> reps = irreps.irreps(groups.cyclic(8))
    >>> x = jnp.cos(2 * jnp.pi * 3 * jnp.arange(8) / 8 + 0.4)
    >>> irrep_power(x, reps).round(6).tolist()
    [0.0, 0.0, 0.0, 1.0, 0.0]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.algebra.irreps import Irrep

__all__ = [
    "FourierBasis",
    "fourier_basis",
    "fourier_transform",
    "frequency_power",
    "inverse_fourier_transform",
    "irrep_power",
]

_HIGHEST = jax.lax.Precision.HIGHEST
# A Gram–Schmidt column whose remaining norm is below this fraction of √|G| is linearly dependent.
_RANK_TOL = 1e-8


def _check_reps(reps: Sequence[Irrep], what: str) -> int:
    if isinstance(reps, Irrep) or not len(reps):
        raise TypeError(
            f"{what}: expected the list of irreps of a group (geomrep.algebra.irreps.irreps(group))"
        )
    orders = {r.matrices.shape[0] for r in reps}
    if len(orders) != 1:
        raise ValueError(f"{what}: the irreps are of groups of different orders {sorted(orders)}")
    return orders.pop()


def _as_float(x) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def _check_axis(x: jax.Array, axis: int, order: int, what: str) -> None:
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim or x.shape[axis] != order:
        raise ValueError(f"{what}: axis {axis} of x (shape {x.shape}) must have the group's order {order}")


def _stacked(reps: Sequence[Irrep]) -> np.ndarray:
    """(|G|, Σ d²) float64: row g holds ρ(g) flattened row-major for every irrep, one after the other."""
    return np.concatenate([r.matrices.reshape(r.matrices.shape[0], -1) for r in reps], axis=1)


def fourier_transform(f, reps: Sequence[Irrep], *, axis: int = -1) -> list[jax.Array]:
    """f̂(ρ) = Σ_g f(g) ρ(g) for every irrep ρ.

    Args:
        f: array with the group on ``axis`` (size |G|), any other (batch) axes.
        reps: the irreps of the group, e.g. ``irreps(group)``.
        axis: the group axis of ``f``.

    Returns:
        One array per irrep, shape ``batch + (d_ρ, d_ρ)`` (batch = the other axes of f, in order), dtype of f.
    """
    order = _check_reps(reps, "fourier_transform")
    f = _as_float(f)
    _check_axis(f, axis, order, "fourier_transform")
    return list(_transform_kernel(f, _stacked(reps), axis=axis, dims=tuple(r.dim for r in reps)))


@functools.partial(jax.jit, static_argnames=("axis", "dims"))
def _transform_kernel(f, stacked, *, axis: int, dims: tuple[int, ...]):
    f = jnp.moveaxis(f, axis, -1)
    coeffs = jnp.matmul(f, stacked.astype(f.dtype), precision=_HIGHEST)
    out, start = [], 0
    for d in dims:
        out.append(coeffs[..., start : start + d * d].reshape(*f.shape[:-1], d, d))
        start += d * d
    return tuple(out)


def inverse_fourier_transform(f_hat: Sequence, reps: Sequence[Irrep], *, axis: int = -1) -> jax.Array:
    """f(g) = (1/|G|) Σ_ρ (d_ρ/k_ρ) tr(ρ(g)ᵀ f̂(ρ)), the inverse of :func:`fourier_transform`.

    Args:
        f_hat: one array per irrep, shape ``batch + (d_ρ, d_ρ)`` with the same batch shape.
        reps: the irreps, in the order of ``f_hat``.
        axis: where to put the group axis in the output.

    Returns:
        Array of shape ``batch + (|G|,)`` with the group axis moved to ``axis``.
    """
    order = _check_reps(reps, "inverse_fourier_transform")
    if len(f_hat) != len(reps):
        raise ValueError(f"inverse_fourier_transform: {len(f_hat)} coefficient blocks for {len(reps)} irreps")
    blocks = []
    for i, (block, r) in enumerate(zip(f_hat, reps, strict=True)):
        block = _as_float(block)
        if block.shape[-2:] != (r.dim, r.dim):
            raise ValueError(
                f"inverse_fourier_transform: block {i} ({r.name}) has shape {block.shape}, expected (..., {r.dim}, {r.dim})"
            )
        blocks.append(block.reshape(*block.shape[:-2], r.dim * r.dim))
    weights = np.concatenate([np.full(r.dim**2, r.dim / (r.commutant_dim * order)) for r in reps])
    return _inverse_kernel(tuple(blocks), _stacked(reps).T * weights[:, None], axis=axis)


@functools.partial(jax.jit, static_argnames=("axis",))
def _inverse_kernel(blocks, weighted_stacked_t, *, axis: int):
    batch = jnp.broadcast_shapes(*(b.shape[:-1] for b in blocks))
    coeffs = jnp.concatenate([jnp.broadcast_to(b, (*batch, b.shape[-1])) for b in blocks], axis=-1)
    f = jnp.matmul(coeffs, weighted_stacked_t.astype(coeffs.dtype), precision=_HIGHEST)
    return jnp.moveaxis(f, -1, axis)


class FourierBasis(NamedTuple):
    """An orthonormal basis of ℝ^G adapted to the irreps.

    ``matrix[:, irrep_index == i]`` is an orthonormal basis (d_i²/k_i columns) of the span of the matrix
    entries g ↦ ρ_i(g)_{ab}, obtained by Gram–Schmidt over the entries (a, b) in column-major order.
    """

    matrix: np.ndarray  # float64 (|G|, |G|), orthogonal
    irrep_index: np.ndarray  # int64 (|G|,), the irrep (position in reps) of each column


def fourier_basis(reps: Sequence[Irrep]) -> FourierBasis:
    """The orthonormal irrep-adapted basis of ℝ^G (host-side NumPy, float64).

    For Z_n (``irreps(cyclic(n))``) the columns are 1/√n, then √(2/n)cos(2πka/n), √(2/n)sin(2πka/n) for
    k = 1..⌈n/2⌉−1, then (−1)^a/√n for even n.

    Example:
        >>> from geomrep.algebra import groups, irreps
        >>> b = fourier_basis(irreps.irreps(groups.symmetric(3)))
        >>> b.matrix.shape, b.irrep_index.tolist()
        ((6, 6), [0, 1, 1, 1, 1, 2])
    """
    _check_reps(reps, "fourier_basis")
    return _fourier_basis_cached(tuple(reps))


@functools.lru_cache(maxsize=64)
def _fourier_basis_cached(reps: tuple[Irrep, ...]) -> FourierBasis:
    order = reps[0].matrices.shape[0]
    columns, index = [], []
    for i, r in enumerate(reps):
        entries = r.matrices.transpose(0, 2, 1).reshape(order, -1)  # column-major: ρ_00, ρ_10, ..., ρ_01, ...
        if r.kind == "real":
            kept = list((entries * np.sqrt(r.dim / order)).T)  # orthonormal by Schur orthogonality
        else:
            kept = _gram_schmidt(entries.T, tol=_RANK_TOL * np.sqrt(order))
        expected = r.dim**2 // r.commutant_dim
        if len(kept) != expected:
            raise ArithmeticError(
                f"fourier_basis: irrep {r.name} spans {len(kept)} functions, expected {expected}"
            )
        columns += kept
        index += [i] * len(kept)
    matrix = np.stack(columns, axis=1)
    if matrix.shape != (order, order):
        raise ValueError(
            f"fourier_basis: the irreps span {matrix.shape[1]} of {order} dimensions; pass all irreps of the group"
        )
    matrix.setflags(write=False)
    irrep_index = np.asarray(index, dtype=np.int64)
    irrep_index.setflags(write=False)
    return FourierBasis(matrix=matrix, irrep_index=irrep_index)


def _gram_schmidt(vectors: np.ndarray, tol: float) -> list[np.ndarray]:
    """Orthonormalise the rows in order, dropping those dependent on earlier ones (twice-iterated Gram–Schmidt)."""
    kept: list[np.ndarray] = []
    for v in vectors:
        for _ in range(2):
            if kept:
                q = np.stack(kept)
                v = v - q.T @ (q @ v)
        norm = np.linalg.norm(v)
        if norm > tol:
            kept.append(v / norm)
    return kept


def _normalized(power: jax.Array, total: jax.Array) -> jax.Array:
    safe = jnp.where(total > 0, total, 1)
    return jnp.where(total > 0, power / safe, 0)


def irrep_power(x, reps: Sequence[Irrep], *, axis: int = -1, normalize: bool = True) -> jax.Array:
    """Power of x in each irrep: P_ρ(x) = (d_ρ/(k_ρ|G|))‖x̂(ρ)‖_F² (/‖x‖² when ``normalize``).

    Args:
        x: array with the group on ``axis``: a function on G, or weight vectors (e.g. one neuron's u_i, or a
            weight matrix with one neuron per column and ``axis=0``).
        reps: the irreps of the group (all of them).
        axis: the group axis of x.
        normalize: divide by ‖x‖² so the powers sum to 1 (a zero vector gets all-zero powers).

    Returns:
        Array ``batch + (len(reps),)``, the other axes of x in order; entry i is the power in ``reps[i]``.
        For Z_n, entry k is frequency k (``irreps(cyclic(n))`` lists frequency k at position k).
    """
    order = _check_reps(reps, "irrep_power")
    x = _as_float(x)
    _check_axis(x, axis, order, "irrep_power")
    basis = fourier_basis(reps)
    segments = np.zeros((order, len(reps)))
    segments[np.arange(order), basis.irrep_index] = 1.0
    return _power_kernel(x, basis.matrix, segments, axis=axis, normalize=normalize)


@functools.partial(jax.jit, static_argnames=("axis", "normalize"))
def _power_kernel(x, basis, segments, *, axis: int, normalize: bool):
    x = jnp.moveaxis(x, axis, -1)
    coeffs = jnp.matmul(x, basis.astype(x.dtype), precision=_HIGHEST)
    power = jnp.matmul(coeffs**2, segments.astype(x.dtype), precision=_HIGHEST)
    return _normalized(power, jnp.sum(x**2, axis=-1, keepdims=True)) if normalize else power


def frequency_power(x, *, axis: int = -1, normalize: bool = True) -> jax.Array:
    """Power of x ∈ ℝ^n (a function on Z_n) at each frequency k = 0..⌊n/2⌋, merging ±k (FFT).

    With X_k = Σ_a x_a e^{−2πika/n}: power_k = |X_k|²/n for k = 0 and k = n/2, 2|X_k|²/n otherwise
    (= c_k² + s_k² in the orthonormal cos/sin basis), so Σ_k power_k = ‖x‖² (Parseval). Equals
    ``irrep_power(x, irreps(cyclic(n)))``.

    Returns:
        Array ``batch + (n//2 + 1,)``, normalised to sum to 1 when ``normalize`` (zero vectors give zeros).
    """
    x = _as_float(x)
    if x.ndim == 0:
        raise ValueError("frequency_power: x must have a group axis")
    _check_axis(x, axis, x.shape[axis], "frequency_power")
    return _frequency_kernel(x, axis=axis, normalize=normalize)


@functools.partial(jax.jit, static_argnames=("axis", "normalize"))
def _frequency_kernel(x, *, axis: int, normalize: bool):
    x = jnp.moveaxis(x, axis, -1)
    n = x.shape[-1]
    spectrum = jnp.fft.rfft(x, axis=-1)
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    power = ((jnp.real(spectrum) ** 2 + jnp.imag(spectrum) ** 2) * (weights / n)).astype(x.dtype)
    return _normalized(power, jnp.sum(x**2, axis=-1, keepdims=True)) if normalize else power
