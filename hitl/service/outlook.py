"""What a rater with nothing left in a campaign can expect: when the loop will queue new items there, and which
other campaigns still have work for them.

    python -c "from hitl.service import Service; help(Service.rating.outlook)"
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select

from hitl.campaigns import Campaign, get_campaign
from hitl.store import Store
from hitl.store.schema import campaigns, items, judgments, leases
from hitl.users import User


@dataclass(frozen=True)
class Outlook:
    campaign: str
    when: str  # when new items are expected here, from the loop's state
    elsewhere: list[tuple[str, int]]  # (campaign, items left for the caller) with work, most work first


def left_query(caller: User):
    """COUNT of the open, regular items the caller has neither judged nor skipped (add a campaign filter)."""
    seen = exists().where(judgments.c.item_id == items.c.id, judgments.c.user_id == caller.id)
    skipped = exists().where(
        and_(leases.c.item_id == items.c.id, leases.c.user_id == caller.id, leases.c.state == "skipped")
    )
    return select(func.count()).where(items.c.status == "open", items.c.is_gold.is_(False), ~seen, ~skipped)


def loop_expectation(store: Store, campaign: Campaign) -> str:
    """One sentence on when new items come, read from the campaign's latest loop round."""
    from hitl.loop.state import rounds

    history = rounds(store, campaign)
    if not history:
        return (
            "No loop runs on this campaign: new items come when an admin adds some "
            "(`hitl generate`, or an upload on the admin page)."
        )
    last = history[-1]
    if last.status == "waiting":
        detail = f" ({last.message})" if last.message else ""
        return f"The loop's round {last.number} waits for judgments in the other raters' queues{detail}."
    if last.status == "running":
        return (
            f"The loop's round {last.number} is running (stage: {last.stage.replace('_', ' ')}): it queues new "
            "items when it reaches the generate stage, usually within minutes."
        )
    if last.status == "stopped":
        reason = last.message or "no reason given"
        return f"The loop's round {last.number} stopped ({reason}); it tries again when more judgments arrive."
    return f"The loop's round {last.number} is done; the next round starts once enough new judgments are in."


def rater_outlook(store: Store, caller: User, campaign: str) -> Outlook:
    """The Outlook of `campaign` for `caller`."""
    c = get_campaign(store, campaign)
    with store.read() as conn:
        rows = conn.execute(
            left_query(caller)
            .add_columns(campaigns.c.name)
            .join_from(items, campaigns, campaigns.c.id == items.c.campaign_id)
            .where(items.c.campaign_id != c.id)
            .group_by(campaigns.c.name)
            .order_by(func.count().desc(), campaigns.c.name)
        ).all()
    elsewhere = [(name, int(n)) for n, name in rows if n]
    return Outlook(c.name, loop_expectation(store, c), elsewhere)
