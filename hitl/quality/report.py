"""One quality record per rater, combining every metric with human-readable reasons to look at the rater, plus a
campaign-level summary.

The thresholds live in :class:`Thresholds`; :func:`rater_report` accepts any of its fields as keyword overrides.
A rater is only flagged on evidence: each check needs a minimum sample before it can produce an issue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from hitl.quality.agreement import alpha_from_rows
from hitl.quality.bias import BiasStat, campaign_length_share, length_bias, position_bias
from hitl.quality.consensus import loo_agreement
from hitl.quality.dawid_skene import dawid_skene
from hitl.quality.fatigue import fatigue, fatigue_slope, fatigue_trend_p
from hitl.quality.gold import gold_accuracy
from hitl.quality.kappa import fleiss_from_rows
from hitl.quality.rows import JudgmentRow, by_rater
from hitl.quality.speed import SpeedStat, speed
from hitl.quality.stats import RateStat


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs for :func:`rater_report`; every field can be overridden by keyword."""

    bias_alpha: float = 0.01  # significance level of the position/length binomial tests
    bias_min_n: int = 10  # decisive picks needed before a bias can be flagged
    length_chance: float = 0.5  # null share for length bias; pass campaign_length_share(rows) to use the campaign's
    too_fast_seconds: float = 3.0
    too_fast_share: float = 0.5
    speed_min_n: int = 5
    min_gold_accuracy: float = 0.6
    gold_min_n: int = 5
    min_loo_agreement: float = 0.5
    loo_min_n: int = 10
    break_gap_seconds: float = 600.0
    bucket_size: int = 10
    max_fatigue_drop: float = 0.05  # flag when accuracy falls faster than this per bucket ...
    fatigue_alpha: float = 0.01  # ... and the one-sided trend test is significant at this level
    fatigue_min_gold: int = 30  # gold judgments across buckets needed before a slope means anything
    min_competence: float = 0.5
    competence_min_n: int = 10  # labels a rater must have given before DS competence is trusted


@dataclass(frozen=True)
class RaterQuality:
    """Every quality metric for one rater, and the reasons (if any) to review their work."""

    rater: str
    n_judgments: int
    gold: RateStat
    loo_agreement: RateStat
    position: BiasStat
    length: BiasStat
    speed: SpeedStat
    fatigue_slope: float
    fatigue_p: float  # one-sided p-value of the fall in gold accuracy within work stretches
    competence: float
    flagged_share: float  # share of the rater's judgments that carry any flag
    issues: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        """Whether any issue was found."""
        return bool(self.issues)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _issues(q: RaterQuality, t: Thresholds, n_gold_fatigue: int, n_labels: int) -> tuple[str, ...]:
    out = []
    if q.gold.total >= t.gold_min_n and q.gold.rate < t.min_gold_accuracy:
        out.append(
            f"gold accuracy {_pct(q.gold.rate)} < {_pct(t.min_gold_accuracy)} ({q.gold.correct}/{q.gold.total})"
        )
    if q.loo_agreement.total >= t.loo_min_n and q.loo_agreement.rate < t.min_loo_agreement:
        out.append(
            f"majority agreement {_pct(q.loo_agreement.rate)} < {_pct(t.min_loo_agreement)} "
            f"({q.loo_agreement.correct}/{q.loo_agreement.total})"
        )
    if q.position.flagged:
        out.append(f"position bias: {_pct(q.position.share)} first-shown (p={q.position.p_value:.1g})")
    if q.length.flagged:
        out.append(f"length bias: {_pct(q.length.share)} longer (p={q.length.p_value:.1g})")
    if q.speed.flagged:
        out.append(f"too fast: {_pct(q.speed.fast_share)} under {t.too_fast_seconds:g} s")
    if (
        n_gold_fatigue >= t.fatigue_min_gold
        and q.fatigue_slope < -t.max_fatigue_drop
        and q.fatigue_p < t.fatigue_alpha
    ):
        out.append(f"fatigue: gold accuracy falls {-q.fatigue_slope * 100:.0f} points per {t.bucket_size} judgments")
    if n_labels >= t.competence_min_n and q.competence < t.min_competence:
        out.append(f"low competence: {q.competence:.2f} < {t.min_competence:.2f}")
    return tuple(out)


def make_thresholds(**overrides: Any) -> Thresholds:
    """Default :class:`Thresholds` with keyword overrides; unknown names raise TypeError naming the valid ones."""
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown threshold(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    return replace(Thresholds(), **overrides)


def rater_report(rows: Iterable[JudgmentRow], **thresholds: Any) -> list[RaterQuality]:
    """One :class:`RaterQuality` per rater (sorted by rater), with ``issues`` explaining any flag.

    Keyword arguments override fields of :class:`Thresholds`. Metrics that cannot be computed for a rater are nan
    and never produce an issue.
    """
    t = make_thresholds(**thresholds)
    rows = list(rows)
    if not rows:
        return []
    gold = gold_accuracy(rows)
    loo = loo_agreement(rows)
    pos = position_bias(rows, alpha=t.bias_alpha, min_n=t.bias_min_n)
    length = length_bias(rows, alpha=t.bias_alpha, min_n=t.bias_min_n, chance=t.length_chance)
    spd = speed(rows, too_fast_seconds=t.too_fast_seconds, too_fast_share=t.too_fast_share, min_n=t.speed_min_n)
    fat = fatigue(rows, break_gap_seconds=t.break_gap_seconds, bucket_size=t.bucket_size)
    ds = dawid_skene(rows)

    out = []
    for rater, own in sorted(by_rater(rows).items()):
        q = RaterQuality(
            rater=rater,
            n_judgments=len(own),
            gold=gold[rater],
            loo_agreement=loo[rater],
            position=pos[rater],
            length=length[rater],
            speed=spd[rater],
            fatigue_slope=fatigue_slope(fat[rater]),
            fatigue_p=fatigue_trend_p(fat[rater]),
            competence=ds.competence.get(rater, math.nan),
            flagged_share=sum(bool(r.flags) for r in own) / len(own),
            issues=(),
        )
        n_gold_fatigue = sum(b.total for b in fat[rater])
        n_items = len({r.item_id for r in own})  # DS sees one label per (item, rater)
        out.append(replace(q, issues=_issues(q, t, n_gold_fatigue, n_items)))
    return out


def campaign_summary(rows: Iterable[JudgmentRow]) -> dict[str, float | int]:
    """Headline numbers for a campaign: sizes, ordinal and nominal alpha, Fleiss' kappa and the length share.

    Undefined statistics are nan (e.g. with a single rater), never an exception.
    """
    rows = list(rows)
    return {
        "n_judgments": len(rows),
        "n_items": len({r.item_id for r in rows}),
        "n_raters": len({r.rater for r in rows}),
        "alpha_ordinal": alpha_from_rows(rows, "ordinal"),
        "alpha_nominal": alpha_from_rows(rows, "nominal"),
        "fleiss_kappa": fleiss_from_rows(rows),
        "length_share": campaign_length_share(rows),
    }
