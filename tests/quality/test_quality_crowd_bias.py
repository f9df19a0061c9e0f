"""Bias against the crowd, Benjamini-Hochberg across raters, and the honest-crowd figure in small."""

import math

import numpy as np
import pytest
from quality_sim import Rater, row, simulate
from scipy.stats import false_discovery_control

from hitl.quality import (
    bh_adjust,
    bh_flags,
    consensus_for_rater,
    dawid_skene,
    leave_one_out_posteriors,
    length_bias,
    length_vs_crowd,
    position_vs_crowd,
    rater_report,
)
from hitl.quality.crowd_bias import poisson_binomial_p
from hitl.quality.multiple import discrete_bh_adjust, reachable_family


def test_bh_adjust_matches_scipy_and_skips_nan():
    p = {"a": 0.001, "b": 0.02, "c": 0.04, "d": math.nan, "e": 0.5}
    q = bh_adjust(p)
    expected = false_discovery_control([0.001, 0.02, 0.04, 0.5], method="bh")
    assert [q[k] for k in "abce"] == pytest.approx(list(expected))
    assert math.isnan(q["d"])
    # b: 0.02 * 4 / 2 = 0.04; c: 0.04 * 4 / 3 > 0.05
    assert bh_flags(p, fdr=0.05) == {"a": True, "b": True, "c": False, "d": False, "e": False}
    with pytest.raises(ValueError, match="fdr"):
        bh_flags(p, fdr=0.0)


def test_tarone_drops_tests_that_cannot_reach_the_bar():
    # 100 tiny tests that can never go below 0.03, and one real finding: with all of them in the family the finding
    # needs p <= 0.05 / 101 and is lost; Tarone's rule keeps only what can reach the bar.
    p = {f"tiny{i}": 0.5 for i in range(100)} | {"real": 0.001}
    floors = {f"tiny{i}": 0.03 for i in range(100)} | {"real": 0.0}
    assert bh_adjust(p)["real"] > 0.05
    assert set(reachable_family(p, floors)) == {"real"}
    q = discrete_bh_adjust(p, floors)
    assert q["real"] == pytest.approx(0.001) and all(math.isnan(q[f"tiny{i}"]) for i in range(100))


def test_leave_one_out_removes_the_raters_own_vote():
    # Item 0: a says 0, b says 1. Without a, b's answer stands; without b, a's does: each is compared with the other.
    rows = [row(0, "a", 0), row(0, "b", 1), row(0, "lone", 1)]
    rows += [row(i, r, i % 2) for i in range(1, 40) for r in "ab"]  # a and b agree elsewhere
    ds = dawid_skene(rows)
    loo = leave_one_out_posteriors(ds, rows)
    assert loo[(0, "a")].argmax() == 1
    assert loo[(0, "b")][0] > ds.posteriors[0][0]  # b's own vote for 1 is divided out
    assert consensus_for_rater(rows, ds)[(0, "a")] == 1
    assert (1, "a") in loo and all(key[0] != 41 for key in loo)


def test_poisson_binomial_tail_is_exact():
    e = np.array([0.2, 0.5, 0.9])
    # P(S = 0) = 0.8 * 0.5 * 0.1 = 0.04: doubled, the two-sided p-value of no hits.
    p, floor = poisson_binomial_p(0, e)
    assert p == pytest.approx(0.08) and floor == pytest.approx(2 * min(0.04, 0.2 * 0.5 * 0.9))
    assert poisson_binomial_p(2, e)[0] == pytest.approx(1.0)
    assert math.isnan(poisson_binomial_p(0, np.array([]))[0])


def test_gold_items_are_their_own_consensus():
    rows = [row(0, "a", 0, gold_answer=1), row(0, "b", 0, gold_answer=1)]
    assert consensus_for_rater(rows) == {(0, "a"): 1, (0, "b"): 1}


def test_honest_raters_under_a_concise_taste_are_not_length_biased():
    # The better answer is the shorter one on 80% of items: against 50%, honest raters "prefer shorter".
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(5)} | {"longer": Rater("longer")}
    sim = simulate(raters, n_items=300, seed=4, longer_better=0.2)
    naive = length_bias(sim.rows)
    assert sum(naive[f"h{i}"].flagged for i in range(5)) >= 4
    crowd = length_vs_crowd(sim.rows)
    for i in range(5):
        stat = crowd[f"h{i}"]
        assert stat.p_value > 0.01, stat
        assert stat.share == pytest.approx(stat.expected, abs=0.05)
        assert stat.crowd_share < 0.3  # the crowd's answer is the longer one on about one item in five
    lover = crowd["longer"]
    assert lover.share == 1.0 and lover.crowd_share < 0.3 and lover.p_value < 1e-20
    assert lover.min_p <= lover.p_value


def test_position_against_the_crowd():
    raters = {f"h{i}": Rater("honest", 0.85) for i in range(4)} | {"first": Rater("first", habit=0.7)}
    sim = simulate(raters, n_items=200, seed=5)
    stats = position_vs_crowd(sim.rows)
    assert stats["first"].p_value < 1e-6 and stats["first"].share > stats["first"].expected + 0.25
    assert all(stats[f"h{i}"].p_value > 0.01 for i in range(4))


def _crowd(seed: int, n_raters: int, bad: dict[str, Rater]) -> list:
    rng = np.random.default_rng(seed)
    raters = {f"h{i:03d}": Rater("honest", float(rng.uniform(0.8, 0.95))) for i in range(n_raters)} | bad
    sim = simulate(raters, n_items=n_raters * 60 // 3, per_item=3, gold_share=0.1, seed=seed, longer_better=0.2)
    return rater_report(sim.rows)


def test_honest_crowds_are_flagged_in_at_most_five_percent_of_campaigns():
    """The issue's figure in small: 20 honest campaigns of 100 raters at 60 judgments each (a concise taste, where
    testing length against 50% flags nearly everyone); scripts/bench_quality_flags.py runs the full size."""
    flagged = [any(q.issues for q in _crowd(seed, 100, {})) for seed in range(20)]
    assert sum(flagged) <= 1, flagged


def test_bad_raters_are_still_caught_in_a_large_crowd():
    bad = {
        "first": Rater("first"),
        "longer": Rater("longer"),
        "spam": Rater("random"),
        "tired": Rater("fatigued", p_correct=0.95, p_end=0.3, fatigue_len=30),
    }
    report = {q.rater: q for q in _crowd(100, 100, bad)}
    kinds = {name: {i.split(":")[0].split(" ")[0] for i in report[name].issues} for name in bad}
    assert "position" in kinds["first"]
    assert "length" in kinds["longer"]
    assert {"too", "gold", "majority"} & kinds["spam"]
    assert "fatigue" in kinds["tired"]
    assert [q.rater for q in report.values() if q.issues and q.rater not in bad] == []
