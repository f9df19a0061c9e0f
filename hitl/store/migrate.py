"""Apply the Alembic migrations in `hitl/store/migrations` to a store, on every start.

    hitl init --db sqlite:///hitl.db      # runs this, then creates the first admin

Alembic is driven from code (no alembic.ini on the user's side): the connection is handed to
`migrations/env.py`, and concurrent starts are serialised (SQLite: `BEGIN IMMEDIATE`; PostgreSQL:
a transaction-scoped advisory lock), so two app hosts starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ADVISORY_LOCK_KEY = 0x6869746C  # "hitl"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(store) -> str | None:
    with store.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store, revision: str = "head") -> None:
    """Bring the schema to `revision`; a database newer than this code is refused, not touched."""
    from hitl.store.engine import StoreError

    cfg = _config()
    script = ScriptDirectory.from_config(cfg)
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise StoreError(
                f"the database is at schema revision {current}, which this version of hitl does not know: "
                "upgrade hitl (pip install -U hitl-rlhf) or point --db at another database"
            )
        if current == script.get_current_head() and revision == "head":
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
