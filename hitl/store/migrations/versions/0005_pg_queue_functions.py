"""PostgreSQL: the queue's hot path as two server-side functions (one round trip each); nothing on SQLite

Revision ID: 0005_pg_queue
Revises: 0004_prelabels

Why: on PostgreSQL a lease took five round trips (BEGIN, live lease, pick, lease, COMMIT) and a submit four; on a
small machine the client and the server spent most of their time on those. `hitl_next_item` and
`hitl_record_judgment` run the same steps inside the server, each call its own transaction (the queue calls them
in autocommit). Each statement of a PL/pgSQL function takes a fresh snapshot under READ COMMITTED, which is what
the recount under the item's row lock needs (hitl/queue/assign.py). Python keeps what needs Python: the gold draw,
the random display order (passed in as sort keys), the lease token, and the validation of a judgment.

Row locks are FOR NO KEY UPDATE, not FOR UPDATE: they exclude each other (two pickers or two submits of one item
still take turns) but not the KEY SHARE locks that the foreign-key checks of concurrent lease and judgment inserts
take on the same item; FOR UPDATE made those inserts wait for the picker.
"""

from alembic import op

revision = "0005_pg_queue"
down_revision = "0004_prelabels"
branch_labels = None
depends_on = None

_LIVE_LEASES = "(SELECT count(*) FROM leases l WHERE l.item_id = i.id AND l.state = 'active' AND l.expires_at > p_now)"

NEXT_ITEM = f"""
CREATE OR REPLACE FUNCTION hitl_next_item(
    p_user integer, p_campaign integer, p_now double precision, p_overlap integer, p_expires double precision,
    p_token text, p_keys double precision[], p_gold integer, p_max_passed_over integer
) RETURNS TABLE (o_token text, o_item integer, o_order json, o_expires double precision, o_resumed boolean,
                 o_lease integer, o_gold boolean, o_ids json,
                 o_response integer, o_text text, o_prompt_text text, o_prompt_messages json)
LANGUAGE plpgsql AS $$
DECLARE
    v_token text;
    v_item integer;
    v_ids json;
    v_order json;
    v_shown integer[];
    v_response integer;
    v_expires double precision;
    v_resumed boolean := false;
    v_lease integer;
    v_gold boolean;
    v_room boolean;
    v_passed integer[] := '{{}}';
BEGIN
    -- The user's live lease in this campaign first: a refresh resumes it.
    SELECT l.id, l.token, l.item_id, l.display_order, l.expires_at, i.is_gold, i.response_ids
    INTO v_lease, v_token, v_item, v_order, v_expires, v_gold, v_ids
    FROM leases l JOIN items i ON i.id = l.item_id
    WHERE l.user_id = p_user AND l.state = 'active' AND l.expires_at > p_now AND i.campaign_id = p_campaign
    LIMIT 1;
    IF FOUND THEN
        v_resumed := true;
    ELSIF p_gold IS NOT NULL THEN
        SELECT i.id, i.response_ids, i.is_gold INTO v_item, v_ids, v_gold FROM items i WHERE i.id = p_gold;
        IF NOT FOUND THEN RETURN; END IF;
    ELSE
        LOOP
            -- Lock a candidate; concurrent callers skip it and take the next one.
            SELECT i.id, i.response_ids, false INTO v_item, v_ids, v_gold FROM items i
            WHERE i.campaign_id = p_campaign AND i.status = 'open' AND NOT i.is_gold
              AND i.judgment_count + {_LIVE_LEASES} < p_overlap
              AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.item_id = i.id AND j.user_id = p_user)
              AND NOT EXISTS (SELECT 1 FROM leases s WHERE s.item_id = i.id AND s.user_id = p_user
                              AND s.state = 'skipped')
              AND i.id <> ALL (v_passed)
            ORDER BY i.priority DESC, i.id LIMIT 1
            FOR NO KEY UPDATE OF i SKIP LOCKED;
            IF NOT FOUND THEN RETURN; END IF;
            -- Recount under the lock: this statement's snapshot holds every lease committed before it.
            SELECT i.judgment_count + {_LIVE_LEASES} < p_overlap INTO v_room FROM items i WHERE i.id = v_item;
            EXIT WHEN v_room;
            v_passed := v_passed || v_item;  -- filled up between the pick's snapshot and the lock
            IF cardinality(v_passed) >= p_max_passed_over THEN RETURN; END IF;
        END LOOP;
    END IF;
    IF NOT v_resumed THEN
        -- The display order: the item's responses sorted by the caller's random keys.
        SELECT json_agg(e.id::integer ORDER BY p_keys[e.ord::integer], e.ord) INTO v_order
        FROM json_array_elements_text(v_ids) WITH ORDINALITY AS e(id, ord);
        v_token := p_token;
        v_expires := p_expires;
        INSERT INTO leases (token, item_id, user_id, state, display_order, created_at, expires_at)
        VALUES (p_token, v_item, p_user, 'active', v_order, p_now, p_expires)
        RETURNING id INTO v_lease;
    END IF;
    -- One primary-key lookup per shown response, in display order. A set-returning subquery here let the cached
    -- generic plan, on young tables with stale statistics, hash-join a sequential scan of all responses.
    SELECT array_agg(e.id::integer ORDER BY e.ord) INTO v_shown
    FROM json_array_elements_text(v_order) WITH ORDINALITY AS e(id, ord);
    FOREACH v_response IN ARRAY v_shown LOOP
        RETURN QUERY
            SELECT v_token, v_item, v_order, v_expires, v_resumed, v_lease, v_gold, v_ids,
                   r.id, r.text, p.text, p.messages
            FROM responses r JOIN prompts p ON p.id = r.prompt_id
            WHERE r.id = v_response;
    END LOOP;
END
$$
"""

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
    PERFORM 1 FROM leases WHERE id = p_lease AND state = 'active' AND expires_at > p_now FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'lease'::text, NULL::integer;
        RETURN;
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
    UPDATE leases SET state = 'submitted', closed_at = p_now WHERE id = p_lease;
    RETURN QUERY SELECT 'ok'::text, v_id;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NEXT_ITEM)
    op.execute(RECORD_JUDGMENT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS hitl_next_item")
    op.execute("DROP FUNCTION IF EXISTS hitl_record_judgment")
