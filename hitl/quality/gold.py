"""Per-rater accuracy on gold items (items with a known correct response)."""

from __future__ import annotations

from collections.abc import Iterable

from hitl.quality.rows import JudgmentRow, by_rater
from hitl.quality.stats import RateStat, rate_stat


def is_gold(row: JudgmentRow) -> bool:
    """Whether the row is a judgment of a gold item."""
    return row.gold_answer is not None


def is_correct(row: JudgmentRow) -> bool:
    """Whether a gold judgment picked the gold answer; a tie on a gold item counts as wrong, since gold items are
    chosen to have a clear answer."""
    return row.gold_answer is not None and row.winner == row.gold_answer


def gold_accuracy(rows: Iterable[JudgmentRow]) -> dict[str, RateStat]:
    """Share of each rater's gold judgments that picked the gold answer, with a Wilson 95% interval.

    Every rater present in ``rows`` gets an entry; raters who saw no gold item get ``total == 0`` and nan rate.
    Repeated judgments of the same gold item all count (each is a separate test of the rater).
    """
    out: dict[str, RateStat] = {}
    for rater, own in by_rater(rows).items():
        gold = [r for r in own if is_gold(r)]
        out[rater] = rate_stat(sum(is_correct(r) for r in gold), len(gold))
    return out
