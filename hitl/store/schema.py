"""Table definitions of the preference store (SQLAlchemy Core).

The single source of truth for the live schema. Alembic migrations in `migrations/versions` build
it step by step; `tests/store/test_migrations.py` checks the migrated database matches this module.

Times are epoch seconds (float): portable between SQLite and PostgreSQL and cheap to compare.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ROLES = ("rater", "reviewer", "admin")
ITEM_KINDS = ("pairwise", "ranking")
ITEM_STATUSES = ("open", "done", "retired")
LEASE_STATES = ("active", "submitted", "released", "skipped", "expired")
# "oracle": an oracle spec (rule:concise, module:function) that judged battles, kept so battles can name it.
MODEL_KINDS = ("policy", "reward", "oracle")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("label", String(128), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("guidelines", Text, nullable=False, default=""),
    Column("item_kind", String(16), nullable=False),
    Column("overlap", Integer, nullable=False),
    Column("gold_rate", Float, nullable=False),
    Column("lease_ttl_seconds", Float, nullable=False),
    Column("allow_tie", Boolean, nullable=False),
    Column("allow_both_bad", Boolean, nullable=False),
    Column("require_rationale", Boolean, nullable=False, default=False),
    Column("show_prelabel", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    # Migration 0010_workforce: the rules of hitl.workforce.rules (NULL: none), and the guidelines' version number.
    Column("workforce", JSON(none_as_null=True)),
    Column("guidelines_version", Integer, nullable=False, default=1, server_default="1"),
    # Migration 0012_aspects: the aspects each response may be scored on, comma-separated ('' for none).
    Column("aspects", Text, nullable=False, default="", server_default=""),
)

prompts = Table(
    "prompts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(128), unique=True),
    # Exactly one of text / messages is set: a plain prompt or a chat (list of {role, content}).
    Column("text", Text),
    Column("messages", JSON(none_as_null=True)),
    Column("tags", JSON, nullable=False),
    Column("source", String(255), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("path", Text, nullable=False, default=""),
    Column("parent_id", Integer, ForeignKey("model_versions.id")),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("kind", "name", name="uq_model_versions_kind_name"),
)

responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prompt_id", Integer, ForeignKey("prompts.id"), nullable=False),
    Column("model_version_id", Integer, ForeignKey("model_versions.id")),
    Column("text", Text, nullable=False),
    Column("sampling", JSON, nullable=False),
    Column("source", String(255), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Index("ix_responses_prompt", "prompt_id"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("prompt_id", Integer, ForeignKey("prompts.id"), nullable=False),
    # The canonical order of the compared responses; what a rater saw is in leases.display_order.
    Column("response_ids", JSON, nullable=False),
    Column("priority", Float, nullable=False, default=0.0),
    Column("status", String(16), nullable=False, default="open"),
    Column("is_gold", Boolean, nullable=False, default=False),
    # Gold items: the canonical index of the correct response.
    Column("gold_answer", Integer),
    # Denormalised so the queue can test "judgments + live leases < overlap" without a COUNT.
    Column("judgment_count", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    # How the loop chose this pair (hitl.pair_selection: method, score, disagreement, ...); NULL otherwise.
    Column("selection", JSON(none_as_null=True)),
)
# Matches the queue's ORDER BY exactly (priority DESC, id ASC), so SQLite stops at the first free
# item instead of sorting every open item of the campaign on each request.
Index("ix_items_queue", items.c.campaign_id, items.c.status, items.c.is_gold, items.c.priority.desc(), items.c.id)

leases = Table(
    "leases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("display_order", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("closed_at", Float),
    Index("ix_leases_item_state", "item_id", "state", "expires_at"),
    Index("ix_leases_user_state", "user_id", "state"),
)

judgments = Table(
    "judgments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("lease_id", Integer, ForeignKey("leases.id")),
    # Response ids best first. Pairwise: [preferred, other]; with tie=True the order is meaningless.
    Column("ranking", JSON, nullable=False),
    Column("strength", Integer, nullable=False),
    Column("tie", Boolean, nullable=False),
    Column("both_bad", Boolean, nullable=False),
    Column("flags", JSON, nullable=False),
    Column("rationale", Text, nullable=False, default=""),
    Column("correction", Text),
    Column("seconds_on_item", Float),
    Column("display_order", JSON, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("source", String(64), nullable=False, default="ui"),
    Column("created_at", Float, nullable=False),
    # The campaign's guidelines version when a lease's judgment was recorded; NULL for imports (made elsewhere).
    Column("guidelines_version", Integer),
    # Migration 0012_aspects: the rater's scores of the responses on the campaign's aspects, {response id: {aspect:
    # 0-4}} (NULL: none given).
    Column("aspects", JSON(none_as_null=True)),
    UniqueConstraint("item_id", "user_id", name="uq_judgments_item_user"),
    UniqueConstraint("user_id", "idempotency_key", name="uq_judgments_user_key"),
    Index("ix_judgments_created", "created_at"),
)

adjudications = Table(
    "adjudications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("reviewer_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("ranking", JSON, nullable=False),
    Column("strength", Integer, nullable=False),
    Column("tie", Boolean, nullable=False),
    Column("both_bad", Boolean, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("accepted_correction_judgment_id", Integer, ForeignKey("judgments.id")),
    Column("created_at", Float, nullable=False),
    Index("ix_adjudications_item", "item_id"),
)

dataset_snapshots = Table(
    "dataset_snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("parent_ids", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    Column("path", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

# One row per round of the human-in-the-loop cycle; `stage` is the next stage to run, so a killed
# `hitl loop` resumes exactly where it stopped.
loop_rounds = Table(
    "loop_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("judgments_at_start", Integer, nullable=False),
    Column("base_policy_id", Integer, ForeignKey("model_versions.id")),
    Column("reward_version_id", Integer, ForeignKey("model_versions.id")),
    Column("policy_version_id", Integer, ForeignKey("model_versions.id")),
    Column("snapshot_id", Integer, ForeignKey("dataset_snapshots.id")),
    Column("metrics", JSON, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("campaign_id", "number", name="uq_loop_rounds_campaign_number"),
)

# --- The web app (migration 0003_web): browser sessions, login throttling, arena battles. ---

# A browser login. The cookie holds a random token; only its sha256 is stored, so a leaked database
# cannot be replayed as logins, and a logout or an expiry ends the session on the server.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float),
    Index("ix_web_sessions_user", "user_id"),
)

# Failed logins (and successes, which reset the count), kept in the store so every app host sees them.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_login_attempts_name", "user_name", "created_at"),
    Index("ix_login_attempts_client", "client", "created_at"),
)

# Who judged a battle: a person's vote, a reward model, or an oracle (`hitl eval-policy --oracle`, its spec kept as a
# model version of kind "oracle").
ARENA_JUDGES = ("human", "reward", "oracle")
ARENA_OUTCOMES = ("a", "b", "tie", "both_bad")

# A blind battle between two model versions' stored answers to one prompt. `counted` is set only by
# a vote cast before the model names were revealed; judge "reward" rows are scored by a reward model.
arena_battles = Table(
    "arena_battles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prompt_id", Integer, ForeignKey("prompts.id"), nullable=False),
    Column("model_a_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("model_b_id", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("response_a_id", Integer, ForeignKey("responses.id"), nullable=False),
    Column("response_b_id", Integer, ForeignKey("responses.id"), nullable=False),
    Column("judge", String(16), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id")),
    Column("judge_model_id", Integer, ForeignKey("model_versions.id")),
    Column("outcome", String(16)),
    Column("strength", Integer),
    Column("counted", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("voted_at", Float),
    Column("revealed_at", Float),
    Index("ix_arena_battles_judge", "judge", "counted"),
    Index("ix_arena_battles_user", "user_id", "revealed_at"),
)

# --- Reward-model pre-labels (migration 0004_prelabels): the hint the rate page may show. ---

# The latest reward model's view of an item (one row per item, replaced by each `hitl score`): rewards per
# response in the item's stored order, the response it prefers, how sure it is, and the uncertainty that
# became the item's priority.
item_prelabels = Table(
    "item_prelabels",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("model_version_id", Integer, ForeignKey("model_versions.id")),
    Column("rewards", JSON, nullable=False),
    Column("preferred_response_id", Integer, ForeignKey("responses.id"), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("uncertainty", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

# --- Webhooks (migration 0009_webhooks): signed event deliveries to configured URLs. ---

# A URL that receives a campaign's events (campaign_id NULL: every campaign's). The cursors are the last judgment
# and model version already turned into deliveries, so a new webhook starts from now and a restart resends nothing.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id")),
    Column("url", Text, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("events", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("judgment_cursor", Integer, nullable=False, default=0),
    Column("version_cursor", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

# The delivery log: one row per (webhook, event), retried with back-off until delivered or out of attempts.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id"), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_status", Integer),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

# --- Running a rater workforce (migration 0010_workforce, hitl.workforce). ---

RATER_EVENTS = ("warned", "paused", "reinstated")
ESCALATION_REASONS = ("low_agreement", "no_consensus", "unsure", "requested")

# Skills a user brings (medical, legal, code, ...): a campaign maps prompt tags to them (hitl.workforce.skills).
user_skills = Table(
    "user_skills",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("skill", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
)

# Every version of a campaign's guidelines; a judgment names the one in force (judgments.guidelines_version).
guideline_versions = Table(
    "guideline_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("guidelines", Text, nullable=False),
    Column("requalify", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("campaign_id", "version", name="uq_guideline_versions_campaign_version"),
)

# One row per attempt at a campaign's qualification: the gold items judged as training, and the verdict.
qualification_attempts = Table(
    "qualification_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("guidelines_version", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("correct", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("passed", Boolean),  # NULL while the attempt runs
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Index("ix_qualification_attempts_user", "user_id", "campaign_id"),
)

# Warnings, pauses and reinstatements of a rater in a campaign (actor_id: the reviewer who reinstated).
rater_events = Table(
    "rater_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("created_at", Float, nullable=False),
    Index("ix_rater_events_user", "user_id", "campaign_id", "created_at"),
)

# Items sent to the expert queue, why, for which skill (NULL: any reviewer), and the expert answer that became
# the label (an adjudication).
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("skill", String(64)),
    Column("requested_by", Integer, ForeignKey("users.id")),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("resolved_by", Integer, ForeignKey("users.id")),
    Column("adjudication_id", Integer, ForeignKey("adjudications.id")),
    Index("ix_escalations_campaign", "campaign_id", "resolved_at"),
    Index("ix_escalations_item", "item_id"),
)

# Why a gold item's answer is right: shown to a rater in training after they answer it.
gold_rationales = Table(
    "gold_rationales",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("rationale", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The reward model's labels of items it was sure of (hitl.workforce.automation): the calibrated confidence, whether
# the item also went to humans as an audit, and the judgment that carries the label (source "auto").
auto_labels = Table(
    "auto_labels",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("preferred_response_id", Integer, ForeignKey("responses.id"), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("calibrated", Float, nullable=False),
    Column("audit", Boolean, nullable=False),
    Column("judgment_id", Integer, ForeignKey("judgments.id")),
    Column("model_version_id", Integer, ForeignKey("model_versions.id")),
    Column("created_at", Float, nullable=False),
    Index("ix_auto_labels_campaign", "campaign_id"),
)

# --- Gold grows (migration 0011_gold_decisions, hitl.workforce.gold). ---

# A reviewer's decision on an item proposed as gold (unanimous, competent raters): confirmed ones became gold with
# `answer` (canonical index); declined ones are never proposed again. reviewer_id NULL: decided at the CLI.
gold_decisions = Table(
    "gold_decisions",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("answer", Integer),
    Column("reviewer_id", Integer, ForeignKey("users.id")),
    Column("note", Text, nullable=False, default=""),
    Column("decided_at", Float, nullable=False),
    Index("ix_gold_decisions_campaign", "campaign_id"),
)
