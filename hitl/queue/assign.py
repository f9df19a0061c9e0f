"""Handing out items: `next_item` leases the next item a user should judge; skip, release, expiry.

    python -m pytest -q tests/queue/test_queue.py   # next_item serves the web app, the REST API and simulators

Order of choice: the user's live lease in the campaign (a refresh resumes it); else, with probability
gold_rate, a random open gold item of the campaign that the user has neither judged nor skipped (gold items have
no overlap limit and never close; when none is left, a regular item instead); else the open regular item of the
highest priority (then the lowest id) that the user has neither judged nor skipped and whose judgments plus live
leases are below the overlap.

Atomicity. SQLite: the whole choice, the lease insert and the read of the texts are one `BEGIN IMMEDIATE`
transaction, so assignments (and submits) are serialised. PostgreSQL: the gold draw is a read of its own, before
(and regardless of) the live-lease check; the rest is one call of the server-side function hitl_next_item
(migration 0005_pg_queue), its own transaction: the candidate row is locked with `FOR NO KEY UPDATE SKIP LOCKED`
(concurrent callers move on to the next item instead of waiting), and its live leases are then counted again
under the lock, in a fresh statement whose snapshot includes every committed lease; up to _MAX_PASSED_OVER
candidates that filled up meanwhile are passed over. The function first takes an advisory lock on (user,
campaign) (migration 0008_pg_one_live_lease), so simultaneous calls of one user (two tabs, a retrying script)
take turns and the later ones resume the first one's lease: one live lease per rater and campaign, as on SQLite.

The lease cache: on PostgreSQL the facts a submit checks (hitl.queue.types.LeaseFacts) go into
`store.lease_cache`, so that the submit is one call too; SQLite reads them in the submit's transaction.

Workforce rules (hitl.workforce): in a campaign whose rules route raters, the rater's route (cached per rater and
campaign, hitl.workforce.route) comes first: it may refuse (paused, not qualified, a break due), restrict the rater
to training items (unseen gold items, always drawn, never a regular item), or name prompt tags their skills do not
cover, whose items both the gold draw and the pick pass over (PICK_REGULAR_ROUTED, hitl_next_item_routed). A
campaign without such rules takes exactly the path above.
"""

from __future__ import annotations

import random
import secrets
import time

from sqlalchemy import Row, select, update

from hitl.campaigns import Campaign
from hitl.errors import InvalidInput, LeaseError
from hitl.queue import sql
from hitl.queue.types import Assignment, JudgmentRules, LeaseFacts, ShownResponse
from hitl.store import Store
from hitl.store.schema import leases
from hitl.users import User
from hitl.workforce.errors import NotQualified
from hitl.workforce.route import Route, route_for

_rng = random.SystemRandom()
_MAX_PASSED_OVER = 16  # PostgreSQL: candidates filled up under us before we give up for this call


def _new_lease(rng: random.Random, row, now: float, ttl: float) -> dict:
    order = list(sql.from_json(row[1]))
    rng.shuffle(order)
    return {
        "token": secrets.token_urlsafe(24),
        "item_id": row[0],
        "order": order,
        "display_order": sql.to_json(order),
        "expires_at": now + ttl,
    }


def _draw_gold(conn, dialect: str, params: dict, gold_rate: float, rng: random.Random, route: Route | None = None):
    """With probability gold_rate (always, in training), a random gold item (id, response ids) this user has not
    seen and may be given; else None."""
    if route is not None and route.training:
        gold_rate = 1.0
    if gold_rate > 0 and rng.random() < gold_rate:
        statement = sql.UNSEEN_GOLD_ROUTED[dialect] if route is not None and route.forbidden else sql.UNSEEN_GOLD
        gold = sql.run(conn, dialect, statement, params).fetchall()
        return rng.choice(gold) if gold else None
    return None


def _routed(params: dict, dialect: str, route: Route | None) -> dict:
    """The statements' parameters with the forbidden tags in the driver's form (a JSON array on SQLite)."""
    if route is None or not route.forbidden:
        return params
    tags = list(route.forbidden)
    return {**params, "forbidden": sql.to_json(tags) if dialect == "sqlite" else tags}


def _no_training_left(campaign_name: str) -> NotQualified:
    return NotQualified(
        f"campaign {campaign_name!r} has no training item left for you to finish its qualification: a reviewer can "
        "add gold items or reinstate you"
    )


