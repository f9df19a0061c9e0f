"""Gold accuracy with Wilson intervals, and agreement with the leave-one-out majority."""

import math

import numpy as np
import pytest
from quality_sim import Rater, row, simulate
from scipy.stats import binomtest

from hitl.quality import gold_accuracy, loo_agreement, majority, majority_labels, rate_stat, wilson_interval


def test_wilson_matches_known_and_scipy():
    low, high = wilson_interval(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    for k, n in [(0, 7), (3, 7), (7, 7), (45, 50), (1, 200)]:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))


def test_wilson_edges():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    assert wilson_interval(0, 5)[0] == 0.0
    assert wilson_interval(5, 5)[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(6, 5)
    stat = rate_stat(0, 0)
    assert stat.total == 0 and math.isnan(stat.rate)


def test_wilson_coverage_near_nominal():
    rng = np.random.default_rng(3)
    p, n = 0.85, 40
    draws = rng.binomial(n, p, size=2000)
    covered = [lo <= p <= hi for lo, hi in (wilson_interval(int(k), n) for k in draws)]
    assert 0.92 <= np.mean(covered) <= 0.98


def test_gold_accuracy_by_hand():
    rows = [
        row(1, "a", 0, gold_answer=0),
        row(2, "a", 1, gold_answer=0),
        row(3, "a", None, gold_answer=1),  # a tie on a gold item is wrong
        row(4, "a", 1, gold_answer=1),
        row(5, "a", 1),  # not gold
        row(6, "b", 0),  # b never saw gold
    ]
    acc = gold_accuracy(rows)
    assert set(acc) == {"a", "b"}
    assert (acc["a"].correct, acc["a"].total, acc["a"].rate) == (2, 4, 0.5)
    assert acc["a"].low < 0.5 < acc["a"].high
    assert acc["b"].total == 0 and math.isnan(acc["b"].rate)
    assert gold_accuracy([]) == {}


def test_gold_intervals_contain_true_rates():
    truth = {"p95": 0.95, "p80": 0.8, "p65": 0.65}
    sim = simulate({name: Rater("honest", p) for name, p in truth.items()}, n_items=300, gold_share=0.4, seed=21)
    acc = gold_accuracy(sim.rows)
    for name, p in truth.items():
        assert acc[name].total > 80
        assert acc[name].low <= p <= acc[name].high
    assert acc["p95"].rate > acc["p80"].rate > acc["p65"].rate


def test_majority():
    assert majority([0, 0, 1]) == 0
    assert majority([0, 1]) is None
    assert majority([]) is None
    assert majority([2, 2, 2, 1, 1]) == 2


def test_majority_labels():
    rows = [row(1, "a", 0), row(1, "b", 0), row(1, "c", 1), row(2, "a", 0), row(2, "b", 1), row(3, "a", None)]
    assert majority_labels(rows) == {1: 0, 2: None, 3: 2}


def test_loo_agreement_by_hand():
    rows = [
        # Item 1: a, b, c say 0, d says 1. Each of a/b/c sees a 0-majority among the others; d disagrees with it.
        row(1, "a", 0), row(1, "b", 0), row(1, "c", 0), row(1, "d", 1),
        # Item 2: two raters only -> not used.
        row(2, "a", 0), row(2, "d", 1),
        # Item 3: 0, 1, tie -> the others always tie, so skipped for everyone.
        row(3, "a", 0), row(3, "b", 1), row(3, "c", None),
        # Item 4: a=1, b=1, d=0 -> a: others (1, 0) tie -> skipped; b likewise; d: others (1, 1) -> disagree.
        row(4, "a", 1), row(4, "b", 1), row(4, "d", 0),
    ]  # fmt: skip
    loo = loo_agreement(rows)
    assert (loo["a"].correct, loo["a"].total) == (1, 1)
    assert (loo["b"].correct, loo["b"].total) == (1, 1)
    assert (loo["c"].correct, loo["c"].total) == (1, 1)
    assert (loo["d"].correct, loo["d"].total) == (0, 2)


def test_loo_agreement_synthetic():
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(4)}
    raters["spam"] = Rater("random")
    sim = simulate(raters, n_items=300, seed=8)
    loo = loo_agreement(sim.rows)
    for name in ("h0", "h1", "h2", "h3"):
        assert loo[name].rate > 0.8
    # The spammer matches a (mostly correct) majority about 1/3 of the time: one of three options.
    assert 0.2 < loo["spam"].rate < 0.45
    assert loo["spam"].high < min(loo[n].low for n in ("h0", "h1", "h2", "h3"))
