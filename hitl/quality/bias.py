"""Position bias and length bias per rater: does a rater's pick follow screen position or response length?

Both are binomial questions over a rater's *decisive* picks (``winner is not None``): what share went to the
response shown first (or to the longer response), tested two-sided against a chance share with
:func:`scipy.stats.binomtest`. Two-sided, because always picking the *second* response is as much a position habit as
always picking the first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scipy.stats import binomtest

from hitl.quality.rows import JudgmentRow, by_rater


@dataclass(frozen=True)
class BiasStat:
    """``share`` of ``n`` decisive picks with the property, two-sided binomial ``p_value``, and the verdict."""

    share: float
    n: int
    p_value: float
    flagged: bool


def _bias(
    rows: Iterable[JudgmentRow],
    eligible: Callable[[JudgmentRow], bool],
    hit: Callable[[JudgmentRow], bool],
    alpha: float,
    min_n: int,
    chance: float,
) -> dict[str, BiasStat]:
    if not 0.0 < chance < 1.0:
        raise ValueError(f"chance share must be strictly between 0 and 1, got {chance}")
    out: dict[str, BiasStat] = {}
    for rater, own in by_rater(rows).items():
        picks = [r for r in own if r.winner is not None and eligible(r)]
        n = len(picks)
        if n == 0:
            out[rater] = BiasStat(share=math.nan, n=0, p_value=math.nan, flagged=False)
            continue
        k = sum(hit(r) for r in picks)
        p = float(binomtest(k, n, chance, alternative="two-sided").pvalue)
        out[rater] = BiasStat(share=k / n, n=n, p_value=p, flagged=bool(p < alpha and n >= min_n))
    return out


def position_bias(
    rows: Iterable[JudgmentRow], alpha: float = 0.01, min_n: int = 10, chance: float = 0.5
) -> dict[str, BiasStat]:
    """Share of each rater's decisive picks that went to the response shown first.

    Flagged when the binomial test against ``chance`` gives ``p < alpha`` on at least ``min_n`` picks. The default
    chance of 0.5 assumes pairwise items with the shown order randomised; for K-way items pass ``chance=1/K``.
    Every rater in ``rows`` gets an entry; one with no decisive picks has nan share and p-value and is not flagged.
    """
    return _bias(rows, lambda r: True, lambda r: r.winner == r.first_shown, alpha, min_n, chance)


def length_bias(
    rows: Iterable[JudgmentRow], alpha: float = 0.01, min_n: int = 10, chance: float = 0.5
) -> dict[str, BiasStat]:
    """Share of each rater's decisive picks (on items whose responses differ in length) that went to the longer one.

    Unlike screen position, length is not randomised: if longer answers really are better in a campaign, honest
    raters pick them more than half the time too. Compare against :func:`campaign_length_share`, or pass it as
    ``chance`` to test each rater against the campaign's own baseline instead of 0.5.
    """
    return _bias(rows, lambda r: r.longer is not None, lambda r: r.winner == r.longer, alpha, min_n, chance)


def campaign_length_share(rows: Iterable[JudgmentRow]) -> float:
    """Share of all decisive picks (on items with a longer response) that went to the longer response; nan if none.

    Pooled over every rater, so prolific raters weigh more and a length-biased rater pulls the baseline towards
    their own habit; computing it over trusted raters (or gold-passing ones) gives a cleaner baseline for
    :func:`length_bias`. It is a baseline, not a verdict on anyone.
    """
    picks = [r for r in rows if r.winner is not None and r.longer is not None]
    if not picks:
        return math.nan
    return sum(r.winner == r.longer for r in picks) / len(picks)
