"""Setting a campaign's workforce rules (checked against the store first), the roster of its raters, reinstating a
paused or failed rater, gold rationales, and the feedback a rater in training sees after each answer.

    hitl workforce rules demo --qualification-items 5 --skill-map medical=medical

Bad settings are refused whole, naming the fix, before anything is written: a qualification with too few gold
items, a skill no active user has, a threshold outside [0, 1].
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from hitl.campaigns import Campaign, get_campaign
from hitl.errors import InvalidInput, NotFound
from hitl.store import Store
from hitl.store.schema import (
    campaigns,
    gold_rationales,
    items,
    judgments,
    qualification_attempts,
    users,
)
from hitl.workforce.rules import WorkforceRules, changed_rules, rules_from_json
from hitl.workforce.skills import skill_holders
from hitl.workforce.standing import (
    latest_warning,
    pause_of,
    qualification_of,
    record_event,
)

MAX_RATIONALE_CHARS = 5_000
AUTO_USER = "auto-reward"  # the system user whose judgments carry auto-labels (hitl.workforce.automation)


def _check_against_store(conn, campaign_id: int, name: str, rules: WorkforceRules) -> None:
    if rules.qualification_items:
        gold = conn.execute(
            select(func.count()).where(
                items.c.campaign_id == campaign_id, items.c.is_gold.is_(True), items.c.status == "open"
            )
        ).scalar()
        if not gold:
            raise InvalidInput(
                f"campaign {name!r} has no gold items to qualify raters with: import some first "
                f"(hitl import preferences FILE --campaign {name} --as gold); nothing was changed"
            )
        needed = rules.qualification_items * (1 + rules.qualification_retries)
        if gold < needed:
            raise InvalidInput(
                f"a qualification of {rules.qualification_items} items with {rules.qualification_retries} "
                f"retries needs {needed} gold items (each attempt takes unseen ones); campaign {name!r} has {gold}: "
                "import more, or lower qualification_items / qualification_retries; nothing was changed"
            )
    wanted = set(rules.skills.values()) | ({rules.escalation_skill} if rules.escalation_skill else set())
    missing = sorted(s for s, n in skill_holders(conn, wanted).items() if n == 0)
    if missing:
        tags = sorted(t for t, s in rules.skills.items() if s in missing)
        where = f" (needed for tags {', '.join(tags)})" if tags else ""
        raise InvalidInput(
            f"no active user has the skill {', '.join(repr(m) for m in missing)}{where}: its items would reach "
            f"nobody; give it first (hitl workforce skills NAME --add {missing[0]}); nothing was changed"
        )


def set_rules(store: Store, campaign_name: str, **changes) -> Campaign:
    """Change the campaign's workforce rules (validated, then checked against the store, in one transaction)."""
    with store.write() as conn:
        row = conn.execute(select(campaigns).where(campaigns.c.name == campaign_name).with_for_update()).first()
        if row is None:
            raise NotFound(f"no campaign {campaign_name!r} (see `hitl campaign list`)")
        rules = changed_rules(rules_from_json(row.workforce), changes)
        _check_against_store(conn, row.id, campaign_name, rules)
        conn.execute(update(campaigns).where(campaigns.c.id == row.id).values(workforce=rules.to_json()))
    store.route_cache.clear()  # every rater's route in this process follows the new rules at once
    return get_campaign(store, campaign_name)


@dataclass(frozen=True)
class RosterRow:
    """One rater of a campaign: qualification (status, attempt, score), pause, latest warning, judgments."""

    rater: str
    qualification: str  # not_required | training | passed | failed
    attempt: int
    correct: int
    total: int
    paused: str | None
    warning: str | None
    judgments: int


def roster(store: Store, campaign: Campaign) -> list[RosterRow]:
    """Every rater who judged in the campaign or started its qualification, by name."""
    with store.read() as conn:
        judged = dict(
            conn.execute(
                select(judgments.c.user_id, func.count())
                .join(items, items.c.id == judgments.c.item_id)
                .where(items.c.campaign_id == campaign.id)
                .group_by(judgments.c.user_id)
            ).all()
        )
        trained = set(
            conn.execute(
                select(qualification_attempts.c.user_id).where(qualification_attempts.c.campaign_id == campaign.id)
            ).scalars()
        )
        ids = sorted(set(judged) | trained)
        names = dict(conn.execute(select(users.c.id, users.c.name).where(users.c.id.in_(ids))).all()) if ids else {}
        out = []
        for uid in ids:
            if names.get(uid) == AUTO_USER:
                continue  # the reward model's auto-labels are not a rater
            q = qualification_of(conn, uid, campaign.id, campaign.rules)
            pause = pause_of(conn, uid, campaign.id)
            out.append(
                RosterRow(
                    names[uid],
                    q.status,
                    q.attempt,
                    q.correct,
                    q.total,
                    pause[0] if pause else None,
                    latest_warning(conn, uid, campaign.id, 0.0),
                    int(judged.get(uid, 0)),
                )
            )
    return sorted(out, key=lambda r: r.rater)


