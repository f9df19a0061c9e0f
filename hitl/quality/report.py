"""One quality record per rater, combining every metric with human-readable reasons to look at the rater, plus a
campaign-level summary.

    hitl stats --campaign calibration      # the calibration demo's scripted raters, flagged and why

The thresholds live in :class:`Thresholds`; :func:`rater_report` accepts any of its fields as keyword overrides.
A rater is only flagged on evidence. The tests (position and length against the crowd, gold accuracy and majority
agreement below their minimum, the fall of gold accuracy within work stretches) form one family per campaign,
corrected together by Benjamini-Hochberg (hitl.quality.multiple): with every rater honest, a campaign shows any
flag at all with probability at most ``fdr``. Tests too small to ever reach the bar are left out of the family
first (Tarone's rule), so they do not raise it for the others. Speed and Dawid-Skene competence are rules on a
minimum sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from scipy.stats import binomtest

from hitl.quality.agreement import alpha_from_rows
from hitl.quality.bias import campaign_length_share
from hitl.quality.consensus import loo_agreement
from hitl.quality.crowd_bias import CrowdBias, crowd_consensus, length_vs_crowd, position_vs_crowd
from hitl.quality.dawid_skene import dawid_skene
from hitl.quality.fatigue import fatigue, fatigue_slope, fatigue_trend_p
from hitl.quality.gold import gold_accuracy
from hitl.quality.kappa import fleiss_from_rows
from hitl.quality.multiple import discrete_bh_adjust
from hitl.quality.rows import JudgmentRow, by_rater
from hitl.quality.speed import SpeedStat, speed
from hitl.quality.stats import RateStat, rate_stat

# The tests of the campaign's family, in the order issues are listed.
TESTS = ("gold", "agreement", "position", "length", "fatigue")


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs for :func:`rater_report`; every field can be overridden by keyword."""

    fdr: float = 0.05  # false discovery rate of the campaign's family of tests (Benjamini-Hochberg)
    bias_min_n: int = 10  # decisive picks compared with the crowd needed before a bias can be flagged
    too_fast_seconds: float = 3.0
    too_fast_share: float = 0.5
    speed_min_n: int = 5
    min_gold_accuracy: float = 0.6
    gold_min_n: int = 5
    min_loo_agreement: float = 0.5
    loo_min_n: int = 10
    break_gap_seconds: float = 600.0
    bucket_size: int = 10
    max_fatigue_drop: float = 0.05  # flag when accuracy falls faster than this per bucket and the trend test says so
    fatigue_min_n: int = 30  # checked judgments (gold, or with a consensus) before a slope means anything
    min_competence: float = 0.5
    competence_min_n: int = 10  # labels a rater must have given before DS competence is trusted


@dataclass(frozen=True)
class RaterQuality:
    """Every quality metric for one rater, and the reasons (if any) to review their work."""

    rater: str
    n_judgments: int
    gold: RateStat
    loo_agreement: RateStat
    position: CrowdBias  # first-shown picks against the crowd's on the same items
    length: CrowdBias  # longer picks against the crowd's
    speed: SpeedStat
    fatigue_slope: float
    fatigue_p: float  # one-sided p-value of the fall in gold accuracy within work stretches
    competence: float
    flagged_share: float  # share of the rater's judgments that carry any flag
    issues: tuple[str, ...]
    # Per test of TESTS that ran: the Benjamini-Hochberg adjusted p-value across the campaign's raters and tests.
    q_values: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """Whether any issue was found."""
        return bool(self.issues)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _found(q: RaterQuality, test: str, t: Thresholds) -> bool:
    value = q.q_values.get(test, math.nan)
    return not math.isnan(value) and value <= t.fdr


def _issues(q: RaterQuality, t: Thresholds, n_labels: int) -> tuple[str, ...]:
    out = []
    qv = q.q_values
    if _found(q, "gold", t):
        out.append(
            f"gold accuracy {_pct(q.gold.rate)} < {_pct(t.min_gold_accuracy)} ({q.gold.correct}/{q.gold.total}, "
            f"q={qv['gold']:.1g})"
        )
    if _found(q, "agreement", t):
        out.append(
            f"majority agreement {_pct(q.loo_agreement.rate)} < {_pct(t.min_loo_agreement)} "
            f"({q.loo_agreement.correct}/{q.loo_agreement.total}, q={qv['agreement']:.1g})"
        )
    if _found(q, "position", t):
        out.append(
            f"position bias: {_pct(q.position.share)} first-shown where an honest rater would pick "
            f"{_pct(q.position.expected)} (n={q.position.n}, q={qv['position']:.1g})"
        )
    if _found(q, "length", t):
        out.append(
            f"length bias: {_pct(q.length.share)} longer where an honest rater would pick {_pct(q.length.expected)} "
            f"(n={q.length.n}, q={qv['length']:.1g})"
        )
    if q.speed.flagged:
        out.append(f"too fast: {_pct(q.speed.fast_share)} under {t.too_fast_seconds:g} s")
    if _found(q, "fatigue", t) and q.fatigue_slope < -t.max_fatigue_drop:
        out.append(
            f"fatigue: accuracy falls {-q.fatigue_slope * 100:.0f} points per {t.bucket_size} judgments "
            f"(q={qv['fatigue']:.1g})"
        )
    if n_labels >= t.competence_min_n and q.competence < t.min_competence:
        out.append(f"low competence: {q.competence:.2f} < {t.min_competence:.2f}")
    return tuple(out)


