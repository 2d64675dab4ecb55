"""The manifold contract over every geomrep manifold value, plus the value classes themselves.

The contract runs jitted (one compile per manifold and dtype, via ``quick_jit``). A user-defined manifold (the
unit sphere below) shows the suite is generic, and two deliberately broken manifolds show it catches mistakes.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.manifolds import (
    Euclidean,
    Lorentz,
    Manifold,
    PoincareBall,
    euclidean,
    lorentz,
    numerics,
    poincare,
)
from geomrep.testing import check_manifold_contract

MANIFOLDS = [PoincareBall(1.0), PoincareBall(0.5), Lorentz(1.0), Lorentz(2.0), Euclidean()]
DTYPES = [jnp.float32, jnp.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("manifold", MANIFOLDS, ids=repr)
def test_contract(manifold, dtype):
    check_manifold_contract(manifold, dim=4, dtype=dtype, key=jax.random.key(0), n=16)


# ---------------------------------------------------------------------------------------------------------------
# A user-defined manifold: the unit sphere, written only against the public vocabulary.


@dataclasses.dataclass(frozen=True)
class Sphere:
    name = "sphere"

    def ambient_dim(self, dim):
        return dim + 1

    def proj(self, x):
        return x / jnp.maximum(numerics.safe_norm(x, keepdims=True), 1e-15)

    def proju(self, x, u):
        return u - jnp.sum(x * u, -1, keepdims=True) * x

    def egrad2rgrad(self, x, g):
        return self.proju(x, g)

    def inner(self, x, u, v=None, *, keepdims=False):
        v = u if v is None else v
        return jnp.sum(u * v, -1, keepdims=keepdims)

    def norm(self, x, u, *, keepdims=False):
        return numerics.safe_norm(u, keepdims=keepdims)

    def expmap(self, x, u):
        n = numerics.safe_norm(u, keepdims=True)
        return self.proj(jnp.cos(n) * x + jnp.sinc(n / jnp.pi) * u)

    def dist(self, x, y, *, keepdims=False):
        a = numerics.safe_norm(x - y, keepdims=keepdims)
        b = numerics.safe_norm(x + y, keepdims=keepdims)
        return 2.0 * jnp.arctan2(a, b)

    def logmap(self, x, y):
        # proju(x, y − x) = y − cos(d) x has length sin(d); dividing by sinc(d) = sin(d)/d gives length d.
        d = self.dist(x, y, keepdims=True)
        return self.proju(x, y - x) / jnp.sinc(d / jnp.pi)

    def retr(self, x, u):
        return self.proj(x + u)

    def transp(self, x, y, v):
        return v - jnp.sum(y * v, -1, keepdims=True) / (1.0 + jnp.sum(x * y, -1, keepdims=True)) * (x + y)

    def random(self, key, shape, dtype=jnp.float32, *, std=1.0):
        return self.proj(jax.random.normal(key, shape, dtype))


def test_contract_accepts_a_user_manifold():
    assert isinstance(Sphere(), Manifold)
    check_manifold_contract(Sphere(), dim=3, dtype=jnp.float64, key=jax.random.key(3), n=8)


# ---------------------------------------------------------------------------------------------------------------
# Broken manifolds are caught, with a message naming the property.


@dataclasses.dataclass(frozen=True)
class SquaredDistanceEuclidean(Euclidean):
    """The reference Poincaré-embedding code's Euclidean baseline: it returns ‖x − y‖²."""

    def dist(self, x, y, *, keepdims=False):
        return super().dist(x, y, keepdims=keepdims) ** 2


@dataclasses.dataclass(frozen=True)
class EuclideanWithScaledGradient(Euclidean):
    """A Riemannian gradient off by a factor, as when a metric rescaling is applied twice."""

    def egrad2rgrad(self, x, g):
        return 2.0 * g


def test_contract_catches_a_squared_distance():
    with pytest.raises(AssertionError, match=r"SquaredDistanceEuclidean\(\).*(triangle|dist)"):
        check_manifold_contract(
            SquaredDistanceEuclidean(), dim=3, dtype=jnp.float64, key=jax.random.key(0), n=8
        )


def test_contract_catches_a_wrong_riemannian_gradient():
    with pytest.raises(AssertionError, match="egrad2rgrad matches finite differences"):
        check_manifold_contract(
            EuclideanWithScaledGradient(), dim=3, dtype=jnp.float64, key=jax.random.key(0), n=8
        )


# ---------------------------------------------------------------------------------------------------------------
# The value classes.


@pytest.mark.parametrize("cls", [PoincareBall, Lorentz])
@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), float("inf")])
def test_nonpositive_curvature_is_rejected_with_geoopt_hint(cls, bad):
    with pytest.raises(ValueError, match=r"c must be > 0.*geoopt's k is −c, so k=-1\.0 means c=1\.0.*got c="):
        cls(bad)


def test_curvature_type_errors_and_coercion():
    with pytest.raises(TypeError, match="python float"):
        PoincareBall("one")
    with pytest.raises(TypeError, match="python float"):
        Lorentz(True)
    ball = PoincareBall(2)
    assert isinstance(ball.c, float) and ball.c == 2.0
    assert PoincareBall(np.float32(0.5)).c == 0.5 and type(PoincareBall(np.float32(0.5)).c) is float
    assert repr(ball) == "PoincareBall(c=2.0)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ball.c = 3.0


