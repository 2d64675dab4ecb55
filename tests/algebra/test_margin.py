"""Margins: γ* formulas against the notes' table (C5), the explicit constructions reaching γ* exactly, Thm 9's
condition, the irrep LP certificate, and the normalised margin's invariances and bad input."""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from geomrep.algebra import groups, margin, models, tasks
from geomrep.algebra.irreps import irreps
from geomrep.algebra.margin import TheoremHypothesisError
from geomrep.algebra.tasks import HypothesisWarning

# notes/algebraic.md C5, "Theory values" (computed there by the formulas of MEOZK B1), 6 significant digits.
GAMMA_TABLE = [
    (lambda: tasks.modular_addition(7), 1.71448e-2),
    (lambda: tasks.modular_addition(23), 2.57957e-3),
    (lambda: tasks.modular_addition(71), 4.6143e-4),
    (lambda: tasks.modular_addition(113), 2.2860e-4),
    (lambda: tasks.group_composition(groups.symmetric(3)), 2.36050e-2),
    (lambda: tasks.group_composition(groups.dihedral(3)), 2.36050e-2),
    (lambda: tasks.group_composition(groups.symmetric(4)), 2.07665e-3),
    (lambda: tasks.group_composition(groups.symmetric(5)), 1.32598e-4),
    (lambda: tasks.group_composition(groups.dihedral(4)), 1.57197e-2),
    (lambda: tasks.group_composition(groups.dihedral(5)), 9.88460e-3),
    (lambda: tasks.group_composition(groups.dihedral(7)), 5.72430e-3),
    (lambda: tasks.group_composition(groups.dihedral(59)), 2.14682e-4),
    (lambda: tasks.group_composition(groups.klein_four()), 6.4150e-2),
    (
        lambda: tasks.group_composition(groups.direct_product(groups.symmetric(3), groups.symmetric(3))),
        1.11319e-3,
    ),
    (lambda: tasks.sparse_parity(10, 2), 0.544331),
    (lambda: tasks.sparse_parity(10, 3), 0.530330),
    (lambda: tasks.sparse_parity(10, 4), 0.607157),
]


@pytest.mark.parametrize(("make", "expected"), GAMMA_TABLE)
def test_gamma_star_matches_the_notes_table(make, expected):
    value = margin.gamma_star(make())
    digits = len(f"{expected:e}".split("e")[0].replace(".", "").rstrip("0"))
    assert value == pytest.approx(expected, rel=max(1e-6, 0.5 * 10.0 ** (1 - digits)))


def test_gamma_star_closed_forms_are_the_theorems():
    assert margin.gamma_star(tasks.modular_addition(11)) == math.sqrt(2 / 27) / (math.sqrt(11) * 10)
    assert margin.gamma_star(tasks.sparse_parity(7, 5)) == math.factorial(5) * math.sqrt(2 * 6.0**-6)
    s4 = groups.symmetric(4)  # dims 1, 3, 2, 3, 1 -> Σ_{R≠1} d^2.5 = 2·3^2.5 + 2^2.5 + 1
    expected = 2 / (3 * math.sqrt(3 * 24)) / (2 * 3**2.5 + 2**2.5 + 1)
    assert margin.gamma_star(tasks.group_composition(s4)) == pytest.approx(expected, rel=1e-14)


def _margins_and_spread(params, task):
    logits = np.asarray(models.population_logits(params, task, precision=jax.lax.Precision.HIGHEST))
    labels = task.labels
    correct = logits[np.arange(len(labels)), labels]
    wrong = np.where(np.eye(logits.shape[1], dtype=bool)[labels], np.nan, logits)
    spread = np.nanmax(wrong, axis=1) - np.nanmin(wrong, axis=1)
    return correct - np.nanmax(wrong, axis=1), spread


@pytest.mark.parametrize("p", [5, 7, 23])
def test_modular_addition_construction_reaches_gamma_star_with_4_p_minus_1_neurons(p):
    task = tasks.modular_addition(p)
    params = margin.modular_addition_construction(p)
    assert params["u"].shape == (p, 4 * (p - 1))
    assert float(margin.normalized_margin(params, task)) == pytest.approx(margin.gamma_star(task), rel=1e-6)
    margins, spread = _margins_and_spread(params, task)
    assert spread.max() < 1e-9 * margins.min()  # every wrong logit is equal (notes C5)


