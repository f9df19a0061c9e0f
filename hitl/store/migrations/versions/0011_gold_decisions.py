"""Gold grows: a reviewer's decision on each item proposed as gold

Revision ID: 0011_gold_decisions
Revises: 0010_workforce

Why: items judged unanimously by competent raters are proposed as gold (hitl.quality.gold_growth) and a reviewer
confirms or declines each (hitl.workforce.gold, issue 14). A confirmed item becomes gold in place (items.is_gold,
gold_answer); the decision row keeps who decided, when and on which answer, and a declined item is never proposed
again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_gold_decisions"
down_revision = "0010_workforce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gold_decisions",
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Integer()),
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_gold_decisions_campaign", "gold_decisions", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_gold_decisions_campaign", table_name="gold_decisions")
    op.drop_table("gold_decisions")
