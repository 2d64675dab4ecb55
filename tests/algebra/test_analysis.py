"""Analysis: on the exact max-margin constructions every statistic takes its predicted value; logit similarity
matches the brute-force n³ character tensor; ablations decompose the logits; the parity shape check."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.algebra import analysis, groups, margin, models, tasks
from geomrep.algebra.irreps import irreps

DTYPES = [jnp.float32, jnp.float64]


def _mlp_params(n, embed_dim, hidden_dim, dtype, seed=0):
    """A CCN MLP parameter dict drawn with NumPy (building an NNX module compiles a dozen small programs)."""
    rng = np.random.default_rng(seed)
    shapes = {"embed_a": (n, embed_dim), "embed_b": (n, embed_dim), "hidden": (2 * embed_dim, hidden_dim)}
    shapes["unembed"] = (hidden_dim, n)
    return {k: jnp.asarray(rng.standard_normal(v) / np.sqrt(v[0]), dtype) for k, v in shapes.items()}


@pytest.fixture(scope="module")
def z11():
    task = tasks.modular_addition(11)
    return task, irreps(analysis.task_group(task)), margin.modular_addition_construction(11)


@pytest.fixture(scope="module")
def s4():
    g = groups.symmetric(4)
    return tasks.group_composition(g), irreps(g), margin.group_construction(g)


def test_task_group_of_modular_addition_is_the_cyclic_group(z11):
    task, _, _ = z11
    g = analysis.task_group(task)
    assert g.order == 11 and np.array_equal(g.table, task.table)


def test_z_p_construction_neurons_are_single_frequency_with_uniform_norm_shares(z11):
    task, reps, params = z11
    report = analysis.neuron_report(params, reps)
    assert report.live.all() and report.fraction_single_irrep(0.999) == 1.0
    assert report.fraction_same_dominant() == 1.0
    assert report.counts.tolist() == [0] + [8] * 5  # 8 neurons per frequency, 4(p-1) in all
    np.testing.assert_allclose(report.norm_shares[1:], 0.2, atol=1e-12)
    assert report.trivial_power.max() < 1e-20
    np.testing.assert_allclose(analysis.frequency_phase_errors(params, task), 0.0, atol=1e-12)


def test_phase_error_detects_a_neuron_that_breaks_theta_u_plus_theta_v_equals_theta_w(z11):
    task, _, params = z11
    broken = dict(params, u=params["u"].at[:, 0].multiply(-1.0))  # (-u, v, w): phase off by pi
    errors = np.abs(analysis.frequency_phase_errors(broken, task))
    assert errors[0] == pytest.approx(np.pi) and errors[1:].max() < 1e-12


def test_group_construction_norm_shares_are_d_to_the_2_5(s4):
    _, reps, params = s4
    report = analysis.neuron_report(params, reps)
    dims = np.array([r.dim for r in reps], dtype=float)
    assert report.counts.tolist() == [0] + [int(2 * d**3) for d in dims[1:]]  # Lemma 20: 2 d³ per irrep
    predicted = dims[1:] ** 2.5 / (dims[1:] ** 2.5).sum()
    np.testing.assert_allclose(report.norm_shares[1:], predicted, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_similarity_matches_the_brute_force_character_tensor(dtype):
    g = groups.dihedral(4)
    task = tasks.group_composition(g)
    reps = irreps(g)
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((g.order**2, g.order))
    sims = np.asarray(analysis.logit_similarity(jnp.asarray(logits, dtype), task, reps))
    n = g.order
    centred = logits.reshape(n, n, n) - logits.reshape(n, n, n).mean(-1, keepdims=True)
    for rep, sim in zip(reps, sims, strict=True):
        k = np.empty((n, n, n))
        for a, b, c in itertools.product(range(n), repeat=3):
            k[a, b, c] = rep.character[g.table[g.table[a, b], g.inverses[c]]]
        expected = (centred * k).sum() / (np.linalg.norm(centred) * np.linalg.norm(k))
        assert sim == pytest.approx(expected, abs=1e-5 if dtype == jnp.float32 else 1e-12)


def test_logits_of_the_constructions_are_fully_explained_by_characters(z11, s4):
    for task, reps, params in (z11, s4):
        logits = models.population_logits(params, task)
        sims = analysis.logit_similarity(logits, task, reps)
        assert float(jnp.sum(sims**2)) == pytest.approx(1.0, abs=1e-10)
        key = analysis.key_irreps(sims)
        assert key.tolist() == list(range(1, len(reps)))  # every non-trivial irrep, never the trivial one
        restricted = analysis.restricted_logits(logits, task, reps, key)
        centred = logits - jnp.mean(logits, axis=1, keepdims=True)
        np.testing.assert_allclose(restricted, centred, atol=1e-10 * float(jnp.abs(logits).max()))
        spread = analysis.wrong_logit_spread(logits, task.labels)
        assert float(jnp.max(spread)) < 1e-9


def test_logit_ablation_losses_on_the_construction(s4):
    task, reps, params = s4
    params = {k: 10.0 * v for k, v in params.items()}  # margin 1000·γ* ≈ 2: a confident net
    full = analysis.logit_ablation_losses(params, task, reps, range(1, len(reps)))
    assert full.restricted == pytest.approx(full.full, rel=1e-9)  # nothing outside the characters
    assert full.excluded == pytest.approx(
        np.log(task.num_classes), rel=1e-9
    )  # only the per-pair mean is left
    some = analysis.logit_ablation_losses(params, task, reps, [1])
    assert full.full < some.restricted < full.excluded


def test_hidden_ablation_of_an_mlp_splits_the_hidden_layer():
    task = tasks.modular_addition(7, train_fraction=0.5, seed=0)
    reps = irreps(analysis.task_group(task))
    net = _mlp_params(7, 8, 16, jnp.float64)
    none = analysis.hidden_ablation_losses(net, task, reps, [])
    logits = models.population_logits(net, task)
    labels = task.labels
    full = float(-jnp.mean(jax.nn.log_softmax(logits)[np.arange(49), labels]))
    assert none.full == pytest.approx(full, rel=1e-12)
    train = task.train_idx
    assert none.excluded == pytest.approx(
        float(-jnp.mean(jax.nn.log_softmax(logits[train])[np.arange(train.size), labels[train]])), rel=1e-12
    )
    # the ρ(ab) entries of every irrep span all functions of ab: restricting to all of them averages H over the
    # pairs with the same product, so the loss is that of the product-averaged hidden layer
    pa, pb = models.mlp_preactivations_table(models.as_params(net))
    hidden = np.asarray(jax.nn.relu(pa[:, None, :] + pb[None, :, :]).reshape(49, -1))
    averaged = np.stack([hidden[labels == labels[i]].mean(axis=0) for i in range(49)])
    out = averaged @ np.asarray(models.as_params(net)["unembed"])
    expected = float(-np.mean(out[np.arange(49), labels] - np.log(np.exp(out).sum(axis=1))))
    everything = analysis.hidden_ablation_losses(net, task, reps, range(1, len(reps)))
    assert everything.restricted == pytest.approx(expected, rel=1e-10)


def test_embedding_fve_sums_to_one_and_finds_a_planted_irrep():
    g = groups.symmetric(3)
    reps = irreps(g)
    rng = np.random.default_rng(1)
    fve = analysis.embedding_fve(jnp.asarray(rng.standard_normal((6, 5))), reps)
    assert float(jnp.sum(fve)) == pytest.approx(1.0, rel=1e-12)
    planted = np.asarray(reps[1].matrices).reshape(6, -1)[:, :3]  # entries of the 2-d irrep
    fve = analysis.embedding_fve(jnp.asarray(planted), reps)
    assert float(fve[1]) == pytest.approx(1.0, rel=1e-12)


def test_mlp_neuron_report_uses_total_embeddings():
    task = tasks.modular_addition(5)
    reps = irreps(analysis.task_group(task))
    net = _mlp_params(5, 4, 6, jnp.float32)
    report = analysis.neuron_report(net, reps)
    assert report.max_power.shape == (6, 3) and report.counts.sum() == report.live.sum()
    with pytest.raises(ValueError, match="power net"):
        analysis.neuron_report(margin.parity_construction(4, 2), reps)


def test_parity_neuron_share():
    task = tasks.sparse_parity(8, 3, support=(1, 4, 6))
    params = margin.parity_construction(8, 3, task.support)
    assert analysis.parity_neuron_share(params, task) == pytest.approx(1.0)
    assert analysis.parity_neuron_share(dict(params, w=-params["w"]), task) == 0.0  # sign rule broken
    leaky = dict(params, u=params["u"].at[0].set(0.2 * params["u"][1]))  # mass off the support
    assert analysis.parity_neuron_share(leaky, task) == 0.0
    tilted = dict(params, w=params["w"].at[:, 0].multiply(1.2))  # w no longer ∥ [1, -1]
    assert analysis.parity_neuron_share(tilted, task) == 0.0