@pytest.mark.parametrize(
    ("group", "neurons"),
    [
        (groups.symmetric(3), 18),
        (groups.symmetric(4), 126),
        (groups.dihedral(5), 34),
        (groups.symmetric(5), 1190),
    ],
)
def test_group_construction_reaches_theorem9_with_2_sum_d_cubed_neurons(group, neurons):
    task = tasks.group_composition(group)
    params = margin.group_construction(group)
    assert params["u"].shape == (group.order, neurons)
    assert float(margin.normalized_margin(params, task)) == pytest.approx(margin.gamma_star(task), rel=1e-6)
    margins, spread = _margins_and_spread(params, task)
    assert spread.max() < 1e-9 * margins.min()


@pytest.mark.parametrize("k", [2, 3, 4])
def test_parity_construction_reaches_theorem8_with_2_to_the_k_minus_1_neurons(k):
    task = tasks.sparse_parity(8, k, support=tuple(range(8 - k, 8)))
    params = margin.parity_construction(8, k, task.support)
    assert params["u"].shape == (8, 2 ** (k - 1))
    assert float(margin.normalized_margin(params, task)) == pytest.approx(margin.gamma_star(task), rel=1e-6)


def test_construction_in_float32_is_within_float32_rounding():
    task = tasks.modular_addition(7)
    params = margin.modular_addition_construction(7, dtype=jnp.float32)
    value = margin.normalized_margin(params, task)
    assert value.dtype == jnp.float32 and float(value) == pytest.approx(margin.gamma_star(task), rel=1e-5)


@pytest.mark.parametrize(
    ("make", "holds", "value"),
    [
        (lambda: groups.symmetric(3), True, -1.0),
        (lambda: groups.symmetric(4), True, -1.0),
        (lambda: groups.symmetric(5), True, -0.303),
        (lambda: groups.direct_product(groups.symmetric(3), groups.symmetric(3)), True, -0.314),
        (lambda: groups.klein_four(), True, -1.0),
        *[(lambda n=n: groups.dihedral(n), True, -1.0) for n in range(3, 9)],
        (lambda: groups.alternating(5), False, 0.788),
        (lambda: groups.symmetric(6), False, 11.0),
    ],
)
def test_theorem9_condition_matches_the_notes(make, holds, value):
    got_holds, got_value = margin.theorem9_condition(make())
    assert got_holds is holds
    assert got_value == pytest.approx(value, abs=1e-3)


def test_theorem9_condition_is_false_for_groups_with_non_real_irreps():
    holds, _ = margin.theorem9_condition(groups.quaternion())
    assert holds is False
    assert margin.theorem9_condition(groups.cyclic(5))[0] is False


@pytest.mark.parametrize(
    "make", [lambda: groups.cyclic(5), lambda: groups.alternating(4), lambda: groups.quaternion()]
)
def test_gamma_star_refuses_groups_with_complex_or_quaternionic_irreps(make):
    with pytest.raises(TheoremHypothesisError, match="Theorem 9 requires every irreducible representation"):
        margin.gamma_star(tasks.group_composition(make()))


def test_gamma_star_refuses_a_composite_modulus():
    with pytest.warns(HypothesisWarning):
        task = tasks.modular_addition(9)
    with pytest.raises(TheoremHypothesisError, match="Theorem 7 requires an odd prime"):
        margin.gamma_star(task)


def test_gamma_star_warns_where_the_class_condition_fails_and_the_formula_is_still_reached():
    a5 = groups.alternating(5)
    task = tasks.group_composition(a5)
    with pytest.warns(HypothesisWarning, match="condition"):
        value = margin.gamma_star(task)
    assert value == pytest.approx(4.173e-4, rel=1e-3)  # notes D, A15
    reached = float(margin.normalized_margin(margin.group_construction(a5), task))
    assert reached == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize(
    "make", [lambda: groups.symmetric(3), lambda: groups.symmetric(4), lambda: groups.dihedral(5)]
)
def test_lp_equals_theorem9_with_d_to_the_2_5_shares_where_the_condition_holds(make):
    group = make()
    lp = margin.irrep_lp_margin(group)
    assert lp.value == pytest.approx(margin.gamma_star(tasks.group_composition(group)), rel=1e-9)
    dims = np.array([r.dim for r in irreps(group)], dtype=float)
    predicted = dims**2.5 * (np.arange(len(dims)) > 0)
    np.testing.assert_allclose(lp.norm_shares, predicted / predicted.sum(), atol=1e-9)


