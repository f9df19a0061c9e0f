"""The migrated schema matches hitl.store.schema, migrations are idempotent, and unknown revisions are refused."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from hitl.store import StoreError, open_store
from hitl.store.migrate import current_revision, head_revision
from hitl.store.schema import metadata


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