def _below(stat: RateStat, minimum: float, min_n: int) -> float:
    """One-sided binomial p-value that the true rate is below ``minimum``; nan under ``min_n`` trials."""
    if stat.total < min_n or stat.total == 0:
        return math.nan
    return float(binomtest(stat.correct, stat.total, minimum, alternative="less").pvalue)


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
    and never produce an issue; a test below its minimum sample is left out of the family.
    """
    t = make_thresholds(**thresholds)
    rows = list(rows)
    if not rows:
        return []
    gold = gold_accuracy(rows)
    loo = loo_agreement(rows)
    ds = dawid_skene(rows)
    consensus = crowd_consensus(rows, ds)
    pos = position_vs_crowd(rows, consensus)
    length = length_vs_crowd(rows, consensus, ds)
    spd = speed(rows, too_fast_seconds=t.too_fast_seconds, too_fast_share=t.too_fast_share, min_n=t.speed_min_n)
    # Fatigue checks regular judgments against a clear consensus of the others, as well as gold ones.
    reference = consensus.best(0.6)
    fat = fatigue(rows, break_gap_seconds=t.break_gap_seconds, bucket_size=t.bucket_size, reference=reference)

    grouped = sorted(by_rater(rows).items())
    p_values: dict[tuple[str, str], float] = {}
    min_p: dict[tuple[str, str], float] = {}  # the smallest p-value each discrete test could reach (Tarone)
    for rater, _ in grouped:
        for name, stat, minimum, min_n in (
            ("gold", gold[rater], t.min_gold_accuracy, t.gold_min_n),
            ("agreement", loo[rater], t.min_loo_agreement, t.loo_min_n),
        ):
            p_values[(rater, name)] = _below(stat, minimum, min_n)
            min_p[(rater, name)] = (1.0 - minimum) ** stat.total
        for name, bias in (("position", pos[rater]), ("length", length[rater])):
            p_values[(rater, name)] = bias.p_value if bias.n >= t.bias_min_n else math.nan
            min_p[(rater, name)] = bias.min_p
        n_checked = sum(b.total for b in fat[rater])
        p_values[(rater, "fatigue")] = fatigue_trend_p(fat[rater]) if n_checked >= t.fatigue_min_n else math.nan
    adjusted = discrete_bh_adjust(p_values, min_p, t.fdr)

    out = []
    for rater, own in grouped:
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
            q_values={name: adjusted[(rater, name)] for name in TESTS if not math.isnan(adjusted[(rater, name)])},
        )
        n_items = len({r.item_id for r in own})  # DS sees one label per (item, rater)
        out.append(replace(q, issues=_issues(q, t, n_items)))
    return out


def campaign_summary(rows: Iterable[JudgmentRow]) -> dict[str, float | int]:
    """Headline numbers for a campaign: sizes, ordinal and nominal alpha, Fleiss' kappa, and the crowd's share of
    decisive picks that went to the longer response with its n and 95% interval (a campaign-level figure: the
    campaign's taste, not anyone's bias).

    Undefined statistics are nan (e.g. with a single rater), never an exception.
    """
    rows = list(rows)
    decisive = [r for r in rows if r.winner is not None and r.longer is not None]
    longer = rate_stat(sum(r.winner == r.longer for r in decisive), len(decisive))
    return {
        "n_judgments": len(rows),
        "n_items": len({r.item_id for r in rows}),
        "n_raters": len({r.rater for r in rows}),
        "alpha_ordinal": alpha_from_rows(rows, "ordinal"),
        "alpha_nominal": alpha_from_rows(rows, "nominal"),
        "fleiss_kappa": fleiss_from_rows(rows),
        "length_share": campaign_length_share(rows),
        "length_share_n": longer.total,
        "length_share_low": longer.low,
        "length_share_high": longer.high,
    }
