"""loop rounds: the state of `hitl loop`, one row per round

Revision ID: 0002_loop
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_loop"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loop_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("judgments_at_start", sa.Integer(), nullable=False),
        sa.Column("base_policy_id", sa.Integer(), nullable=True),
        sa.Column("reward_version_id", sa.Integer(), nullable=True),
        sa.Column("policy_version_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["base_policy_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["reward_version_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["policy_version_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["snapshot_id"], ["dataset_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "number", name="uq_loop_rounds_campaign_number"),
    )


def downgrade() -> None:
    op.drop_table("loop_rounds")
