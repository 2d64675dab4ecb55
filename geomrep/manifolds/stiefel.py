"""The Stiefel manifold St(n, p) = {W ∈ ℝ^{n×p} : WᵀW = I_p} with the embedded (Euclidean) metric tr(AᵀB), as pure
``jax.numpy`` functions — the home of SPDNet's BiMap weights (X ↦ Wᵀ X W, Huang & Van Gool 2017).

====================  ================================================================================
proj(X)               polar factor X (XᵀX)^{-1/2}: the nearest point in Frobenius norm ([AMS08] §3.3)
proju(W, Z)           Z − W sym(WᵀZ)                                        ([AMS08] eq. 3.35)
egrad2rgrad(W, G)     proju(W, G)   (embedded metric; SPDNet's BiMap gradient)
retr(W, Δ)            proj(W + Δ)   (polar retraction, second order)
expmap(W, Δ)          [W, Δ] exp([[A, −S], [I, A]]) [I; 0] exp(−A),  A = WᵀΔ, S = ΔᵀΔ   ([EAS98] eq. 2.45)
transp(W, V, Δ)       proju(V, Δ): vector transport by projection (not isometric)
inner, norm           tr(Δ₁ᵀΔ₂), ‖Δ‖_F
====================  ================================================================================

There is no closed-form logarithm or distance for this metric: :func:`logmap` and :func:`dist` raise
NotImplementedError (geomrep's optimizers never call them; the manifold contract suite, which does, is not run on
Stiefel — its own tests check the properties that exist). The inverse square root of the polar factor goes through
:mod:`geomrep.manifolds.spectral`, so its gradient is exact also when XᵀX has repeated eigenvalues (e.g. at an
orthonormal X). Points are (..., n, p) arrays with p ≤ n.

>>> import jax.numpy as jnp
>>> W = proj(jnp.array([[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]]))
>>> W.tolist()
[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]

References:
    [AMS08] P.-A. Absil, R. Mahony, R. Sepulchre, "Optimization Algorithms on Matrix Manifolds", 2008.
    [EAS98] A. Edelman, T. Arias, S. Smith, "The geometry of algorithms with orthogonality constraints", SIAM J.
        Matrix Anal. Appl. 20, 1998.
    [HV17] Z. Huang, L. Van Gool, "A Riemannian network for SPD matrix learning", AAAI 2017 (BiMap layer, eq. 4;
        Stiefel gradient, eq. 9).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from geomrep.manifolds import grassmann, numerics, spectral

__all__ = [
    "proj",
    "proju",
    "egrad2rgrad",
    "inner",
    "norm",
    "expmap",
    "logmap",
    "retr",
    "transp",
    "dist",
    "random",
    "origin",
    "check_orthonormal",
]

_HI = jax.lax.Precision.HIGHEST

#: The boundary check of orthonormal columns (shared with the Grassmann ONB view).
check_orthonormal = grassmann.check_orthonormal


def _mT(A):
    return jnp.swapaxes(A, -1, -2)


def _mm(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = jnp.matmul(out, m, precision=_HI)
    return out


def proj(X):
    """Polar factor X (XᵀX)^{-1/2} (X must have full column rank). Shapes: (..., n, p) → (..., n, p)."""
    X = numerics.as_float(X)
    return _mm(X, spectral.sym_invsqrtm(spectral.sym(_mm(_mT(X), X))))


def proju(W, Z):
    """Tangent projection Z − W sym(WᵀZ) (tangent vectors Δ satisfy WᵀΔ + ΔᵀW = 0)."""
    W, Z = numerics.as_float(W), numerics.as_float(Z)
    return Z - _mm(W, spectral.sym(_mm(_mT(W), Z)))


def egrad2rgrad(W, G):
    """Riemannian gradient for the embedded metric: proju(W, G) ([HV17] eq. 9)."""
    return proju(W, G)


def inner(W, U, V=None, *, keepdims: bool = False):
    """tr(UᵀV) (V defaults to U). Shapes: (..., n, p) → (...) or (..., 1, 1) with ``keepdims``."""
    U = numerics.as_float(U)
    V = U if V is None else numerics.as_float(V)
    out = jnp.sum(U * V, axis=(-2, -1), keepdims=keepdims)
    shape = jnp.broadcast_shapes(jnp.shape(W), U.shape, V.shape)
    return jnp.broadcast_to(out, shape[:-2] + ((1, 1) if keepdims else ()))


def norm(W, U, *, keepdims: bool = False):
    """‖U‖_F (zero gradient at U = 0)."""
    return numerics.safe_sqrt(inner(W, U, keepdims=keepdims))


def expmap(W, D):
    """Geodesic of the embedded metric ([EAS98] eq. 2.45): [W, Δ] exp([[A, −S], [I, A]]) [I; 0] exp(−A), with
    A = WᵀΔ (skew) and S = ΔᵀΔ; two ``expm`` of 2p×2p and p×p matrices. Shapes: (..., n, p) → (..., n, p)."""
    W, D = numerics.as_float(W), numerics.as_float(D)
    W, D = jnp.broadcast_arrays(W, D)
    p = W.shape[-1]
    A = _mm(_mT(W), D)
    A = 0.5 * (A - _mT(A))
    S = _mm(_mT(D), D)
    eye = jnp.broadcast_to(jnp.eye(p, dtype=W.dtype), A.shape)
    block = jnp.concatenate([jnp.concatenate([A, -S], axis=-1), jnp.concatenate([eye, A], axis=-1)], axis=-2)
    E = jax.scipy.linalg.expm(block)[..., :, :p]
    return _mm(jnp.concatenate([W, D], axis=-1), E, jax.scipy.linalg.expm(-A))


def retr(W, D):
    """Polar retraction proj(W + Δ)."""
    return proj(numerics.as_float(W) + numerics.as_float(D))


def transp(W, V, D):
    """Vector transport by projection onto T_V: proju(V, Δ) (not norm-preserving)."""
    del W
    return proju(V, D)


def logmap(W, V):
    """Not available: the embedded-metric Stiefel logarithm has no closed form."""
    raise NotImplementedError(
        "geomrep.manifolds.stiefel.logmap: the Stiefel logarithm of the embedded metric has no closed form "
        "(use the Grassmann view if only the span matters)"
    )


def dist(W, V, *, keepdims: bool = False):
    """Not available: the embedded-metric Stiefel distance has no closed form."""
    raise NotImplementedError(
        "geomrep.manifolds.stiefel.dist: the Stiefel geodesic distance of the embedded metric has no closed form "
        "(grassmann.dist gives the distance between the spans)"
    )


def origin(shape, dtype=jnp.float32):
    """I_{n,p} = [I_p; 0] broadcast to ``shape`` (..., n, p) (SPDNet's BiMap initialisation is random instead)."""
    return grassmann.origin(shape, dtype)


def random(key, shape, dtype=jnp.float32, *, std: float = 1.0):
    """Haar-uniform points: the polar factor of a Gaussian matrix (``std`` does not matter and is ignored).

    >>> W = random(jax.random.key(0), (4, 3))
    >>> bool(jnp.allclose(W.T @ W, jnp.eye(3), atol=1e-5))
    True
    """
    shape = tuple(shape)
    if len(shape) < 2 or shape[-1] > shape[-2]:
        raise ValueError(f"geomrep.manifolds.stiefel.random: shape must end with (n, p), p ≤ n; got {shape}")
    del std
    return proj(jax.random.normal(key, shape, dtype=dtype))
