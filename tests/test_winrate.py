"""Win rates with bootstrap intervals and the length-controlled rate, on synthetic outcomes with known answers."""

import numpy as np

from hitl.winrate import outcome_from_scores, win_rate


def test_known_rate_is_inside_a_tight_interval():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.7).astype(float)
    lengths = rng.integers(50, 150, size=2000)
    r = win_rate(y, lengths, lengths, bootstrap=300)
    assert abs(r.rate - 0.7) < 0.03 and r.low < 0.7 < r.high and r.high - r.low < 0.06
    assert r.significant and abs(r.length_controlled - r.rate) < 0.03


def test_length_controlled_rate_removes_a_pure_length_effect():
    """A wins exactly when its answer is longer; at equal length it is a coin flip."""
    rng = np.random.default_rng(1)
    n = 1500
    len_b = rng.integers(80, 120, size=n)
    longer = rng.random(n) < 0.8  # A is usually longer
    len_a = np.where(longer, len_b + rng.integers(20, 60, size=n), len_b - rng.integers(20, 60, size=n))
    p_win = 1 / (1 + np.exp(-(len_a - len_b) / 10))
    y = (rng.random(n) < p_win).astype(float)
    r = win_rate(y, len_a, len_b, bootstrap=200)
    assert r.rate > 0.7
    assert abs(r.length_controlled - 0.5) < 0.1 and r.lc_low < 0.5 < r.lc_high


def test_ties_and_empty_input():
    r = win_rate([0.5] * 10, [10] * 10, [10] * 10, bootstrap=50)
    assert r.rate == 0.5 and not r.significant
    assert np.isnan(win_rate([], [], []).rate)
    assert outcome_from_scores(2.0, 1.0) == 1.0
    assert outcome_from_scores(1.0, 2.0) == 0.0
    assert outcome_from_scores(1.0, 1.05, tie_tolerance=0.1) == 0.5
