"""One judgment write: imported and submitted judgments go through hitl.queue.record.record_judgment alike."""

import json

import pytest
from sqlalchemy import select

from hitl.io import import_preferences
from hitl.queue import JudgmentInput, next_item, submit
from hitl.queue.record import judgment_row, record_judgment
from hitl.queue.types import JudgmentRules
from hitl.store.schema import items, judgments, leases

SAME = ("item_id", "ranking", "strength", "tie", "both_bad", "flags", "rationale", "correction", "seconds_on_item")


def judgment_rows(store):
    with store.read() as conn:
        return conn.execute(
            select(judgments, items.c.judgment_count, items.c.status, items.c.response_ids)
            .join(items, items.c.id == judgments.c.item_id)
            .order_by(judgments.c.id)
        ).all()


def test_an_imported_and_a_submitted_judgment_are_recorded_alike(store, make_user, make_campaign, tmp_path):
    c = make_campaign(gold_rate=0, overlap=2)
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "Why?", "chosen": "Good.", "rejected": "Bad.", "strength": 3}) + "\n")
    import_preferences(store, path, campaign=c, as_="judgments")
    (imported,) = judgment_rows(store)
    assert (imported.judgment_count, imported.status) == (1, "open")  # one of the two judgments it needs

    rater = make_user()
    a = next_item(store, rater, c)
    assert a.item_id == imported.item_id
    by_text = {r.text: r.response_id for r in a.responses}
    submit(store, a.lease_token, "k", JudgmentInput(ranking=[by_text["Good."], by_text["Bad."]], strength=3), rater)

    imported, submitted = judgment_rows(store)
    assert [getattr(imported, f) for f in SAME] == [getattr(submitted, f) for f in SAME]
    assert (submitted.judgment_count, submitted.status) == (2, "done")  # counted by the same rule, once each
    assert (imported.source, imported.lease_id) == ("import", None)
    assert submitted.source == "queue" and submitted.lease_id is not None
    assert imported.display_order == imported.response_ids  # an import shows nothing: the item's own order
    assert submitted.display_order == [r.response_id for r in a.responses]
    with store.read() as conn:
        assert conn.execute(select(leases.c.state).where(leases.c.id == submitted.lease_id)).scalar() == "submitted"


def test_a_full_item_is_refused_by_postgresql_under_its_lock(store, make_user, make_campaign, tmp_path):
    """Without a lease the PostgreSQL function still checks the item's count (SQLite callers check it first)."""
    if store.dialect != "postgresql":
        pytest.skip("hitl_record_judgment is PostgreSQL's")
    c = make_campaign(gold_rate=0, overlap=1)
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "Why?", "chosen": "Good.", "rejected": "Bad."}) + "\n")
    import_preferences(store, path, campaign=c, as_="judgments")
    (imported,) = judgment_rows(store)
    row = judgment_row(
        JudgmentInput(ranking=imported.response_ids, strength=1),
        JudgmentRules.of(c.settings),
        response_ids=imported.response_ids,
        item_id=imported.item_id,
        user_id=make_user().id,
        lease_id=None,
        display_order=imported.response_ids,
        overlap=1,
        key="again",
        source="import",
        now=0.0,
    )
    with store.write() as conn:
        assert record_judgment(conn.connection.driver_connection, "postgresql", row) is None
    assert len(judgment_rows(store)) == 1
