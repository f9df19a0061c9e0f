"""hitl.rank_intervals on synthetic ratings with known answers: joint intervals are wider than one-at-a-time ones
and hold jointly, rank intervals hold jointly and follow the gaps (not the overlap of rating intervals), verdicts
separate what is separated, the planner's numbers."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from hitl.rank_intervals import (
    adjacent_verdicts,
    battles_to_separate,
    pair_plan,
    rank_intervals,
    simultaneous_intervals,
    wilson,
)
from hitl.ratings import bootstrap_samples, bradley_terry, intervals_from


def _battles(truth: dict[str, float], n: int, seed: int):
    rng = random.Random(seed)
    names = sorted(truth)
    out = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
        out.append((a, b, 1.0 if rng.random() < p else 0.0))
    return out


def test_joint_intervals_are_wider_than_marginal_and_cover_jointly():
    rng = np.random.default_rng(0)
    models = [f"m{i}" for i in range(10)]
    truth = {m: 1000.0 for m in models}
    covered = 0
    trials = 200
    for _ in range(trials):
        # Independent normal estimates around the truth: marginal 95% intervals all hold ~60% of the time.
        estimate = {m: truth[m] + rng.normal(0, 10) for m in models}
        samples = np.column_stack([estimate[m] + rng.normal(0, 10, size=400) for m in models])
        joint, c = simultaneous_intervals(models, estimate, samples)
        covered += all(joint[m][0] <= truth[m] <= joint[m][1] for m in models)
    assert 2.4 < c < 3.2  # the Sidak value for 10 models is 2.80; one model would get 1.96
    assert covered / trials > 0.9


def test_rank_intervals_and_verdicts_on_a_known_board():
    truth = {"top": 1200.0, "mid-a": 1000.0, "mid-b": 1005.0, "low": 800.0}
    battles = _battles(truth, 3000, seed=1)
    ratings = bradley_terry(battles)
    models, samples = bootstrap_samples(battles, rounds=300, seed=2)
    joint, _ = simultaneous_intervals(models, ratings, samples)
    marginal = intervals_from(models, samples)
    for m in models:
        assert joint[m][0] <= marginal[m][0] and joint[m][1] >= marginal[m][1]
    ranked, c = rank_intervals(models, ratings, samples)
    assert c > 1.96
    ranks = {r.model: r for r in ranked}
    assert (ranks["top"].best, ranks["top"].worst) == (1, 1) and ranks["top"].text() == "1"
    assert (ranks["low"].best, ranks["low"].worst) == (4, 4)
    for m in ("mid-a", "mid-b"):
        assert (ranks[m].best, ranks[m].worst) == (2, 3) and ranks[m].text() == "2–3"
    verdicts = adjacent_verdicts(models, ratings, samples)
    assert [v.separated for v in verdicts] == [True, False, True]
    assert verdicts[0].text == "top above " + verdicts[0].lower + " with 95% confidence"
    assert verdicts[1].text.endswith("not separated") and verdicts[1].low < 0 < verdicts[1].high


def test_rank_intervals_hold_jointly():
    """Independent normal estimates of 8 models, some close: the true rank of every model lies in its interval at
    once in about 95% of trials (at least 90% here), where one-at-a-time 95% gap tests fail far more often."""
    rng = np.random.default_rng(3)
    truth = np.array([0.0, 4.0, 8.0, 12.0, 30.0, 31.0, 50.0, 80.0])
    models = [f"m{i}" for i in range(len(truth))]
    true_rank = {m: int((truth > truth[i]).sum()) + 1 for i, m in enumerate(models)}
    covered = 0
    trials = 200
    for _ in range(trials):
        estimate = truth + rng.normal(0, 5, size=len(truth))
        samples = estimate + rng.normal(0, 5, size=(400, len(truth)))
        ranked, _ = rank_intervals(models, dict(zip(models, estimate, strict=True)), samples)
        covered += all(r.best <= true_rank[r.model] <= r.worst for r in ranked)
    assert covered / trials >= 0.9


def test_rank_intervals_follow_the_gap_not_the_overlap_of_rating_intervals():
    """Two models that move together (they were mostly compared with each other): each rating is uncertain, so their
    rating intervals overlap widely, but their gap is known closely and the ranks separate them."""
    rng = np.random.default_rng(4)
    shared = rng.normal(0, 40, size=(500, 1))
    samples = np.hstack([1020 + shared + rng.normal(0, 3, (500, 1)), 1000 + shared + rng.normal(0, 3, (500, 1))])
    ratings = {"a": 1020.0, "b": 1000.0}
    joint, _ = simultaneous_intervals(["a", "b"], ratings, samples)
    assert joint["a"][0] < joint["b"][1]  # the rating intervals overlap
    ranked, _ = rank_intervals(["a", "b"], ratings, samples)
    assert [(r.model, r.text()) for r in ranked] == [("a", "1"), ("b", "2")]
    apart = np.column_stack([1020 + rng.normal(0, 40, 500), 1000 + rng.normal(0, 40, 500)])  # independent: gap unknown
    ranked, _ = rank_intervals(["a", "b"], ratings, apart)
    assert [r.text() for r in ranked] == ["1–2", "1–2"]


def test_without_samples_every_model_is_its_own_rank():
    joint, c = simultaneous_intervals(["a", "b"], {"a": 1010.0, "b": 990.0}, np.empty((0, 2)))
    assert math.isnan(c) and math.isnan(joint["a"][0])
    ranked, c = rank_intervals(["a", "b"], {"a": 1010.0, "b": 990.0}, np.empty((0, 2)))
    assert [r.text() for r in ranked] == ["1", "2"] and math.isnan(c)
    assert adjacent_verdicts(["a", "b"], {"a": 1010.0, "b": 990.0}, np.empty((0, 2)))[0].separated is False
    assert adjacent_verdicts(["a"], {"a": 1000.0}, np.empty((0, 1))) == []


def test_battles_to_separate():
    # At 60% the interval half-width 1.96 sqrt(.24 / n) reaches 0.1 at n = 93.
    assert battles_to_separate(0.6, 0) == 93
    assert battles_to_separate(0.6, 40) == 53
    assert battles_to_separate(0.6, 500) == 0
    assert battles_to_separate(0.5, 10) is None
    assert battles_to_separate(1.0, 3) > 0  # a sweep of 3 is not yet convincing


def test_pair_plan_reports_the_rate_with_its_interval_and_n():
    plan = pair_plan("a", "b", 24.0, 40)
    assert plan.rate == pytest.approx(0.6) and plan.n == 40 and plan.low < 0.6 < plan.high
    assert plan.more == 53 and "53 more battles" in plan.text
    assert pair_plan("a", "b", 0, 0, implied_rate=0.7).more == battles_to_separate(0.7, 0)
    assert pair_plan("a", "b", 0, 0).more is None
    assert "even" in pair_plan("a", "b", 5, 10).text
    styled = pair_plan("a", "b", 30, 40, implied_rate=0.6, controlled=True)  # the raw 0.75 still holds the style
    assert styled.rate == 0.6 and styled.more == 53 and "style-controlled rate 0.60" in styled.text


def test_wilson():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert all(math.isnan(x) for x in wilson(0, 0))
