"""The plain row type every quality metric consumes, plus small helpers to group and code rows.

A :class:`JudgmentRow` is one rater's judgment of one item, already mapped to the item's *canonical* response order
(the order stored with the item, independent of the order the rater saw). The store layer builds these rows; the
metrics in :mod:`hitl.quality` never touch a database.

Conventions shared by all metrics:

* Agreement-type statistics (alpha, kappa, leave-one-out majority, Dawid-Skene) need one label per (item, rater).
  When a rater judged the same item more than once, :func:`latest_by_item` keeps the most recent judgment, because a
  re-judgment is a correction of the earlier one.
* Behavioural statistics of a single rater (gold accuracy, position/length bias, speed, fatigue) use every row: each
  judgment is separate evidence about how the rater works.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class JudgmentRow:
    """One rater's judgment of one item, in canonical response order."""

    item_id: int
    rater: str
    winner: int | None  # canonical index (0..K-1) of the preferred response; None for a tie / both-bad
    score: int  # pairwise signed ordinal label: +3..+1 response 0 better, 0 tie, -1..-3 response 1 better; K-way: 0
    first_shown: int  # canonical index of the response shown first (left / top)
    longer: int | None = None  # canonical index of the longest response; None when lengths are equal
    seconds: float | None = None  # time the rater spent on the item
    created_at: float = 0.0  # epoch seconds of the judgment
    gold_answer: int | None = None  # canonical index of the correct response for a gold item, else None
    both_bad: bool = False
    flags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the prompt's tags (hitl.quality.by_tag)


def category(row: JudgmentRow, n_responses: int = 2) -> int:
    """Map a row to a nominal class for kappa, Fleiss and Dawid-Skene.

    For pairwise items (``n_responses=2``, the default): 0 = response 0 preferred, 1 = response 1 preferred,
    2 = tie (``winner is None``, which includes a both-bad judgment with no preference). For K-way items pass
    ``n_responses=K``: the class is the winner's index and a tie is class ``K``. The row alone cannot tell a pairwise
    tie from a K-way tie, so callers that mix item sizes should pass one ``n_responses`` for the whole row set
    (see :func:`infer_n_responses`); ties then share one class.
    """
    if row.winner is None:
        return n_responses
    if not 0 <= row.winner < n_responses:
        raise ValueError(f"winner {row.winner} out of range for {n_responses} responses (item {row.item_id})")
    return row.winner


def infer_n_responses(rows: Iterable[JudgmentRow]) -> int:
    """Largest number of responses any row refers to (at least 2), judged from every canonical index on the rows."""
    top = 1
    for r in rows:
        for idx in (r.winner, r.first_shown, r.longer, r.gold_answer):
            if idx is not None and idx > top:
                top = idx
    return top + 1


def n_categories(rows: Iterable[JudgmentRow]) -> int:
    """Number of nominal classes :func:`category` can produce for these rows (responses plus the tie class)."""
    return infer_n_responses(rows) + 1


def latest_by_item(rows: Iterable[JudgmentRow]) -> dict[int, dict[str, JudgmentRow]]:
    """Group rows as ``item_id -> rater -> row``, keeping each rater's most recent judgment of an item.

    Equal timestamps keep the row that comes later in the input, so the result does not depend on sort stability.
    """
    out: dict[int, dict[str, JudgmentRow]] = defaultdict(dict)
    for r in rows:
        prev = out[r.item_id].get(r.rater)
        if prev is None or r.created_at >= prev.created_at:
            out[r.item_id][r.rater] = r
    return dict(out)


def by_rater(rows: Iterable[JudgmentRow]) -> dict[str, list[JudgmentRow]]:
    """Group rows per rater, preserving input order, with raters in first-seen order."""
    out: dict[str, list[JudgmentRow]] = {}
    for r in rows:
        out.setdefault(r.rater, []).append(r)
    return out


def category_table(grouped: Mapping[int, Mapping[str, JudgmentRow]], n_responses: int) -> dict[int, dict[str, int]]:
    """Turn :func:`latest_by_item` output into ``item_id -> rater -> category``."""
    return {
        item: {rater: category(row, n_responses) for rater, row in raters.items()} for item, raters in grouped.items()
    }
