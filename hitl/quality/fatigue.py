"""Fatigue: accuracy as a function of how far into an uninterrupted work stretch a judgment was made.

    python -m pytest -q tests/quality/test_quality_fatigue.py

Each rater's judgments, sorted by time, are cut into stretches wherever the gap between two consecutive judgments
exceeds ``break_gap_seconds``. Every judgment gets its position within its stretch (0, 1, 2, ...), gold or not,
because tiredness builds with all the work done, not only with gold items. Checked judgments (gold ones, and with a
``reference`` the regular ones whose consensus is known) are then pooled over all stretches by position bucket,
and a weighted least-squares slope of accuracy against bucket index summarises the trend: clearly negative means
the rater gets worse the longer they work without a break.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from hitl.quality.gold import is_correct, is_gold
from hitl.quality.rows import JudgmentRow, by_rater


@dataclass(frozen=True)
class FatigueBucket:
    """Gold results for stretch positions ``start..end`` (inclusive), pooled over all of a rater's stretches."""

    start: int
    end: int
    correct: int
    total: int
    rate: float


def stretch_positions(rows: Sequence[JudgmentRow], break_gap_seconds: float = 600.0) -> list[tuple[JudgmentRow, int]]:
    """One rater's rows sorted by ``created_at``, each with its 0-based position within its work stretch."""
    ordered = sorted(rows, key=lambda r: r.created_at)
    out: list[tuple[JudgmentRow, int]] = []
    pos = 0
    for i, r in enumerate(ordered):
        if i and r.created_at - ordered[i - 1].created_at > break_gap_seconds:
            pos = 0
        out.append((r, pos))
        pos += 1
    return out


def fatigue(
    rows: Iterable[JudgmentRow],
    break_gap_seconds: float = 600.0,
    bucket_size: int = 10,
    reference: Mapping[tuple[int, str], int] | None = None,
) -> dict[str, list[FatigueBucket]]:
    """Accuracy per position bucket (positions 0..bucket_size-1, then the next bucket_size, ...) per rater.

    Gold judgments are checked against their gold answer. With ``reference`` ((item, rater) -> the canonical index
    the others' consensus prefers, e.g. hitl.quality.crowd_bias.consensus_for_rater) a regular judgment is checked
    against it too: three times the evidence of gold alone at a gold rate of 0.3. Only buckets holding at least one
    checked judgment are listed, in order of position; a rater without any gets an empty list. Every rater in
    ``rows`` gets an entry.
    """
    if bucket_size < 1:
        raise ValueError(f"bucket_size must be >= 1, got {bucket_size}")
    out: dict[str, list[FatigueBucket]] = {}
    for rater, own in by_rater(rows).items():
        correct: dict[int, int] = {}
        total: dict[int, int] = {}
        for r, pos in stretch_positions(own, break_gap_seconds):
            if is_gold(r):
                right = is_correct(r)
            elif reference is not None and (r.item_id, rater) in reference:
                right = r.winner == reference[(r.item_id, rater)]
            else:
                continue
            b = pos // bucket_size
            total[b] = total.get(b, 0) + 1
            correct[b] = correct.get(b, 0) + right
        out[rater] = [
            FatigueBucket(
                start=b * bucket_size,
                end=(b + 1) * bucket_size - 1,
                correct=correct[b],
                total=total[b],
                rate=correct[b] / total[b],
            )
            for b in sorted(total)
        ]
    return out


def fatigue_slope(buckets: Sequence[FatigueBucket]) -> float:
    """Least-squares slope of accuracy per bucket index, each bucket weighted by its number of gold judgments.

    The unit is "change in accuracy per bucket" (e.g. -0.05 = five points worse every ``bucket_size`` judgments).
    The bucket index comes from ``start`` and the bucket width, so a missing bucket leaves a gap rather than
    shifting later buckets. nan with fewer than two non-empty buckets.
    """
    used = [b for b in buckets if b.total > 0]
    if len(used) < 2:
        return math.nan
    x = np.array([b.start // (b.end - b.start + 1) for b in used], dtype=float)
    y = np.array([b.correct / b.total for b in used], dtype=float)
    w = np.array([b.total for b in used], dtype=float)
    xm = (w * x).sum() / w.sum()
    ym = (w * y).sum() / w.sum()
    sxx = (w * (x - xm) ** 2).sum()
    if sxx <= 0.0:
        return math.nan
    return float((w * (x - xm) * (y - ym)).sum() / sxx)


def fatigue_trend_p(buckets: Sequence[FatigueBucket]) -> float:
    """One-sided p-value that gold accuracy *falls* with position (a Cochran-Armitage trend test on the buckets).

    Under "no trend" every gold judgment is correct with the pooled rate p, so the weighted slope of
    :func:`fatigue_slope` has variance p(1-p) / sum_i n_i (x_i - mean x)^2. A small p-value says the drop is more
    than bucket-to-bucket noise; pair it with a minimum slope so a tiny but significant drop is not flagged.
    nan when the slope is undefined; 1.0 when the pooled rate is 0 or 1 (no variation, so no evidence of a drop).
    """
    slope = fatigue_slope(buckets)
    if math.isnan(slope):
        return math.nan
    used = [b for b in buckets if b.total > 0]
    x = np.array([b.start // (b.end - b.start + 1) for b in used], dtype=float)
    n = np.array([b.total for b in used], dtype=float)
    pooled = sum(b.correct for b in used) / n.sum()
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0
    xm = (n * x).sum() / n.sum()
    sxx = (n * (x - xm) ** 2).sum()
    z = slope / math.sqrt(pooled * (1.0 - pooled) / sxx)
    return float(norm.cdf(z))
