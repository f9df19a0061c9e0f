"""The one judgment write: insert a judgment, count it on its item, close its lease. Submits and imports use it.

    python -m pytest -q tests/queue/test_record.py   # an imported and a submitted judgment, recorded alike

`judgment_row` validates a judgment against its item and the campaign's rules and gives the statement parameters;
`record_judgment` writes them inside the caller's transaction. On SQLite those are the three statements of
hitl/queue/sql.py under the caller's BEGIN IMMEDIATE, and the caller has already checked the lease and the item's
count in that transaction. On PostgreSQL it is one call of hitl_record_judgment (migrations 0005 and 0006), which
re-checks both under their row locks. An import has no lease (lease_id None): nothing to check or close, the
count and the item's status follow the same rule (done at the overlap; gold items stay open).
"""

from __future__ import annotations

from typing import Any

from hitl.queue import sql
from hitl.queue.types import JudgmentInput, JudgmentRules
from hitl.queue.validate import validate_judgment


def judgment_row(
    judgment: JudgmentInput,
    rules: JudgmentRules,
    *,
    response_ids: list[int],
    item_id: int,
    user_id: int,
    lease_id: int | None,
    display_order: list[int],
    overlap: int,
    key: str,
    source: str,
    now: float,
) -> dict[str, Any]:
    """The parameters of `record_judgment` for `judgment`, once it passed `validate_judgment` (InvalidInput)."""
    clean = validate_judgment(judgment, response_ids, rules)
    return {
        "item_id": item_id,
        "user_id": user_id,
        "lease_id": lease_id,
        "overlap": overlap,
        "ranking": sql.to_json(clean.ranking),
        "strength": clean.strength,
        "tie": clean.tie,
        "both_bad": clean.both_bad,
        "flags": sql.to_json(clean.flags),
        "rationale": clean.rationale,
        "correction": clean.correction,
        "seconds_on_item": clean.seconds_on_item,
        "display_order": sql.to_json(display_order),
        "idempotency_key": key,
        "source": source,
        "now": now,
        # JSON object keys are text: response ids as strings, read back by hitl.preferences / the review page.
        "aspects": sql.to_json({str(k): v for k, v in clean.aspects.items()}) if clean.aspects else None,
    }


def record_judgment(dbapi_conn: Any, dialect: str, row: dict[str, Any]) -> int | None:
    """Write `row` (from `judgment_row`) in the transaction open on `dbapi_conn`; the new judgment's id.

    None when PostgreSQL refused it under its locks: the lease was no longer live, or the item was full. A reused
    idempotency key or a second judgment of the item by the user raises IntegrityError.
    """
    if dialect == "postgresql":
        status, judgment_id = sql.run(dbapi_conn, dialect, sql.PG_RECORD_JUDGMENT, row).fetchone()
        return judgment_id if status == "ok" else None
    judgment_id = sql.run(dbapi_conn, dialect, sql.INSERT_JUDGMENT, row).fetchone()[0]
    sql.run(dbapi_conn, dialect, sql.COUNT_JUDGMENT, row)
    if row["lease_id"] is not None:
        sql.run(dbapi_conn, dialect, sql.CLOSE_SUBMITTED_LEASE, row)
    return judgment_id
