"""What the queue may hand a rater in a campaign: nothing (paused, not qualified, on a break), only training items,
or the items whose prompt tags their skills allow. Decided once per rater and campaign, kept in `store.route_cache`.

    python -m pytest -q tests/workforce/test_workforce_route.py

next_item calls `route_for` only for campaigns whose rules route (WorkforceRules.routes); it costs a few reads the
first time and nothing while the cached route lives (hitl.store.ttl_cache: 5 s, dropped at once by any change this
process makes: a recorded judgment under work limits, a pause, a pass, a reinstatement). A rater starting a
qualification gets their attempt opened here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select

from hitl.store import Store
from hitl.store.schema import campaigns, items, judgments
from hitl.workforce.errors import BreakDue, NotQualified, Paused
from hitl.workforce.limits import Limits, Worked, limits
from hitl.workforce.rules import WorkforceRules
from hitl.workforce.skills import forbidden_tags, skills_of
from hitl.workforce.standing import Qualification, pause_of, qualification_of, required_version, start_attempt

LOOKBACK_SECONDS = 12 * 3600  # judgments read for the stretch under way when it began before midnight


@dataclass(frozen=True)
class Route:
    """The cached decision. `forbidden`: prompt tags this rater may not be given; `training`: only unseen gold
    items, as qualification training."""

    forbidden: tuple[str, ...] = ()
    training: bool = False
    paused: str | None = None
    failed: Qualification | None = None
    limits: Limits | None = None
    rotate_to: tuple[str, ...] = field(default=())


def midnight(now: float) -> float:
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _limited(rules: WorkforceRules) -> bool:
    return bool(rules.max_stretch_minutes or rules.max_daily_minutes or rules.fatigue_breaks)


def _worked(conn, user_id: int, campaign_id: int, since: float, with_agreement: bool) -> list[Worked]:
    """The rater's judgments in the campaign since `since`; with `with_agreement`, whether each agreed with its
    gold answer or with the majority of the item's other judgments (None when there is neither)."""
    rows = conn.execute(
        select(
            judgments.c.item_id,
            judgments.c.created_at,
            judgments.c.seconds_on_item,
            judgments.c.ranking,
            judgments.c.tie,
            items.c.is_gold,
            items.c.gold_answer,
            items.c.response_ids,
        )
        .join(items, items.c.id == judgments.c.item_id)
        .where(judgments.c.user_id == user_id, items.c.campaign_id == campaign_id, judgments.c.created_at >= since)
        .order_by(judgments.c.created_at)
    ).all()
    others: dict[int, list[tuple]] = {}
    if with_agreement and rows:
        ids = sorted({r.item_id for r in rows if not r.is_gold})
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for item_id, ranking, tie in conn.execute(
                select(judgments.c.item_id, judgments.c.ranking, judgments.c.tie).where(
                    judgments.c.item_id.in_(chunk), judgments.c.user_id != user_id
                )
            ):
                others.setdefault(item_id, []).append(("tie",) if tie else (ranking[0],))
    out = []
    for r in rows:
        own = ("tie",) if r.tie else (r.ranking[0],)
        agreed = None
        if r.is_gold and r.gold_answer is not None:
            agreed = own == (r.response_ids[r.gold_answer],)
        elif others.get(r.item_id):
            votes = others[r.item_id]
            top = max(set(votes), key=votes.count)
            if votes.count(top) * 2 > len(votes):
                agreed = own == top
        out.append(Worked(r.created_at, float(r.seconds_on_item or 0.0), agreed))
    return out


def _rotation(conn, user_id: int, campaign_id: int) -> tuple[str, ...]:
    """Other campaigns this rater works in that still have open items: where to go during a break here."""
    worked_in = (
        select(items.c.campaign_id)
        .join(judgments, judgments.c.item_id == items.c.id)
        .where(judgments.c.user_id == user_id, items.c.campaign_id != campaign_id)
        .distinct()
    )
    has_open = exists().where(items.c.campaign_id == campaigns.c.id, items.c.status == "open")
    rows = conn.execute(
        select(campaigns.c.name).where(campaigns.c.id.in_(worked_in), has_open).order_by(campaigns.c.id)
    )
    return tuple(rows.scalars())


