"""PostgreSQL: hitl_next_item serialises the calls of one user in one campaign, so a rater holds one live lease
there at most; nothing on SQLite

Revision ID: 0008_pg_one_live_lease
Revises: 0007_item_selection

Why: the live-lease check took no lock, so concurrent `next` calls with one token (32 at once in the issue's test)
each missed the others' uncommitted leases and returned up to 4 distinct live leases (SQLite, which serialises
every write, returned 1). The function now first takes a transaction-level advisory lock on (user, campaign):
a second call of the same rater waits for the first to commit, and its live-lease check, a later statement with a
fresh snapshot, then sees and resumes that lease. Calls of different raters, or of one rater in different
campaigns, never wait for each other. The rest of the function is revision 0005's, unchanged.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0008_pg_one_live_lease"
down_revision = "0007_item_selection"
branch_labels = None
depends_on = None

_BEGIN = """BEGIN
    -- The user's live lease in this campaign first: a refresh resumes it."""
_LOCKED = """BEGIN
    -- One caller per (user, campaign) at a time, until its transaction ends: two tabs or a retrying script get
    -- the same lease, never two (released at commit; other users and campaigns never wait on it).
    PERFORM pg_advisory_xact_lock(p_user, p_campaign);
    -- The user's live lease in this campaign first: a refresh resumes it."""


def _revision_0005():
    path = Path(__file__).with_name("0005_pg_queue_functions.py")
    spec = importlib.util.spec_from_file_location("hitl_migration_0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def next_item_sql() -> str:
    """Revision 0005's hitl_next_item with the advisory lock first."""
    original = _revision_0005().NEXT_ITEM
    if original.count(_BEGIN) != 1:
        raise RuntimeError("revision 0005's hitl_next_item changed: update 0008_pg_one_live_lease")
    return original.replace(_BEGIN, _LOCKED)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(next_item_sql())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_revision_0005().NEXT_ITEM)
