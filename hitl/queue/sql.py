"""The queue's hot-path SQL, run on the DBAPI cursor of a SQLAlchemy connection.

    python -c "from hitl.queue import sql; print(sql.PICK_REGULAR)"

Why not SQLAlchemy expressions here: building and compiling them costs several times what SQLite
takes to run them, and next + submit must sustain over a thousand judgments a second on two cores.
Everything else in hitl uses SQLAlchemy Core; this module is the one measured exception
(scripts/bench_collection.py). Statements are written once with `:name` parameters and converted to
the driver's style. On SQLite the transaction comes from `Store.raw_write()`; on PostgreSQL the multi-step writes
are server-side functions (migrations 0005_pg_queue and 0006_pg_record_import): the queue calls each in
autocommit (`Store.raw_autocommit()`), one call one transaction, and an import calls hitl_record_judgment inside
its own transaction (hitl/queue/record.py).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from sqlalchemy.exc import IntegrityError

from hitl.store.pg_errors import pg_errors

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

# Skill routing (hitl.workforce.skills): items whose prompt carries a tag the rater lacks the skill for are passed
# over; :forbidden is those tags (a JSON array on SQLite, a text[] on PostgreSQL). Only routed raters pay for it.
_ALLOWED = {
    "sqlite": """NOT EXISTS (SELECT 1 FROM prompts p, json_each(p.tags) t WHERE p.id = i.prompt_id
                  AND t.value IN (SELECT value FROM json_each(:forbidden)))""",
    "postgresql": """NOT EXISTS (SELECT 1 FROM prompts p WHERE p.id = i.prompt_id
                      AND jsonb_exists_any(p.tags::jsonb, :forbidden))""",
}
UNSEEN_GOLD_ROUTED = {dialect: f"{UNSEEN_GOLD} AND {allowed}" for dialect, allowed in _ALLOWED.items()}

# SQLite (PostgreSQL runs the same choice inside hitl_next_item).
PICK_REGULAR = f"""
SELECT i.id, i.response_ids FROM items i
WHERE i.campaign_id = :campaign_id AND i.status = 'open' AND i.is_gold = :false
  AND i.judgment_count + {_LIVE_LEASES} < :overlap AND {_NOT_SEEN}
ORDER BY i.priority DESC, i.id LIMIT 1"""

PICK_REGULAR_ROUTED = PICK_REGULAR.replace("ORDER BY", f"AND {_ALLOWED['sqlite']}\nORDER BY")

INSERT_LEASE = """
INSERT INTO leases (token, item_id, user_id, state, display_order, created_at, expires_at)
VALUES (:token, :item_id, :user_id, 'active', :display_order, :now, :expires_at)"""

# PostgreSQL: the whole lease (live lease, pick under SKIP LOCKED, recount, insert, texts) in one server-side call,
# its own transaction (migration 0005_pg_queue). Rows: one per response; none when nothing is left for the user.
PG_NEXT_ITEM = """
SELECT o_token, o_item, o_order, o_expires, o_resumed, o_lease, o_gold, o_ids,
       o_response, o_text, o_prompt_text, o_prompt_messages
FROM hitl_next_item(:user_id, :campaign_id, :now, :overlap, :expires_at, :token, :keys, :gold_id, :max_passed_over)"""
# The same with the prompt tags the rater may not be given (migration 0010_workforce).
PG_NEXT_ITEM_ROUTED = PG_NEXT_ITEM.replace("hitl_next_item(", "hitl_next_item_routed(").replace(
    ":max_passed_over)", ":max_passed_over, :forbidden)"
)
# Display-order sort keys passed to hitl_next_item: one per response of the largest item (a ranking of 8).
PG_ORDER_KEYS = 8

LOAD_TEXTS = """
SELECT r.id, r.text, p.text, p.messages FROM responses r JOIN prompts p ON p.id = r.prompt_id
WHERE r.id IN ({ids})"""

LEASE_FOR_SUBMIT = """
SELECT l.id, l.user_id, l.state, l.expires_at, l.display_order, l.item_id, i.response_ids, i.is_gold,
       i.judgment_count, c.item_kind, c.overlap, c.allow_tie, c.allow_both_bad, c.require_rationale, c.id, c.workforce,
       c.guidelines_version, c.aspects
FROM leases l JOIN items i ON i.id = l.item_id JOIN campaigns c ON c.id = i.campaign_id
WHERE l.token = :token"""  # columns in the order of hitl.queue.submit._lease_facts

EARLIER_JUDGMENT = "SELECT id, item_id, lease_id FROM judgments WHERE user_id = :user_id AND idempotency_key = :key"

# PostgreSQL: lock the lease and the item, check they still take the judgment, insert it, count it, close the
# lease: one call. A NULL lease (an import) has nothing to lock or close. Returns (status, judgment id): ok, or
# lease / full when refused.
PG_RECORD_JUDGMENT = """
SELECT o_status, o_judgment FROM hitl_record_judgment(
  :lease_id, :item_id, :user_id, :now, :overlap, CAST(:ranking AS json), :strength, :tie, :both_bad,
  CAST(:flags AS json), :rationale, :correction, :seconds_on_item, CAST(:display_order AS json), :idempotency_key,
  :source, CAST(:aspects AS json))"""

# SQLite: the three writes of hitl_record_judgment, in the caller's BEGIN IMMEDIATE (hitl/queue/record.py).
INSERT_JUDGMENT = """
INSERT INTO judgments (item_id, user_id, lease_id, ranking, strength, tie, both_bad, flags, rationale, correction,
                       seconds_on_item, display_order, idempotency_key, source, created_at, guidelines_version,
                       aspects)
VALUES (:item_id, :user_id, :lease_id, :ranking, :strength, :tie, :both_bad, :flags, :rationale, :correction,
        :seconds_on_item, :display_order, :idempotency_key, :source, :now,
        CASE WHEN :lease_id IS NULL THEN NULL ELSE
          (SELECT c.guidelines_version FROM items i JOIN campaigns c ON c.id = i.campaign_id WHERE i.id = :item_id)
        END, :aspects)
RETURNING id"""

COUNT_JUDGMENT = """
UPDATE items SET judgment_count = judgment_count + 1,
                 status = CASE WHEN judgment_count + 1 >= :overlap AND is_gold = :false THEN 'done' ELSE status END
WHERE id = :item_id"""

CLOSE_SUBMITTED_LEASE = "UPDATE leases SET state = 'submitted', closed_at = :now WHERE id = :lease_id"
# A submit the workforce rules refused (hitl.workforce.hooks.refusal) gives its lease back.
RELEASE_REFUSED_LEASE = "UPDATE leases SET state = 'released', closed_at = :now WHERE id = :lease_id"

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
    """Execute on a DBAPI connection of `Store.raw_write` / `Store.raw_autocommit`; returns the cursor."""
    cursor = dbapi_conn.cursor()
    statement = _for_driver(sql, dialect)
    try:
        cursor.execute(statement, {**params, "true": True, "false": False})
    except (sqlite3.IntegrityError, *pg_errors("IntegrityError")) as exc:
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
