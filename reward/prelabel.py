"""Scores for the queue: the reward model's pre-label of each pending item and its uncertainty, which becomes the
item's priority (most uncertain first).

    hitl score --campaign demo --model demo-reward-20250101-120000

`pending_items` reads the open items of a campaign; `score_items` is pure given scorers (one, with MC dropout, or
several, a small ensemble); `prioritize` writes the priorities through hitl.catalog.set_priorities, and
`store_prelabels` keeps each item's scores for the rate page's optional hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hitl.campaigns import Campaign, get_campaign
from hitl.catalog import set_priorities
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import item_prelabels, items, prompts, responses
from reward.encoding import Prompt
from reward.score import RewardScorer, ensemble_samples, pair_uncertainty


@dataclass(frozen=True)
class PendingItem:
    item_id: int
    prompt: Prompt
    response_ids: list[int]
    texts: list[str]


@dataclass(frozen=True)
class ItemScore:
    """The models' view of one item: mean reward per response, the response they prefer, how sure they are that
    it wins (mean sigmoid of its reward gap over the others), and the uncertainty (0..1) used as priority."""

    item_id: int
    response_ids: list[int]
    rewards: list[float]
    preferred_response_id: int
    confidence: float
    uncertainty: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pending_items(store: Store, campaign: Campaign | str | int, include_gold: bool = False) -> list[PendingItem]:
    """Open items of the campaign (gold items only when asked: their answer is known) with their texts."""
    if not isinstance(campaign, Campaign):
        campaign = get_campaign(store, campaign)
    query = (
        select(items.c.id, items.c.response_ids, prompts.c.text, prompts.c.messages)
        .join(prompts, prompts.c.id == items.c.prompt_id)
        .where(items.c.campaign_id == campaign.id, items.c.status == "open")
        .order_by(items.c.id)
    )
    if not include_gold:
        query = query.where(items.c.is_gold.is_(False))
    with store.read() as conn:
        rows = conn.execute(query).all()
        texts: dict[int, str] = {}
        for chunk in in_chunks(sorted({rid for r in rows for rid in r.response_ids})):
            texts.update(conn.execute(select(responses.c.id, responses.c.text).where(responses.c.id.in_(chunk))).all())
    return [
        PendingItem(
            r.id,
            r.messages if r.messages is not None else r.text,
            list(r.response_ids),
            [texts[i] for i in r.response_ids],
        )
        for r in rows
    ]


def score_items(
    scorers: Sequence[RewardScorer], pending: Sequence[PendingItem], mc_samples: int = 8
) -> list[ItemScore]:
    """Every response of every item scored in one batched pass per scorer and MC sample."""
    import numpy as np

    prompts_flat = [it.prompt for it in pending for _ in it.texts]
    texts_flat = [t for it in pending for t in it.texts]
    if not texts_flat:
        return []
    samples = ensemble_samples(scorers, prompts_flat, texts_flat, mc_samples)
    out, start = [], 0
    for it in pending:
        block = samples[:, start : start + len(it.texts)]
        start += len(it.texts)
        uncertainty, mean = pair_uncertainty(block)
        best = int(np.argmax(mean))
        others = [j for j in range(len(it.texts)) if j != best]
        gaps = block[:, [best]] - block[:, others]
        confidence = float((1.0 / (1.0 + np.exp(-gaps))).mean()) if others else 1.0
        out.append(
            ItemScore(
                it.item_id, it.response_ids, [float(x) for x in mean], it.response_ids[best], confidence, uncertainty
            )
        )
    return out


def store_prelabels(store: Store, scores: Sequence[ItemScore], model_version_id: int | None = None) -> int:
    """Keep each item's latest scores (one row per item, replacing an older model's) for the pre-label hint."""
    import time

    from sqlalchemy import delete, insert

    now = time.time()
    rows = [
        {
            "item_id": s.item_id,
            "model_version_id": model_version_id,
            "rewards": s.rewards,
            "preferred_response_id": s.preferred_response_id,
            "confidence": s.confidence,
            "uncertainty": s.uncertainty,
            "created_at": now,
        }
        for s in scores
    ]
    with store.write() as conn:
        for chunk in in_chunks(rows):
            conn.execute(delete(item_prelabels).where(item_prelabels.c.item_id.in_([r["item_id"] for r in chunk])))
            conn.execute(insert(item_prelabels), chunk)
    return len(rows)


def prioritize(
    store: Store,
    campaign: Campaign | str | int,
    scorers: Sequence[RewardScorer],
    mc_samples: int = 8,
    model_version_id: int | None = None,
    priorities: bool = True,
) -> list[ItemScore]:
    """Score the campaign's pending items (gold too, so hints never tell them apart), keep the pre-labels, and
    (with `priorities`) set each item's queue priority to its uncertainty."""
    pending = pending_items(store, campaign, include_gold=True)
    scores = score_items(scorers, pending, mc_samples)
    if scores:
        store_prelabels(store, scores, model_version_id)
        if priorities:
            set_priorities(store, {s.item_id: s.uncertainty for s in scores})
    return scores
