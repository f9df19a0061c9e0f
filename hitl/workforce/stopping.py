"""The stop rule: an item is done as soon as its label is sure enough, before the overlap.

    hitl workforce rules demo --stop-at-confidence 0.85 && hitl campaign set demo --overlap 7

The prior is the reward model's calibrated probability (hitl.workforce.calibration, fit on the campaign's
human-labelled scored items; 0.5 while fewer than 30 exist or the item has no score); each human judgment then
multiplies the odds by a / (1 - a), with a the crowd's accuracy on the campaign's gold items (0.75 until 30 gold
judgments exist). Two agreeing judgments of 80%-accurate raters make 94%; a confident model's prior can make one
judgment enough. This is the auto+stop policy of the routing curve (hitl.workforce.curve), with the overlap as its
most judgments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select, update

from hitl.errors import InvalidInput
from hitl.store import Store
from hitl.store.schema import item_prelabels, items, judgments
from hitl.workforce.calibration import Calibration

DEFAULT_ACCURACY = 0.75  # the crowd's accuracy assumed until the campaign has MIN_GOLD gold judgments
MIN_GOLD = 30
EPSILON = 1e-9  # a posterior computed as 0.8999999999999999 has reached 0.9


def posterior(prior: float, votes: Sequence[int], accuracy: float) -> float:
    """P(response 0 is better) after `votes` (0 or 1: the response each judgment preferred)."""
    p = min(max(prior, 1e-6), 1 - 1e-6)
    a = min(max(accuracy, 0.5 + 1e-6), 1 - 1e-6)
    log_odds = math.log(p / (1 - p)) + sum(1 if v == 0 else -1 for v in votes) * math.log(a / (1 - a))
    return 1.0 / (1.0 + math.exp(-log_odds))


def crowd_accuracy(conn, campaign_id: int) -> float:
    """The share of the campaign's human gold judgments that picked the gold answer, clipped to [0.55, 0.95]."""
    rows = conn.execute(
        select(judgments.c.ranking, judgments.c.tie, items.c.response_ids, items.c.gold_answer)
        .join(items, items.c.id == judgments.c.item_id)
        .where(items.c.campaign_id == campaign_id, items.c.is_gold.is_(True), judgments.c.source != "auto")
    ).all()
    if len(rows) < MIN_GOLD:
        return DEFAULT_ACCURACY
    right = sum(not r.tie and r.ranking[0] == r.response_ids[r.gold_answer] for r in rows)
    return min(0.95, max(0.55, right / len(rows)))


def figures(store: Store, campaign_id: int, name: str) -> tuple[Calibration | None, float]:
    """(the calibration or None, the crowd's accuracy) of a campaign, kept for minutes in store.figure_cache."""
    from hitl.workforce.automation import calibrate_campaign

    key = ("stop", campaign_id)
    kept = store.figure_cache.get(key)
    if kept is None:
        try:
            cal = calibrate_campaign(store, campaign_id, name)
        except InvalidInput:
            cal = None
        with store.read() as conn:
            kept = (cal, crowd_accuracy(conn, campaign_id))
        store.figure_cache.put(key, kept)
    return kept


def after_judgment(conn, lease, threshold: float, cal: Calibration | None, accuracy: float) -> bool:
    """Mark the item done when its label's posterior reaches `threshold`; whether it did."""
    row = conn.execute(
        select(items.c.status, items.c.response_ids, item_prelabels.c.rewards)
        .outerjoin(item_prelabels, item_prelabels.c.item_id == items.c.id)
        .where(items.c.id == lease.item_id)
    ).first()
    if row is None or row.status != "open" or len(row.response_ids) != 2:
        return False
    prior = 0.5
    if cal is not None and row.rewards and len(row.rewards) == 2:
        prior = cal.prob(row.rewards[0] - row.rewards[1])
    votes = [
        0 if ranking[0] == row.response_ids[0] else 1
        for ranking, tie in conn.execute(
            select(judgments.c.ranking, judgments.c.tie).where(
                judgments.c.item_id == lease.item_id, judgments.c.source != "auto"
            )
        )
        if not tie
    ]
    p = posterior(prior, votes, accuracy)
    if max(p, 1 - p) < threshold - EPSILON:
        return False
    done = conn.execute(
        update(items)
        .where(items.c.id == lease.item_id, items.c.status == "open", items.c.is_gold.is_(False))
        .values(status="done")
    ).rowcount
    return bool(done)
