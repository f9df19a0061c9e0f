"""hitl.ratings on synthetic battles with known answers: Bradley-Terry, bootstrap intervals, win-rate matrix."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from hitl.ratings import SCALE, battle_counts, bootstrap_intervals, bradley_terry, leaderboard, win_rate_matrix


def _win_probability(rating_a: float, rating_b: float) -> float:
    """The probability that A beats B under Bradley-Terry on the Elo scale bradley_terry fits."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / SCALE))


def _battles(strengths: dict[str, float], n: int, seed: int = 0, tie_share: float = 0.0):
    """n battles between random pairs, won with Bradley-Terry probability (Elo scale)."""
    rng = random.Random(seed)
    names = sorted(strengths)
    out = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        if rng.random() < tie_share:
            out.append((a, b, 0.5))
            continue
        out.append((a, b, 1.0 if rng.random() < _win_probability(strengths[a], strengths[b]) else 0.0))
    return out


def test_two_models_three_to_one_is_191_points_apart():
    battles = [("a", "b", 1.0)] * 75 + [("a", "b", 0.0)] * 25
    r = bradley_terry(battles, prior=0)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert (r["a"] + r["b"]) / 2 == pytest.approx(1000)


def test_ties_count_half_and_sides_do_not_matter():
    r = bradley_terry([("a", "b", 0.5)] * 10 + [("b", "a", 1.0), ("a", "b", 1.0)], prior=0)
    assert r["a"] == pytest.approx(r["b"])


def test_known_strengths_are_recovered_with_covering_intervals():
    truth = {"small": 900.0, "medium": 1000.0, "large": 1100.0}
    battles = _battles(truth, 6000, seed=1)
    fitted = bradley_terry(battles, prior=0)
    intervals = bootstrap_intervals(battles, rounds=100, seed=2, prior=0)
    for name, value in truth.items():
        assert fitted[name] == pytest.approx(value, abs=20)
        low, high = intervals[name]
        assert low < fitted[name] < high and low - 5 < value < high + 5
    assert [r.model for r in leaderboard(battles, rounds=20)] == ["large", "medium", "small"]


def test_intervals_narrow_with_more_battles():
    truth = {"x": 1050.0, "y": 950.0}
    width = {}
    for n in (100, 2000):
        low, high = bootstrap_intervals(_battles(truth, n, seed=3), rounds=100, seed=4)["x"]
        width[n] = high - low
    assert width[2000] < width[100] / 3


def test_an_unbeaten_model_stays_finite_with_the_prior():
    r = bradley_terry([("champ", "chump", 1.0)] * 20, prior=1.0)
    assert math.isfinite(r["champ"]) and r["champ"] > r["chump"]


def test_win_rate_matrix_and_counts():
    battles = [("a", "b", 1.0), ("a", "b", 0.5), ("b", "a", 1.0), ("b", "c", 1.0)]
    models, rates = win_rate_matrix(battles)
    assert models == ["a", "b", "c"]
    assert rates[0, 1] == pytest.approx(1.5 / 3) and rates[1, 0] == pytest.approx(1.5 / 3)
    assert rates[1, 2] == 1.0 and rates[2, 1] == 0.0
    assert math.isnan(rates[0, 2]) and math.isnan(rates[0, 0])
    _, counts = battle_counts(battles)
    assert counts.tolist() == [[0, 3, 0], [3, 0, 1], [0, 1, 0]]
    assert np.array_equal(counts, counts.T)


def test_leaderboard_counts_wins_losses_ties():
    rows = {r.model: r for r in leaderboard([("a", "b", 1.0), ("a", "b", 0.5), ("b", "a", 1.0)], rounds=10)}
    assert (rows["a"].wins, rows["a"].losses, rows["a"].ties, rows["a"].battles) == (1, 1, 1, 3)


def test_bad_battles_are_refused():
    with pytest.raises(ValueError, match="two different models"):
        bradley_terry([("a", "a", 1.0)])
    with pytest.raises(ValueError, match="outcome"):
        bradley_terry([("a", "b", 0.7)])
    assert bradley_terry([]) == {} and leaderboard([]) == []
