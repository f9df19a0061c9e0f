"""The expert queue: items sent on because their raters disagree, someone was unsure, or a reviewer asked; an
expert's answer becomes the item's label (an adjudication, which hitl.preferences puts above the votes).

    hitl workforce escalations demo            # what waits, why, for which skill, and for how long

Who may answer: a user with the escalation's skill (its item's skill-mapped tags, else the campaign's
escalation_skill), or for an escalation without a skill any reviewer; admins always. One open escalation per item.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from hitl.errors import Conflict, Forbidden, InvalidInput, NotFound
from hitl.store.schema import ESCALATION_REASONS, campaigns, escalations, items, judgments, prompts, users
from hitl.workforce.rules import WorkforceRules
from hitl.workforce.skills import required_skills


@dataclass(frozen=True)
class Escalation:
    id: int
    item_id: int
    campaign: str
    reason: str
    detail: str
    skill: str | None
    created_at: float
    resolved_at: float | None = None
    resolved_by: str | None = None

    def waited(self, now: float | None = None) -> float:
        """Seconds it has waited (until it was answered, once it is)."""
        end = self.resolved_at if self.resolved_at is not None else (time.time() if now is None else now)
        return max(0.0, end - self.created_at)


def open_escalation(conn, item_id: int):
    return conn.execute(
        select(escalations).where(escalations.c.item_id == item_id, escalations.c.resolved_at.is_(None))
    ).first()


def escalate(
    conn, item_id: int, rules: WorkforceRules, reason: str, detail: str = "", requested_by: int | None = None
) -> int | None:
    """Send an item to the expert queue (None when it waits there already); the skill comes from its prompt tags."""
    if reason not in ESCALATION_REASONS:
        raise InvalidInput(f"escalation reason must be one of {', '.join(ESCALATION_REASONS)}")
    if open_escalation(conn, item_id) is not None:
        return None
    row = conn.execute(
        select(items.c.campaign_id, prompts.c.tags)
        .join(prompts, prompts.c.id == items.c.prompt_id)
        .where(items.c.id == item_id)
    ).first()
    if row is None:
        raise NotFound(f"no item {item_id}")
    needed = sorted(required_skills(rules.skills, row.tags or ()))
    skill = needed[0] if needed else (rules.escalation_skill or None)
    return conn.execute(
        insert(escalations).values(
            item_id=item_id,
            campaign_id=row.campaign_id,
            reason=reason,
            detail=detail[:2000],
            skill=skill,
            requested_by=requested_by,
            created_at=time.time(),
        )
    ).inserted_primary_key[0]


def agreement_reason(labels: list[tuple], threshold: float) -> tuple[str, str] | None:
    """(reason, detail) when an item's judgments disagree enough to escalate: no single top answer, or a top answer
    held by less than `threshold` of them; None otherwise. Pure: `labels` are the answers as comparable tuples."""
    if not labels or threshold <= 0:
        return None
    counts = Counter(labels).most_common()
    top = counts[0][1]
    if len(counts) > 1 and counts[1][1] == top:
        return "no_consensus", f"no single top answer among {len(labels)} judgments"
    if top / len(labels) < threshold:
        return "low_agreement", f"top answer held by {top} of {len(labels)} judgments (< {threshold:.0%})"
    return None


def after_judgment(conn, lease, rules: WorkforceRules, user_id: int, flags) -> None:
    """The escalation rules for a regular item just judged (inside the hook's transaction)."""
    if rules.escalate_unsure and "unsure" in (flags or ()):
        name = conn.execute(select(users.c.name).where(users.c.id == user_id)).scalar()
        escalate(conn, lease.item_id, rules, "unsure", f"{name} flagged it unsure")
        return
    if not rules.escalate_below_agreement:
        return
    count = conn.execute(select(items.c.judgment_count).where(items.c.id == lease.item_id)).scalar()
    if count < lease.overlap:
        return
    rows = conn.execute(
        select(judgments.c.ranking, judgments.c.tie, judgments.c.both_bad).where(judgments.c.item_id == lease.item_id)
    ).all()
    labels = [("both_bad",) if r.both_bad and r.tie else ("tie",) if r.tie else tuple(r.ranking) for r in rows]
    found = agreement_reason(labels, rules.escalate_below_agreement)
    if found is not None:
        escalate(conn, lease.item_id, rules, found[0], found[1])


def may_answer(user, user_skills: set[str], skill: str | None) -> bool:
    """Whether `user` (with `user_skills`) may answer an escalation needing `skill`."""
    if user.has_role("admin"):
        return True
    return skill in user_skills if skill else user.has_role("reviewer")


def check_may_answer(user, user_skills: set[str], skill: str | None) -> None:
    if not may_answer(user, user_skills, skill):
        needed = f"the skill {skill!r}" if skill else "the reviewer role"
        raise Forbidden(f"this item waits for an expert with {needed}; {user.name!r} cannot answer it")


def list_escalations(conn, campaign_id: int | None = None, open_only: bool = True) -> list[Escalation]:
    """Escalations (of one campaign, or all), the longest waiting first."""
    resolver = users.alias("resolver")
    query = (
        select(escalations, campaigns.c.name.label("campaign"), resolver.c.name.label("resolver"))
        .join(campaigns, campaigns.c.id == escalations.c.campaign_id)
        .outerjoin(resolver, resolver.c.id == escalations.c.resolved_by)
        .order_by(escalations.c.created_at, escalations.c.id)
    )
    if campaign_id is not None:
        query = query.where(escalations.c.campaign_id == campaign_id)
    if open_only:
        query = query.where(escalations.c.resolved_at.is_(None))
    return [
        Escalation(r.id, r.item_id, r.campaign, r.reason, r.detail, r.skill, r.created_at, r.resolved_at, r.resolver)
        for r in conn.execute(query)
    ]


def resolve(conn, item_id: int, user_id: int, adjudication_id: int) -> int | None:
    """Close the item's open escalation with the adjudication that answers it (None when none was open)."""
    row = open_escalation(conn, item_id)
    if row is None:
        return None
    done = conn.execute(
        update(escalations)
        .where(escalations.c.id == row.id, escalations.c.resolved_at.is_(None))
        .values(resolved_at=time.time(), resolved_by=user_id, adjudication_id=adjudication_id)
    ).rowcount
    if not done:
        raise Conflict("another expert answered this escalation a moment ago")
    return row.id
