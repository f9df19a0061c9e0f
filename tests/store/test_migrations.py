"""The migrated schema matches hitl.store.schema, migrations are idempotent, unknown revisions are refused, and
the queue functions' downgrade restores what the revision before made."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from factories import add_items
from sqlalchemy import select, text

from hitl.queue import JudgmentInput
from hitl.queue import sql as queue_sql
from hitl.queue.record import judgment_row
from hitl.queue.types import JudgmentRules
from hitl.store import StoreError, open_store
from hitl.store.migrate import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from hitl.store.schema import items, metadata


def test_migrated_schema_matches_metadata(store):
    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert current_revision(store) == head_revision()


def test_reopening_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    for _ in range(3):
        s = open_store(url)
        assert current_revision(s) == head_revision()
        s.close()


def test_database_from_a_newer_hitl_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    s = open_store(url)
    with s.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    s.close()
    with pytest.raises(StoreError, match="does not know"):
        open_store(url)


def test_bad_url_is_a_clear_error():
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("mysql://nope")


def test_sqlite_uses_wal(sqlite_store):
    with sqlite_store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def _downgrade(store, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.write() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _record_without_lease(store, campaign, item_id: int, user_id: int, key: str, before_0012: bool = False) -> tuple:
    with store.read() as conn:
        ids = conn.execute(select(items.c.response_ids).where(items.c.id == item_id)).scalar()
    row = judgment_row(
        JudgmentInput(ranking=ids, strength=1),
        JudgmentRules.of(campaign.settings),
        response_ids=ids,
        item_id=item_id,
        user_id=user_id,
        lease_id=None,
        display_order=ids,
        overlap=campaign.settings.overlap,
        key=key,
        source="import",
        now=1.0,
    )
    call = queue_sql.PG_RECORD_JUDGMENT
    if before_0012:  # the function had no aspects argument yet
        call = call.replace(", CAST(:aspects AS json))", ")")
    with store.raw_autocommit() as conn:
        return tuple(queue_sql.run(conn, "postgresql", call, row).fetchone())


def test_record_judgment_takes_a_null_lease_and_the_downgrade_restores_the_old_function(
    store, make_user, make_campaign
):
    """0006: hitl_record_judgment records an import (no lease); downgraded to 0005 it refuses it again."""
    c = make_campaign(gold_rate=0, overlap=1)
    first, second = add_items(store, c, 2)
    u = make_user()
    _downgrade(store, "0005_pg_queue")
    assert current_revision(store) == "0005_pg_queue"
    if store.dialect == "postgresql":
        assert _record_without_lease(store, c, first, u.id, "a", before_0012=True) == ("lease", None)
    upgrade(store)
    assert current_revision(store) == head_revision()
    if store.dialect == "postgresql":
        status, judgment_id = _record_without_lease(store, c, second, u.id, "b")
        assert status == "ok" and judgment_id is not None
        with store.read() as conn:
            row = conn.execute(select(items.c.judgment_count, items.c.status).where(items.c.id == second)).one()
        assert tuple(row) == (1, "done")
