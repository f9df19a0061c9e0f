"""Multi-attribute ratings: a campaign's aspects, and each judgment's scores of its responses on them

Revision ID: 0012_aspects
Revises: 0011_gold_decisions

Why: besides the preference, raters may score each response on named aspects (Likert 0-4, as HelpSteer2; issue
14). The campaign lists its aspects (campaigns.aspects, '' for none); a judgment keeps its scores in the same row
(judgments.aspects: {response id: {aspect: score}}, NULL without), so they are written by the one judgment write
with everything else, atomically. PostgreSQL: hitl_record_judgment (revision 0010) takes them as its last argument;
the old signature is dropped first, so no call can reach a version that would leave them out.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0012_aspects"
down_revision = "0011_gold_decisions"
branch_labels = None
depends_on = None

_OLD_SIGNATURE = (
    "hitl_record_judgment(integer, integer, integer, double precision, integer, json, integer, boolean, boolean, "
    "json, text, text, double precision, json, text, text"
)


def _revision_0010():
    spec = importlib.util.spec_from_file_location("hitl_migration_0010", Path(__file__).with_name("0010_workforce.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError("revision 0010's hitl_record_judgment changed: update 0012_aspects")
    return text.replace(old, new)


def record_judgment_sql() -> str:
    """Revision 0010's hitl_record_judgment with one more argument, p_aspects, written to judgments.aspects."""
    text = _revision_0010().record_judgment_sql()
    text = _replace_once(text, "p_key text, p_source text\n)", "p_key text, p_source text,\n    p_aspects json\n)")
    text = _replace_once(
        text,
        "                           guidelines_version)\n",
        "                           guidelines_version, aspects)\n",
    )
    return _replace_once(
        text,
        "            CASE WHEN p_lease IS NULL THEN NULL ELSE v_version END)\n",
        "            CASE WHEN p_lease IS NULL THEN NULL ELSE v_version END, p_aspects)\n",
    )


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("aspects", sa.Text(), nullable=False, server_default=""))
    op.add_column("judgments", sa.Column("aspects", sa.JSON(none_as_null=True)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_OLD_SIGNATURE})")
        op.execute(record_judgment_sql())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_OLD_SIGNATURE}, json)")
        op.execute(_revision_0010().record_judgment_sql())
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as revision 0010 does.
    op.execute("ALTER TABLE judgments DROP COLUMN aspects")
    op.execute("ALTER TABLE campaigns DROP COLUMN aspects")
