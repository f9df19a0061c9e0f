"""The rater workforce: campaign rules, versioned guidelines, skills, qualification, pauses, escalations, auto-labels

Revision ID: 0010_workforce
Revises: 0009_webhooks

Why: hitl measured rater quality but acted on little of it (issue 14). The rules of a campaign (hitl.workforce.rules)
are one JSON column; each judgment records the guidelines version in force; users carry skills; the rest are
tables of their own (hitl/store/schema.py). PostgreSQL: hitl_record_judgment writes the version (read with the
item's row, under the same lock: signature and results unchanged), and hitl_next_item_routed is hitl_next_item
(revision 0008) with one more argument, the prompt tags the caller lacks the skills for; hitl_next_item itself is
unchanged, so campaigns without skill routing take exactly the old path.
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0010_workforce"
down_revision = "0009_webhooks"
branch_labels = None
depends_on = None


def _revision(name: str, filename: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_once(text: str, old: str, new: str, what: str) -> str:
    if text.count(old) != 1:
        raise RuntimeError(f"{what} changed: update 0010_workforce")
    return text.replace(old, new)


def record_judgment_sql() -> str:
    """Revision 0006's hitl_record_judgment, also writing the campaign's guidelines version (NULL for imports)."""
    text = _revision("hitl_migration_0006", "0006_pg_record_import.py").RECORD_JUDGMENT
    what = "revision 0006's hitl_record_judgment"
    text = _replace_once(text, "    v_id integer;\n", "    v_id integer;\n    v_version integer;\n", what)
    text = _replace_once(
        text,
        "    SELECT judgment_count, is_gold INTO v_count, v_gold FROM items WHERE id = p_item FOR NO KEY UPDATE;\n",
        "    SELECT i.judgment_count, i.is_gold, c.guidelines_version INTO v_count, v_gold, v_version\n"
        "    FROM items i JOIN campaigns c ON c.id = i.campaign_id WHERE i.id = p_item FOR NO KEY UPDATE OF i;\n",
        what,
    )
    text = _replace_once(
        text,
        "seconds_on_item, display_order, idempotency_key, source, created_at)\n",
        "seconds_on_item, display_order, idempotency_key, source, created_at,\n"
        "                           guidelines_version)\n",
        what,
    )
    return _replace_once(
        text,
        "            p_seconds, p_order, p_key, p_source, p_now)\n",
        "            p_seconds, p_order, p_key, p_source, p_now,\n"
        "            CASE WHEN p_lease IS NULL THEN NULL ELSE v_version END)\n",
        what,
    )


def next_item_routed_sql() -> str:
    """Revision 0008's hitl_next_item as hitl_next_item_routed(..., p_forbidden text[]): regular items whose prompt
    carries any of the forbidden tags are passed over."""
    text = _revision("hitl_migration_0008", "0008_pg_one_live_lease.py").next_item_sql()
    what = "revision 0008's hitl_next_item"
    text = _replace_once(text, "FUNCTION hitl_next_item(", "FUNCTION hitl_next_item_routed(", what)
    text = _replace_once(
        text,
        "p_gold integer, p_max_passed_over integer\n)",
        "p_gold integer, p_max_passed_over integer,\n    p_forbidden text[]\n)",
        what,
    )
    return _replace_once(
        text,
        "              AND i.id <> ALL (v_passed)\n",
        "              AND i.id <> ALL (v_passed)\n"
        "              AND NOT EXISTS (SELECT 1 FROM prompts p WHERE p.id = i.prompt_id\n"
        "                              AND jsonb_exists_any(p.tags::jsonb, p_forbidden))\n",
        what,
    )


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("workforce", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("guidelines_version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(sa.Column("guidelines_version", sa.Integer(), nullable=True))
    op.create_table(
        "user_skills",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("skill", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "guideline_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("guidelines", sa.Text(), nullable=False),
        sa.Column("requalify", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("campaign_id", "version", name="uq_guideline_versions_campaign_version"),
    )
    op.create_table(
        "qualification_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("guidelines_version", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean()),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float()),
    )
    op.create_index("ix_qualification_attempts_user", "qualification_attempts", ["user_id", "campaign_id"])
    op.create_table(
        "rater_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_rater_events_user", "rater_events", ["user_id", "campaign_id", "created_at"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("skill", sa.String(64)),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("resolved_at", sa.Float()),
        sa.Column("resolved_by", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("adjudication_id", sa.Integer(), sa.ForeignKey("adjudications.id")),
    )
    op.create_index("ix_escalations_campaign", "escalations", ["campaign_id", "resolved_at"])
    op.create_index("ix_escalations_item", "escalations", ["item_id"])
    op.create_table(
        "gold_rationales",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "auto_labels",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("preferred_response_id", sa.Integer(), sa.ForeignKey("responses.id"), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("calibrated", sa.Float(), nullable=False),
        sa.Column("audit", sa.Boolean(), nullable=False),
        sa.Column("judgment_id", sa.Integer(), sa.ForeignKey("judgments.id")),
        sa.Column("model_version_id", sa.Integer(), sa.ForeignKey("model_versions.id")),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_auto_labels_campaign", "auto_labels", ["campaign_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(record_judgment_sql())
        op.execute(next_item_routed_sql())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hitl_next_item_routed")
        op.execute(_revision("hitl_migration_0006", "0006_pg_record_import.py").RECORD_JUDGMENT)
    for index, table in (
        ("ix_auto_labels_campaign", "auto_labels"),
        ("ix_escalations_item", "escalations"),
        ("ix_escalations_campaign", "escalations"),
        ("ix_rater_events_user", "rater_events"),
        ("ix_qualification_attempts_user", "qualification_attempts"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "auto_labels",
        "gold_rationales",
        "escalations",
        "rater_events",
        "qualification_attempts",
        "guideline_versions",
        "user_skills",
    ):
        op.drop_table(table)
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+) rather than batch mode, which rebuilds the table and cannot drop
    # one that items and judgments point at while foreign keys are on.
    for table, column in (("judgments", "guidelines_version"), ("campaigns", "guidelines_version")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("ALTER TABLE campaigns DROP COLUMN workforce")
