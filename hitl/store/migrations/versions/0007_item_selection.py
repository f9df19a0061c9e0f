"""items.selection: how the loop chose the pair an item compares (method, score, the model's view of it)

Revision ID: 0007_item_selection
Revises: 0006_pg_record_import

Why: the loop picks informative pairs among several candidate answers; the dashboard and the lineage show why an
item is in the queue (informative, diversity, random, or NULL for items made otherwise).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_item_selection"
down_revision = "0006_pg_record_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("selection", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("selection")
