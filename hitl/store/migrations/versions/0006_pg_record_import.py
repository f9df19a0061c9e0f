"""PostgreSQL: hitl_record_judgment takes a NULL lease, so imported judgments are written by the same function

Revision ID: 0006_pg_record_import
Revises: 0005_pg_queue

Why: an imported preference has no lease, and used to be inserted and counted by hand-written statements of its
own (hitl/io/preference_import.py). Now the import calls hitl_record_judgment inside its transaction with a NULL
lease: there is no lease row to lock, check or close; the item's lock, its full check, the insert and the count
(done at the overlap; gold items stay open) are those of a submit. Signature and results are unchanged. Nothing
on SQLite, where both callers run the same statements (hitl/queue/record.py). The downgrade restores the function
exactly as 0005 created it (its text is read from that migration, so it is written once).
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006_pg_record_import"
down_revision = "0005_pg_queue"
branch_labels = None
depends_on = None

RECORD_JUDGMENT = """
CREATE OR REPLACE FUNCTION hitl_record_judgment(
    p_lease integer, p_item integer, p_user integer, p_now double precision, p_overlap integer, p_ranking json,
    p_strength integer, p_tie boolean, p_both_bad boolean, p_flags json, p_rationale text, p_correction text,
    p_seconds double precision, p_order json, p_key text, p_source text
) RETURNS TABLE (o_status text, o_judgment integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_gold boolean;
    v_id integer;
BEGIN
    -- The lease must still be live once we hold it: a concurrent submit or an expiry wins otherwise.
    -- An import has none (NULL): its preference was collected elsewhere.
    IF p_lease IS NOT NULL THEN
        PERFORM 1 FROM leases WHERE id = p_lease AND state = 'active' AND expires_at > p_now FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'lease'::text, NULL::integer;
            RETURN;
        END IF;
    END IF;
    SELECT judgment_count, is_gold INTO v_count, v_gold FROM items WHERE id = p_item FOR NO KEY UPDATE;
    IF NOT v_gold AND v_count >= p_overlap THEN
        RETURN QUERY SELECT 'full'::text, NULL::integer;
        RETURN;
    END IF;
    INSERT INTO judgments (item_id, user_id, lease_id, ranking, strength, tie, both_bad, flags, rationale, correction,
                           seconds_on_item, display_order, idempotency_key, source, created_at)
    VALUES (p_item, p_user, p_lease, p_ranking, p_strength, p_tie, p_both_bad, p_flags, p_rationale, p_correction,
            p_seconds, p_order, p_key, p_source, p_now)
    RETURNING id INTO v_id;
    UPDATE items SET judgment_count = judgment_count + 1,
                     status = CASE WHEN judgment_count + 1 >= p_overlap AND NOT is_gold THEN 'done' ELSE status END
    WHERE id = p_item;
    IF p_lease IS NOT NULL THEN
        UPDATE leases SET state = 'submitted', closed_at = p_now WHERE id = p_lease;
    END IF;
    RETURN QUERY SELECT 'ok'::text, v_id;
END
$$
"""


def _revision_0005():
    path = Path(__file__).with_name("0005_pg_queue_functions.py")
    spec = importlib.util.spec_from_file_location("hitl_migration_0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(RECORD_JUDGMENT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_revision_0005().RECORD_JUDGMENT)
