"""Work stretches, fatigue buckets, the weighted slope and its trend test."""

import math

import pytest
from quality_sim import Rater, row, simulate

from hitl.quality import FatigueBucket, fatigue, fatigue_slope, fatigue_trend_p, stretch_positions


def test_stretch_positions_split_at_long_gaps():
    times = [0, 30, 60, 1000, 1010, 1700, 1710]  # gaps: 30, 30, 940 (break), 10, 690 (break), 10
    rows = [row(i, "a", 0, created_at=float(t)) for i, t in enumerate(reversed(times))]
    positions = [(r.created_at, pos) for r, pos in stretch_positions(rows)]
    assert positions == [(0, 0), (30, 1), (60, 2), (1000, 0), (1010, 1), (1700, 0), (1710, 1)]
    # A gap exactly at the limit is not a break.
    assert [p for _, p in stretch_positions(rows, break_gap_seconds=690)] == [0, 1, 2, 0, 1, 2, 3]
    assert [p for _, p in stretch_positions(rows, break_gap_seconds=940)] == [0, 1, 2, 3, 4, 5, 6]


def test_fatigue_buckets_by_hand():
    # One stretch of 25 judgments, 10 s apart; gold at positions 0, 5 (correct), 12 (correct), 15, 24 (wrong).
    gold = {0: True, 5: True, 12: True, 15: False, 24: False}
    rows = []
    for pos in range(25):
        if pos in gold:
            rows.append(row(pos, "a", 0 if gold[pos] else 1, created_at=10.0 * pos, gold_answer=0))
        else:
            rows.append(row(pos, "a", 1, created_at=10.0 * pos))
    buckets = fatigue(rows)["a"]
    assert buckets == [
        FatigueBucket(start=0, end=9, correct=2, total=2, rate=1.0),
        FatigueBucket(start=10, end=19, correct=1, total=2, rate=0.5),
        FatigueBucket(start=20, end=29, correct=0, total=1, rate=0.0),
    ]
    with pytest.raises(ValueError):
        fatigue(rows, bucket_size=0)


def test_fatigue_pools_stretches_and_skips_empty_buckets():
    # Two stretches (an hour apart), each with gold only at position 0 and 25.
    rows = []
    for s, base in enumerate((0.0, 3600.0)):
        for pos in range(30):
            gold = 0 if pos in (0, 25) else None
            winner = 0 if pos == 0 else 1
            rows.append(row(100 * s + pos, "a", winner, created_at=base + 5.0 * pos, gold_answer=gold))
    buckets = fatigue(rows)["a"]
    assert [(b.start, b.correct, b.total) for b in buckets] == [(0, 2, 2), (20, 0, 2)]
    # Bucket indices 0 and 2 (not 0 and 1): the drop of 1.0 is spread over two buckets.
    assert fatigue_slope(buckets) == pytest.approx(-0.5)


def test_fatigue_slope_by_hand():
    flat = [FatigueBucket(0, 9, 8, 10, 0.8), FatigueBucket(10, 19, 8, 10, 0.8)]
    assert fatigue_slope(flat) == pytest.approx(0.0)
    drop = [FatigueBucket(0, 9, 10, 10, 1.0), FatigueBucket(10, 19, 5, 10, 0.5)]
    assert fatigue_slope(drop) == pytest.approx(-0.5)
    # Weighted: x = 0, 1, 2 with weights 1, 1, 2 and rates 1, 1, 0. x-mean = 5/4, y-mean = 1/2;
    # Sxy = 1*(-5/4)(1/2) + 1*(-1/4)(1/2) + 2*(3/4)(-1/2) = -3/2; Sxx = 25/16 + 1/16 + 18/16 = 11/4 -> -6/11.
    weighted = [FatigueBucket(0, 9, 1, 1, 1.0), FatigueBucket(10, 19, 1, 1, 1.0), FatigueBucket(20, 29, 0, 2, 0.0)]
    assert fatigue_slope(weighted) == pytest.approx(-6 / 11)
    assert math.isnan(fatigue_slope([]))
    assert math.isnan(fatigue_slope(flat[:1]))


def test_fatigue_trend_p_direction():
    drop = [FatigueBucket(0, 9, 19, 20, 0.95), FatigueBucket(10, 19, 14, 20, 0.7), FatigueBucket(20, 29, 8, 20, 0.4)]
    rise = [FatigueBucket(b.start, b.end, b.total - b.correct, b.total, 1 - b.rate) for b in drop]
    assert fatigue_trend_p(drop) < 0.001
    assert fatigue_trend_p(rise) > 0.999
    perfect = [FatigueBucket(0, 9, 10, 10, 1.0), FatigueBucket(10, 19, 10, 10, 1.0)]
    assert fatigue_trend_p(perfect) == 1.0
    assert math.isnan(fatigue_trend_p(drop[:1]))


def test_fatigued_rater_has_negative_slope():
    raters = {f"h{i}": Rater("honest", 0.9) for i in range(3)}
    raters["tired"] = Rater("fatigued", p_correct=0.95, p_end=0.3, fatigue_len=40)
    sim = simulate(raters, n_items=400, gold_share=0.4, stretch_len=50, seed=4)
    result = fatigue(sim.rows)
    tired = result["tired"]
    assert [b.start for b in tired] == [0, 10, 20, 30, 40]
    assert tired[0].rate > 0.75 and tired[-1].rate < 0.5
    # True accuracy falls 0.65 over 4 buckets then flattens: a slope around -0.15 per bucket.
    assert fatigue_slope(tired) < -0.1
    assert fatigue_trend_p(tired) < 1e-4
    for name in ("h0", "h1", "h2"):
        assert abs(fatigue_slope(result[name])) < 0.05
        assert fatigue_trend_p(result[name]) > 0.01


def test_fatigue_rater_without_gold_and_empty():
    assert fatigue([row(1, "a", 0)]) == {"a": []}
    assert fatigue([]) == {}
