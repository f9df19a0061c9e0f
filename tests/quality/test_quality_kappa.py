"""Fleiss' and Cohen's kappa against textbook values, and on synthetic raters."""

import math

import numpy as np
import pytest
from quality_sim import Rater, row, simulate

from hitl.quality import cohen_kappa, fleiss_from_rows, fleiss_kappa, fleiss_table, pairwise_cohen

# Fleiss' kappa worked example (Wikipedia, "Fleiss' kappa"): 10 subjects, 14 raters, 5 categories.
# P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
FLEISS_EXAMPLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_textbook_example():
    assert fleiss_kappa(FLEISS_EXAMPLE) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_small_by_hand():
    # Two raters: P_i = 1, 1, 0 -> P-bar = 2/3; category shares 1/2, 1/2 -> P_e = 1/2; kappa = (2/3 - 1/2) / (1/2).
    assert fleiss_kappa([[2, 0], [0, 2], [1, 1]]) == pytest.approx(1 / 3)


def test_fleiss_perfect_and_undefined():
    assert fleiss_kappa([[3, 0, 0], [0, 3, 0], [0, 0, 3]]) == pytest.approx(1.0)
    assert math.isnan(fleiss_kappa([[4, 0], [4, 0]]))  # one category only: 0/0
    assert math.isnan(fleiss_kappa([]))


def test_fleiss_rejects_unequal_rater_counts():
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[2, 1], [1, 1]])
    with pytest.raises(ValueError, match="at least 2 raters"):
        fleiss_kappa([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        fleiss_kappa([[3, -1], [1, 1]])


def test_fleiss_random_raters_near_zero():
    rng = np.random.default_rng(11)
    table = np.array([np.bincount(rng.integers(3, size=5), minlength=3) for _ in range(800)])
    assert abs(fleiss_kappa(table)) < 0.05


def test_fleiss_from_rows_uses_modal_rater_count():
    rows = []
    votes = {1: [0, 0, 0], 2: [1, 1, 0], 3: [None, None, None], 4: [1, 1, 1], 5: [0, 1, None]}
    for item, labels in votes.items():
        rows += [row(item, f"r{j}", w) for j, w in enumerate(labels)]
    rows += [row(6, "r0", 0), row(6, "r1", 1)]  # two raters only: dropped
    rows += [row(7, "r0", 0)]  # single rater: dropped
    expected = [[3, 0, 0], [1, 2, 0], [0, 0, 3], [0, 3, 0], [1, 1, 1]]
    assert sorted(fleiss_table(rows).tolist()) == sorted(expected)
    assert fleiss_from_rows(rows) == pytest.approx(fleiss_kappa(expected))


def test_fleiss_from_rows_empty_or_single_rater():
    assert math.isnan(fleiss_from_rows([]))
    assert math.isnan(fleiss_from_rows([row(i, "a", 0) for i in range(5)]))


def test_cohen_two_by_two_by_hand():
    # 50 items: both yes 20, a yes / b no 5, a no / b yes 10, both no 15.
    # p_o = 35/50 = 0.7; a says yes 25/50, b says yes 30/50 -> p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.4.
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_second_hand_example():
    # p_o = 6/10; a: 8 zeros, 2 ones; b: 6 zeros, 4 ones -> p_e = 0.8*0.6 + 0.2*0.4 = 0.56; kappa = 0.04/0.44 = 1/11.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert cohen_kappa(a, b) == pytest.approx(1 / 11)


def test_cohen_edge_cases():
    assert cohen_kappa([0, 1, 2, 1], [0, 1, 2, 1]) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    with pytest.raises(ValueError, match="equally long"):
        cohen_kappa([0, 1], [0])


@pytest.fixture(scope="module")
def mixed_sim():
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(3)}
    raters["spam"] = Rater("random")
    return simulate(raters, n_items=400, seed=5)


def test_pairwise_cohen_honest_high_random_zero(mixed_sim):
    pairs = pairwise_cohen(mixed_sim.rows)
    assert set(pairs) == {("h0", "h1"), ("h0", "h2"), ("h1", "h2"), ("h0", "spam"), ("h1", "spam"), ("h2", "spam")}
    for (a, b), (kappa, n) in pairs.items():
        assert n == 400
        if "spam" in (a, b):
            assert abs(kappa) < 0.15
        else:
            # Two raters at 90% agree on ~82% of items against ~50% by chance: kappa ~0.64.
            assert 0.5 < kappa < 0.8


def test_pairwise_cohen_min_shared():
    rows = [row(i, "a", i % 2) for i in range(12)] + [row(i, "b", i % 2) for i in range(12)]
    rows += [row(i, "c", 0) for i in range(5)]
    pairs = pairwise_cohen(rows, min_shared=10)
    assert set(pairs) == {("a", "b")}
    assert pairs[("a", "b")] == (pytest.approx(1.0), 12)
    assert set(pairwise_cohen(rows, min_shared=5)) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert pairwise_cohen([]) == {}
