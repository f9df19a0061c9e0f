"""Turning what happened in the store into webhook deliveries (the outbox), from the store's own durable rows.

    hitl webhooks run --once    # enqueue() then deliver(): every new event of every webhook, sent once

Nothing on the rating path writes events: judgments, finished items, finished loop rounds and model versions are
already durable rows, so `enqueue` reads those newer than each webhook's cursor and inserts one delivery per
(webhook, event) — a unique key, so a scan repeated after a crash adds nothing twice. It reads in bounded batches
and its write transaction is short, so raters never wait on it.

A cursor only moves over rows older than `settle_s`: on PostgreSQL ids are handed out before commit, so a
judgment can become visible after a newer one; waiting a moment lets every short transaction (a submit) commit
first. A transaction that stays open longer than that (a huge import) can commit rows behind the cursor, and those
are not announced.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import (
    campaigns,
    items,
    judgments,
    loop_rounds,
    model_versions,
    users,
    webhook_deliveries,
    webhooks,
)

BATCH = 1_000
SETTLE_S = 2.0
FINISHED_ROUNDS = ("done", "stopped")


def _judgment_events(conn, hook, limit: int, horizon: float) -> tuple[list[tuple[str, str, dict]], int]:
    query = (
        select(
            judgments,
            users.c.name.label("rater"),
            items.c.status.label("item_status"),
            items.c.judgment_count,
            campaigns.c.name.label("campaign"),
        )
        .join(users, users.c.id == judgments.c.user_id)
        .join(items, items.c.id == judgments.c.item_id)
        .join(campaigns, campaigns.c.id == items.c.campaign_id)
        .where(judgments.c.id > hook.judgment_cursor, judgments.c.created_at <= horizon)
        .order_by(judgments.c.id)
        .limit(limit)
    )
    if hook.campaign_id is not None:
        query = query.where(items.c.campaign_id == hook.campaign_id)
    found = conn.execute(query).all()
    cursor = found[-1].id if found else hook.judgment_cursor
    if hook.campaign_id is not None and len(found) < limit:
        # Nothing more of this campaign up to now: skip the other campaigns' judgments for good.
        settled = select(func.coalesce(func.max(judgments.c.id), 0)).where(judgments.c.created_at <= horizon)
        cursor = max(cursor, conn.execute(settled).scalar_one())
    last_of_item = {}
    if found:
        ids = sorted({j.item_id for j in found})
        last_of_item = dict(
            conn.execute(
                select(judgments.c.item_id, func.max(judgments.c.id))
                .where(judgments.c.item_id.in_(ids))
                .group_by(judgments.c.item_id)
            ).all()
        )
    out = []
    for j in found:
        out.append(
            (
                f"judgment.recorded:{j.id}",
                "judgment.recorded",
                {
                    "judgment_id": j.id,
                    "item_id": j.item_id,
                    "campaign": j.campaign,
                    "rater": j.rater,
                    "ranking": list(j.ranking),
                    "strength": j.strength,
                    "tie": bool(j.tie),
                    "both_bad": bool(j.both_bad),
                    "source": j.source,
                    "created_at": j.created_at,
                },
            )
        )
        if j.item_status == "done" and last_of_item.get(j.item_id) == j.id:
            payload = {"item_id": j.item_id, "campaign": j.campaign, "judgments": j.judgment_count}
            out.append((f"item.done:{j.item_id}", "item.done", payload))
    return out, cursor


def _version_events(conn, hook, campaign_name: str | None, limit: int) -> tuple[list[tuple[str, str, dict]], int]:
    found = conn.execute(
        select(model_versions)
        .where(model_versions.c.id > hook.version_cursor)
        .order_by(model_versions.c.id)
        .limit(limit)
    ).all()
    names = dict(conn.execute(select(model_versions.c.id, model_versions.c.name)).all()) if found else {}
    out = []
    for v in found:
        meta = v.metadata or {}
        if hook.campaign is not None and meta.get("campaign") != hook.campaign:
            continue  # a campaign's webhook hears of versions trained on that campaign
        payload = {
            "version_id": v.id,
            "kind": v.kind,
            "name": v.name,
            "parent": names.get(v.parent_id),
            "path": v.path,
            "campaign": meta.get("campaign"),
            "created_at": v.created_at,
        }
        out.append((f"version.registered:{v.id}", "version.registered", payload))
    return out, found[-1].id if found else hook.version_cursor


def _round_events(conn, hook) -> list[tuple[str, str, dict]]:
    query = (
        select(loop_rounds, campaigns.c.name.label("campaign"))
        .join(campaigns, campaigns.c.id == loop_rounds.c.campaign_id)
        .where(loop_rounds.c.status.in_(FINISHED_ROUNDS), loop_rounds.c.updated_at >= hook.created_at)
    )
    if hook.campaign_id is not None:
        query = query.where(loop_rounds.c.campaign_id == hook.campaign_id)
    names = dict(conn.execute(select(model_versions.c.id, model_versions.c.name)).all())
    return [
        (
            f"round.finished:{r.id}",
            "round.finished",
            {
                "round_id": r.id,
                "campaign": r.campaign,
                "number": r.number,
                "status": r.status,
                "message": r.message,
                "metrics": r.metrics,
                "reward_version": names.get(r.reward_version_id),
                "policy_version": names.get(r.policy_version_id),
            },
        )
        for r in conn.execute(query)
    ]


def _insert_ignoring_duplicates(conn, dialect: str, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    conn.execute(insert(webhook_deliveries).on_conflict_do_nothing(), rows)


def enqueue(store: Store, now: float | None = None, batch: int = BATCH, settle_s: float = SETTLE_S) -> int:
    """Add a pending delivery for every new event of every active webhook; returns how many were added."""
    now = time.time() if now is None else now
    horizon = now - settle_s
    added = 0
    with store.read() as conn:
        hooks = conn.execute(
            select(webhooks, campaigns.c.name.label("campaign"))
            .outerjoin(campaigns, campaigns.c.id == webhooks.c.campaign_id)
            .where(webhooks.c.active.is_(True))
        ).all()
    for hook in hooks:
        with store.read() as conn:
            found, judgment_cursor = _judgment_events(conn, hook, batch, horizon)
            versions, version_cursor = _version_events(conn, hook, batch, horizon)
            found += versions + _round_events(conn, hook)
        wanted = [e for e in found if e[1] in hook.events]
        rows = [
            {
                "webhook_id": hook.id,
                "event_id": event_id,
                "event": event,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
            for event_id, event, payload in wanted
        ]
        with store.write() as conn:
            known: set[str] = set()
            for chunk in in_chunks([r["event_id"] for r in rows]):
                known.update(
                    conn.execute(
                        select(webhook_deliveries.c.event_id).where(
                            webhook_deliveries.c.webhook_id == hook.id, webhook_deliveries.c.event_id.in_(chunk)
                        )
                    ).scalars()
                )
            fresh = [r for r in rows if r["event_id"] not in known]
            _insert_ignoring_duplicates(conn, store.dialect, fresh)
            conn.execute(
                update(webhooks)
                .where(webhooks.c.id == hook.id)
                .values(judgment_cursor=judgment_cursor, version_cursor=version_cursor)
            )
        added += len(fresh)
    return added