def _next_sqlite(store: Store, params: dict, settings, rng: random.Random, route: Route | None = None):
    """SQLite holds the database write lock for the whole transaction: live lease, pick, insert and read in turn.
    Returns (token, item id, display order, expiry, resumed, texts) or None."""
    params = _routed(params, "sqlite", route)
    with store.raw_write() as conn:
        live = sql.run(conn, "sqlite", sql.LIVE_LEASE, params).fetchone()
        if live is not None:
            token, item_id, order, expires_at = live
            order = sql.from_json(order)
            resumed = True
        else:
            row = _draw_gold(conn, "sqlite", params, settings.gold_rate, rng, route)
            if row is None and route is not None and route.training:
                raise _no_training_left(settings.name)
            pick = sql.PICK_REGULAR_ROUTED if route is not None and route.forbidden else sql.PICK_REGULAR
            row = row or sql.run(conn, "sqlite", pick, params).fetchone()
            if row is None:
                return None
            lease = _new_lease(rng, row, params["now"], settings.lease_ttl_seconds)
            sql.run(conn, "sqlite", sql.INSERT_LEASE, {**params, **lease})
            token, item_id, order, expires_at = lease["token"], row[0], lease["order"], lease["expires_at"]
            resumed = False
        placeholders, id_params = sql.in_list("r", order)
        texts = sql.run(conn, "sqlite", sql.LOAD_TEXTS.format(ids=placeholders), id_params).fetchall()
    return token, item_id, order, expires_at, resumed, texts


def _next_postgresql(
    store: Store, params: dict, settings, rng: random.Random, route: Route | None = None, campaign=None
):
    """One call of hitl_next_item (its own transaction), plus the gold draw's query when the draw says gold.
    What the submit will need is kept in `store.lease_cache`, so the submit is one call too."""
    params = _routed(params, "postgresql", route)
    with store.raw_autocommit() as conn:
        gold = _draw_gold(conn, "postgresql", params, settings.gold_rate, rng, route)
        # Training takes no regular item: resume a live lease, or there is nothing to train on.
        training = gold is None and route is not None and route.training
        if training and sql.run(conn, "postgresql", sql.LIVE_LEASE, params).fetchone() is None:
            raise _no_training_left(settings.name)
        call = {
            **params,
            "expires_at": params["now"] + settings.lease_ttl_seconds,
            "token": secrets.token_urlsafe(24),
            "keys": [rng.random() for _ in range(sql.PG_ORDER_KEYS)],
            "gold_id": gold[0] if gold else None,
            "max_passed_over": _MAX_PASSED_OVER,
        }
        statement = sql.PG_NEXT_ITEM_ROUTED if route is not None and route.forbidden else sql.PG_NEXT_ITEM
        rows = sql.run(conn, "postgresql", statement, call).fetchall()
    if not rows:
        return None
    token, item_id, order, expires_at, resumed, lease_id, is_gold, response_ids = rows[0][:8]
    order = sql.from_json(order)
    store.lease_cache.put(
        token,
        LeaseFacts(
            id=lease_id,
            user_id=params["user_id"],
            state="active",
            expires_at=expires_at,
            display_order=order,
            item_id=item_id,
            response_ids=sql.from_json(response_ids),
            is_gold=is_gold,
            judgment_count=0,  # hitl_record_judgment checks the real count under the item's lock
            overlap=settings.overlap,
            rules=JudgmentRules.of(settings),
            campaign_id=params["campaign_id"],
            workforce=campaign.rules
            if campaign is not None and (campaign.rules.routes or campaign.rules.watches)
            else None,
            guidelines_version=campaign.guidelines_version if campaign is not None else 1,
        ),
    )
    return token, item_id, order, expires_at, resumed, [row[8:] for row in rows]


def next_item(store: Store, user: User, campaign: Campaign, rng: random.Random | None = None) -> Assignment | None:
    """Lease the next item for `user` in `campaign`, or None when nothing is left for them."""
    if not user.active:
        raise InvalidInput(f"user {user.name!r} is disabled")
    settings = campaign.settings
    now = time.time()
    route = route_for(store, user.id, campaign, now) if campaign.rules.routes else None
    params = {"user_id": user.id, "campaign_id": campaign.id, "now": now, "overlap": settings.overlap}
    if store.dialect == "postgresql":
        leased = _next_postgresql(store, params, settings, rng or _rng, route, campaign)
    else:
        leased = _next_sqlite(store, params, settings, rng or _rng, route)
    if leased is None:
        return None
    token, item_id, order, expires_at, resumed, texts = leased
    by_id = {rid: text for rid, text, _, _ in texts}
    _, _, prompt_text, prompt_messages = texts[0]
    return Assignment(
        lease_token=token,
        item_id=item_id,
        campaign_id=campaign.id,
        prompt_text=prompt_text,
        prompt_messages=sql.from_json(prompt_messages),
        responses=[ShownResponse(rid, by_id[rid]) for rid in order],
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


def check_lease_usable(row: LeaseFacts | Row | None, user: User | None, now: float) -> None:
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
