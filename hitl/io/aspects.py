"""Multi-attribute ratings in exports: each response's mean score on the campaign's aspects (0-4, as HelpSteer2),
beside the preference pairs.

    hitl export --campaign demo --out pairs.jsonl     # rows gain chosen_aspects / rejected_aspects when scored

A pair row carries, for its chosen and its rejected response, the mean of every score the item's raters gave it on
each aspect, and how many raters scored it (`*_aspects_n`); a response nobody scored gets {} and 0. Campaigns
without aspect scores export exactly as before (no such columns). The raw layout has each judgment's own scores.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from hitl.campaigns import Campaign
from hitl.store import Store
from hitl.store.schema import items, judgments


def aspect_means(store: Store, campaign: Campaign | None) -> dict[int, tuple[dict[str, float], int]]:
    """response id -> ({aspect: mean score}, raters who scored it), over the judgments that gave scores."""
    query = select(judgments.c.aspects).where(judgments.c.aspects.is_not(None))
    if campaign is not None:
        query = query.join(items, items.c.id == judgments.c.item_id).where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        found = conn.execute(query).scalars().all()
    scores: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    raters: dict[int, int] = defaultdict(int)
    for given in found:
        for rid, by_aspect in (given or {}).items():
            raters[int(rid)] += 1
            for name, score in by_aspect.items():
                scores[int(rid)][name].append(int(score))
    return {
        rid: ({name: sum(v) / len(v) for name, v in by_aspect.items()}, raters[rid])
        for rid, by_aspect in scores.items()
    }


def add_aspect_columns(rows: list[dict[str, Any]], means: dict[int, tuple[dict[str, float], int]]) -> None:
    """Give every pair row chosen_aspects, chosen_aspects_n, rejected_aspects, rejected_aspects_n (in place);
    nothing when no response has scores."""
    if not means:
        return
    for row in rows:
        for side in ("chosen", "rejected"):
            mean, n = means.get(row.get(f"{side}_response_id"), ({}, 0))
            row[f"{side}_aspects"], row[f"{side}_aspects_n"] = dict(mean), n
