"""Krippendorff's alpha against published and hand-computed values, and on synthetic raters."""

import math

import numpy as np
import pytest
from quality_sim import Rater, row, simulate

from hitl.quality import alpha_from_rows, krippendorff_alpha

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers x 12 units with missing values.
# Published: nominal 0.743, ordinal 0.815, interval 0.849. Unit 12 has a single value and is not pairable.
CLASSIC = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
CLASSIC_UNITS = {u: [CLASSIC[c][u] for c in "ABCD"] for u in range(12)}


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_classic_reliability_data(level, expected):
    assert krippendorff_alpha(CLASSIC_UNITS, level) == pytest.approx(expected, abs=5e-4)


def test_binary_two_coders_by_hand():
    # Krippendorff's binary example: o_00 = 10, o_01 = o_10 = 4, o_11 = 2; n_0 = 14, n_1 = 6, n = 20.
    # alpha = 1 - (n - 1) * o_01 / (n_0 * n_1) = 1 - 19 * 4 / 84 = 2 / 21. With two values every metric is constant,
    # so the three levels agree.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    units = {i: [x, y] for i, (x, y) in enumerate(zip(a, b, strict=True))}
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(units, level) == pytest.approx(2 / 21)


def test_levels_differ_by_hand():
    # Units [1,1] [1,2] [2,2] [3,3] [3,3]: o_11 = 2, o_12 = o_21 = 1, o_22 = 2, o_33 = 4; n = (3, 3, 4), total 10.
    # Ordinal d2: (1,2) = ((3+3)/2)^2 = 9, (2,3) = ((3+4)/2)^2 = 12.25, (1,3) = (10 - (3+4)/2)^2 = 42.25.
    #   observed sum = 2 * 9 = 18; expected sum = 2 * (9*9 + 12*12.25 + 12*42.25) = 1470 -> 1 - 9 * 18 / 1470.
    # Interval d2 = 1, 1, 4: observed 2, expected 2 * (9 + 12 + 48) = 138 -> 1 - 9 * 2 / 138.
    # Nominal: observed 2, expected 2 * (9 + 12 + 12) = 66 -> 1 - 9 * 2 / 66.
    units = {"u1": [1, 1], "u2": [1, 2], "u3": [2, 2], "u4": [3, 3], "u5": [3, 3]}
    assert krippendorff_alpha(units, "ordinal") == pytest.approx(1 - 162 / 1470)
    assert krippendorff_alpha(units, "interval") == pytest.approx(1 - 18 / 138)
    assert krippendorff_alpha(units, "nominal") == pytest.approx(1 - 18 / 66)


def test_unpairable_units_and_missing_values_are_ignored():
    units = {"u1": [1, 1], "u2": [1, 2], "u3": [2, 2], "u4": [3, 3], "u5": [3, 3]}
    noisy = dict(units, u6=[2], u7=[], u8=[None, 3.0, float("nan")], u1=[1, None, 1])
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(noisy, level) == pytest.approx(krippendorff_alpha(units, level))


def test_perfect_agreement_is_one():
    units = {i: [i % 5] * 3 for i in range(20)}
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(units, level) == pytest.approx(1.0)


def test_undefined_cases_are_nan():
    assert math.isnan(krippendorff_alpha({}))
    assert math.isnan(krippendorff_alpha({"a": [1], "b": [2]}))  # nothing pairable
    assert math.isnan(krippendorff_alpha({"a": [2, 2], "b": [2, 2, 2]}))  # no variation


def test_unknown_level_raises():
    with pytest.raises(ValueError, match="unknown level"):
        krippendorff_alpha({"a": [1, 2]}, "ratio")
    with pytest.raises(ValueError, match="unknown level"):
        alpha_from_rows([], "ratio")


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_random_coders_near_zero(level):
    rng = np.random.default_rng(7)
    units = {i: rng.integers(1, 8, size=3).tolist() for i in range(600)}
    assert abs(krippendorff_alpha(units, level)) < 0.05


def test_alpha_from_rows_perfect_raters():
    raters = {f"h{i}": Rater("honest", p_correct=1.0, exact=True) for i in range(4)}
    sim = simulate(raters, n_items=60, seed=1)
    assert alpha_from_rows(sim.rows, "ordinal") == pytest.approx(1.0)
    assert alpha_from_rows(sim.rows, "nominal") == pytest.approx(1.0)
    assert alpha_from_rows(sim.rows, "interval") == pytest.approx(1.0)


def test_alpha_from_rows_random_raters_near_zero():
    raters = {f"s{i}": Rater("random") for i in range(4)}
    sim = simulate(raters, n_items=400, seed=2)
    assert abs(alpha_from_rows(sim.rows, "ordinal")) < 0.05
    assert abs(alpha_from_rows(sim.rows, "nominal")) < 0.05


def test_alpha_from_rows_orders_rater_pools():
    good = simulate({f"h{i}": Rater("honest", 0.95) for i in range(4)}, n_items=200, seed=3)
    mixed = simulate({"h0": Rater("honest", 0.95), "h1": Rater("honest", 0.95), "s0": Rater("random")}, seed=3)
    a_good = alpha_from_rows(good.rows)
    a_mixed = alpha_from_rows(mixed.rows)
    assert 0.6 < a_good < 1.0
    assert a_mixed < a_good - 0.2


def test_alpha_from_rows_uses_latest_judgment():
    # Rater b first disagreed, then corrected to agree: only the correction counts.
    rows = [
        row(1, "a", 0, score=2),
        row(1, "b", 1, score=-2, created_at=1.0),
        row(1, "b", 0, score=2, created_at=2.0),
        row(2, "a", 1, score=-1),
        row(2, "b", 1, score=-1),
    ]
    assert alpha_from_rows(rows, "ordinal") == pytest.approx(1.0)


def test_alpha_from_rows_k_way_needs_nominal():
    rows = [row(i, r, i % 4, score=0, first_shown=3) for i in range(10) for r in ("a", "b")]
    assert math.isnan(alpha_from_rows(rows, "ordinal"))  # every K-way score is 0: no variation
    assert alpha_from_rows(rows, "nominal") == pytest.approx(1.0)
