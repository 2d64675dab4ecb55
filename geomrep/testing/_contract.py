"""One contract suite for every manifold value (geomrep's and users' own)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.testing import _asserts
from geomrep.testing._compile import quick_jit

#: Per-dtype tolerances of :func:`check_manifold_contract`. ``value``: scaled error |a − b| / (1 + |b|) of
#: identities between computed values; ``fd``: the same for the finite-difference gradient check, whose central
#: difference uses step ``fd_step``.
TOLERANCES = {
    np.dtype(np.float64): {"value": 1e-9, "fd": 1e-6, "fd_step": 1e-5},
    np.dtype(np.float32): {"value": 5e-4, "fd": 1e-2, "fd_step": 1e-2},
}


def contract_tolerances(dtype) -> dict:
    """The tolerance row of :data:`TOLERANCES` for ``dtype`` (float32 or float64)."""
    dt = np.dtype(dtype)
    if dt not in TOLERANCES:
        raise TypeError(f"check_manifold_contract: no tolerance row for dtype {dt}; use float32 or float64")
    return dict(TOLERANCES[dt])


def _point_shape(manifold, dim):
    if hasattr(manifold, "point_shape"):
        return tuple(manifold.point_shape(dim))
    if hasattr(manifold, "ambient_dim"):
        return (int(manifold.ambient_dim(dim)),)
    return (int(dim),)


def _contract_values(manifold, point_shape, dtype, n, std, fd_step, key):
    """Compute every quantity the contract compares (a pure function: jit it or run it eagerly).

    Calls of the same kernel are stacked along the batch axis (one ``expmap`` call evaluates exp_x(u),
    exp_x(±h v), exp_x(log_x y) and exp_o(w) together), so the jitted graph holds each kernel about once and
    compiles quickly.
    """
    m = manifold
    shape = (n,) + point_shape
    # Two random draws in all (threefry is a large part of the compiled graph): the points, and one block of
    # Gaussian ambient vectors that is sliced for every other use.
    key_points, key_aux = jax.random.split(key)

    def cat(*arrays):
        return jnp.concatenate(arrays, axis=0)

    def split(a, parts):
        return jnp.split(a, parts, axis=0)

    def batch_expand(values):
        return jnp.reshape(values, values.shape + (1,) * len(point_shape))

    x, y, z = split(m.random(key_points, (3 * n,) + point_shape, dtype, std=std), 3)
    gauss = split(jax.random.normal(key_aux, (4 * n,) + point_shape, dtype=dtype), 4)
    has_origin = hasattr(m, "origin")
    o = m.origin(shape, dtype) if has_origin else x
    ambient = 3.0 * gauss[0]
    radii = jnp.linspace(0.1, 1.0, n, dtype=dtype)
    h = jnp.asarray(fd_step, dtype)

    out = {"random": x, "origin": o}
    proj_amb, proj_x = split(m.proj(cat(ambient, x)), 2)
    out["proj"], out["proj_on_point"] = proj_amb, proj_x
    out["proj_proj"] = m.proj(proj_amb)

    # Tangent vectors: proju of an ambient vector, of two Gaussian directions at x, and of one at the origin.
    tangents = m.proju(cat(x, x, x, o), cat(ambient, gauss[1], gauss[2], 0.5 * gauss[3]))
    proju_amb, u_dir, v_dir, w0 = split(tangents, 4)
    out["proju"] = proju_amb
    out["proju_proju"] = m.proju(x, proju_amb)
    dir_norms = m.norm(cat(x, x), cat(u_dir, v_dir))
    u_len, v_len = split(dir_norms, 2)
    u = u_dir * batch_expand(radii / u_len)
    v = v_dir / batch_expand(v_len)
    out["u"] = u

    # log first (exp_x(log_x y) needs it), then one stacked expmap, then the logs of those results.
    log_xy, log_oy = split(m.logmap(cat(x, o), cat(y, y)), 2)
    out["log"] = log_xy
    exps = m.expmap(cat(x, x, x, x, o), cat(u, h * v, -h * v, log_xy, w0))
    exp_u, exp_plus, exp_minus, exp_log, exp_ow = split(exps, 5)
    out["exp"], out["exp_log"] = exp_u, exp_log
    log_exp = m.logmap(x, exp_u)
    out["retr"], out["retr_zero"] = split(m.retr(cat(x, x), cat(u, jnp.zeros_like(u))), 2)

    pu, pv = split(m.transp(cat(x, x), cat(y, y), cat(u, v)), 2)
    out["transp_u"] = pu

    # Riemannian gradient of f(p) = d(p, y)² against a central difference along the geodesic through x.
    def f(p):
        return jnp.sum(m.dist(p, y) ** 2)

    rgrad = m.egrad2rgrad(x, jax.grad(f)(x))
    out["rgrad"] = rgrad

    dists = m.dist(
        cat(x, y, x, x, y, x, exp_log, o, exp_plus, exp_minus),
        cat(y, x, x, z, z, exp_u, y, y, y, y),
    )
    (dxy, dyx, dxx, dxz, dyz, d_exp, d_exp_log, d_oy, f_plus, f_minus) = split(dists, 10)
    out.update(
        dxy=dxy, dyx=dyx, dxx=dxx, dxz=dxz, dyz=dyz, dist_exp=d_exp, exp_log_err=d_exp_log, dist_o=d_oy
    )
    out["fd_dot_v"] = (f_plus**2 - f_minus**2) / (2.0 * h)
    out["dxy_keepdims"] = m.dist(x, y, keepdims=True)

    norms = m.norm(cat(x, x, x, y), cat(u, log_exp - u, log_xy, pu))
    out["u_norm"], out["log_exp_err"], out["log_norm"], out["transp_norm"] = split(norms, 4)
    inners = m.inner(cat(x, x, y, x), cat(u, u, pu, rgrad), cat(u, v, pv, v))
    out["u_inner"], out["inner_uv"], out["transp_inner"], out["rgrad_dot_v"] = split(inners, 4)
    out["u_inner_default"] = m.inner(x, u)

    # Gradients at the singular points of the formulas must be finite: dist at p = x, norm and expmap at
    # u = 0, logmap at y = x.
    def singular(p, w):
        return (
            jnp.sum(m.dist(p, x)) + jnp.sum(m.norm(x, w)) + jnp.sum(m.expmap(x, w)) + jnp.sum(m.logmap(x, p))
        )

    out["grad_at_singular_points"] = cat(*jax.grad(singular, argnums=(0, 1))(x, jnp.zeros_like(u)))

    # Maps at the origin, where the manifold defines them.
    if has_origin and hasattr(m, "expmap0"):
        out["expmap0"] = m.expmap0(w0)
        out["expmap_o"] = exp_ow
    if has_origin and hasattr(m, "logmap0"):
        out["logmap0"] = m.logmap0(y)
        out["logmap_o"] = log_oy
    if has_origin and hasattr(m, "dist0"):
        out["dist0"] = m.dist0(y)
        out["grad_dist0_origin"] = jax.grad(lambda p: jnp.sum(m.dist0(p)))(o)
    if not has_origin:
        del out["origin"]

    # Manifold and tangent-space violations, computed here so that the jitted path needs no second trace.
    for name in ("random", "proj", "exp", "retr", "exp_log", "origin", "expmap0"):
        if name in out:
            out[f"viol_point_{name}"] = _asserts.point_violation(m, out[name])
    out["viol_tangent_proju"] = _asserts.tangent_violation(m, x, proju_amb)
    out["viol_tangent_log"] = _asserts.tangent_violation(m, x, log_xy)
    out["viol_tangent_transp"] = _asserts.tangent_violation(m, y, pu)
    out["viol_tangent_rgrad"] = _asserts.tangent_violation(m, x, rgrad)
    if "logmap0" in out:
        out["viol_tangent_logmap0"] = _asserts.tangent_violation(m, o, out["logmap0"])
    return out


def _scaled_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / (1.0 + np.abs(b))


def _check(label, property_name, err, tol, hint=""):
    err = np.asarray(err, dtype=np.float64)
    bad = ~(err <= tol)  # NaN counts as a failure
    if not np.any(bad):
        return
    index, worst = _asserts._worst(np.where(np.isnan(err), np.inf, err))
    msg = (
        f"{label}: {property_name} fails: worst scaled error {worst:.3g} at index {index} > tolerance {tol:.3g} "
        f"({int(np.sum(bad))} of {err.size} fail)"
    )
    if hint:
        msg += f". {hint}"
    raise AssertionError(msg)


def _norm_rows(a, point_ndim):
    a = np.asarray(a, dtype=np.float64)
    return np.sqrt(np.sum(a * a, axis=tuple(range(-point_ndim, 0))))


def check_manifold_contract(manifold, *, dim, dtype=jnp.float32, key=None, n=16, std=None, jit=True):
    """Run geomrep's manifold contract on ``manifold``; raise AssertionError naming the first broken property.

    ``manifold`` is any value with geomrep's vocabulary (``proj, proju, egrad2rgrad, inner, norm, expmap,
    logmap, retr, transp, dist`` and ``random(key, shape, dtype, *, std)``; optionally ``origin(shape, dtype),
    expmap0, logmap0, dist0``, ``ambient_dim(dim)`` or ``point_shape(dim)``, and ``point_ndim`` for matrix
    manifolds). It checks, on ``n`` random points of the ``dim``-dimensional manifold in ``dtype``:

    - ``random``, ``proj`` (of arbitrary ambient vectors), ``expmap``, ``retr`` land on the manifold; ``proj``
      is idempotent and fixes manifold points; ``proju`` lands in the tangent space and is idempotent;
    - expmap/logmap are inverse in both orders; ``dist`` is symmetric, ≥ 0, zero on the diagonal, satisfies the
      triangle inequality, equals ‖log_x y‖_x, and d(x, exp_x(u)) = ‖u‖_x;
    - ``inner(x, u, u) = norm(x, u)²``; ``transp`` maps T_x to T_y and preserves norms and inner products;
    - ``egrad2rgrad`` is right: for f(p) = d(p, y)², ⟨rgrad f(x), v⟩_x equals the central difference of
      f(exp_x(±h v)) (h from the tolerance table);
    - gradients of dist at x = y, of norm and expmap at u = 0, of logmap at y = x and of dist0 at the origin are
      finite; ``expmap0/logmap0/dist0`` agree with the general maps at ``origin``;
    - every output is finite and keeps ``dtype``.

    Tolerances come from :data:`TOLERANCES` (scaled errors |a − b|/(1 + |b|)). ``std`` is passed to
    ``manifold.random`` (default 0.5/√dim, i.e. points about 1 unit from the origin, where float32 is
    accurate). ``jit=True`` computes everything in one jitted function (one compile); ``jit=False`` runs eagerly.

    >>> import jax, jax.numpy as jnp
    >>> from geomrep.manifolds import PoincareBall
    >>> check_manifold_contract(PoincareBall(1.0), dim=3, dtype=jnp.float32, key=jax.random.key(0), n=4)
    """
    dtype = np.dtype(dtype)
    tol = contract_tolerances(dtype)
    if key is None:
        key = jax.random.key(0)
    if std is None:
        std = 0.5 / float(dim) ** 0.5
    point_shape = _point_shape(manifold, dim)
    point_ndim = _asserts._point_ndim(manifold)
    label = f"check_manifold_contract({manifold!r}, dim={dim}, dtype={dtype.name})"
    compute = functools.partial(_contract_values, manifold, point_shape, dtype, n, std, tol["fd_step"])
    if jit:
        compute = quick_jit(compute)
    out = jax.tree_util.tree_map(np.asarray, compute(key))

    # Every output is finite and keeps the dtype.
    for name, value in out.items():
        if name.startswith("viol_"):
            continue
        if value.dtype != dtype:
            raise AssertionError(f"{label}: output {name!r} has dtype {value.dtype}, expected {dtype.name}")
        finite = np.isfinite(value)
        if not np.all(finite):
            where = np.argwhere(~finite)[0]
            raise AssertionError(
                f"{label}: output {name!r} is not finite at index {tuple(int(i) for i in where)}"
            )

    # On the manifold / in the tangent space.
    for name, what in (
        ("random", "random point"),
        ("proj", "proj(ambient) point"),
        ("exp", "expmap(x, u) point"),
        ("retr", "retr(x, u) point"),
        ("exp_log", "expmap(x, logmap(x, y)) point"),
        ("origin", "origin point"),
        ("expmap0", "expmap0 point"),
    ):
        key_ = f"viol_point_{name}"
        if key_ in out:
            violation, aux = out[key_]
            atol = _asserts.default_point_atol(manifold, dtype)
            _asserts.report_point_violation(manifold, violation, aux, atol, what=what, context=label)
    for name, what in (
        ("proju", "proju(x, ·) vector"),
        ("log", "logmap(x, y) vector"),
        ("transp", "transp(x, y, u) vector (tangent at y)"),
        ("rgrad", "egrad2rgrad(x, g) vector"),
        ("logmap0", "logmap0 vector"),
    ):
        key_ = f"viol_tangent_{name}"
        if key_ in out:
            violation, aux = out[key_]
            atol = _asserts.default_tangent_atol(manifold, dtype)
            _asserts.report_tangent_violation(manifold, violation, aux, atol, what=what, context=label)

    v = tol["value"]
    pn = point_ndim
    size_proj = _norm_rows(out["proj"], pn)
    _check(label, "proj is idempotent", _norm_rows(out["proj_proj"] - out["proj"], pn) / (1 + size_proj), v)
    size_x = _norm_rows(out["random"], pn)
    _check(
        label,
        "proj fixes points on the manifold",
        _norm_rows(out["proj_on_point"] - out["random"], pn) / (1 + size_x),
        v,
    )
    size_pu = _norm_rows(out["proju"], pn)
    _check(label, "proju is idempotent", _norm_rows(out["proju_proju"] - out["proju"], pn) / (1 + size_pu), v)
    _check(label, "inner(x, u, u) == norm(x, u)²", _scaled_err(out["u_inner"], out["u_norm"] ** 2), v)
    _check(
        label,
        "inner(x, u) (v=None) == inner(x, u, u)",
        _scaled_err(out["u_inner_default"], out["u_inner"]),
        v,
    )
    _check(
        label,
        "logmap inverts expmap (‖log_x(exp_x u) − u‖_x)",
        out["log_exp_err"] / (1 + out["u_norm"]),
        v,
    )
    _check(label, "expmap inverts logmap (d(exp_x(log_x y), y))", out["exp_log_err"] / (1 + out["dxy"]), v)
    _check(label, "dist is symmetric", _scaled_err(out["dxy"], out["dyx"]), v)
    _check(label, "dist is zero on the diagonal", np.abs(out["dxx"]), v)
    _check(label, "dist is non-negative", np.maximum(-out["dxy"], 0.0), 0.0)
    keep_shape = out["dxy"].shape + (1,) * pn
    if out["dxy_keepdims"].shape != keep_shape:
        raise AssertionError(
            f"{label}: dist(x, y, keepdims=True) has shape {out['dxy_keepdims'].shape}, expected "
            f"{keep_shape} (the batch shape plus point_ndim={pn} trailing axes of size 1)"
        )
    _check(
        label,
        "dist(x, y, keepdims=True) == dist(x, y)",
        _scaled_err(out["dxy_keepdims"].reshape(out["dxy"].shape), out["dxy"]),
        v,
    )
    triangle = np.maximum(out["dxz"] - out["dxy"] - out["dyz"], 0.0) / (1 + out["dxz"])
    _check(label, "triangle inequality d(x,z) ≤ d(x,y) + d(y,z)", triangle, v)
    _check(label, "dist(x, y) == norm(x, logmap(x, y))", _scaled_err(out["log_norm"], out["dxy"]), v)
    _check(label, "dist(x, expmap(x, u)) == norm(x, u)", _scaled_err(out["dist_exp"], out["u_norm"]), v)
    _check(label, "retr(x, 0) == x", _norm_rows(out["retr_zero"] - out["random"], pn) / (1 + size_x), v)
    _check(label, "transp preserves the Riemannian norm", _scaled_err(out["transp_norm"], out["u_norm"]), v)
    _check(label, "transp preserves inner products", _scaled_err(out["transp_inner"], out["inner_uv"]), v)
    _check(
        label,
        "egrad2rgrad matches finite differences (⟨rgrad f, v⟩_x vs d/dt f(exp_x(t v)), f = d(·, y)²)",
        _scaled_err(out["rgrad_dot_v"], out["fd_dot_v"]),
        tol["fd"],
        hint="the Riemannian gradient must satisfy ⟨rgrad, v⟩_x = df(x)[v] for tangent v",
    )
    if "expmap0" in out:
        err = _norm_rows(out["expmap0"] - out["expmap_o"], pn) / (1 + _norm_rows(out["expmap_o"], pn))
        _check(label, "expmap0(u) == expmap(origin, u)", err, v)
    if "logmap0" in out:
        err = _norm_rows(out["logmap0"] - out["logmap_o"], pn) / (1 + _norm_rows(out["logmap_o"], pn))
        _check(label, "logmap0(y) == logmap(origin, y)", err, v)
    if "dist0" in out:
        _check(label, "dist0(y) == dist(origin, y)", _scaled_err(out["dist0"], out["dist_o"]), v)