def reinstate(store: Store, campaign: Campaign, rater: str, reviewer_id: int, note: str = "") -> str:
    """End the rater's pause (and give back the qualification's attempts); what was done, for the caller to show."""
    if len(note or "") > 2000:
        raise InvalidInput("the note is longer than 2000 characters")
    with store.write() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == rater)).scalar()
        if uid is None:
            raise NotFound(f"no user named {rater!r} (see `hitl users list`)")
        pause = pause_of(conn, uid, campaign.id)
        q = qualification_of(conn, uid, campaign.id, campaign.rules)
        if pause is None and q.status != "failed":
            raise InvalidInput(f"{rater} is neither paused nor failed in campaign {campaign.name!r}: nothing to do")
        record_event(conn, uid, campaign.id, "reinstated", (note or "").strip(), actor_id=reviewer_id)
    store.route_cache.forget_prefix((uid, campaign.id))
    what = "pause ended" if pause else "qualification attempts granted again"
    return f"{rater} reinstated in {campaign.name} ({what})"


def set_rationale(store: Store, item_id: int, rationale: str) -> None:
    """Why a gold item's answer is right: shown to raters in training after they answer it."""
    text = (rationale or "").strip()
    if not text or len(text) > MAX_RATIONALE_CHARS:
        raise InvalidInput(f"a rationale is 1-{MAX_RATIONALE_CHARS} characters")
    with store.write() as conn:
        gold = conn.execute(select(items.c.is_gold).where(items.c.id == int(item_id))).scalar()
        if gold is None:
            raise NotFound(f"no item {item_id}")
        if not gold:
            raise InvalidInput(f"item {item_id} is not a gold item: only gold items have a reference answer")
        done = conn.execute(
            update(gold_rationales)
            .where(gold_rationales.c.item_id == int(item_id))
            .values(rationale=text, updated_at=time.time())
        ).rowcount
        if not done:
            conn.execute(insert(gold_rationales).values(item_id=int(item_id), rationale=text, updated_at=time.time()))


def training_feedback(store: Store, user_id: int, campaign: Campaign, item_id: int) -> str | None:
    """For a gold item the rater just answered as qualification training: the reference answer in the order they
    saw it, whether they matched it, and its rationale; None for any other judgment."""
    if not campaign.rules.qualification_items:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(
                judgments.c.ranking,
                judgments.c.tie,
                judgments.c.display_order,
                judgments.c.created_at,
                items.c.response_ids,
                items.c.gold_answer,
                items.c.is_gold,
            )
            .join(items, items.c.id == judgments.c.item_id)
            .where(judgments.c.item_id == int(item_id), judgments.c.user_id == user_id)
        ).first()
        if row is None or not row.is_gold or row.gold_answer is None:
            return None
        attempt = conn.execute(
            select(qualification_attempts)
            .where(
                qualification_attempts.c.user_id == user_id,
                qualification_attempts.c.campaign_id == campaign.id,
                qualification_attempts.c.started_at <= row.created_at,
                (qualification_attempts.c.finished_at.is_(None))
                | (qualification_attempts.c.finished_at >= row.created_at),
            )
            .order_by(qualification_attempts.c.attempt.desc())
            .limit(1)
        ).first()
        if attempt is None:
            return None
        why = conn.execute(
            select(gold_rationales.c.rationale).where(gold_rationales.c.item_id == int(item_id))
        ).scalar()
    expected = row.response_ids[row.gold_answer]
    letter = chr(ord("A") + list(row.display_order).index(expected))
    right = not row.tie and row.ranking[0] == expected
    text = f"Training: the reference answer is **{letter}** — you {'matched it' if right else 'did not'}."
    if why:
        text += f" Why: {why}"
    if attempt.passed is None:
        text += f" ({attempt.total} of {campaign.rules.qualification_items} training items done)"
    else:
        verdict = "passed" if attempt.passed else "not passed"
        text += f" Attempt {attempt.attempt} {verdict}: {attempt.correct}/{attempt.total} right."
    return text