def test_values_are_hashable_static_leaves():
    assert hash(PoincareBall(1)) == hash(PoincareBall(1.0)) and PoincareBall(1) == PoincareBall(1.0)
    assert PoincareBall(1.0) != PoincareBall(0.5) and PoincareBall(1.0) != Lorentz(1.0)
    assert Euclidean() == Euclidean() and len({Euclidean(), Euclidean()}) == 1
    labels = {"emb": PoincareBall(1.0), "lor": Lorentz(2.0), "lin": Euclidean()}
    # Leaves, not pytree nodes (dict order: emb, lin, lor).
    assert jax.tree_util.tree_leaves(labels) == [PoincareBall(1.0), Euclidean(), Lorentz(2.0)]
    assert [m.name for m in (PoincareBall(), Lorentz(), Euclidean())] == ["poincare", "lorentz", "euclidean"]
    assert (
        Lorentz().ambient_dim(5) == 6
        and PoincareBall().ambient_dim(5) == 5
        and Euclidean().ambient_dim(5) == 5
    )

    @jax.jit
    def use_static(x):
        return labels["emb"].dist0(x)

    assert float(use_static(jnp.array([0.5, 0.0]))) == pytest.approx(2 * math.atanh(0.5))
    f = jax.jit(lambda m, x: m.dist0(x), static_argnums=0)
    assert float(f(PoincareBall(1.0), jnp.array([0.5, 0.0]))) == pytest.approx(2 * math.atanh(0.5))


_METHODS = [
    "proj",
    "proju",
    "egrad2rgrad",
    "inner",
    "norm",
    "expmap",
    "logmap",
    "expmap0",
    "logmap0",
    "retr",
    "transp",
    "dist",
    "dist0",
    "random",
    "origin",
]


def _record(module, monkeypatch, names):
    """Replace ``module``'s functions by recorders returning (name, args, kwargs): delegation is pure Python."""
    for name in names:
        monkeypatch.setattr(module, name, lambda *a, _name=name, **k: (_name, a, k))


@pytest.mark.parametrize("cls, module, c", [(PoincareBall, poincare, 0.5), (Lorentz, lorentz, 2.0)])
def test_classes_delegate_to_the_modules(cls, module, c, monkeypatch):
    extra = ["mobius_add", "mobius_sub", "mobius_scalar_mul", "mobius_matvec", "gyration", "lambda_x"]
    extra = extra if module is poincare else ["to_poincare", "from_poincare", "minkowski_dot"]
    _record(module, monkeypatch, _METHODS + extra)
    m = cls(c)
    assert m.proj("x") == ("proj", ("x",), {"c": c})
    assert m.proju("x", "u") == ("proju", ("x", "u"), {"c": c})
    assert m.egrad2rgrad("x", "g") == ("egrad2rgrad", ("x", "g"), {"c": c})
    assert m.inner("x", "u", "v", keepdims=True) == ("inner", ("x", "u", "v"), {"c": c, "keepdims": True})
    assert m.inner("x", "u") == ("inner", ("x", "u", None), {"c": c, "keepdims": False})
    assert m.norm("x", "u") == ("norm", ("x", "u"), {"c": c, "keepdims": False})
    assert m.expmap("x", "u") == ("expmap", ("x", "u"), {"c": c})
    assert m.logmap("x", "y") == ("logmap", ("x", "y"), {"c": c})
    assert m.expmap0("u") == ("expmap0", ("u",), {"c": c})
    assert m.logmap0("y") == ("logmap0", ("y",), {"c": c})
    assert m.retr("x", "u") == ("retr", ("x", "u"), {"c": c})
    assert m.transp("x", "y", "v") == ("transp", ("x", "y", "v"), {"c": c})
    assert m.dist("x", "y", keepdims=True) == ("dist", ("x", "y"), {"c": c, "keepdims": True})
    assert m.dist0("x") == ("dist0", ("x",), {"c": c, "keepdims": False})
    assert m.random("k", (2, 3), jnp.float64, std=0.3) == (
        "random",
        ("k", (2, 3), jnp.float64),
        {"c": c, "std": 0.3},
    )
    assert m.origin((2, 3), jnp.float64) == ("origin", ((2, 3), jnp.float64), {"c": c})
    if module is poincare:
        assert m.mobius_add("x", "y") == ("mobius_add", ("x", "y"), {"c": c})
        assert m.mobius_sub("x", "y") == ("mobius_sub", ("x", "y"), {"c": c})
        assert m.mobius_scalar_mul("r", "x") == ("mobius_scalar_mul", ("r", "x"), {"c": c})
        assert m.mobius_matvec("m", "x") == ("mobius_matvec", ("m", "x"), {"c": c})
        assert m.gyration("a", "b", "u") == ("gyration", ("a", "b", "u"), {"c": c})
        assert m.lambda_x("x", keepdims=True) == ("lambda_x", ("x",), {"c": c, "keepdims": True})
    else:
        assert m.to_poincare("x") == ("to_poincare", ("x",), {"c": c})
        assert m.from_poincare("p") == ("from_poincare", ("p",), {"c": c})
        assert m.minkowski_dot("x", "y") == ("minkowski_dot", ("x", "y"), {"keepdims": False})


def test_euclidean_delegates_and_identity_maps(monkeypatch):
    _record(euclidean, monkeypatch, _METHODS)
    e = Euclidean()
    assert e.dist("x", "y") == ("dist", ("x", "y"), {"keepdims": False})
    assert e.transp("x", "y", "v") == ("transp", ("x", "y", "v"), {})
    assert e.random("k", (2,), std=2.0) == ("random", ("k", (2,), jnp.float32), {"std": 2.0})
    p = jnp.array([0.1, 0.2])
    assert e.to_poincare(p).tolist() == p.tolist() and PoincareBall(1.0).to_poincare(p).tolist() == p.tolist()
