"""Handing out items: `next_item` leases the next item a user should judge; skip, release, expiry.

    python -c "from hitl.queue import next_item"   # used by the web app, the REST API and simulators

Order of choice: the user's live lease in the campaign (a refresh resumes it); then, with the
campaign's gold rate, a gold item the user has not seen; then the highest-priority open item the
user has not judged or skipped whose judgments plus live leases are below the overlap.

Atomicity: every assignment is one write transaction. On SQLite that is `BEGIN IMMEDIATE`, so
assignments are serialised. On PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`
(concurrent callers move on to the next item instead of waiting), and its live leases are then
counted again under the lock, in a fresh statement whose snapshot includes every committed lease.
"""

from __future__ import annotations

import random
import secrets
import time

from sqlalchemy import Connection, and_, exists, func, insert, select, update

from hitl.campaigns import Campaign
from hitl.errors import InvalidInput, LeaseError
from hitl.queue.types import Assignment, ShownResponse
from hitl.store import Store
from hitl.store.schema import items, judgments, leases, prompts, responses
from hitl.users import User

_rng = random.SystemRandom()


def _live_lease_count(item_id_col, now: float):
    return (
        select(func.count())
        .select_from(leases)
        .where(leases.c.item_id == item_id_col, leases.c.state == "active", leases.c.expires_at > now)
        .scalar_subquery()
    )


def _not_seen_by(user_id: int):
    """Items this user has neither judged nor skipped."""
    judged = exists().where(judgments.c.item_id == items.c.id, judgments.c.user_id == user_id)
    skipped = exists().where(leases.c.item_id == items.c.id, leases.c.user_id == user_id, leases.c.state == "skipped")
    return and_(~judged, ~skipped)


def _find_live_lease(conn: Connection, user: User, campaign: Campaign, now: float):
    return conn.execute(
        select(leases.c.id, leases.c.token, leases.c.item_id, leases.c.display_order, leases.c.expires_at)
        .join(items, items.c.id == leases.c.item_id)
        .where(
            leases.c.user_id == user.id,
            leases.c.state == "active",
            leases.c.expires_at > now,
            items.c.campaign_id == campaign.id,
        )
        .limit(1)
    ).first()


def _pick_gold(conn: Connection, user: User, campaign: Campaign, rng: random.Random) -> int | None:
    ids = (
        conn.execute(
            select(items.c.id).where(
                items.c.campaign_id == campaign.id,
                items.c.is_gold.is_(True),
                items.c.status == "open",
                _not_seen_by(user.id),
            )
        )
        .scalars()
        .all()
    )
    return rng.choice(ids) if ids else None


def _pick_regular(conn: Connection, user: User, campaign: Campaign, now: float, is_pg: bool) -> int | None:
    overlap = campaign.settings.overlap
    passed_over: list[int] = []
    for _ in range(16):
        query = (
            select(items.c.id)
            .where(
                items.c.campaign_id == campaign.id,
                items.c.status == "open",
                items.c.is_gold.is_(False),
                items.c.judgment_count + _live_lease_count(items.c.id, now) < overlap,
                _not_seen_by(user.id),
            )
            .order_by(items.c.priority.desc(), items.c.id)
            .limit(1)
        )
        if passed_over:
            query = query.where(items.c.id.not_in(passed_over))
        if is_pg:
            query = query.with_for_update(skip_locked=True, of=items)
        item_id = conn.execute(query).scalar()
        if item_id is None or not is_pg:
            return item_id
        # Under the row lock no one else can lease this item; count again with a fresh snapshot.
        used = conn.execute(
            select(items.c.judgment_count + _live_lease_count(items.c.id, now)).where(items.c.id == item_id)
        ).scalar()
        if used < overlap:
            return item_id
        passed_over.append(item_id)
    return None


def next_item(store: Store, user: User, campaign: Campaign, rng: random.Random | None = None) -> Assignment | None:
    """Lease the next item for `user` in `campaign`, or None when nothing is left for them."""
    if not user.active:
        raise InvalidInput(f"user {user.name!r} is disabled")
    rng = rng or _rng
    now = time.time()
    with store.write() as conn:
        live = _find_live_lease(conn, user, campaign, now)
        if live is not None:
            _, token, item_id, order, expires_at = live
            resumed = True
        else:
            item_id = None
            if campaign.settings.gold_rate > 0 and rng.random() < campaign.settings.gold_rate:
                item_id = _pick_gold(conn, user, campaign, rng)
            if item_id is None:
                item_id = _pick_regular(conn, user, campaign, now, store.dialect == "postgresql")
            if item_id is None:
                return None
            order = list(conn.execute(select(items.c.response_ids).where(items.c.id == item_id)).scalar())
            rng.shuffle(order)
            token = secrets.token_urlsafe(24)
            expires_at = now + campaign.settings.lease_ttl_seconds
            conn.execute(
                insert(leases).values(
                    token=token,
                    item_id=item_id,
                    user_id=user.id,
                    state="active",
                    display_order=order,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            resumed = False
    return _load_assignment(store, token, item_id, campaign.id, order, expires_at, resumed)


def _load_assignment(store, token, item_id, campaign_id, order, expires_at, resumed) -> Assignment:
    with store.read() as conn:
        prompt = conn.execute(
            select(prompts.c.text, prompts.c.messages)
            .join(items, items.c.prompt_id == prompts.c.id)
            .where(items.c.id == item_id)
        ).one()
        texts = dict(conn.execute(select(responses.c.id, responses.c.text).where(responses.c.id.in_(order))).all())
    return Assignment(
        lease_token=token,
        item_id=item_id,
        campaign_id=campaign_id,
        prompt_text=prompt.text,
        prompt_messages=prompt.messages,
        responses=[ShownResponse(rid, texts[rid]) for rid in order],
        expires_at=expires_at,
        resumed=resumed,
    )


def _close_lease(store: Store, token: str, user: User, new_state: str) -> None:
    now = time.time()
    with store.write() as conn:
        row = conn.execute(
            select(leases.c.id, leases.c.user_id, leases.c.state, leases.c.expires_at).where(leases.c.token == token)
        ).first()
        check_lease_usable(row, user, now)
        conn.execute(update(leases).where(leases.c.id == row.id).values(state=new_state, closed_at=now))


def check_lease_usable(row, user: User | None, now: float) -> None:
    """Refuse (LeaseError) a lease that is unknown, someone else's, already closed or expired."""
    if row is None:
        raise LeaseError("unknown lease: fetch a new item")
    if user is not None and row.user_id != user.id:
        raise LeaseError("this lease belongs to another user")
    if row.state != "active":
        raise LeaseError(f"this lease was already {row.state}: fetch a new item")
    if row.expires_at <= now:
        raise LeaseError("this lease expired and its item went back to the pool: fetch a new item")


def skip(store: Store, token: str, user: User) -> None:
    """Give the item back and never offer it to this user again."""
    _close_lease(store, token, user, "skipped")


def release(store: Store, token: str, user: User) -> None:
    """Give the item back to the pool (it may come back to this user later)."""
    _close_lease(store, token, user, "released")


def expire_leases(store: Store, now: float | None = None) -> int:
    """Mark overdue leases expired. Queue decisions already ignore them; this keeps the table honest."""
    now = time.time() if now is None else now
    with store.write() as conn:
        return conn.execute(
            update(leases)
            .where(leases.c.state == "active", leases.c.expires_at <= now)
            .values(state="expired", closed_at=now)
        ).rowcount
