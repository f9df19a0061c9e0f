"""Webhook subscriptions: which URL receives which events of which campaign (every campaign when none is named).

    hitl webhooks add https://example.org/hitl --campaign demo --event judgment.recorded --event round.finished

A new webhook starts from now: its cursors are set to the newest judgment and model version, so it is sent what
happens after it was added, never the history. The secret signs every delivery (hitl.webhooks.signing) and is shown
once, when the webhook is added.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update

from hitl.campaigns import get_campaign
from hitl.errors import InvalidInput, NotFound
from hitl.store import Store
from hitl.store.schema import campaigns, judgments, model_versions, webhook_deliveries, webhooks
from hitl.webhooks.signing import new_secret

EVENTS = ("judgment.recorded", "item.done", "round.finished", "version.registered")


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    campaign: str | None
    events: list[str]
    active: bool
    created_at: float


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"webhook URL {url!r}: give an http:// or https:// URL")
    if len(url) > 2000:
        raise InvalidInput("webhook URL is longer than 2000 characters")
    return url


def add_webhook(
    store: Store, url: str, *, campaign: str | None = None, events: list[str] | None = None, secret: str | None = None
) -> tuple[Webhook, str]:
    """Subscribe `url` to `events` (default: all) of `campaign` (default: every campaign); returns the webhook and
    its secret."""
    chosen = list(dict.fromkeys(events or EVENTS))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise InvalidInput(f"unknown webhook event(s) {', '.join(unknown)}: use {', '.join(EVENTS)}")
    campaign_id = get_campaign(store, campaign).id if campaign else None
    secret = secret or new_secret()
    now = time.time()
    with store.write() as conn:
        last_judgment = conn.execute(select(func.coalesce(func.max(judgments.c.id), 0))).scalar_one()
        last_version = conn.execute(select(func.coalesce(func.max(model_versions.c.id), 0))).scalar_one()
        new_id = conn.execute(
            insert(webhooks).values(
                campaign_id=campaign_id,
                url=_check_url(url),
                secret=secret,
                events=chosen,
                active=True,
                judgment_cursor=last_judgment,
                version_cursor=last_version,
                created_at=now,
            )
        ).inserted_primary_key[0]
    return Webhook(new_id, url, campaign, chosen, True, now), secret


def list_webhooks(store: Store) -> list[Webhook]:
    query = (
        select(webhooks, campaigns.c.name.label("campaign"))
        .outerjoin(campaigns, campaigns.c.id == webhooks.c.campaign_id)
        .order_by(webhooks.c.id)
    )
    with store.read() as conn:
        return [
            Webhook(r.id, r.url, r.campaign, list(r.events), bool(r.active), r.created_at) for r in conn.execute(query)
        ]


def set_active(store: Store, webhook_id: int, active: bool) -> None:
    """Pause (False) or resume a webhook; a paused one gets no new deliveries and its pending ones wait."""
    with store.write() as conn:
        if conn.execute(update(webhooks).where(webhooks.c.id == webhook_id).values(active=active)).rowcount != 1:
            raise NotFound(f"no webhook {webhook_id} (hitl webhooks list shows them)")


def delivery_log(
    store: Store, webhook_id: int | None = None, status: str | None = None, limit: int = 100
) -> list[dict]:
    """The newest deliveries first: event, status, attempts, the last answer or error, when it was delivered."""
    query = (
        select(webhook_deliveries, webhooks.c.url)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(max(1, min(limit, 10_000)))
    )
    if webhook_id is not None:
        query = query.where(webhook_deliveries.c.webhook_id == webhook_id)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    keys = ("id", "webhook_id", "url", "event_id", "event", "status", "attempts", "last_status", "last_error")
    with store.read() as conn:
        return [
            {**{k: getattr(r, k) for k in keys}, "created_at": r.created_at, "delivered_at": r.delivered_at}
            for r in conn.execute(query)
        ]
