"""Gold grows: items every rater judged the same way, each rater of proven competence, proposed as gold items.

    python -m pytest -q tests/quality/test_quality_gold_growth.py

A reviewer confirms a proposal before it becomes gold (hitl.workforce.gold); this module only says which items are
worth a look. An item is proposed when

* at least ``min_raters`` raters judged it (their latest judgment each), every one picked the same response first,
  none called it a tie, both bad, or flagged it (an "unsure" or "unsafe" mark is no clean reference answer);
* every one of those raters has a Dawid-Skene competence of at least ``min_competence`` over at least
  ``competence_min_n`` items: unanimity among spammers who all pick the first-shown answer is no evidence;
* the Dawid-Skene label of the item is that response with posterior at least ``min_posterior``.

Unanimity alone is weak with two raters of 0.8 accuracy (both wrong 4% of the time); three competent raters
agreeing leave under 1% (0.2^3) when their errors are independent, which the posterior states under the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hitl.quality.dawid_skene import DawidSkeneResult, dawid_skene
from hitl.quality.rows import JudgmentRow, latest_by_item

DEFAULT_MIN_RATERS = 3
DEFAULT_MIN_COMPETENCE = 0.8
DEFAULT_COMPETENCE_MIN_N = 10
DEFAULT_MIN_POSTERIOR = 0.95


@dataclass(frozen=True)
class GoldCandidate:
    """An item proposed as gold: the response all its raters picked (canonical index), who they were, the weakest
    of their competences, and the Dawid-Skene posterior of that answer."""

    item_id: int
    answer: int
    raters: tuple[str, ...]
    min_competence: float
    posterior: float


def check_gold_params(min_raters: int, min_competence: float, competence_min_n: int, min_posterior: float) -> None:
    """ValueError naming the first parameter out of range (shares in [0, 1], at least 2 raters, counts >= 1)."""
    if not isinstance(min_raters, int) or not 2 <= min_raters <= 1000:
        raise ValueError(f"min_raters must be a whole number from 2 to 1000, not {min_raters!r}")
    if not isinstance(competence_min_n, int) or not 1 <= competence_min_n <= 100_000:
        raise ValueError(f"competence_min_n must be a whole number from 1 to 100000, not {competence_min_n!r}")
    for name, value in (("min_competence", min_competence), ("min_posterior", min_posterior)):
        if not isinstance(value, int | float) or value != value or not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {value!r}")


def gold_candidates(
    rows: Iterable[JudgmentRow],
    *,
    min_raters: int = DEFAULT_MIN_RATERS,
    min_competence: float = DEFAULT_MIN_COMPETENCE,
    competence_min_n: int = DEFAULT_COMPETENCE_MIN_N,
    min_posterior: float = DEFAULT_MIN_POSTERIOR,
    ds: DawidSkeneResult | None = None,
) -> list[GoldCandidate]:
    """Items of ``rows`` worth proposing as gold, the surest first (posterior, then more raters, then item id).

    Items that are gold already are never proposed. ``ds`` is a Dawid-Skene fit of the same rows, when the caller
    has one; otherwise it is fitted here.
    """
    check_gold_params(min_raters, min_competence, competence_min_n, min_posterior)
    rows = list(rows)
    if not rows:
        return []
    fit = ds if ds is not None else dawid_skene(rows)
    grouped = latest_by_item(rows)
    labelled: dict[str, int] = {}
    for raters in grouped.values():
        for rater in raters:
            labelled[rater] = labelled.get(rater, 0) + 1
    out = []
    for item, raters in grouped.items():
        judged = list(raters.values())
        if len(judged) < min_raters or any(r.gold_answer is not None for r in judged):
            continue
        winners = {r.winner for r in judged}
        if len(winners) != 1 or None in winners or any(r.both_bad or r.flags for r in judged):
            continue
        competences = [fit.competence.get(name, 0.0) for name in raters]
        if min(competences) < min_competence or min(labelled[name] for name in raters) < competence_min_n:
            continue
        (answer,) = winners
        post = fit.posteriors.get(item)
        if post is None or fit.labels.get(item) != answer or float(post[answer]) < min_posterior:
            continue
        out.append(GoldCandidate(item, answer, tuple(sorted(raters)), min(competences), float(post[answer])))
    return sorted(out, key=lambda c: (-c.posterior, -len(c.raters), c.item_id))
