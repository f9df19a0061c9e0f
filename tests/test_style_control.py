"""hitl.style_control on synthetic battles with known answers: a pure length effect is absorbed by the length
coefficient (equal style-controlled ratings, the coefficient recovered), real strength survives the control."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hitl.ratings import bradley_terry
from hitl.style_control import (
    STYLE_FEATURES,
    fit_style,
    style_board,
    style_controlled_rate,
    style_counts,
    style_differences,
)


def _length_battles(n: int, gamma: float, seed: int, strengths: dict[str, float] | None = None):
    """Battles where model `verbose` writes longer answers than `terse`/`plain`; the winner is decided by the
    standardised normalised length difference (coefficient `gamma`) plus optional true log-strengths."""
    rng = np.random.default_rng(seed)
    names = ["plain", "terse", "verbose"]
    typical = {"plain": 400.0, "terse": 150.0, "verbose": 900.0}
    strengths = strengths or {}
    a, b, counts_a, counts_b = [], [], [], []
    for _ in range(n):
        x, y = rng.choice(names, size=2, replace=False)
        la, lb = (max(1.0, rng.normal(typical[m], typical[m] * 0.3)) for m in (x, y))
        a.append(str(x))
        b.append(str(y))
        counts_a.append([la, 0, 0, 0, 0])
        counts_b.append([lb, 0, 0, 0, 0])
    counts_a, counts_b = np.array(counts_a), np.array(counts_b)
    diff = style_differences(counts_a, counts_b)[:, 0]
    z = diff / diff.std()
    theta = np.array([strengths.get(x, 0.0) - strengths.get(y, 0.0) for x, y in zip(a, b, strict=True)])
    p = 1.0 / (1.0 + np.exp(-(theta + gamma * z)))
    outcomes = (rng.random(n) < p).astype(float).tolist()
    return a, b, outcomes, counts_a, counts_b


def test_wins_driven_only_by_length_give_equal_controlled_ratings_and_the_length_coefficient():
    a, b, outcomes, ca, cb = _length_battles(3000, gamma=1.2, seed=0)
    raw = bradley_terry(list(zip(a, b, outcomes, strict=True)))
    assert raw["verbose"] - raw["terse"] > 200  # the raw board rewards the long writer

    board = style_board(a, b, outcomes, ca, cb, rounds=200, seed=1)
    rows = {r.model: r for r in board.ratings}
    # Equal within their intervals: every model's interval holds every other model's rating.
    for r in rows.values():
        for other in rows.values():
            assert r.low <= other.rating <= r.high, (r, other)
    assert max(r.rating for r in rows.values()) - min(r.rating for r in rows.values()) < 40
    length = next(c for c in board.coefficients if c.feature == "length")
    assert length.coefficient == pytest.approx(1.2, abs=0.15)
    assert length.low < 1.2 < length.high and length.n == 3000
    assert length.elo == pytest.approx(length.coefficient * 400 / math.log(10))
    # Markdown never varies here: those features are reported as not fitted rather than as zero.
    assert board.skipped == ["lists", "headers", "bold", "code_blocks"]


def test_real_strength_survives_the_control():
    # `terse` is truly better (log-strength +0.8 = 139 Elo points over the others), and judges also like length.
    a, b, outcomes, ca, cb = _length_battles(4000, gamma=0.8, seed=2, strengths={"terse": 0.8})
    fit = fit_style(a, b, outcomes, style_differences(ca, cb))
    ratings = fit.ratings()
    gap = ratings["terse"] - (ratings["plain"] + ratings["verbose"]) / 2
    assert gap == pytest.approx(0.8 * 400 / math.log(10), abs=30)
    assert fit.gamma[0] == pytest.approx(0.8, abs=0.12)


def test_without_style_variation_it_is_plain_bradley_terry():
    rng = np.random.default_rng(3)
    names = ["x", "y", "z"]
    true = {"x": 0.6, "y": 0.0, "z": -0.6}
    a, b, outcomes = [], [], []
    for _ in range(2000):
        m, o = rng.choice(names, size=2, replace=False)
        a.append(str(m))
        b.append(str(o))
        outcomes.append(float(rng.random() < 1 / (1 + math.exp(-(true[m] - true[o])))))
    same = np.ones((2000, len(STYLE_FEATURES)))
    board = style_board(a, b, outcomes, same, same, rounds=50)
    assert board.coefficients == [] and board.skipped == list(STYLE_FEATURES)
    raw = bradley_terry(list(zip(a, b, outcomes, strict=True)), prior=0)
    for r in board.ratings:
        assert r.rating == pytest.approx(raw[r.model], abs=3)


def test_one_model_always_winning_stays_finite():
    a, b = ["champ"] * 30, ["chump"] * 30
    counts = np.array([[100, 0, 0, 0, 0]] * 30)
    board = style_board(a, b, [1.0] * 30, counts * 2, counts, rounds=50)
    for r in board.ratings:
        assert all(math.isfinite(v) for v in (r.rating, r.low, r.high))
    assert board.ratings[0].model == "champ"


def test_style_counts_read_markdown_outside_code():
    text = "# Title\n\nSome **bold** and __more__.\n\n- one\n- two\n1. three\n\n```python\n# not a header\n- no\n```\n"
    length, lists, headers, bold, code = style_counts(text)
    assert (lists, headers, bold, code) == (3, 1, 2, 1) and length == len(text)
    assert style_counts("") == (0, 0, 0, 0, 0)
    assert style_counts("```\nunclosed")[4] == 1


def test_style_differences_are_normalised():
    d = style_differences(np.array([[300, 0, 2, 0, 0]]), np.array([[100, 0, 0, 0, 0]]))
    assert d.tolist() == [[0.5, 0.0, 1.0, 0.0, 0.0]]


def test_style_controlled_rate_of_a_length_only_policy_is_a_coin_flip():
    """A wins exactly by being longer: raw rate high, style-controlled rate near one half."""
    rng = np.random.default_rng(4)
    n = 600
    len_b = rng.integers(200, 400, size=n)
    longer = rng.random(n) < 0.8
    len_a = np.where(longer, len_b * 2, len_b // 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-2.0 * np.sign(len_a - len_b)))).astype(float)
    r = style_controlled_rate(y.tolist(), ["w" * k for k in len_a], ["w" * k for k in len_b], bootstrap=200)
    assert y.mean() > 0.65
    assert r.low < 0.5 < r.high and abs(r.rate - 0.5) < 0.1 and r.n == n
    assert r.coefficients[0].feature == "length" and r.coefficients[0].coefficient > 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two different models"):
        fit_style(["a"], ["a"], [1.0], np.zeros((1, 5)))
    with pytest.raises(ValueError, match="outcome"):
        fit_style(["a"], ["b"], [0.7], np.zeros((1, 5)))
    assert math.isnan(style_controlled_rate([], [], []).rate)


def test_a_large_draw_serves_every_smaller_request():
    a, b, outcomes, ca, cb = _length_battles(300, gamma=1.0, seed=5)
    big = style_board(a, b, outcomes, ca, cb, rounds=120, seed=7).at(40)
    small = style_board(a, b, outcomes, ca, cb, rounds=40, seed=7)
    assert np.allclose(big.samples, small.samples) and len(big.samples) == 40
    assert [(r.model, round(r.low, 6), round(r.high, 6)) for r in big.ratings] == [
        (r.model, round(r.low, 6), round(r.high, 6)) for r in small.ratings
    ]


def test_a_feature_decided_by_the_pairing_is_flagged_as_confounded():
    a, b = ["long", "short"] * 50, ["short", "long"] * 50
    counts_long, counts_short = np.array([[900, 0, 0, 0, 0]] * 100), np.array([[100, 0, 0, 0, 0]] * 100)
    ca = np.where(np.array(a)[:, None] == "long", counts_long, counts_short)
    cb = np.where(np.array(b)[:, None] == "long", counts_long, counts_short)
    board = style_board(a, b, [1.0, 0.0] * 50, ca, cb, rounds=20)
    assert board.confounded == ["length"] and board.at(10).confounded == ["length"]
    mixed, _, outcomes, ma, mb = _length_battles(500, gamma=1.0, seed=6)
    assert style_board(mixed, _, outcomes, ma, mb, rounds=10).confounded == []
