"""web app: browser sessions, login attempts (throttling) and arena battles

Revision ID: 0003_web
Revises: 0002_loop
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_web"
down_revision = "0002_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempts_name", "login_attempts", ["user_name", "created_at"], unique=False)
    op.create_index("ix_login_attempts_client", "login_attempts", ["client", "created_at"], unique=False)
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("model_a_id", sa.Integer(), nullable=False),
        sa.Column("model_b_id", sa.Integer(), nullable=False),
        sa.Column("response_a_id", sa.Integer(), nullable=False),
        sa.Column("response_b_id", sa.Integer(), nullable=False),
        sa.Column("judge", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("judge_model_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("strength", sa.Integer(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("voted_at", sa.Float(), nullable=True),
        sa.Column("revealed_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"]),
        sa.ForeignKeyConstraint(["model_a_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["model_b_id"], ["model_versions.id"]),
        sa.ForeignKeyConstraint(["response_a_id"], ["responses.id"]),
        sa.ForeignKeyConstraint(["response_b_id"], ["responses.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["judge_model_id"], ["model_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_arena_battles_judge", "arena_battles", ["judge", "counted"], unique=False)
    op.create_index("ix_arena_battles_user", "arena_battles", ["user_id", "revealed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_arena_battles_user", table_name="arena_battles")
    op.drop_index("ix_arena_battles_judge", table_name="arena_battles")
    op.drop_table("arena_battles")
    op.drop_index("ix_login_attempts_client", table_name="login_attempts")
    op.drop_index("ix_login_attempts_name", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")
