"""Tasks: full populations in the documented order, seeded splits, and bad input refused or warned about."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from geomrep.algebra import groups, tasks
from geomrep.algebra.tasks import HypothesisWarning


def test_modular_addition_population_is_every_pair_in_row_major_order():
    task = tasks.modular_addition(7)
    assert task.name == "Z_7" and task.family == "modular_addition" and task.modulus == 7
    assert task.inputs.shape == (49, 2) and task.labels.shape == (49,) and task.num_classes == 7
    expected = [(a, b, (a + b) % 7) for a, b in itertools.product(range(7), repeat=2)]
    got = [(int(a), int(b), int(c)) for (a, b), c in zip(task.inputs, task.labels, strict=True)]
    assert got == expected
    assert task.train_idx.tolist() == list(range(49)) and task.test_idx.size == 0


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([3, 5, 7, 11, 13]),
    st.floats(0.05, 0.95),
    st.integers(0, 2**31 - 1),
)
def test_split_partitions_the_population_with_floor_fraction_in_train(p, fraction, seed):
    assume(math.floor(fraction * p * p) >= 1)
    task = tasks.modular_addition(p, train_fraction=fraction, seed=seed)
    train, test = task.train_idx, task.test_idx
    assert train.size == math.floor(fraction * p * p)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(p * p))
    again = tasks.modular_addition(p, train_fraction=fraction, seed=seed)
    assert np.array_equal(again.train_idx, train)


def test_split_depends_on_the_seed():
    a = tasks.modular_addition(23, train_fraction=0.5, seed=0).train_idx
    b = tasks.modular_addition(23, train_fraction=0.5, seed=1).train_idx
    assert a.size == b.size and not np.array_equal(a, b)


@pytest.mark.parametrize("p", [1, 2, 9, 15])
def test_modulus_that_is_not_an_odd_prime_warns_and_still_builds(p):
    with pytest.warns(HypothesisWarning, match="Theorem 7"):
        task = tasks.modular_addition(p)
    assert np.array_equal(task.labels, (task.inputs.sum(axis=1)) % p)


@pytest.mark.parametrize("p", [0, -3, 2.5, True, "7"])
def test_modulus_below_one_or_not_an_integer_is_refused(p):
    with pytest.raises(ValueError, match="modulus"):
        tasks.modular_addition(p)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, 0.001])
def test_bad_train_fraction_is_refused(fraction):
    with pytest.raises(ValueError, match="train_fraction"):
        tasks.modular_addition(5, train_fraction=fraction)


def test_group_composition_labels_are_the_cayley_table():
    g = groups.symmetric(3)
    task = tasks.group_composition(g, train_fraction=0.5, seed=3)
    assert task.name == g.name and task.group is g and task.family == "group_composition"
    a, b = task.inputs[:, 0], task.inputs[:, 1]
    assert np.array_equal(task.labels, g.table[a, b])
    assert task.train_idx.size == 18 and task.test_idx.size == 18


def test_group_composition_refuses_something_that_is_not_a_group():
    with pytest.raises(TypeError, match="Group"):
        tasks.group_composition(np.zeros((3, 3), dtype=int))


def test_sparse_parity_labels_are_the_parity_of_the_support():
    task = tasks.sparse_parity(6, 3, support=(5, 1, 2))
    x = task.inputs
    assert x.shape == (64, 6) and set(np.unique(x)) == {-1.0, 1.0}
    assert len({tuple(row) for row in x}) == 64
    assert task.support == (1, 2, 5)
    parity = np.prod(x[:, [1, 2, 5]], axis=1)
    assert np.array_equal(task.labels, np.where(parity > 0, 0, 1))
    assert task.num_classes == 2 and task.name == "(6,3)-parity"


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, 1), {}, "n=0"),
        ((4, 0), {}, "k=0"),
        ((3, 4), {}, "exceeds"),
        ((25, 2), {}, "n <= 24"),
        ((4, 2), {"support": (0, 0)}, "distinct"),
        ((4, 2), {"support": (0, 4)}, "distinct"),
    ],
)
def test_sparse_parity_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tasks.sparse_parity(*args, **kwargs)
