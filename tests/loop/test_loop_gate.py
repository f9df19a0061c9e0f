"""The reward gate's interval rule on known counts."""

import math

import pytest

from hitl.loop.gate import judgments_for_pairs, reward_gate


def test_a_handful_of_perfect_pairs_does_not_pass_a_real_bar():
    assert not reward_gate(1.0, 4, 0.5, 30).passed  # 4 of 4: too few pairs, whatever the rate
    verdict = reward_gate(1.0, 4, 0.5, 1)
    assert verdict.passed and verdict.low == pytest.approx(0.510, abs=1e-3)  # Wilson: just above one half


def test_the_lower_bound_decides_not_the_point_estimate():
    assert not reward_gate(0.57, 63, 0.5, 30).passed  # 36 of 63: the interval holds 0.5
    passed = reward_gate(0.65, 200, 0.5, 30)
    assert passed.passed and passed.low > 0.58 and passed.message == ""


def test_no_pairs_or_no_accuracy_says_what_is_missing():
    for accuracy, pairs in ((None, 0), (math.nan, None), (0.9, 0)):
        verdict = reward_gate(accuracy, pairs, 0.5, 30)
        assert not verdict.passed and "no decisive held-out pairs" in verdict.message and "30" in verdict.message
    # Pairs but no accuracy: too few for the folds to be trained; the count, and the judgments it needs.
    for accuracy in (None, math.nan):
        verdict = reward_gate(accuracy, 10, 0.5, 30, judgments=300)
        assert not verdict.passed and verdict.pairs == 10
        assert "has 10 decisive pairs to hold out and the gate needs 30" in verdict.message
        assert "about 600 more at the rate so far" in verdict.message
    assert not reward_gate(None, 40, 0.5, 30).passed  # enough pairs, but nothing measured: never a pass


def test_too_few_decisive_pairs_says_how_many_more_judgments_they_need():
    # 5 decisive held-out pairs from 512 judgments: 25 more pairs at ~102 judgments each.
    assert judgments_for_pairs(5, 30, 512) == 2560
    assert judgments_for_pairs(30, 30, 512) == 0 and judgments_for_pairs(0, 30, 512) is None
    verdict = reward_gate(0.8, 5, 0.5, 30, judgments=512)
    assert not verdict.passed and "about 2560 more at the rate so far" in verdict.message
    assert "more at the rate" not in reward_gate(0.8, 5, 0.5, 30).message  # no count given: no estimate
