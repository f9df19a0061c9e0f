"""Where a rater stands in a campaign: warned, paused pending review, reinstated; in training, passed or failed.

    hitl workforce status demo            # who is in training, passed, failed, paused; hitl workforce reinstate

Warnings, pauses and reinstatements are events (rater_events), so the history stays. A pause holds until a
reviewer reinstates the rater; a reinstatement also restarts the counts that caused it and grants the
qualification's attempts again. Qualification attempts (qualification_attempts) count the gold items judged since
the attempt began: a rater in training is given nothing else, so every judgment in it is a training answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from hitl.store.schema import guideline_versions, items, judgments, qualification_attempts, rater_events
from hitl.workforce.rules import WorkforceRules


@dataclass(frozen=True)
class Qualification:
    """A rater's qualification in a campaign. status: not_required | training | passed | failed."""

    status: str
    attempt: int = 0  # the attempt under way (training) or the last one
    correct: int = 0
    total: int = 0
    attempts_left: int = 0
    started_at: float | None = None  # of the attempt under way


def record_event(conn, user_id: int, campaign_id: int, kind: str, reason: str, actor_id: int | None = None) -> None:
    conn.execute(
        insert(rater_events).values(
            user_id=user_id,
            campaign_id=campaign_id,
            kind=kind,
            reason=reason,
            actor_id=actor_id,
            created_at=time.time(),
        )
    )


def _events(conn, user_id: int, campaign_id: int):
    return conn.execute(
        select(rater_events.c.kind, rater_events.c.reason, rater_events.c.created_at)
        .where(rater_events.c.user_id == user_id, rater_events.c.campaign_id == campaign_id)
        .order_by(rater_events.c.created_at, rater_events.c.id)
    ).all()


def pause_of(conn, user_id: int, campaign_id: int) -> tuple[str, float] | None:
    """(reason, since) when the rater is paused in the campaign, else None."""
    state = None
    for kind, reason, at in _events(conn, user_id, campaign_id):
        if kind == "paused":
            state = (reason, at)
        elif kind == "reinstated":
            state = None
    return state


def since_reinstated(conn, user_id: int, campaign_id: int) -> float:
    """When the rater was last reinstated in the campaign (0.0: never): counts and attempts start over there."""
    at = conn.execute(
        select(func.max(rater_events.c.created_at)).where(
            rater_events.c.user_id == user_id,
            rater_events.c.campaign_id == campaign_id,
            rater_events.c.kind == "reinstated",
        )
    ).scalar()
    return float(at or 0.0)


def warned_since(conn, user_id: int, campaign_id: int, prefix: str, since: float) -> bool:
    """Whether a warning whose reason starts with `prefix` was given after `since`."""
    return bool(
        conn.execute(
            select(func.count()).where(
                rater_events.c.user_id == user_id,
                rater_events.c.campaign_id == campaign_id,
                rater_events.c.kind == "warned",
                rater_events.c.reason.like(f"{prefix}%"),
                rater_events.c.created_at > since,
            )
        ).scalar()
    )


def latest_warning(conn, user_id: int, campaign_id: int, since: float) -> str | None:
    """The newest warning after `since` and after the last reinstatement, for the page to show."""
    floor = max(since, since_reinstated(conn, user_id, campaign_id))
    return conn.execute(
        select(rater_events.c.reason)
        .where(
            rater_events.c.user_id == user_id,
            rater_events.c.campaign_id == campaign_id,
            rater_events.c.kind == "warned",
            rater_events.c.created_at > floor,
        )
        .order_by(rater_events.c.created_at.desc(), rater_events.c.id.desc())
        .limit(1)
    ).scalar()


def required_version(conn, campaign_id: int) -> int:
    """The oldest guidelines version a pass still counts under: the newest version that asked to requalify."""
    v = conn.execute(
        select(func.max(guideline_versions.c.version)).where(
            guideline_versions.c.campaign_id == campaign_id, guideline_versions.c.requalify.is_(True)
        )
    ).scalar()
    return int(v or 1)


