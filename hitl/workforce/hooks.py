"""What a recorded judgment changes in a campaign with workforce rules: the qualification attempt, warnings and
pauses (attention checks, minimum time), escalation to the expert queue; and what a submit must refuse first.

    python -m pytest -q tests/workforce/test_workforce_rules_act.py

hitl.queue.submit calls `refusal` before it records (a rater paused, or stripped of a skill, while holding a lease:
nothing is recorded) and `after_judgment` once a judgment is stored. The counts are always read back from the
judgments themselves, so a crash between the two transactions loses nothing: the next judgment recounts.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from hitl.errors import Forbidden, HitlError
from hitl.store import Store
from hitl.store.schema import items, judgments, prompts, qualification_attempts
from hitl.workforce import escalation, stopping
from hitl.workforce.errors import Paused
from hitl.workforce.route import cached_route, compute_route, forget_route
from hitl.workforce.rules import WorkforceRules
from hitl.workforce.standing import (
    gold_answers_since,
    qualification_of,
    record_event,
    since_reinstated,
    update_attempt,
    warned_since,
)

log = logging.getLogger(__name__)


def refusal(store: Store, lease, user_id: int, now: float) -> HitlError | None:
    """Why this lease's judgment must not be recorded (the rater was paused, or lost a skill the item needs, while
    holding it), else None. Reads only: the caller may hold the write lock."""
    from hitl.campaigns import get_campaign

    route = cached_route(store, user_id, lease.campaign_id, lease.guidelines_version)
    if route is None:
        campaign = get_campaign(store, lease.campaign_id)
        route = compute_route(store, user_id, campaign, now, open_attempt=False)
    if route.paused is not None:
        return Paused(f"you were paused in this campaign ({route.paused}): this answer was not recorded")
    if route.forbidden:
        with store.read() as conn:
            tags = conn.execute(
                select(prompts.c.tags)
                .join(items, items.c.prompt_id == prompts.c.id)
                .where(items.c.id == lease.item_id)
            ).scalar()
        missing = sorted(set(tags or ()) & set(route.forbidden))
        if missing:
            return Forbidden(
                f"this item needs the skill for {', '.join(missing)}, which you no longer have: this answer was not "
                "recorded"
            )
    return None


def _counted_since(conn, user_id: int, campaign_id: int) -> float:
    """Attention and speed count from the later of the last reinstatement and the end of a passed qualification
    (training answers are for learning)."""
    passed = conn.execute(
        select(qualification_attempts.c.finished_at)
        .where(
            qualification_attempts.c.user_id == user_id,
            qualification_attempts.c.campaign_id == campaign_id,
            qualification_attempts.c.passed.is_(True),
        )
        .order_by(qualification_attempts.c.finished_at.desc())
        .limit(1)
    ).scalar()
    return max(since_reinstated(conn, user_id, campaign_id), float(passed or 0.0))


def _act(
    conn, user_id: int, campaign_id: int, what: str, count: int, window: int, warn: int, pause: int, since: float
):
    """Warn once at `warn`, pause at `pause`; True when the rater's standing changed."""
    reason = f"{what}: {count} of the last {window}"
    if pause and count >= pause:
        record_event(conn, user_id, campaign_id, "paused", reason)
        return True
    if warn and count >= warn and not warned_since(conn, user_id, campaign_id, what, since):
        record_event(conn, user_id, campaign_id, "warned", reason)
        return True
    return False


def _attention(conn, user_id: int, campaign_id: int, rules: WorkforceRules, since: float) -> bool:
    answers = gold_answers_since(conn, user_id, campaign_id, since)[-rules.attention_window :]
    misses = sum(not a for a in answers)
    window = len(answers)
    return _act(
        conn,
        user_id,
        campaign_id,
        "missed attention checks",
        misses,
        window,
        rules.attention_warn_misses,
        rules.attention_pause_misses,
        since,
    )


def _speed(conn, user_id: int, campaign_id: int, rules: WorkforceRules, since: float) -> bool:
    seconds = conn.execute(
        select(judgments.c.seconds_on_item)
        .join(items, items.c.id == judgments.c.item_id)
        .where(judgments.c.user_id == user_id, items.c.campaign_id == campaign_id, judgments.c.created_at >= since)
        .order_by(judgments.c.created_at.desc(), judgments.c.id.desc())
        .limit(rules.fast_window)
    ).scalars()
    recent = [s for s in seconds if s is not None]
    fast = sum(s < rules.min_seconds for s in recent)
    what = f"answers under {rules.min_seconds:g} s"
    return _act(conn, user_id, campaign_id, what, fast, len(recent), rules.fast_warn, rules.fast_pause, since)


def after_judgment(
    store: Store, lease, user_id: int, seconds: float | None, flags: list[str] | tuple[str, ...]
) -> None:
    """Apply the campaign's rules to a judgment just recorded under `lease` (hitl.queue.types.LeaseFacts)."""
    rules: WorkforceRules = lease.workforce
    changed = bool(rules.max_stretch_minutes or rules.max_daily_minutes or rules.fatigue_breaks)
    # Read before the write transaction: a calibration reads the whole campaign, and must not hold the write lock.
    stop = stopping.figures(store, lease.campaign_id, "") if rules.stop_at_confidence and not lease.is_gold else None
    with store.write() as conn:
        qual = qualification_of(conn, user_id, lease.campaign_id, rules)
        if qual.status == "training":
            if lease.is_gold:
                after = update_attempt(conn, user_id, lease.campaign_id, rules, lease.guidelines_version)
                changed |= (after.status, after.attempt) != (qual.status, qual.attempt)
        else:
            since = _counted_since(conn, user_id, lease.campaign_id)
            if lease.is_gold and (rules.attention_warn_misses or rules.attention_pause_misses):
                changed |= _attention(conn, user_id, lease.campaign_id, rules, since)
            too_fast = rules.min_seconds and seconds is not None and seconds < rules.min_seconds
            if too_fast and (rules.fast_warn or rules.fast_pause):
                changed |= _speed(conn, user_id, lease.campaign_id, rules, since)
        if not lease.is_gold:
            if stop is not None:
                stopping.after_judgment(conn, lease, rules.stop_at_confidence, *stop)
            escalation.after_judgment(conn, lease, rules, user_id, flags)
    if changed:
        forget_route(store, user_id, lease.campaign_id)


def safely_after_judgment(store: Store, lease, user_id: int, judgment) -> None:
    """after_judgment, logging instead of raising: the judgment is recorded already, and the next one recounts."""
    started = time.perf_counter()
    try:
        after_judgment(store, lease, user_id, judgment.seconds_on_item, judgment.flags)
    except Exception:  # noqa: BLE001 - the rater's answer is stored; a failed bookkeeping step must not hide that
        log.exception("workforce rules after judgment of item %s failed; the next judgment recounts", lease.item_id)
    log.debug("workforce rules took %.1f ms", (time.perf_counter() - started) * 1000)
