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


def test_grouped_bootstrap_is_wider_when_comparisons_within_a_prompt_agree():
    from hitl.winrate import win_rate

    # 40 prompts x 3 samples; all samples of a prompt have the same outcome: really 40 observations, not 120.
    outcomes = [float(p % 5 < 3) for p in range(40) for _ in range(3)]
    groups = [p for p in range(40) for _ in range(3)]
    lengths = [10] * 120
    flat = win_rate(outcomes, lengths, lengths, bootstrap=400)
    grouped = win_rate(outcomes, lengths, lengths, bootstrap=400, groups=groups)
    assert flat.rate == grouped.rate == 0.6 and grouped.n == 120
    assert (grouped.high - grouped.low) > 1.4 * (flat.high - flat.low)
