"""The persistent state of `hitl loop`: one `loop_rounds` row per round, advanced stage by stage.

hitl loop --campaign demo --status      # shows what this module stores
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update

from hitl.campaigns import Campaign
from hitl.store import Store
from hitl.store.schema import items, judgments, loop_rounds

STAGE_ORDER = ("wait", "train_reward", "train_policy", "generate", "score", "evaluate", "done")


@dataclass
class LoopRound:
    id: int
    campaign_id: int
    number: int
    stage: str
    status: str  # running | waiting | stopped | done
    judgments_at_start: int
    base_policy_id: int | None
    reward_version_id: int | None
    policy_version_id: int | None
    snapshot_id: int | None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    updated_at: float = 0.0  # when the round last changed (a finished round: when it finished)


def _row(r) -> LoopRound:
    return LoopRound(
        id=r.id,
        campaign_id=r.campaign_id,
        number=r.number,
        stage=r.stage,
        status=r.status,
        judgments_at_start=r.judgments_at_start,
        base_policy_id=r.base_policy_id,
        reward_version_id=r.reward_version_id,
        policy_version_id=r.policy_version_id,
        snapshot_id=r.snapshot_id,
        metrics=dict(r.metrics or {}),
        message=r.message,
        updated_at=r.updated_at,
    )


def judgment_count(store: Store, campaign: Campaign, until: float | None = None) -> int:
    """Judgments in the campaign (recorded up to `until`, a time, when given)."""
    query = (
        select(func.count())
        .select_from(judgments)
        .join(items, items.c.id == judgments.c.item_id)
        .where(items.c.campaign_id == campaign.id)
    )
    if until is not None:
        query = query.where(judgments.c.created_at <= until)
    with store.read() as conn:
        return conn.execute(query).scalar()


def rounds(store: Store, campaign: Campaign) -> list[LoopRound]:
    with store.read() as conn:
        rows = conn.execute(
            select(loop_rounds).where(loop_rounds.c.campaign_id == campaign.id).order_by(loop_rounds.c.number)
        ).all()
    return [_row(r) for r in rows]


def current_round(store: Store, campaign: Campaign, base_policy_id: int | None) -> LoopRound:
    """The unfinished round, or a new one after the last finished (or stopped) round."""
    history = rounds(store, campaign)
    if history and history[-1].status not in ("done", "stopped"):
        return history[-1]
    last = history[-1] if history else None
    base = (last.policy_version_id or last.base_policy_id) if last and last.status == "done" else None
    if last is not None and last.status == "stopped":
        base = last.base_policy_id  # a stopped round produced no policy: try again from the same base
    now = time.time()
    values = {
        "campaign_id": campaign.id,
        "number": (last.number + 1) if last else 1,
        "stage": "wait",
        "status": "running",
        # Judgments made since the last round finished count towards this one, even those recorded before
        # this row exists (the loop may only be started again after raters judged the last round's pairs).
        "judgments_at_start": judgment_count(store, campaign, until=last.updated_at) if last else 0,
        "base_policy_id": base if base is not None else base_policy_id,
        "metrics": {},
        "message": "",
        "created_at": now,
        "updated_at": now,
    }
    with store.write() as conn:
        rid = conn.execute(insert(loop_rounds).values(**values)).inserted_primary_key[0]
        return _row(conn.execute(select(loop_rounds).where(loop_rounds.c.id == rid)).one())


def save(store: Store, round_: LoopRound, **changes: Any) -> LoopRound:
    """Persist changes to a round (stage, status, versions, metrics merged, message)."""
    if "metrics" in changes:
        changes["metrics"] = {**round_.metrics, **changes["metrics"]}
    with store.write() as conn:
        conn.execute(
            update(loop_rounds).where(loop_rounds.c.id == round_.id).values(**changes, updated_at=time.time())
        )
    for key, value in changes.items():
        setattr(round_, key, value)
    return round_
