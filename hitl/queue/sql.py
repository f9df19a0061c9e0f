"""The queue's hot-path SQL, run on the DBAPI cursor of a SQLAlchemy connection.

Why not SQLAlchemy expressions here: building and compiling them costs several times what SQLite
takes to run them, and next + submit must sustain over a thousand judgments a second on two cores.
Everything else in hitl uses SQLAlchemy Core; this module is the one measured exception
(scripts/bench_collection.py). Statements are written once with `:name` parameters and converted to
the driver's style; the transaction comes from `Store.raw_write()`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import psycopg
from sqlalchemy.exc import IntegrityError

_NOT_SEEN = """
    NOT EXISTS (SELECT 1 FROM judgments j WHERE j.item_id = i.id AND j.user_id = :user_id)
    AND NOT EXISTS (SELECT 1 FROM leases s WHERE s.item_id = i.id AND s.user_id = :user_id AND s.state = 'skipped')
"""
_LIVE_LEASES = "(SELECT count(*) FROM leases l WHERE l.item_id = i.id AND l.state = 'active' AND l.expires_at > :now)"

LIVE_LEASE = """
SELECT l.token, l.item_id, l.display_order, l.expires_at FROM leases l JOIN items i ON i.id = l.item_id
WHERE l.user_id = :user_id AND l.state = 'active' AND l.expires_at > :now AND i.campaign_id = :campaign_id
LIMIT 1"""

UNSEEN_GOLD = f"""
SELECT i.id, i.response_ids FROM items i
WHERE i.campaign_id = :campaign_id AND i.status = 'open' AND i.is_gold = :true AND {_NOT_SEEN}"""

PICK_REGULAR = f"""
SELECT i.id, i.response_ids FROM items i
WHERE i.campaign_id = :campaign_id AND i.status = 'open' AND i.is_gold = :false
  AND i.judgment_count + {_LIVE_LEASES} < :overlap AND {_NOT_SEEN} {{passed_over}}
ORDER BY i.priority DESC, i.id LIMIT 1 {{lock}}"""

INSERT_LEASE = """
INSERT INTO leases (token, item_id, user_id, state, display_order, created_at, expires_at)
VALUES (:token, :item_id, :user_id, 'active', :display_order, :now, :expires_at)"""

# PostgreSQL: one round trip that recounts under the item's row lock (a fresh snapshot), inserts the
# lease only if there is still room, and returns the texts to show; no rows back means no room.
PG_LEASE_AND_LOAD = f"""
WITH room AS (
  SELECT 1 FROM items i WHERE i.id = :item_id AND (NOT :check_overlap OR i.judgment_count + {_LIVE_LEASES} < :overlap)
), lease AS (
  INSERT INTO leases (token, item_id, user_id, state, display_order, created_at, expires_at)
  SELECT :token, :item_id, :user_id, 'active', CAST(:display_order AS json), :now, :expires_at FROM room
  RETURNING item_id
)
SELECT r.id, r.text, p.text, p.messages FROM responses r JOIN prompts p ON p.id = r.prompt_id
WHERE r.id IN ({{ids}}) AND EXISTS (SELECT 1 FROM lease)"""

LOAD_TEXTS = """
SELECT r.id, r.text, p.text, p.messages FROM responses r JOIN prompts p ON p.id = r.prompt_id
WHERE r.id IN ({ids})"""

LEASE_FOR_SUBMIT = """
SELECT l.id, l.user_id, l.state, l.expires_at, l.display_order, l.item_id, i.response_ids, i.is_gold,
       i.judgment_count, c.item_kind, c.overlap, c.allow_tie, c.allow_both_bad, c.require_rationale
FROM leases l JOIN items i ON i.id = l.item_id JOIN campaigns c ON c.id = i.campaign_id
WHERE l.token = :token {lock}"""
LEASE_FIELDS = (
    "id",
    "user_id",
    "state",
    "expires_at",
    "display_order",
    "item_id",
    "response_ids",
    "is_gold",
    "judgment_count",
    "item_kind",
    "overlap",
    "allow_tie",
    "allow_both_bad",
    "require_rationale",
)

EARLIER_JUDGMENT = "SELECT id, item_id, lease_id FROM judgments WHERE user_id = :user_id AND idempotency_key = :key"

INSERT_JUDGMENT = """
INSERT INTO judgments (item_id, user_id, lease_id, ranking, strength, tie, both_bad, flags, rationale, correction,
                       seconds_on_item, display_order, idempotency_key, source, created_at)
VALUES (:item_id, :user_id, :lease_id, :ranking, :strength, :tie, :both_bad, :flags, :rationale, :correction,
        :seconds_on_item, :display_order, :idempotency_key, :source, :now)
RETURNING id"""

# PostgreSQL: the three writes of a submit in one round trip.
PG_RECORD_JUDGMENT = """
WITH judgment AS (
  INSERT INTO judgments (item_id, user_id, lease_id, ranking, strength, tie, both_bad, flags, rationale, correction,
                         seconds_on_item, display_order, idempotency_key, source, created_at)
  VALUES (:item_id, :user_id, :lease_id, CAST(:ranking AS json), :strength, :tie, :both_bad, CAST(:flags AS json),
          :rationale, :correction, :seconds_on_item, CAST(:display_order AS json), :idempotency_key, :source, :now)
  RETURNING id
), counted AS (
  UPDATE items SET judgment_count = judgment_count + 1,
                   status = CASE WHEN judgment_count + 1 >= :overlap AND NOT is_gold THEN 'done' ELSE status END
  WHERE id = :item_id
), closed AS (
  UPDATE leases SET state = 'submitted', closed_at = :now WHERE id = :lease_id
)
SELECT id FROM judgment"""

COUNT_JUDGMENT = """
UPDATE items SET judgment_count = judgment_count + 1,
                 status = CASE WHEN judgment_count + 1 >= :overlap AND is_gold = :false THEN 'done' ELSE status END
WHERE id = :item_id"""

CLOSE_LEASE = "UPDATE leases SET state = :new_state, closed_at = :now WHERE id = :lease_id"

_INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)
_PARAM = re.compile(r"(?<!:):(\w+)")
_pg_cache: dict[str, str] = {}


def _for_driver(sql: str, dialect: str) -> str:
    if dialect != "postgresql":
        return sql
    converted = _pg_cache.get(sql)
    if converted is None:
        converted = _pg_cache[sql] = _PARAM.sub(r"%(\1)s", sql)
    return converted


def run(dbapi_conn: Any, dialect: str, sql: str, params: dict[str, Any]):
    """Execute inside the DBAPI connection's current transaction (`Store.raw_write`); returns the cursor."""
    cursor = dbapi_conn.cursor()
    statement = _for_driver(sql, dialect)
    try:
        cursor.execute(statement, {**params, "true": True, "false": False})
    except _INTEGRITY_ERRORS as exc:
        # Same exception type as the rest of the store raises, so callers catch one thing.
        raise IntegrityError(statement, params, exc) from exc
    return cursor


def in_list(name: str, values: list[int]) -> tuple[str, dict[str, int]]:
    """An IN (...) placeholder list and its parameters (a handful of ids: one placeholder each)."""
    keys = [f"{name}{i}" for i in range(len(values))]
    return ", ".join(f":{k}" for k in keys), dict(zip(keys, values, strict=True))


def to_json(value: Any) -> str:
    return json.dumps(value)


def from_json(value: Any) -> Any:
    """SQLite returns JSON columns as text; psycopg has already parsed them."""
    return json.loads(value) if isinstance(value, str | bytes) else value