def _open_attempt(store: Store, user_id: int, campaign) -> None:
    """Start the rater's next qualification attempt, unless one started meanwhile (two tabs)."""
    with store.write() as conn:
        q = qualification_of(conn, user_id, campaign.id, campaign.rules)
        if q.status == "training" and q.started_at is None:
            start_attempt(
                conn, user_id, campaign.id, max(campaign.guidelines_version, required_version(conn, campaign.id))
            )


def compute_route(store: Store, user_id: int, campaign, now: float, open_attempt: bool = True) -> Route:
    """Read the rater's standing, skills and work in the campaign and decide (no cache). `open_attempt`: start a
    qualification attempt that is due (off for a submit's check, which may hold the write lock)."""
    rules: WorkforceRules = campaign.rules
    with store.read() as conn:
        paused = pause_of(conn, user_id, campaign.id)
        if paused is not None:
            return Route(paused=paused[0])
        qual = qualification_of(conn, user_id, campaign.id, rules)
        forbidden = forbidden_tags(rules.skills, skills_of(conn, user_id)) if rules.skills else ()
        lim = None
        if _limited(rules):
            day = midnight(now)
            worked = _worked(conn, user_id, campaign.id, min(day, now - LOOKBACK_SECONDS), rules.fatigue_breaks)
            lim = limits(worked, rules, now, day)
        rotate = _rotation(conn, user_id, campaign.id) if lim is not None and lim.break_until else ()
    if qual.status == "failed":
        return Route(failed=qual)
    if open_attempt and qual.status == "training" and qual.started_at is None:
        _open_attempt(store, user_id, campaign)
    return Route(forbidden=forbidden, training=qual.status == "training", limits=lim, rotate_to=rotate)


def check_route(route: Route, campaign, now: float) -> None:
    """Raise what the route refuses: Paused, NotQualified, BreakDue (with where else there is work)."""
    name = campaign.name
    if route.paused is not None:
        raise Paused(
            f"you are paused in campaign {name!r} pending review ({route.paused}); a reviewer can reinstate you"
        )
    if route.failed is not None:
        q, rules = route.failed, campaign.rules
        raise NotQualified(
            f"you did not pass the qualification of campaign {name!r} ({q.correct}/{q.total} right, "
            f"{rules.qualification_pass:.0%} needed) and have no attempt left; a reviewer can grant another"
        )
    lim = route.limits
    if lim is not None and lim.break_until is not None and now < lim.break_until:
        until = datetime.fromtimestamp(lim.break_until).strftime("%H:%M")
        where = f", or switch to {', '.join(route.rotate_to)}" if route.rotate_to else ""
        raise BreakDue(
            f"time for a break from {name!r}: {lim.reason}. Rest until {until}{where}.",
            retry_after=lim.break_until - now,
            rotate_to=route.rotate_to,
        )


def route_for(store: Store, user_id: int, campaign, now: float | None = None) -> Route:
    """The rater's route in the campaign (cached), after raising whatever it refuses."""
    now = time.time() if now is None else now
    key = (user_id, campaign.id, campaign.guidelines_version)
    route = store.route_cache.get(key)
    if route is None:
        route = compute_route(store, user_id, campaign, now)
        store.route_cache.put(key, route)
    check_route(route, campaign, now)
    return route


def cached_route(store: Store, user_id: int, campaign_id: int, guidelines_version: int) -> Route | None:
    return store.route_cache.get((user_id, campaign_id, guidelines_version))


def forget_route(store: Store, user_id: int, campaign_id: int) -> None:
    """Drop every cached route of the rater in the campaign (any guidelines version)."""
    store.route_cache.forget_prefix((user_id, campaign_id))
