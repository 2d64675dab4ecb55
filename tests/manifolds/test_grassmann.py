"""geomrep.manifolds.grassmann and the Grassmann value: contract and gyro laws in the ONB and projector views,
principal-angle distance against SciPy, invariance under U → U R, the two views agree, finite gradients at the
origin and at U = V, bad bases, Riemannian optimisation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from geomrep import optim
from geomrep.manifolds import Grassmann, grassmann
from geomrep.testing import check_gyro_laws, check_manifold_contract, quick_jit

DTYPES = [jnp.float32, jnp.float64]
VIEWS = ["onb", "pp"]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("view", VIEWS)
def test_contract(view, dtype):
    m = Grassmann(5, 2, view)
    check_manifold_contract(m, dim=m.dim, dtype=dtype, key=jax.random.key(0), n=8, std=0.5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("view", VIEWS)
def test_gyro_laws(view, dtype):
    # std 0.3 and |s|, |t| ≤ 1 keep s ⊗ P inside the injectivity radius (principal angles < π/2).
    check_gyro_laws(Grassmann(5, 2, view), dtype=dtype, key=jax.random.key(1), n=8, std=0.3, scalar_range=1.0)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), std=st.floats(0.01, 0.3), view=st.sampled_from(VIEWS))
def test_gyro_laws_hypothesis(seed, std, view):
    check_gyro_laws(
        Grassmann(5, 2, view), dtype=jnp.float64, key=jax.random.key(seed), n=8, std=std, scalar_range=1.0
    )


@functools.partial(quick_jit, static_argnames=("shape", "std"))
def _random_bases(seed, *, shape, std):
    return grassmann.random(jax.random.key(seed), shape, jnp.float64, std=std)


def _basis(seed, n=5, p=2, batch=(), std=0.5):
    """Random bases from one compiled function per shape (eager calls would compile every primitive)."""
    return np.asarray(_random_bases(seed, shape=batch + (n, p), std=std))


def _rotation(seed, p=2):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(p, p)))
    return q


# ---------------------------------------------------------------------------------------------------------------
# Against independent formulas.


@quick_jit
def _both_distances(U, V):
    return grassmann.dist(U, V), grassmann.pp_dist(grassmann.to_projector(U), grassmann.to_projector(V))


def test_distance_is_the_norm_of_the_principal_angles_small_and_large():
    U, V = _basis(0), _basis(1)
    onb, pp = _both_distances(U, V)
    want = np.linalg.norm(scipy.linalg.subspace_angles(U, V))
    np.testing.assert_allclose([onb, pp], [want, want], rtol=1e-12)
    # Angles of 1e-9 and π/2 − 1e-6: arccos of the singular values of UᵀV loses the first, arcsin the second.
    e = np.eye(5)
    thetas = np.array([1e-9, 1e-4, 1.0, np.pi / 2 - 1e-6])
    first = np.cos(thetas)[:, None] * e[0] + np.sin(thetas)[:, None] * e[2]
    W = np.stack([first, np.broadcast_to(e[1], (4, 5))], axis=-1)
    onb, pp = _both_distances(np.broadcast_to(e[:, :2], W.shape), W)
    # θ = π/2 − 1e-6 next to a zero angle: cos²θ = 1e-12 shares an eigendecomposition with cos²0 = 1, whose
    # absolute accuracy (eps) bounds that angle's error by eps/(2 cos θ) ≈ 1e-10.
    for got in (onb, pp):
        np.testing.assert_allclose(got[:3], thetas[:3], rtol=2e-14, atol=1e-15)
        assert abs(float(got[3]) - thetas[3]) < 2e-10


def test_distance_is_defined_at_the_cut_locus():
    # An angle of exactly π/2 (UᵀV singular): the distance is π/2·√2 here, finite, with finite gradients.
    e = np.eye(5)
    U, V = e[:, :2], np.stack([e[2], e[3]], axis=1)
    onb, pp = _both_distances(U, V)
    np.testing.assert_allclose([onb, pp], [np.pi / np.sqrt(2)] * 2, rtol=1e-15)
    grads = quick_jit(
        jax.grad(lambda u, v: grassmann.dist(u, v) + grassmann.pp_dist(u @ u.T, v @ v.T), (0, 1))
    )
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads(U, V))


def test_exp_log_transp_match_the_svd_formulas():
    U = _basis(2)
    H = grassmann.proju(U, np.random.default_rng(0).normal(size=(5, 2)))
    H = 1.2 * H / np.linalg.norm(H, 2)  # largest angle 1.2 < π/2: inside the injectivity radius
    O, sig, Rt = np.linalg.svd(H, full_matrices=False)
    want_exp = U @ Rt.T @ np.diag(np.cos(sig)) @ Rt + O @ np.diag(np.sin(sig)) @ Rt
    np.testing.assert_allclose(grassmann.expmap(U, H), want_exp, atol=1e-13)
    np.testing.assert_allclose(grassmann.logmap(U, want_exp), H, atol=1e-12)
    # [EAS98] eq. 2.68 along the geodesic U → Exp_U(H), in the representative the geodesic ends at
    G = grassmann.proju(U, np.random.default_rng(1).normal(size=(5, 2)))
    tau = (-U @ Rt.T @ np.diag(np.sin(sig)) @ O.T + O @ np.diag(np.cos(sig)) @ O.T + np.eye(5) - O @ O.T) @ G
    np.testing.assert_allclose(grassmann.transp(U, want_exp, G), tau, atol=1e-12)


@functools.partial(quick_jit)
def _invariance_pieces(U, V, H, R, R2):
    UR, VR = U @ R, V @ R2
    P = grassmann.random(jax.random.key(9), (5, 2), U.dtype, std=0.4)
    return {
        "dist": (grassmann.dist(UR, VR), grassmann.dist(U, V)),
        "log": (grassmann.logmap(UR, VR), grassmann.logmap(U, V) @ R),
        "exp": (
            grassmann.to_projector(grassmann.expmap(UR, H @ R)),
            grassmann.to_projector(grassmann.expmap(U, H)),
        ),
        "transp": (grassmann.transp(UR, VR, H @ R), grassmann.transp(U, V, H) @ R2),
        "coords": (grassmann.gyro_coords(UR), grassmann.gyro_coords(U)),
        "add": (
            grassmann.to_projector(grassmann.gyro_add(UR, VR)),
            grassmann.to_projector(grassmann.gyro_add(U, V)),
        ),
        "margin": (grassmann.hypergyroplane_margin(VR, UR, P @ R), grassmann.hypergyroplane_margin(V, U, P)),
        "egrad": (grassmann.egrad2rgrad(UR, H @ R), grassmann.egrad2rgrad(U, H) @ R),
    }


def test_invariance_under_change_of_basis():
    U, V = _basis(3), _basis(4)
    H = grassmann.proju(U, np.random.default_rng(2).normal(size=(5, 2)))
    for name, (a, b) in _invariance_pieces(U, V, H, _rotation(0), _rotation(1)).items():
        np.testing.assert_allclose(a, b, atol=1e-12, err_msg=name)


@functools.partial(quick_jit)
def _view_pieces(U, V, H):
    P, Q = grassmann.to_projector(U), grassmann.to_projector(V)
    Hpp = H @ U.T + U @ H.T
    log = grassmann.logmap(U, V)
    return {
        "dist": (grassmann.pp_dist(P, Q), grassmann.dist(U, V)),
        "log": (grassmann.pp_logmap(P, Q), log @ U.T + U @ log.T),
        "exp": (grassmann.pp_expmap(P, Hpp), grassmann.to_projector(grassmann.expmap(U, H))),
        "norm": (grassmann.pp_norm(P, Hpp), grassmann.norm(U, H)),
        "add": (grassmann.pp_gyro_add(P, Q, p=2), grassmann.to_projector(grassmann.gyro_add(U, V))),
        "inv": (grassmann.pp_gyro_inv(P, p=2), grassmann.to_projector(grassmann.gyro_inv(U))),
        "scalar": (
            grassmann.pp_gyro_scalar_mul(0.6, P, p=2),
            grassmann.to_projector(grassmann.gyro_scalar_mul(0.6, U)),
        ),
        "inner": (grassmann.pp_gyro_inner(P, Q, p=2), grassmann.gyro_inner(U, V)),
        "rgrad": (grassmann.pp_egrad2rgrad(P, Hpp) @ U, 2 * H),
        "proj": (
            grassmann.pp_proj(P + 0.01 * Hpp, p=2),
            grassmann.to_projector(grassmann.proj(U + 0.01 * H)),
        ),
    }


def test_the_projector_view_agrees_with_the_onb_view():
    U, V = _basis(5), _basis(6)
    H = grassmann.proju(U, np.random.default_rng(3).normal(size=(5, 2)))
    out = _view_pieces(U, V, H)
    for name, (a, b) in out.items():
        tol = (
            1e-4 if name == "proj" else 1e-12
        )  # nearest projector vs QR of a perturbed basis: O(0.01²) apart
        np.testing.assert_allclose(a, b, atol=tol, err_msg=name)


# ---------------------------------------------------------------------------------------------------------------
# Gradients: finite at the origin (where gyro layers start), at U = V and at repeated principal angles.


def _objective(U, V, W):
    terms = [
        grassmann.dist(U, V),
        grassmann.gyro_norm(grassmann.gyro_add(U, V)),
        grassmann.hypergyroplane_margin(V, U, W),
        jnp.sum(grassmann.gyro_inv_add(U, V) * W),
    ]
    return sum(jnp.sum(t) for t in terms)


def _gyro_objective(U, V, W):
    terms = [
        grassmann.gyro_norm(grassmann.gyro_add(U, V)),
        grassmann.hypergyroplane_margin(V, U, W),
        jnp.sum(grassmann.gyro_scalar_mul(0.7, V) * W),
    ]
    return sum(jnp.sum(t) for t in terms)


def test_gradients_finite_and_match_finite_differences():
    grad = quick_jit(jax.grad(_objective, argnums=(0, 1, 2)))
    f = quick_jit(_objective)
    e = np.eye(5)
    o = e[:, :2]
    equal_angles = np.stack(
        [np.cos(0.3) * e[0] + np.sin(0.3) * e[2], np.cos(0.3) * e[1] + np.sin(0.3) * e[3]], 1
    )
    points = {
        "origin": (o, o, o),
        "U = V": (_basis(7), _basis(7), _basis(8)),
        "repeated angles": (o, equal_angles, _basis(9)),
        "random": (_basis(10), _basis(11), _basis(12)),
    }
    rng = np.random.default_rng(4)
    # float32: the gyro operations (what layers use) have finite gradients at the origin and at U = V (one
    # compile; dist/log/exp in float32 at U = V are covered by the contract); float64: finite everywhere and = FD.
    g32 = quick_jit(jax.grad(_gyro_objective, argnums=(0, 1, 2)))(
        *(jnp.asarray(np.stack(a), jnp.float32) for a in zip(points["origin"], points["U = V"], strict=True))
    )
    assert all(bool(jnp.all(jnp.isfinite(gi))) for gi in g32)
    for name, args in points.items():
        g = grad(*(jnp.asarray(a) for a in args))
        assert all(bool(jnp.all(jnp.isfinite(gi))) for gi in g), name
        if name in ("origin", "U = V"):
            continue  # dist and ‖·‖_gr are not differentiable there (0 is a subgradient): finiteness only
        for k in range(3):
            d = rng.normal(size=(5, 2))
            h = 1e-6
            plus = [np.asarray(a) for a in args]
            minus = [np.asarray(a) for a in args]
            plus[k] = plus[k] + h * d
            minus[k] = minus[k] - h * d
            fd = (float(f(*plus)) - float(f(*minus))) / (2 * h)
            got = float(jnp.sum(g[k] * d))
            assert abs(got - fd) <= 1e-6 * (1 + abs(fd)), (name, k, got, fd)


# ---------------------------------------------------------------------------------------------------------------
# Bad input.


def test_non_orthonormal_bases_raise_or_are_reorthonormalised_with_a_warning():
    U = _basis(13, batch=(3,))
    assert grassmann.check_orthonormal(U).shape == (3, 5, 2)
    bad = U.copy()
    bad[2, :, 1] *= 1.5
    with pytest.raises(
        grassmann.NotOrthonormalError,
        match=r"U\[2\] does not have orthonormal columns: max \|UᵀU − I\| = 1\.25",
    ):
        grassmann.check_orthonormal(bad)
    with pytest.warns(
        UserWarning, match=r"U\[2\] does not have orthonormal columns.*re-orthonormalised by QR"
    ):
        fixed = grassmann.check_orthonormal(bad, reorthonormalize=True)
    np.testing.assert_allclose(grassmann.to_projector(fixed), grassmann.to_projector(U), atol=1e-12)
    rank1 = U.copy()
    rank1[1, :, 1] = rank1[1, :, 0]
    with pytest.raises(ValueError, match=r"U\[1\] is rank deficient"):
        grassmann.check_orthonormal(rank1, reorthonormalize=True)
    with pytest.raises(ValueError, match="p ≤ n"):
        grassmann.check_orthonormal(np.ones((2, 3)))
    with pytest.raises(ValueError, match="p must be ≤ n"):
        Grassmann(2, 3)
    with pytest.raises(ValueError, match=r"unknown view 'proj'; valid views are 'onb'"):
        Grassmann(4, 2, "proj")


# ---------------------------------------------------------------------------------------------------------------
# geomrep.optim on Grassmann parameters.


@pytest.mark.parametrize(
    "view, optimizer", [("onb", "rsgd"), pytest.param("pp", "radam", marks=pytest.mark.slow)]
)
def test_riemannian_optimizers_find_the_leading_eigenspace(view, optimizer):
    # minimise −tr(Uᵀ A U) (ONB) / −tr(A P) (PP): the minimiser is the span of A's top-2 eigenvectors.
    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    A = jnp.asarray(Q @ np.diag([5.0, 4.0, 1.0, 0.5, 0.2, 0.1]) @ Q.T)
    m = Grassmann(6, 2, view)
    top = Q[:, :2]

    def loss(x):
        return -jnp.trace(x.T @ A @ x) if view == "onb" else -jnp.trace(A @ x)

    x0 = m.random(jax.random.key(0), m.point_shape(), jnp.float64, std=0.5)
    tx = optim.rsgd(0.1, m, momentum=0.5) if optimizer == "rsgd" else optim.radam(0.05, m)

    @quick_jit
    def run(x):
        def step(_, carry):
            x, s = carry
            updates, s = tx.update(jax.grad(loss)(x), s, x)
            return optim.apply_updates(x, updates, m), s

        return jax.lax.fori_loop(0, 300, step, (x, tx.init(x)))[0]

    x = run(x0)
    basis = x if view == "onb" else grassmann.from_projector(x, 2)
    assert float(grassmann.dist(basis, top)) < 1e-5
    if view == "onb":
        grassmann.check_orthonormal(x)


def test_exp_skew_apply_matches_expm_and_is_smooth_at_zero():
    rng = np.random.default_rng(6)
    B = rng.normal(size=(3, 2))
    X = rng.normal(size=(5, 4))
    omega = np.zeros((5, 5))
    omega[2:, :2] = B
    omega[:2, 2:] = -B.T
    E = scipy.linalg.expm(omega)
    np.testing.assert_allclose(grassmann.exp_skew_apply(B, X), E @ X, atol=1e-13)
    np.testing.assert_allclose(grassmann.exp_skew_apply(B), E[:, :2], atol=1e-13)
    g = quick_jit(jax.grad(lambda b: jnp.sum(grassmann.exp_skew_apply(b, X) ** 3)))(jnp.zeros((3, 2)))
    assert bool(jnp.all(jnp.isfinite(g)))
    with pytest.raises(ValueError, match="X must have 5 rows"):
        grassmann.exp_skew_apply(B, X[:4])
