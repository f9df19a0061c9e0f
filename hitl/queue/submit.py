"""Recording a rater's judgment exactly once: `submit(store, lease_token, idempotency_key, judgment)`.

    python -m pytest -q tests/queue/test_queue.py   # leases, repeats, races, refusals on both stores

A repeat with the same key returns the first result (double clicks, retries, stale tabs); an
expired, released, skipped, used or foreign lease is refused and nothing is recorded; an item never
collects more judgments than its campaign's overlap. In a campaign with workforce rules (hitl.workforce) a rater
paused while holding the lease is refused too (the lease is given back), and a recorded judgment then goes
through the rules' bookkeeping (hitl.workforce.hooks); other campaigns pay nothing for either.

One write transaction per submit, written by
hitl.queue.record.record_judgment (the write imports use too): BEGIN IMMEDIATE on SQLite, where the lease is read
and checked in the same transaction; on PostgreSQL one autocommit call of hitl_record_judgment, which re-checks the
lease and the item's count under their row locks. There the lease's facts come from `store.lease_cache` when this
store handed the lease out, else from a read before the call.
"""

from __future__ import annotations

import time

from sqlalchemy.exc import IntegrityError

from hitl.config import parse_aspects
from hitl.errors import Conflict, InvalidInput, LeaseError
from hitl.queue import sql
from hitl.queue.assign import check_lease_usable
from hitl.queue.record import judgment_row, record_judgment
from hitl.queue.types import JudgmentInput, JudgmentRules, LeaseFacts, SubmitResult
from hitl.store import Store
from hitl.users import User
from hitl.workforce import hooks
from hitl.workforce.rules import rules_from_json

_FULL = "this item already has all the judgments it needs: fetch a new item"


def _earlier_result(conn, dialect: str, user_id: int, key: str, lease_id: int) -> SubmitResult | None:
    row = sql.run(conn, dialect, sql.EARLIER_JUDGMENT, {"user_id": user_id, "key": key}).fetchone()
    if row is None:
        return None
    judgment_id, item_id, earlier_lease_id = row
    if earlier_lease_id != lease_id:
        raise Conflict("this idempotency key was already used for another item: send a fresh key per judgment")
    return SubmitResult(judgment_id=judgment_id, item_id=item_id, duplicate=True)


def _lease_facts(row) -> LeaseFacts:
    """A row of sql.LEASE_FOR_SUBMIT as LeaseFacts."""
    lease_id, user_id, state, expires_at, order, item_id, ids, is_gold, count, kind, overlap, tie, both_bad, why = row[
        :14
    ]
    campaign_id, workforce, version, aspects = row[14:]
    rules = rules_from_json(workforce) if workforce else None
    return LeaseFacts(
        id=lease_id,
        user_id=user_id,
        state=state,
        expires_at=expires_at,
        display_order=sql.from_json(order),
        item_id=item_id,
        response_ids=sql.from_json(ids),
        is_gold=is_gold,
        judgment_count=count,
        overlap=overlap,
        rules=JudgmentRules(
            item_kind=kind,
            allow_tie=tie,
            allow_both_bad=both_bad,
            require_rationale=why,
            aspects=tuple(parse_aspects(aspects)),
        ),
        campaign_id=campaign_id,
        workforce=rules if rules is not None and (rules.routes or rules.watches) else None,
        guidelines_version=version,
    )


def _load_lease(conn, dialect: str, token: str) -> LeaseFacts | None:
    row = sql.run(conn, dialect, sql.LEASE_FOR_SUBMIT, {"token": token}).fetchone()
    return None if row is None else _lease_facts(row)


def _repeat(conn, dialect: str, lease, user: User | None, key: str) -> SubmitResult | None:
    """The first result when this is a repeat of a recorded submit (only a closed lease can have one)."""
    if lease is not None and lease.state != "active" and (user is None or lease.user_id == user.id):
        return _earlier_result(conn, dialect, lease.user_id, key, lease.id)
    return None


def _judgment_row(lease: LeaseFacts | None, user: User | None, now: float, judgment: JudgmentInput, key: str):
    """What record_judgment writes, after refusing an unusable lease, an invalid judgment or a full item."""
    check_lease_usable(lease, user, now)
    row = judgment_row(
        judgment,
        lease.rules,
        response_ids=lease.response_ids,
        item_id=lease.item_id,
        user_id=lease.user_id,
        lease_id=lease.id,
        display_order=lease.display_order,
        overlap=lease.overlap,
        key=key,
        source="queue",
        now=now,
    )
    if not lease.is_gold and lease.judgment_count >= lease.overlap:
        raise LeaseError(_FULL)
    return row


