"""Majority-vote consensus labels and each rater's agreement with the leave-one-out majority of the other raters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from hitl.quality.rows import JudgmentRow, by_rater, category_table, infer_n_responses, latest_by_item
from hitl.quality.stats import RateStat, rate_stat


def majority(labels: Iterable[int]) -> int | None:
    """The single most frequent label, or None when the top count is shared (or there are no labels)."""
    top = Counter(labels).most_common(2)
    if not top or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def majority_labels(rows: Iterable[JudgmentRow]) -> dict[int, int | None]:
    """Plain majority-vote category per item (None on a tied vote), one vote per rater (their latest)."""
    rows = list(rows)
    cats = category_table(latest_by_item(rows), infer_n_responses(rows))
    return {item: majority(raters.values()) for item, raters in cats.items()}


def loo_agreement(rows: Iterable[JudgmentRow], min_raters: int = 3) -> dict[str, RateStat]:
    """How often each rater's category matches the majority of the *other* raters on the same item.

    Only items with at least ``min_raters`` distinct raters count (with fewer, "the others" is a single rater and
    this would just be pairwise agreement), and an item is skipped for a rater when the other raters' vote is tied.
    Leaving the rater out keeps a rater from agreeing with a majority they themselves created. Every rater in
    ``rows`` gets an entry (``total == 0`` when no item qualified).
    """
    rows = list(rows)
    cats = category_table(latest_by_item(rows), infer_n_responses(rows))
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for raters in cats.values():
        if len(raters) < min_raters:
            continue
        votes = Counter(raters.values())
        for rater, own in raters.items():
            votes[own] -= 1
            others = majority(votes.elements())
            votes[own] += 1
            if others is None:
                continue
            totals[rater] += 1
            hits[rater] += own == others
    return {rater: rate_stat(hits[rater], totals[rater]) for rater in by_rater(rows)}
