"""Recording a judgment exactly once: `submit(store, lease_token, idempotency_key, judgment)`.

A repeat with the same key returns the first result (double clicks, retries, stale tabs); an
expired, released, skipped, used or foreign lease is refused and nothing is recorded; an item never
collects more judgments than its campaign's overlap. One write transaction per submit: BEGIN IMMEDIATE on
SQLite; on PostgreSQL the server-side function hitl_record_judgment, which re-checks the lease and the
item's count under their row locks (migration 0005_pg_queue).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from sqlalchemy.exc import IntegrityError

from hitl.config import FLAGS
from hitl.errors import Conflict, InvalidInput, LeaseError
from hitl.queue import sql
from hitl.queue.assign import check_lease_usable
from hitl.queue.lease_cache import leases_handed_out
from hitl.queue.types import JudgmentInput, SubmitResult
from hitl.store import Store
from hitl.users import User

MAX_RATIONALE_CHARS = 5_000
MAX_CORRECTION_BYTES = 200_000
_FULL = "this item already has all the judgments it needs: fetch a new item"


def validate_judgment(j: JudgmentInput, response_ids: list[int], settings) -> JudgmentInput:
    """Check a judgment against its item and campaign; return it with a canonical ranking filled in."""
    pairwise = settings.item_kind == "pairwise"
    if not isinstance(j.strength, int) or not 0 <= j.strength <= 3:
        raise InvalidInput("strength must be 0 (tie), 1, 2 or 3 (much better)")
    if j.tie and not (settings.allow_tie or (j.both_bad and settings.allow_both_bad)):
        raise InvalidInput("this campaign does not allow ties: pick the better response")
    if j.both_bad and not settings.allow_both_bad:
        raise InvalidInput("this campaign does not allow 'both bad': pick the better response")
    if j.tie and not pairwise:
        raise InvalidInput("ties are only for pairwise items: rank every response")
    ranking = [int(r) for r in j.ranking]
    if j.tie:
        if j.strength != 0:
            raise InvalidInput("a tie has strength 0")
        ranking = ranking or list(response_ids)
    elif pairwise and j.strength == 0:
        raise InvalidInput("strength 0 means a tie: set tie, or give strength 1-3")
    if sorted(ranking) != sorted(response_ids):
        raise InvalidInput(f"ranking must list each of the item's responses {sorted(response_ids)} once")
    unknown = set(j.flags) - set(FLAGS)
    if unknown:
        raise InvalidInput(f"unknown flag(s) {', '.join(sorted(unknown))}: use {', '.join(FLAGS)}")
    if len(j.rationale or "") > MAX_RATIONALE_CHARS:
        raise InvalidInput(f"rationale is longer than {MAX_RATIONALE_CHARS} characters")
    if settings.require_rationale and (j.tie or j.both_bad) and not (j.rationale or "").strip():
        raise InvalidInput("this campaign asks for a rationale with ties and 'both bad'")
    correction = j.correction.strip() if j.correction else None
    if correction and len(correction.encode()) > MAX_CORRECTION_BYTES:
        raise InvalidInput(f"the corrected response is over {MAX_CORRECTION_BYTES:,} bytes")
    if j.seconds_on_item is not None and not 0 <= j.seconds_on_item < 10**7:
        raise InvalidInput("seconds_on_item must be a non-negative number of seconds")
    return JudgmentInput(
        ranking=ranking,
        strength=j.strength,
        tie=j.tie,
        both_bad=j.both_bad,
        flags=sorted(set(j.flags)),
        rationale=(j.rationale or "").strip(),
        correction=correction or None,
        seconds_on_item=j.seconds_on_item,
    )


def _earlier_result(conn, dialect: str, user_id: int, key: str, lease_id: int) -> SubmitResult | None:
    row = sql.run(conn, dialect, sql.EARLIER_JUDGMENT, {"user_id": user_id, "key": key}).fetchone()
    if row is None:
        return None
    judgment_id, item_id, earlier_lease_id = row
    if earlier_lease_id != lease_id:
        raise Conflict("this idempotency key was already used for another item: send a fresh key per judgment")
    return SubmitResult(judgment_id=judgment_id, item_id=item_id, duplicate=True)


def _load_lease(conn, dialect: str, token: str) -> SimpleNamespace | None:
    row = sql.run(conn, dialect, sql.LEASE_FOR_SUBMIT, {"token": token}).fetchone()
    if row is None:
        return None
    lease = SimpleNamespace(**dict(zip(sql.LEASE_FIELDS, row, strict=True)))
    lease.response_ids = sql.from_json(lease.response_ids)
    return lease


def _repeat(conn, dialect: str, lease, user: User | None, key: str) -> SubmitResult | None:
    """The first result when this is a repeat of a recorded submit (only a closed lease can have one)."""
    if lease is not None and lease.state != "active" and (user is None or lease.user_id == user.id):
        return _earlier_result(conn, dialect, lease.user_id, key, lease.id)
    return None


def _judgment_values(lease, user: User | None, now: float, judgment: JudgmentInput, key: str) -> dict:
    """The row to insert, after refusing an unusable lease, an invalid judgment or a full item."""
    check_lease_usable(lease, user, now)
    clean = validate_judgment(judgment, list(lease.response_ids), lease)
    if not lease.is_gold and lease.judgment_count >= lease.overlap:
        raise LeaseError(_FULL)
    return {
        "item_id": lease.item_id,
        "user_id": lease.user_id,
        "lease_id": lease.id,
        "ranking": sql.to_json(clean.ranking),
        "strength": clean.strength,
        "tie": clean.tie,
        "both_bad": clean.both_bad,
        "flags": sql.to_json(clean.flags),
        "rationale": clean.rationale,
        "correction": clean.correction,
        "seconds_on_item": clean.seconds_on_item,
        "display_order": sql.to_json(sql.from_json(lease.display_order)),
        "idempotency_key": key,
        "source": "queue",
        "now": now,
    }


def _read_lease(conn, dialect: str, token: str, user: User | None, key: str):
    """(the lease as stored, the first result when this submit repeats a recorded one)."""
    lease = _load_lease(conn, dialect, token)
    return lease, _repeat(conn, dialect, lease, user, key)


def _submit_sqlite(store: Store, token: str, key: str, judgment: JudgmentInput, user: User | None, now: float):
    """One BEGIN IMMEDIATE transaction: read the lease, insert, count, close."""
    with store.raw_write() as conn:
        lease, earlier = _read_lease(conn, "sqlite", token, user, key)
        if earlier is not None:
            return earlier
        values = _judgment_values(lease, user, now, judgment, key)
        judgment_id = sql.run(conn, "sqlite", sql.INSERT_JUDGMENT, values).fetchone()[0]
        sql.run(conn, "sqlite", sql.COUNT_JUDGMENT, {"item_id": lease.item_id, "overlap": lease.overlap})
        sql.run(conn, "sqlite", sql.CLOSE_LEASE, {"lease_id": lease.id, "new_state": "submitted", "now": now})
    return SubmitResult(judgment_id=judgment_id, item_id=lease.item_id, duplicate=False)


def _record_postgresql(conn, lease, user: User | None, now: float, judgment: JudgmentInput, key: str):
    """Check the judgment against `lease`, then one call of hitl_record_judgment; None when the call refused it
    (under its locks the lease was no longer live or the item was full)."""
    values = _judgment_values(lease, user, now, judgment, key)
    status, judgment_id = sql.run(
        conn, "postgresql", sql.PG_RECORD_JUDGMENT, {**values, "overlap": lease.overlap}
    ).fetchone()
    return SubmitResult(judgment_id=judgment_id, item_id=lease.item_id, duplicate=False) if status == "ok" else None


def _submit_postgresql(store: Store, token: str, key: str, judgment: JudgmentInput, user: User | None, now: float):
    """One call of hitl_record_judgment, which re-checks the lease and the item under their row locks; the lease
    is read first only when this process did not hand it out (hitl.queue.lease_cache) or the call refused it."""
    kept = leases_handed_out.take(token)
    with store.raw_autocommit() as conn:
        if kept is not None and (user is None or kept.user_id == user.id):
            result = _record_postgresql(conn, kept, user, now, judgment, key)
            if result is not None:
                return result
        lease, earlier = _read_lease(conn, "postgresql", token, user, key)
        result = earlier or _record_postgresql(conn, lease, user, now, judgment, key)
        if result is not None:
            return result
        # Changed between our read and the lock: a concurrent submit (maybe this very one, repeated), or the
        # item filled up. Say which, as the read would have.
        lease, earlier = _read_lease(conn, "postgresql", token, user, key)
        if earlier is not None:
            return earlier
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
        return record(store, lease_token, idempotency_key, judgment, user, now)
    except IntegrityError:
        # The key was used on this user's other lease, or a concurrent submit with it won the race.
        transaction = store.raw_autocommit if dialect == "postgresql" else store.raw_write
        with transaction() as conn:
            lease = _load_lease(conn, dialect, lease_token)
            earlier = lease and _earlier_result(conn, dialect, lease.user_id, idempotency_key, lease.id)
        if earlier:
            return earlier
        raise LeaseError("this item was already judged by this user") from None
