"""Knowledge-graph embedding models on matrix manifolds (Nguyen & Yang, ICML 2023; code: spratmnt/kgc).

Every model scores a triple by a squared distance between the head transformed by the relation (the "left-hand
side") and the tail, plus learned entity biases (gyrospd/kgc ``KGModel.forward``)::

    score(h, r, t) = −d(lhs(h, r), tail(t))² + b_h + b_t

Models (``config.model``):

``le`` — GyroLE-KGCNet (the reference's ``TgSPDLEModel``), SPD(n) with the log-Euclidean metric.
    Entities and relations are SPD matrices stored by their logarithms, symmetric matrices H, T_r; a relation
    also has a symmetric Hadamard scaling R_r. With ⊕ the LE gyro-addition P ⊕ Q = exp(log P + log Q) and
    d(P, Q) = ‖log P − log Q‖_F (notes/gyro.md §B2)::

        lhs = exp(R_r ∘ H_h) ⊕ exp(T_r),   d(lhs, exp(T_t)) = ‖R_r ∘ H_h + T_r − H_t‖_F

    The model never leaves the log domain, so training and scoring need no eigendecomposition: a symmetric
    matrix is stored as its n(n+1)/2 upper-triangular entries and the Frobenius norm weights off-diagonal
    entries twice. (The reference stores full n×n arrays and symmetrises them; under Adam both move the
    symmetric matrix by the same step, and the initial distributions are the same.)

``gr`` — GyroGR-KGCNet (the reference's ``TgGRModel``), Gr(n, p) in the projector view, with the exact
    exponential map and geodesic distance (the reference uses the Cayley map and the chordal distance
    ‖P − Q‖_F). A point is given by a tangent block B ∈ ℝ^{(n−p)×p} at Ĩ = diag(I_p, 0)::

        ω(B) = [[0, −Bᵀ], [B, 0]] ∈ so(n),   P(B) = exp(ω(B)) Ĩ exp(−ω(B)),   U(B) = exp(ω(B)) I_{n,p}
        lhs  = P(W_r ∘ B_h) ⊕ P(B_r) = exp(ω(W_r ∘ B_h)) exp(ω(B_r)) Ĩ exp(−ω(B_r)) exp(−ω(W_r ∘ B_h))
        d(P, Q)² = ‖θ‖²,  cos θ_i = σ_i(U_Pᵀ U_Q)  (principal angles)

    with the PP gyro-addition P ⊕ Q = exp(ω_P) Q exp(−ω_P) (notes/gyro.md §B5). It is computed in the ONB view
    (U ↦ UUᵀ is an isometry between the views): lhs = exp(ω(W_r ∘ B_h)) U(B_r). As in the reference, ω_P is taken
    from the parameter B itself, which equals ω(Log_Ĩ P) while ‖B‖₂ < π/2 (the injectivity radius). The
    reference's block is p×(n−p) with ``skew_partial(B) = [[0, B], [−Bᵀ, 0]]`` — the same set, B ↔ −Bᵀ.

``le_gr`` — the reference's ``TgSPDLEGRModel``: both, with d = dist_factor · d_LE + d_Gr.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from geomrep.manifolds import grassmann, numerics
from geomrep.manifolds.spectral import sym_funcm

HIGHEST = jax.lax.Precision.HIGHEST


# --------------------------------------------------------------------------------------------------------------
# Symmetric matrices as upper-triangular vectors (the LE log domain).


def triu_weights(n: int, dtype) -> jax.Array:
    """Weights of the n(n+1)/2 upper-triangular coordinates in ‖S‖_F²: 1 on the diagonal, 2 off it."""
    i, j = np.triu_indices(n)
    return jnp.asarray(np.where(i == j, 1.0, 2.0), dtype)


def sym_to_triu(S) -> jax.Array:
    """The upper-triangular entries (row-major, ``np.triu_indices`` order) of symmetric matrices (..., n, n)."""
    i, j = np.triu_indices(S.shape[-1])
    return S[..., i, j]


def triu_to_sym(v, n: int) -> jax.Array:
    """The symmetric matrices (..., n, n) whose upper-triangular entries are ``v`` (..., n(n+1)/2)."""
    i, j = np.triu_indices(n)
    S = jnp.zeros(v.shape[:-1] + (n, n), v.dtype).at[..., i, j].set(v)
    return S.at[..., j, i].set(v)


def _sym_init(key, shape, n, dtype, sampler):
    """sym(X) for X drawn entrywise by ``sampler`` (the reference's ``lalg.sym(param)``), as triu vectors."""
    X = sampler(key, shape + (n, n), dtype)
    return sym_to_triu(0.5 * (X + jnp.swapaxes(X, -1, -2)))


@dataclasses.dataclass(frozen=True)
class LEModel:
    """GyroLE-KGCNet on SPD(n), log-Euclidean metric, in the log domain (see the module docstring)."""

    n: int
    eval_floats_per_pair = 4  # (b, N) intermediates of sqdist_all, for the evaluation block size

    @property
    def dim(self) -> int:
        return self.n * (self.n + 1) // 2

    def init(self, key, num_entities: int, num_relations: int, *, init_scale: float, dtype) -> dict:
        """Entities H and translations T_r: sym(N(0, init_scale²)); scalings R_r: sym(U[−1, 1]) (reference init)."""
        k1, k2, k3 = jax.random.split(key, 3)
        normal = lambda k, s, d: init_scale * jax.random.normal(k, s, d)
        uniform = lambda k, s, d: jax.random.uniform(k, s, d, -1.0, 1.0)
        return {
            "entity": _sym_init(k1, (num_entities,), self.n, dtype, normal),
            "translation": _sym_init(k2, (num_relations,), self.n, dtype, normal),
            "scaling": _sym_init(k3, (num_relations,), self.n, dtype, uniform),
        }

    def query(self, params, h, r):
        """log lhs = R_r ∘ H_h + T_r, as triu vectors (..., n(n+1)/2)."""
        return params["scaling"][r] * params["entity"][h] + params["translation"][r]

    def tail(self, params, t):
        return params["entity"][t]

    def tail_table(self, params):
        return params["entity"]

    def sqdist(self, q, t):
        """d_LE² = ‖log lhs − log tail‖_F² for broadcastable (..., d) arrays."""
        w = triu_weights(self.n, q.dtype)
        return jnp.sum(w * (q - t) ** 2, axis=-1)

    def sqdist_all(self, q, table):
        """d_LE² of every query (b, d) to every tail (N, d) → (b, N), as ‖q‖² − 2⟨q, t⟩ + ‖t‖² (one matmul)."""
        w = triu_weights(self.n, q.dtype)
        qq = jnp.sum(w * q * q, axis=-1)
        tt = jnp.sum(w * table * table, axis=-1)
        cross = jnp.matmul(q * w, table.T, precision=HIGHEST)
        return jnp.maximum(qq[:, None] - 2.0 * cross + tt[None, :], 0.0)

    def sqdist_eval(self, q, table):
        return self.sqdist_all(q, table)

    def health(self, params) -> dict:
        """Largest ‖log P‖_F of an entity (the LE distance of the farthest entity from I)."""
        w = triu_weights(self.n, params["entity"].dtype)
        return {"max_entity_norm": jnp.sqrt(jnp.max(jnp.sum(w * params["entity"] ** 2, axis=-1)))}


# --------------------------------------------------------------------------------------------------------------
# Grassmann Gr(n, p): exact exponential (geomrep.manifolds.grassmann.exp_skew_apply: p×p matrix functions of BᵀB,
# no SVD, exact gradients at B = 0), geodesic distance through principal angles.


def _arccos_sqrt_squared(x):
    """θ² with θ = arccos √x: the squared principal angle of a squared singular value x ∈ [0, 1]."""
    return jnp.arccos(jnp.sqrt(jnp.clip(x, 0.0, 1.0))) ** 2


def _d_arccos_sqrt_squared(x):
    """d/dx arccos²(√x) = −2θ / sin 2θ (→ −1 as θ → 0); x is kept ≥ eps so it stays finite at θ = π/2."""
    theta = jnp.arccos(jnp.sqrt(jnp.clip(x, float(jnp.finfo(x.dtype).eps), 1.0)))
    return -1.0 / jnp.sinc(2.0 * theta / jnp.pi)


def _mT(A):
    return jnp.swapaxes(A, -1, -2)


def _mm(A, B):
    return jnp.matmul(A, B, precision=HIGHEST)


def principal_sqdist(M):
    """‖θ‖² = Σ_i arccos²(σ_i(M)) for M = U_Pᵀ U_Q (..., p, p): the squared geodesic distance on Gr(n, p).

    Computed as tr g(MᵀM), g(x) = arccos²(√x), through ``spectral.sym_funcm``: the gradient of a trace of a
    spectral function only needs g' on the eigenvalues, so it is exact at repeated singular values and at σ = 1
    (where arccos itself has an infinite slope; g'(1) = −1). Unlike ``geomrep.manifolds.grassmann.dist``, which goes
    through tan θ = σ(M (UᵀV)⁻¹) and needs UᵀV invertible, it stays right at the cut locus (a principal angle of
    π/2): a KG model compares every pair of entities, and random negatives do land there. The price is resolution
    at tiny angles (θ² is resolved to ≈ machine epsilon), which is far below the distance gaps that decide ranks.
    """
    X = _mm(_mT(M), M)
    return jnp.trace(sym_funcm(X, _arccos_sqrt_squared, _d_arccos_sqrt_squared), axis1=-2, axis2=-1)


def principal_sqdist_eval(M):
    """``principal_sqdist`` for evaluation (no gradient): closed-form eigenvalues of MᵀM for p ≤ 2, else eigh."""
    p = M.shape[-1]
    X = _mm(_mT(M), M)
    if p == 1:
        return _arccos_sqrt_squared(X[..., 0, 0])
    if p == 2:
        a, b, c = X[..., 0, 0], X[..., 0, 1], X[..., 1, 1]
        mean, radius = 0.5 * (a + c), jnp.sqrt((0.5 * (a - c)) ** 2 + b * b)
        return _arccos_sqrt_squared(mean + radius) + _arccos_sqrt_squared(mean - radius)
    return jnp.sum(_arccos_sqrt_squared(jnp.linalg.eigvalsh(X)), axis=-1)


@dataclasses.dataclass(frozen=True)
class GrModel:
    """GyroGR-KGCNet on Gr(n, p), projector view, exact exp and geodesic distance (see the module docstring)."""

    n: int
    p: int

    @property
    def eval_floats_per_pair(self) -> int:
        return 3 * self.p * self.p + 4

    def init(self, key, num_entities: int, num_relations: int, *, init_scale: float, dtype) -> dict:
        """Blocks B_h, B_r ~ N(0, init_scale²), scalings W_r ~ U[−1, 1] (the reference's init)."""
        k1, k2, k3 = jax.random.split(key, 3)
        shape = (self.n - self.p, self.p)
        return {
            "entity": init_scale * jax.random.normal(k1, (num_entities,) + shape, dtype),
            "translation": init_scale * jax.random.normal(k2, (num_relations,) + shape, dtype),
            "scaling": jax.random.uniform(k3, (num_relations,) + shape, dtype, -1.0, 1.0),
        }

    def query(self, params, h, r):
        """ONB of lhs = P(W_r ∘ B_h) ⊕ P(B_r): exp(ω(W_r ∘ B_h)) exp(ω(B_r)) I_{n,p}, shape (..., n, p)."""
        relation = grassmann.exp_skew_apply(params["translation"])[
            r
        ]  # all (2R, n, p) first: relations are few
        return grassmann.exp_skew_apply(params["scaling"][r] * params["entity"][h], relation)

    def tail(self, params, t):
        return grassmann.exp_skew_apply(params["entity"][t])

    def tail_table(self, params):
        return grassmann.exp_skew_apply(params["entity"])

    def sqdist(self, q, t):
        """Squared geodesic distance of broadcastable ONBs (..., n, p)."""
        return principal_sqdist(_mm(_mT(q), t))

    def sqdist_all(self, q, table):
        """(b, N) squared geodesic distances of queries (b, n, p) to a table (N, n, p)."""
        return principal_sqdist(jnp.einsum("bip,niq->bnpq", q, table, precision=HIGHEST))

    def sqdist_eval(self, q, table):
        return principal_sqdist_eval(jnp.einsum("bip,niq->bnpq", q, table, precision=HIGHEST))

    def health(self, params) -> dict:
        """Largest ‖B‖_F of an entity (its gyronorm while ‖B‖₂ < π/2, the injectivity radius at Ĩ)."""
        return {"max_entity_norm": jnp.sqrt(jnp.max(jnp.sum(params["entity"] ** 2, axis=(-2, -1))))}


@dataclasses.dataclass(frozen=True)
class ProductModel:
    """SPD(n) (log-Euclidean) × Gr(n', p) with d = dist_factor · d_LE + d_Gr (the reference's ``TgSPDLEGRModel``)."""

    le: LEModel
    gr: GrModel
    dist_factor: float

    @property
    def eval_floats_per_pair(self) -> int:
        return self.le.eval_floats_per_pair + self.gr.eval_floats_per_pair

    def init(self, key, num_entities, num_relations, *, init_scale, dtype):
        k1, k2 = jax.random.split(key)
        kw = dict(init_scale=init_scale, dtype=dtype)
        return {"le": self.le.init(k1, num_entities, num_relations, **kw),
                "gr": self.gr.init(k2, num_entities, num_relations, **kw)}  # fmt: skip

    def query(self, params, h, r):
        return self.le.query(params["le"], h, r), self.gr.query(params["gr"], h, r)

    def tail(self, params, t):
        return self.le.tail(params["le"], t), self.gr.tail(params["gr"], t)

    def tail_table(self, params):
        return self.le.tail_table(params["le"]), self.gr.tail_table(params["gr"])

    def _combine(self, d2_le, d2_gr):
        return (self.dist_factor * safe_dist(d2_le) + safe_dist(d2_gr)) ** 2

    def sqdist(self, q, t):
        return self._combine(self.le.sqdist(q[0], t[0]), self.gr.sqdist(q[1], t[1]))

    def sqdist_all(self, q, table):
        return self._combine(self.le.sqdist_all(q[0], table[0]), self.gr.sqdist_all(q[1], table[1]))

    def sqdist_eval(self, q, table):
        return self._combine(self.le.sqdist_eval(q[0], table[0]), self.gr.sqdist_eval(q[1], table[1]))

    def health(self, params):
        le, gr = self.le.health(params["le"]), self.gr.health(params["gr"])
        return {"max_le_entity_norm": le["max_entity_norm"], "max_gr_entity_norm": gr["max_entity_norm"]}


MODELS = ("le", "gr", "le_gr")


def build_model(config):
    """The model named by ``config.model`` with its dimensions from the config."""
    if config.model == "le":
        return LEModel(n=config.spd_dim)
    if config.model == "gr":
        return GrModel(n=config.gr_dim, p=config.gr_rank)
    if config.model == "le_gr":
        return ProductModel(
            LEModel(config.spd_dim), GrModel(config.gr_dim, config.gr_rank), config.dist_factor
        )
    raise ValueError(f"config.model={config.model!r}: must be one of {list(MODELS)}")


def has_bias(params) -> bool:
    return "bias_head" in params


def init_params(model, key, num_entities: int, num_relations: int, config, dtype) -> dict:
    """Model parameters plus the entity biases b_h, b_t (zeros; trained when ``config.train_bias``)."""
    params = {
        "model": model.init(key, num_entities, num_relations, init_scale=config.init_scale, dtype=dtype)
    }
    if config.train_bias:
        params["bias_head"] = jnp.zeros((num_entities,), dtype)
        params["bias_tail"] = jnp.zeros((num_entities,), dtype)
    return params


def score_tails(model, params, h, r, tails):
    """score(h, r, t) for h, r (b,) and tails (b, k) → (b, k)."""
    q = model.query(params["model"], h, r)
    d2 = model.sqdist(jax.tree.map(lambda a: a[:, None], q), model.tail(params["model"], tails))
    score = -d2
    if has_bias(params):
        score = score + params["bias_head"][h][:, None] + params["bias_tail"][tails]
    return score


def score_candidates(model, params, h, r, candidates):
    """score(h, r, e) of every query against every candidate: h, r (b,), candidates (k,) → (b, k)."""
    q = model.query(params["model"], h, r)
    score = -model.sqdist_all(q, model.tail(params["model"], candidates))
    if has_bias(params):
        score = score + params["bias_head"][h][:, None] + params["bias_tail"][candidates][None, :]
    return score


def score_all(model, params, h, r):
    """score(h, r, e) for every entity e: h, r (b,) → (b, N) (evaluation: not meant to be differentiated)."""
    q = model.query(params["model"], h, r)
    score = -model.sqdist_eval(q, model.tail_table(params["model"]))
    if has_bias(params):
        score = score + params["bias_head"][h][:, None] + params["bias_tail"][None, :]
    return score


def safe_dist(d2):
    """√d² with a finite gradient at 0 (the product model adds unsquared distances)."""
    return numerics.safe_sqrt(d2)


__all__ = [
    "GrModel",
    "LEModel",
    "ProductModel",
    "principal_sqdist",
    "principal_sqdist_eval",
    "MODELS",
    "build_model",
    "init_params",
    "score_all",
    "score_candidates",
    "score_tails",
    "sym_to_triu",
    "triu_to_sym",
    "triu_weights",
]
