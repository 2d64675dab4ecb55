"""The kg_completion experiment: model formulas, filtered ranking, and the smoke config through the launcher."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import scipy.linalg

from geomrep.manifolds import grassmann, spd, spectral

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # experiments/ is a package at the repo root, as scripts/launch.py imports it
    sys.path.insert(0, str(ROOT))

from experiments.kg_completion import models  # noqa: E402
from experiments.kg_completion.configs.default import get_config  # noqa: E402
from experiments.kg_completion.ranking import make_ranker, ranking_metrics  # noqa: E402
from experiments.kg_completion.train import validate_config  # noqa: E402

CONFIG = str(ROOT / "experiments/kg_completion/configs/default.py")


# ------------------------------------------------------------------------------------------------ filtered ranking


def _brute_force_ranks(scores, queries, answers, num_entities):
    ranks = []
    for s, (_, _, t), ans in zip(scores, queries, answers, strict=True):
        filtered = set(ans[ans < num_entities].tolist())
        if not np.isfinite(s[t]) or np.isnan(s).any():
            ranks.append(num_entities)
            continue
        ranks.append(1 + sum(1 for e in range(num_entities) if e not in filtered and s[e] >= s[t]))
    return np.array(ranks)


@pytest.mark.parametrize("block_size", [1, 4, 7])
def test_ranker_matches_brute_force_with_ties_filters_and_padding(block_size):
    rng = np.random.default_rng(0)
    num_entities, q = 12, 10
    table = jnp.asarray(rng.integers(0, 4, size=(q, num_entities)).astype(np.float64))  # many ties
    table = table.at[3, 5].set(jnp.nan)  # a NaN anywhere in the row: the worst rank
    table = table.at[4, 2].set(-jnp.inf)  # a non-finite target: the worst rank
    queries = np.stack([np.arange(q), np.zeros(q, int), rng.integers(0, num_entities, q)], 1).astype(np.int32)
    queries[4, 2] = 2
    answers = np.full((q, 3), num_entities, np.int32)
    for i in range(q):  # the target itself plus up to two other known answers
        others = rng.choice(num_entities, size=rng.integers(0, 3), replace=False)
        row = np.unique(np.concatenate([[queries[i, 2]], others]))
        answers[i, : len(row)] = row
    score_all = lambda params, h, r: params[h]
    ranks = make_ranker(score_all, num_entities, block_size)(table, queries, answers)
    expected = _brute_force_ranks(np.asarray(table), queries, answers, num_entities)
    np.testing.assert_array_equal(np.asarray(ranks), expected)
    assert ranks[3] == ranks[4] == num_entities


def test_ranking_metrics_and_mask():
    m = ranking_metrics(np.array([1, 2, 4, 11]))
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 4 + 1 / 11) / 4) and m["mr"] == 4.5
    assert (m["hits@1"], m["hits@3"], m["hits@10"]) == (0.25, 0.5, 0.75)
    assert ranking_metrics(np.array([1, 100]), np.array([True, False]))["mrr"] == 1.0
    assert ranking_metrics(np.array([1]), np.array([False])) == {}


# ------------------------------------------------------------------------------------------------ the LE model


def test_triu_coordinates_are_an_isometry_of_symmetric_matrices():
    S = jax.random.normal(jax.random.key(0), (5, 4, 4), jnp.float64)
    S = 0.5 * (S + jnp.swapaxes(S, -1, -2))
    v = models.sym_to_triu(S)
    assert v.shape == (5, 10)
    np.testing.assert_array_equal(models.triu_to_sym(v, 4), S)
    w = models.triu_weights(4, jnp.float64)
    np.testing.assert_allclose(jnp.sum(w * v[0] * v[1]), jnp.sum(S[0] * S[1]), rtol=1e-13)


def test_le_score_is_the_log_euclidean_distance_of_the_gyro_sum():
    """score = −d_LE(exp(R∘H) ⊕ exp(T_r), exp(T_t))² + b_h + b_t, with ⊕ and d_LE from geomrep.manifolds.spd,
    in float64 and float32."""
    model = models.LEModel(n=3)
    config = ml_collections.ConfigDict({"init_scale": 0.3, "train_bias": True})
    h, r, t = 2, 3, 5
    params = models.init_params(model, jax.random.key(1), 6, 4, config, jnp.float64)
    params["bias_head"] = jnp.arange(6.0) / 10
    params["bias_tail"] = -jnp.arange(6.0) / 7
    p = params["model"]
    sym = lambda v: models.triu_to_sym(v, 3)
    R, H, T_r, T_t = sym(p["scaling"][r]), sym(p["entity"][h]), sym(p["translation"][r]), sym(p["entity"][t])

    @jax.jit
    def library_distance(R, H, T_r, T_t):
        lhs = spd.gyro_add(spectral.sym_expm(R * H), spectral.sym_expm(T_r), metric="le")
        return spd.dist(lhs, spectral.sym_expm(T_t), metric="le")

    expected = -(float(library_distance(R, H, T_r, T_t)) ** 2) + h / 10 - t / 7
    lhs = scipy.linalg.expm(
        scipy.linalg.logm(scipy.linalg.expm(R * H)) + scipy.linalg.logm(scipy.linalg.expm(T_r))
    )
    d2_scipy = np.sum((np.real(scipy.linalg.logm(lhs)) - np.asarray(T_t)) ** 2)  # independent of geomrep
    assert expected == pytest.approx(-d2_scipy + h / 10 - t / 7, rel=1e-10)
    for dtype, tol in ((jnp.float64, 1e-10), (jnp.float32, 1e-5)):
        cast = jax.tree.map(lambda a, dtype=dtype: a.astype(dtype), params)
        H_, R_ = jnp.array([h]), jnp.array([r])
        got = models.score_tails(model, cast, H_, R_, jnp.array([[t]]))
        assert got.dtype == dtype
        np.testing.assert_allclose(got[0, 0], expected, rtol=tol, atol=tol)
        np.testing.assert_allclose(models.score_all(model, cast, H_, R_)[0, t], expected, rtol=tol, atol=tol)
        some = models.score_candidates(model, cast, H_, R_, jnp.array([t, 0]))
        np.testing.assert_allclose(some[0, 0], expected, rtol=tol, atol=tol)


def test_le_init_follows_the_reference():
    model = models.LEModel(n=4)
    config = ml_collections.ConfigDict({"init_scale": 1e-3, "train_bias": False})
    params = models.init_params(model, jax.random.key(0), 2000, 22, config, jnp.float64)
    assert "bias_head" not in params
    E = models.triu_to_sym(params["model"]["entity"], 4)
    assert float(jnp.std(jnp.diagonal(E, axis1=1, axis2=2))) == pytest.approx(1e-3, rel=0.05)
    assert float(jnp.std(E[:, 0, 1])) == pytest.approx(1e-3 / np.sqrt(2), rel=0.05)  # sym of iid entries
    scaling = params["model"]["scaling"]
    assert float(jnp.min(scaling)) >= -1 and float(jnp.max(scaling)) <= 1


# ------------------------------------------------------------------------------------------------ the Grassmann model


def _expm_omega(A):
    n_minus_p, p = A.shape
    omega = np.zeros((n_minus_p + p,) * 2)
    omega[p:, :p], omega[:p, p:] = A, -A.T
    return scipy.linalg.expm(omega)


@pytest.mark.parametrize("scale", [0.0, 1e-4, 0.4, 3.0])
def test_grassmann_query_and_tail_use_the_matrix_exponential(scale):
    """lhs = exp(ω(W_r ∘ B_h)) exp(ω(B_r)) I_{n,p} and tail = exp(ω(B_t)) I_{n,p}, against scipy.linalg.expm."""
    model = models.GrModel(n=6, p=2)
    config = ml_collections.ConfigDict({"init_scale": scale, "train_bias": False})
    params = models.init_params(model, jax.random.key(4), 3, 2, config, jnp.float64)["model"]
    h, r, t = 1, 1, 2
    query = jax.jit(model.query)(params, jnp.array([h]), jnp.array([r]))[0]
    tail = jax.jit(model.tail)(params, jnp.array([t]))[0]
    B = lambda name, i: np.asarray(params[name][i])
    expected = (_expm_omega(B("scaling", r) * B("entity", h)) @ _expm_omega(B("translation", r)))[:, :2]
    np.testing.assert_allclose(query, expected, atol=1e-13)
    np.testing.assert_allclose(tail, _expm_omega(B("entity", t))[:, :2], atol=1e-13)
    np.testing.assert_allclose(query.T @ query, np.eye(2), atol=1e-13)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_principal_angle_distance_matches_svd_and_the_eval_path(p):
    rng = np.random.default_rng(p)
    U = np.linalg.qr(rng.normal(size=(5, 7, p)))[0]
    V = np.linalg.qr(rng.normal(size=(5, 7, p)))[0]
    M = np.swapaxes(U, -1, -2) @ V
    expected = np.sum(np.arccos(np.clip(np.linalg.svd(M, compute_uv=False), -1, 1)) ** 2, axis=-1)
    np.testing.assert_allclose(models.principal_sqdist(jnp.asarray(M)), expected, rtol=1e-9)
    np.testing.assert_allclose(models.principal_sqdist_eval(jnp.asarray(M)), expected, rtol=1e-9)
    R = np.linalg.qr(rng.normal(size=(p, p)))[0]  # a change of basis U -> U R leaves the subspace alone
    np.testing.assert_allclose(models.principal_sqdist(jnp.asarray(M @ R)), expected, rtol=1e-9)


def test_principal_angle_distance_is_right_at_the_cut_locus():
    """A principal angle of π/2 (UᵀV singular): θ = (0, π/2), with a finite gradient."""
    U, V = jnp.eye(5)[:, :2], jnp.eye(5)[:, [0, 2]]
    assert float(models.principal_sqdist(U.T @ V)) == pytest.approx((np.pi / 2) ** 2, rel=1e-12)
    assert float(models.principal_sqdist_eval(U.T @ V)) == pytest.approx((np.pi / 2) ** 2, rel=1e-12)
    g = jax.jit(jax.grad(lambda V: models.principal_sqdist(U.T @ V)))(V)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_grassmann_gradients_are_finite_at_the_identity_and_match_finite_differences():
    """At B = 0 all singular values are 1 and all eigenvalues of BᵀB coincide: eigh/SVD autodiff gives NaN there."""
    rng = np.random.default_rng(2)
    target = jnp.asarray(np.linalg.qr(rng.normal(size=(6, 2)))[0])

    @jax.jit
    def loss(B):
        return models.principal_sqdist(grassmann.exp_skew_apply(B).T @ target)

    grad = jax.jit(jax.grad(loss))
    for B in (jnp.zeros((4, 2)), jnp.full((4, 2), 1e-3), jnp.asarray(0.5 * rng.normal(size=(4, 2)))):
        g = grad(B)
        assert bool(jnp.all(jnp.isfinite(g)))
        direction = jnp.asarray(rng.normal(size=(4, 2)))
        eps = 1e-6
        fd = (loss(B + eps * direction) - loss(B - eps * direction)) / (2 * eps)
        np.testing.assert_allclose(jnp.sum(g * direction), fd, rtol=1e-5, atol=1e-8)
    same = jax.jit(
        jax.grad(
            lambda B: models.principal_sqdist(grassmann.exp_skew_apply(B).T @ grassmann.exp_skew_apply(B))
        )
    )
    assert bool(jnp.all(jnp.isfinite(same(jnp.zeros((4, 2))))))  # distance 0: the gradient is 0, not NaN


def test_product_scores_agree_between_training_and_evaluation_paths():
    """score_tails (training, per-triple negatives), score_candidates (shared negatives) and score_all
    (evaluation, closed-form p = 2 angles) agree, and the product distance is dist_factor · d_LE + d_Gr."""
    config = get_config("smoke")
    config.model, config.init_scale, config.dist_factor = "le_gr", 0.5, 0.7
    model = models.build_model(config)
    params = models.init_params(model, jax.random.key(3), 9, 4, config, jnp.float64)
    params["bias_tail"] = jnp.linspace(-1, 1, 9)
    h, r = jnp.array([0, 5, 8]), jnp.array([1, 3, 0])
    tails = jnp.broadcast_to(jnp.arange(9), (3, 9))

    @jax.jit
    def scores(params):
        p = params["model"]
        d_le = jnp.sqrt(model.le.sqdist(model.le.query(p["le"], h, r), model.le.tail(p["le"], tails[:, 0])))
        d_gr = jnp.sqrt(model.gr.sqdist(model.gr.query(p["gr"], h, r), model.gr.tail(p["gr"], tails[:, 0])))
        return (
            models.score_all(model, params, h, r),
            models.score_tails(model, params, h, r, tails),
            models.score_candidates(model, params, h, r, jnp.arange(9)),
            -((0.7 * d_le + d_gr) ** 2) + params["bias_head"][h] + params["bias_tail"][0],
        )

    every, by_tails, by_candidates, first = scores(params)
    np.testing.assert_allclose(by_tails, every, rtol=1e-9)
    np.testing.assert_allclose(by_candidates, every, rtol=1e-9)
    np.testing.assert_allclose(every[:, 0], first, rtol=1e-9)


# ------------------------------------------------------------------------------------------------ configs


@pytest.mark.parametrize("variant", ["default", "gr", "le_gr", "wn18rr", "gpu", "smoke"])
def test_every_variant_validates(variant):
    validate_config(get_config(variant))


def test_default_is_the_reference_command():
    c = get_config("default")
    assert (c.model, c.spd_dim, c.batch_size, c.negatives, c.lr, c.epochs) == ("le", 6, 4096, 10, 1e-3, 5000)
    assert c.train_bias and c.max_grad_norm == 50.0 and c.burnin_epochs == 10 and not c.shared_negatives
    assert c.dtype == "float32" and get_config("gpu").dtype == "float32"


# ------------------------------------------------------------------------------------------------ end to end


def _launch(workdir, *flags, variant="smoke"):
    cmd = [sys.executable, str(ROOT / "scripts/launch.py"), "--experiment", "kg_completion",
           "--config", f"{CONFIG}:{variant}", "--workdir", str(workdir), *flags]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


def _lines(workdir):
    return [json.loads(s) for s in (Path(workdir) / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("kg_smoke")
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "210 triples mention 198 entities absent from train" in proc.stdout
    return workdir


def test_smoke_run_writes_metrics_and_final_numbers(smoke_run):
    final = json.loads((smoke_run / "final_metrics.json").read_text())
    assert final["epoch"] == 4 and final["best_epoch"] in (2, 4)
    for split in ("valid", "test"):
        assert 0 < final[f"{split}/mrr"] <= 1 and 1 <= final[f"{split}/mr"] <= 40943
        assert final[f"{split}/hits@1"] <= final[f"{split}/hits@3"] <= final[f"{split}/hits@10"]
        assert f"{split}_seen/mrr" in final  # the smoke slice holds triples with entities absent from train
    lines = _lines(smoke_run)
    assert sum("valid/mrr" in m for m in lines) == 2  # eval_every=2
    assert all(np.isfinite(m["loss"]) for m in lines if "loss" in m)
    assert any("final/test/mrr" in m for m in lines)


def test_resume_from_an_earlier_checkpoint_ends_bit_identical(smoke_run, tmp_path):
    workdir = tmp_path / "resumed"
    shutil.copytree(smoke_run, workdir)
    for ckpt in (workdir / "checkpoints").iterdir():
        if ckpt.name != "2":
            shutil.rmtree(ckpt)
    (workdir / "final_metrics.json").unlink()
    proc = _launch(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming" in proc.stdout and "from epoch 2" in proc.stdout
    resumed = json.loads((workdir / "final_metrics.json").read_text())
    whole = json.loads((smoke_run / "final_metrics.json").read_text())
    for key in whole:
        if "seconds" not in key:
            assert resumed[key] == whole[key], key


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("model", "transe", "config.model='transe'"),
        ("gr_dim", 2, "config.gr_dim=2"),
        ("lr", 0.0, "config.lr=0.0"),
        ("negatives", 0, "config.negatives=0"),
        ("unseen", "ignore", "config.unseen='ignore'"),
        ("burnin_epochs", 9, "config.burnin_epochs=9"),
        ("data", "/nonexistent", "no such folder"),
    ],
)
def test_validate_config_names_the_bad_key(key, value, message):
    config = get_config("smoke")
    config[key] = value
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_config(config)


def test_bad_config_through_the_launcher_is_one_clear_error(tmp_path):
    proc = _launch(tmp_path / "w", "--config.dtype=float16")
    assert proc.returncode == 2
    assert "config.dtype='float16'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "w" / "metrics.jsonl").exists()


def test_malformed_triples_file_names_file_and_line(tmp_path):
    data = tmp_path / "kg"
    data.mkdir()
    (data / "train").write_text("a\tr\tb\nb\tr\n")
    (data / "valid").write_text("a\tr\tb\n")
    (data / "test").write_text("a\tr\tb\n")
    proc = _launch(tmp_path / "w", f"--config.data={data}")
    assert proc.returncode == 2
    assert f"{data / 'train'}:2" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gr", "le_gr"])
def test_grassmann_and_product_smoke_runs_through_the_launcher(tmp_path, model):
    proc = _launch(tmp_path, f"--config.model={model}", "--config.epochs=2", "--config.dtype=float64")
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = json.loads((tmp_path / "final_metrics.json").read_text())
    assert final["epoch"] == 2 and 0 < final["test/mrr"] <= 1
    lines = _lines(tmp_path)
    assert all(np.isfinite(m["loss"]) for m in lines if "loss" in m)