def test_lp_beats_theorem9_on_a5_without_the_5_dimensional_irrep():
    """notes C5: 1.034x the formula, norm³ shares 0.36 / 0.36 / 0.28 on {3d, 3d, 4d}, no 5-dim irrep."""
    a5 = groups.alternating(5)
    lp = margin.irrep_lp_margin(a5)
    assert lp.value / lp.theorem9_value == pytest.approx(1.034, abs=5e-4)
    dims = [r.dim for r in irreps(a5)]
    shares = dict(zip(lp.names, lp.norm_shares, strict=True))
    five = [name for name, d in zip(lp.names, dims, strict=True) if d == 5]
    assert all(shares[name] == 0 for name in five)
    assert sorted(np.round(lp.norm_shares[lp.norm_shares > 0], 2).tolist()) == [0.28, 0.36, 0.36]
    task = tasks.group_composition(a5)
    built = margin.group_construction(a5, lp.block_weights)
    assert float(margin.normalized_margin(built, task)) == pytest.approx(lp.value, rel=1e-6)


def test_lp_on_z_p_equals_theorem7():
    """The group construction with 2-d rotation irreps is another max-margin net for Z_p."""
    lp = margin.irrep_lp_margin(groups.cyclic(11))
    assert lp.value == pytest.approx(margin.gamma_star(tasks.modular_addition(11)), rel=1e-9)


def test_character_tensor_spectral_norm_is_the_factor_behind_the_d_2_5_sum():
    """notes C4: the 3-tensor χ_ρ(a b c⁻¹) has spectral norm (|G|/d)^{3/2}; checked by power iteration on S3."""
    g = groups.symmetric(3)
    for rep in irreps(g)[1:]:
        k = rep.character[g.table[g.table[:, :, None], g.inverses[None, None, :]]]
        rng = np.random.default_rng(0)
        best = 0.0
        for _ in range(5):
            x, y, z = (rng.normal(size=6) for _ in range(3))
            for _ in range(200):
                x = np.einsum("abc,b,c->a", k, y, z)
                x /= np.linalg.norm(x)
                y = np.einsum("abc,a,c->b", k, x, z)
                y /= np.linalg.norm(y)
                z = np.einsum("abc,a,b->c", k, x, y)
                z /= np.linalg.norm(z)
            best = max(best, abs(np.einsum("abc,a,b,c->", k, x, y, z)))
        assert best == pytest.approx((6 / rep.dim) ** 1.5, rel=1e-8)


def test_normalized_margin_is_scale_invariant_and_negative_when_misclassifying():
    task = tasks.modular_addition(7)
    params = margin.modular_addition_construction(7)
    scaled = {k: 3.0 * v for k, v in params.items()}
    assert float(margin.normalized_margin(scaled, task)) == pytest.approx(
        float(margin.normalized_margin(params, task)), rel=1e-12
    )
    flipped = dict(params, w=-params["w"])
    assert float(margin.normalized_margin(flipped, task)) < 0


def test_normalized_margin_norms():
    task = tasks.modular_addition(5)
    params = margin.modular_addition_construction(5)
    l2nu = float(margin.norm_power(params, 3))
    l2 = float(margin.norm_power(params, 3, norm="l2"))
    assert l2nu == pytest.approx(1.0, rel=1e-12)  # constructions are scaled to Σ_i ‖ω_i‖³ = 1
    assert float(margin.normalized_margin(params, task, norm="l2")) == pytest.approx(
        float(margin.normalized_margin(params, task)) * l2nu / l2, rel=1e-12
    )
    with pytest.raises(ValueError, match="norm="):
        margin.normalized_margin(params, task, norm="l1")


def test_mlp_margin_uses_the_l2_norm_and_refuses_l2nu():
    from flax import nnx

    net = models.OneLayerMLP(5, embed_dim=4, hidden_dim=3, param_dtype=jnp.float64, rngs=nnx.Rngs(0))
    task = tasks.modular_addition(5)
    auto = float(margin.normalized_margin(net, task))
    assert auto == float(margin.normalized_margin(net, task, norm="l2"))
    with pytest.raises(ValueError, match="shares its embeddings"):
        margin.normalized_margin(net, task, norm="l2nu")


def test_norm_power_gradient_is_finite_at_a_dead_neuron():
    params = margin.modular_addition_construction(5)
    dead = {k: (v.at[:, 0].set(0.0) if k != "w" else v.at[0].set(0.0)) for k, v in params.items()}
    grads = jax.grad(lambda p: margin.norm_power(p, 3))(dead)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads.values())
    assert float(jnp.abs(grads["u"][:, 0]).max()) == 0.0


def test_constructions_refuse_bad_input():
    with pytest.raises(ValueError, match="odd integer"):
        margin.modular_addition_construction(8)
    with pytest.raises(ValueError, match="block_weights has 2 entries"):
        margin.group_construction(groups.symmetric(3), [1.0, 1.0])
    with pytest.raises(ValueError, match="support"):
        margin.parity_construction(4, 2, (0, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        margin.gamma_star(tasks.sparse_parity(3, 3))  # no warning for a task inside the theorem