def _read_lease(conn, dialect: str, token: str, user: User | None, key: str):
    """(the lease as stored, the first result when this submit repeats a recorded one)."""
    lease = _load_lease(conn, dialect, token)
    return lease, _repeat(conn, dialect, lease, user, key)


def _submit_sqlite(store: Store, token: str, key: str, judgment: JudgmentInput, user: User | None, now: float):
    """One BEGIN IMMEDIATE transaction: read the lease, check, record. Returns (result, the lease's facts when a
    new judgment was recorded)."""
    refused = None
    with store.raw_write() as conn:
        lease, earlier = _read_lease(conn, "sqlite", token, user, key)
        if earlier is not None:
            return earlier, None
        refused = _refusal(store, lease, user, now)
        if refused is None:
            judgment_id = record_judgment(conn, "sqlite", _judgment_row(lease, user, now, judgment, key))
        else:
            sql.run(conn, "sqlite", sql.RELEASE_REFUSED_LEASE, {"lease_id": lease.id, "now": now})
    if refused is not None:
        raise refused
    return SubmitResult(judgment_id=judgment_id, item_id=lease.item_id, duplicate=False), lease


def _refusal(store: Store, lease: LeaseFacts | None, user: User | None, now: float):
    """What the campaign's workforce rules refuse for this lease (a rater paused mid-lease), after the lease itself
    was found usable; the lease is then given back so the item returns to the pool at once."""
    if lease is None or lease.workforce is None or not lease.workforce.routes:
        return None
    check_lease_usable(lease, user, now)
    return hooks.refusal(store, lease, lease.user_id, now)


def _record_postgresql(
    store: Store, conn, lease: LeaseFacts | None, user: User | None, now: float, judgment, key: str
):
    """Check the judgment against `lease`, then one call of hitl_record_judgment; None when the call refused it
    (under its locks the lease was no longer live or the item was full)."""
    refused = _refusal(store, lease, user, now)
    if refused is not None:
        sql.run(conn, "postgresql", sql.RELEASE_REFUSED_LEASE, {"lease_id": lease.id, "now": now})
        raise refused
    judgment_id = record_judgment(conn, "postgresql", _judgment_row(lease, user, now, judgment, key))
    if judgment_id is None:
        return None
    return SubmitResult(judgment_id=judgment_id, item_id=lease.item_id, duplicate=False)


def _submit_postgresql(store: Store, token: str, key: str, judgment: JudgmentInput, user: User | None, now: float):
    """One call of hitl_record_judgment, which re-checks the lease and the item under their row locks; the lease
    is read first only when this store did not hand it out (`store.lease_cache`) or the call refused it. Returns
    (result, the lease's facts when a new judgment was recorded)."""
    kept = store.lease_cache.take(token)
    with store.raw_autocommit() as conn:
        if kept is not None and (user is None or kept.user_id == user.id):
            result = _record_postgresql(store, conn, kept, user, now, judgment, key)
            if result is not None:
                return result, kept
        lease, earlier = _read_lease(conn, "postgresql", token, user, key)
        if earlier is not None:
            return earlier, None
        result = _record_postgresql(store, conn, lease, user, now, judgment, key)
        if result is not None:
            return result, lease
        # Changed between our read and the lock: a concurrent submit (maybe this very one, repeated), or the
        # item filled up. Say which, as the read would have.
        lease, earlier = _read_lease(conn, "postgresql", token, user, key)
        if earlier is not None:
            return earlier, None
        check_lease_usable(lease, user, now)
        raise LeaseError(_FULL)


def submit(
    store: Store, lease_token: str, idempotency_key: str, judgment: JudgmentInput, user: User | None = None
) -> SubmitResult:
    """Record `judgment` for the item under `lease_token`, exactly once per idempotency key.

    `user`, when given, must own the lease (the web app and API always pass the caller).
    """
    if not idempotency_key or len(idempotency_key) > 128:
        raise InvalidInput("an idempotency key of 1-128 characters is required")
    now = time.time()
    dialect = store.dialect
    record = _submit_postgresql if dialect == "postgresql" else _submit_sqlite
    try:
        result, lease = record(store, lease_token, idempotency_key, judgment, user, now)
    except IntegrityError:
        # The key was used on this user's other lease, or a concurrent submit with it won the race.
        transaction = store.raw_autocommit if dialect == "postgresql" else store.raw_write
        with transaction() as conn:
            lease = _load_lease(conn, dialect, lease_token)
            earlier = lease and _earlier_result(conn, dialect, lease.user_id, idempotency_key, lease.id)
        if earlier:
            return earlier
        raise LeaseError("this item was already judged by this user") from None
    if lease is not None and lease.workforce is not None:
        hooks.safely_after_judgment(store, lease, lease.user_id, judgment)
    return result
