"""Position bias, length bias and speed on synthetic raters with known habits."""

import math

import pytest
from quality_sim import Rater, row, simulate
from scipy.stats import binomtest

from hitl.quality import campaign_length_share, length_bias, position_bias, speed


@pytest.fixture(scope="module")
def sim():
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(3)}
    raters.update(first=Rater("first"), longer=Rater("longer"), spam=Rater("random"))
    return simulate(raters, n_items=200, seed=13)


def test_position_bias_flags_first_picker_only(sim):
    stats = position_bias(sim.rows)
    assert stats["first"].flagged
    assert stats["first"].share == 1.0
    assert stats["first"].p_value < 1e-20
    for name in ("h0", "h1", "h2", "longer", "spam"):
        assert not stats[name].flagged, (name, stats[name])
        assert 0.38 < stats[name].share < 0.62


def test_position_bias_counts_only_decisive_picks(sim):
    stats = position_bias(sim.rows)
    spam_decisive = sum(r.winner is not None for r in sim.rows_of("spam"))
    assert stats["spam"].n == spam_decisive < len(sim.rows_of("spam"))


def test_position_bias_p_value_and_min_n():
    # 9 of 10 decisive picks on the first-shown response; one tie is ignored.
    rows = [row(i, "a", 0, first_shown=0) for i in range(9)] + [row(9, "a", 0, first_shown=1)]
    rows.append(row(10, "a", None))
    stat = position_bias(rows)["a"]
    assert (stat.n, stat.share) == (10, 0.9)
    assert stat.p_value == pytest.approx(binomtest(9, 10, 0.5).pvalue)
    assert not stat.flagged  # p ~ 0.021 > 0.01
    assert position_bias(rows, alpha=0.05)["a"].flagged
    assert not position_bias(rows, alpha=0.05, min_n=11)["a"].flagged


def test_position_bias_is_two_sided():
    rows = [row(i, "a", 1, first_shown=0) for i in range(30)]  # always the second-shown response
    stat = position_bias(rows)["a"]
    assert stat.share == 0.0 and stat.flagged


def test_position_bias_k_way_chance():
    # Four responses: picking the first-shown one 1/4 of the time is exactly chance.
    rows = [row(i, "a", i % 4, score=0, first_shown=0) for i in range(400)]
    assert position_bias(rows, chance=0.25)["a"].p_value == pytest.approx(1.0)
    assert position_bias(rows)["a"].flagged  # against the pairwise 0.5 it looks biased
    with pytest.raises(ValueError, match="chance"):
        position_bias(rows, chance=1.0)


def test_rater_without_decisive_picks():
    stat = position_bias([row(1, "a", None), row(2, "a", None)])["a"]
    assert stat.n == 0 and math.isnan(stat.share) and math.isnan(stat.p_value) and not stat.flagged


def test_length_bias_flags_longer_picker_only(sim):
    stats = length_bias(sim.rows)
    assert stats["longer"].flagged and stats["longer"].share == 1.0
    for name in ("h0", "h1", "h2", "first", "spam"):
        assert not stats[name].flagged, (name, stats[name])


def test_length_bias_ignores_equal_lengths():
    rows = [row(1, "a", 0, longer=None), row(2, "a", 0, longer=0), row(3, "a", 1, longer=0)]
    stat = length_bias(rows)["a"]
    assert (stat.n, stat.share) == (2, 0.5)


def test_campaign_length_baseline():
    # Longer answers really are better 80% of the time: honest 90% raters pick the longer one
    # 0.9 * 0.8 + 0.1 * 0.2 = 74% of the time. Against 0.5 they all look biased; against the share of a reference
    # pool of honest raters only the always-longer rater does.
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(4)}
    raters["longer"] = Rater("longer")
    sim = simulate(raters, n_items=300, seed=17, longer_better=0.8)
    honest_only = [r for r in sim.rows if r.rater != "longer"]
    baseline = campaign_length_share(honest_only)
    assert baseline == pytest.approx(0.74, abs=0.04)
    # Pooled over everyone the always-longer rater pulls the baseline up (to ~0.79).
    assert campaign_length_share(sim.rows) > baseline
    naive = length_bias(sim.rows)
    assert all(naive[f"h{i}"].flagged for i in range(4))
    relative = length_bias(sim.rows, chance=baseline)
    assert relative["longer"].flagged
    assert not any(relative[f"h{i}"].flagged for i in range(4))


def test_campaign_length_share_undefined():
    assert math.isnan(campaign_length_share([]))
    assert math.isnan(campaign_length_share([row(1, "a", None, longer=0), row(2, "a", 1, longer=None)]))


def test_speed_flags_spammer_only(sim):
    stats = speed(sim.rows)
    assert stats["spam"].flagged
    assert stats["spam"].fast_share == 1.0
    assert stats["spam"].median_seconds < 3.0
    for name in ("h0", "h1", "h2", "first", "longer"):
        assert not stats[name].flagged
        assert stats[name].fast_share == 0.0
        assert 8.0 <= stats[name].median_seconds <= 40.0
        assert stats[name].n == 200


def test_speed_by_hand():
    secs = [1.0, 2.0, 2.5, 10.0, 20.0, None]
    rows = [row(i, "a", 0, seconds=s) for i, s in enumerate(secs)]
    stat = speed(rows)["a"]
    assert (stat.n, stat.median_seconds, stat.fast_share, stat.flagged) == (5, 2.5, 0.6, True)
    assert not speed(rows, too_fast_share=0.7)["a"].flagged
    assert not speed(rows, too_fast_seconds=2.0)["a"].flagged  # only 1.0 is strictly under 2 s
    assert not speed(rows, min_n=6)["a"].flagged


def test_speed_without_times():
    stat = speed([row(1, "a", 0)])["a"]
    assert stat.n == 0 and math.isnan(stat.median_seconds) and not stat.flagged