def _attempts(conn, user_id: int, campaign_id: int):
    floor = since_reinstated(conn, user_id, campaign_id)
    return conn.execute(
        select(qualification_attempts)
        .where(
            qualification_attempts.c.user_id == user_id,
            qualification_attempts.c.campaign_id == campaign_id,
            qualification_attempts.c.guidelines_version >= required_version(conn, campaign_id),
            qualification_attempts.c.started_at >= floor,
        )
        .order_by(qualification_attempts.c.attempt)
    ).all()


def qualification_of(conn, user_id: int, campaign_id: int, rules: WorkforceRules) -> Qualification:
    """The rater's qualification now (read only; a new attempt starts with `start_attempt`)."""
    if not rules.qualification_items:
        return Qualification("not_required")
    attempts = _attempts(conn, user_id, campaign_id)
    allowed = 1 + rules.qualification_retries
    if any(a.passed for a in attempts):
        best = next(a for a in attempts if a.passed)
        return Qualification("passed", best.attempt, best.correct, best.total, 0)
    failed = sum(a.passed is False for a in attempts)
    current = next((a for a in attempts if a.passed is None), None)
    if current is not None:
        return Qualification(
            "training", current.attempt, current.correct, current.total, allowed - len(attempts), current.started_at
        )
    last = attempts[-1] if attempts else None
    if failed >= allowed:
        return Qualification("failed", last.attempt, last.correct, last.total, 0)
    return Qualification(
        "training", failed + 1, 0, 0, allowed - failed - 1, None
    )  # the next attempt starts with the next item


def start_attempt(conn, user_id: int, campaign_id: int, guidelines_version: int) -> float:
    """Open the next attempt (numbered after every earlier one of the rater in this campaign); its start time."""
    number = conn.execute(
        select(func.coalesce(func.max(qualification_attempts.c.attempt), 0)).where(
            qualification_attempts.c.user_id == user_id, qualification_attempts.c.campaign_id == campaign_id
        )
    ).scalar()
    now = time.time()
    conn.execute(
        insert(qualification_attempts).values(
            user_id=user_id,
            campaign_id=campaign_id,
            guidelines_version=guidelines_version,
            attempt=int(number) + 1,
            correct=0,
            total=0,
            passed=None,
            started_at=now,
        )
    )
    return now


def gold_answers_since(conn, user_id: int, campaign_id: int, since: float) -> list[bool]:
    """Right (True) or wrong, oldest first, for each gold item the rater judged in the campaign since `since`."""
    rows = conn.execute(
        select(judgments.c.ranking, judgments.c.tie, items.c.response_ids, items.c.gold_answer)
        .join(items, items.c.id == judgments.c.item_id)
        .where(
            judgments.c.user_id == user_id,
            items.c.campaign_id == campaign_id,
            items.c.is_gold.is_(True),
            judgments.c.created_at >= since,
        )
        .order_by(judgments.c.created_at, judgments.c.id)
    ).all()
    return [
        bool(not r.tie and r.gold_answer is not None and r.ranking[0] == r.response_ids[r.gold_answer]) for r in rows
    ]


def update_attempt(
    conn, user_id: int, campaign_id: int, rules: WorkforceRules, guidelines_version: int
) -> Qualification:
    """Recount the attempt under way from the rater's gold judgments since it began; finish it at
    qualification_items answers (passed when the share right reaches qualification_pass), and open the next one
    at once when it failed and a retry is left, so the next training answer counts."""
    q = qualification_of(conn, user_id, campaign_id, rules)
    if q.status != "training" or q.started_at is None:
        return q
    answers = gold_answers_since(conn, user_id, campaign_id, q.started_at)[: rules.qualification_items]
    correct, total = sum(answers), len(answers)
    done = total >= rules.qualification_items
    values = {"correct": correct, "total": total}
    if done:
        values.update(passed=correct / total >= rules.qualification_pass, finished_at=time.time())
    conn.execute(
        update(qualification_attempts)
        .where(
            qualification_attempts.c.user_id == user_id,
            qualification_attempts.c.campaign_id == campaign_id,
            qualification_attempts.c.attempt == q.attempt,
        )
        .values(**values)
    )
    after = qualification_of(conn, user_id, campaign_id, rules)
    if after.status == "training" and after.started_at is None:
        start_attempt(conn, user_id, campaign_id, max(guidelines_version, required_version(conn, campaign_id)))
        after = qualification_of(conn, user_id, campaign_id, rules)
    return after
