"""Collection statistics from the store: judgment rows for `hitl.quality` (with their prompts' tags), throughput
per calendar hour, queue depth, quality by prompt tag as plain rows (`tag_tables`); and how every page and command
shows a rate (`format_rate`: value, 95% interval, n; `win_verdict`) with the one default of bootstrap resamples
(`BOOTSTRAP_ROUNDS`).

    hitl stats --campaign demo --by-tag

The dashboard and `hitl stats` both call these; the metrics themselves are pure functions in hitl.quality.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hitl.campaigns import Campaign
from hitl.quality import JudgmentRow, RaterQuality, campaign_summary, rater_report
from hitl.quality.by_tag import TagStat, tag_report
from hitl.store import Store
from hitl.store.schema import items, judgments, prompts, responses, users

# Resamples of every bootstrap interval hitl shows by default: `hitl eval-policy --bootstrap` and the leaderboard.
BOOTSTRAP_ROUNDS = 1000


def judgment_rows(store: Store, campaign: Campaign | None = None) -> list[JudgmentRow]:
    """Every judgment (optionally of one campaign) mapped to canonical response order."""
    query = (
        select(
            judgments.c.item_id,
            users.c.name,
            judgments.c.ranking,
            judgments.c.strength,
            judgments.c.tie,
            judgments.c.both_bad,
            judgments.c.flags,
            judgments.c.display_order,
            judgments.c.seconds_on_item,
            judgments.c.created_at,
            items.c.response_ids,
            items.c.gold_answer,
            items.c.is_gold,
            prompts.c.tags,
        )
        .join(users, users.c.id == judgments.c.user_id)
        .join(items, items.c.id == judgments.c.item_id)
        .join(prompts, prompts.c.id == items.c.prompt_id)
        .order_by(judgments.c.id)
    )
    if campaign is not None:
        query = query.where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        rows = conn.execute(query).all()
        response_ids = {rid for r in rows for rid in r.response_ids}
        lengths = (
            dict(
                conn.execute(
                    select(responses.c.id, func.length(responses.c.text)).where(responses.c.id.in_(response_ids))
                ).all()
            )
            if response_ids
            else {}
        )
    return [_to_row(r, lengths) for r in rows]


def _to_row(r, lengths: dict[int, int]) -> JudgmentRow:
    canonical = list(r.response_ids)
    winner = None if r.tie else canonical.index(r.ranking[0])
    score = 0
    if len(canonical) == 2 and winner is not None:
        score = r.strength if winner == 0 else -r.strength
    sizes = [lengths.get(rid, 0) for rid in canonical]
    longest = max(sizes)
    longer = sizes.index(longest) if sizes.count(longest) == 1 else None
    return JudgmentRow(
        item_id=r.item_id,
        rater=r.name,
        winner=winner,
        score=score,
        first_shown=canonical.index(r.display_order[0]) if r.display_order else 0,
        longer=longer,
        seconds=r.seconds_on_item,
        created_at=r.created_at,
        gold_answer=r.gold_answer if r.is_gold else None,
        both_bad=bool(r.both_bad),
        flags=tuple(r.flags or ()),
        tags=tuple(str(t) for t in (r.tags or ())),
    )


@dataclass(frozen=True)
class QueueDepth:
    open_items: int
    judgments_needed: int  # sum over open items of (overlap - judgments so far)
    done_items: int
    gold_items: int


def queue_depth(store: Store, campaign: Campaign) -> QueueDepth:
    with store.read() as conn:
        rows = conn.execute(
            select(items.c.status, items.c.is_gold, func.count(), func.coalesce(func.sum(items.c.judgment_count), 0))
            .where(items.c.campaign_id == campaign.id)
            .group_by(items.c.status, items.c.is_gold)
        ).all()
    open_items = sum(n for status, gold, n, _ in rows if status == "open" and not gold)
    judged_open = sum(j for status, gold, _, j in rows if status == "open" and not gold)
    return QueueDepth(
        open_items=open_items,
        judgments_needed=open_items * campaign.settings.overlap - judged_open,
        done_items=sum(n for status, gold, n, _ in rows if status == "done" and not gold),
        gold_items=sum(n for _, gold, n, _ in rows if gold),
    )


def hour_start(t: float) -> float:
    """The start of the local calendar hour holding epoch `t` (11:13 belongs to 11:00, not to a rolling bucket)."""
    return datetime.fromtimestamp(t).replace(minute=0, second=0, microsecond=0).timestamp()


def throughput(
    store: Store, campaign: Campaign | None = None, bucket_seconds: float = 3600, buckets: int = 12
) -> list[tuple[float, int]]:
    """Judgments per time bucket, newest last: [(bucket_start_epoch, count), ...] over the last `buckets`.

    Hour-sized buckets are local calendar hours (the newest is the current hour, still filling), so a judgment at
    11:13 counts in the 11:00 bucket; other sizes are aligned to whole multiples of their size since the epoch.
    """
    now = time.time()
    current = hour_start(now) if bucket_seconds == 3600 else now - now % bucket_seconds
    start = current - bucket_seconds * (buckets - 1)
    query = select(judgments.c.created_at).where(judgments.c.created_at >= start)
    if campaign is not None:
        query = query.join(items, items.c.id == judgments.c.item_id).where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        times = conn.execute(query).scalars().all()
    counts = [0] * buckets
    for t in times:
        counts[min(int((t - start) // bucket_seconds), buckets - 1)] += 1
    return [(start + i * bucket_seconds, n) for i, n in enumerate(counts)]


def format_rate(rate: float | None, low: float | None = None, high: float | None = None, n: int | None = None) -> str:
    """A rate as people read it, with its 95% interval and n: '0.62 [0.50, 0.74] n=24'; '–' when undefined."""
    if rate is None or rate != rate:
        return "–" if n is None else f"– n={n}"
    text = f"{rate:.2f}"
    if low is not None and high is not None and low == low and high == high:
        text += f" [{low:.2f}, {high:.2f}]"
    return text if n is None else f"{text} n={n}"


def win_verdict(a: str, b: str, low: float, high: float, n: int) -> str:
    """One line on what a win rate of `a` over `b` with this 95% interval means."""
    if n == 0 or low != low or high != high:
        return f"no verdict: no comparisons of {a} and {b}"
    if low > 0.5:
        return f"{a} is better than {b} (the 95% interval lies above 0.5)"
    if high < 0.5:
        return f"{b} is better than {a} (the 95% interval lies below 0.5)"
    return f"no significant difference between {a} and {b} (the 95% interval holds 0.5)"


def collection_report(store: Store, campaign: Campaign | None = None) -> tuple[dict, list[RaterQuality]]:
    """The campaign summary (sizes, alpha, kappa) and the per-rater quality report."""
    rows = judgment_rows(store, campaign)
    return campaign_summary(rows), rater_report(rows)


# The rates of a TagStat, in the order tables show them: (key, label).
TAG_RATES = (
    ("first_shown", "picks first shown"),
    ("stored_first", "picks response 1"),
    ("longer", "picks longer"),
    ("agreement", "agreement"),
    ("gold", "gold accuracy"),
)


def _number(x: float) -> float | None:
    return None if x != x else x  # nan (nothing to count) as None: JSON null, a blank cell


def tag_table(found: list[TagStat]) -> list[dict]:
    """TagStats as plain rows (what the dashboard, `hitl stats --by-tag --json` and the REST API show): tag, rater
    (None: the crowd), judgments, items, each rate of TAG_RATES with its ' low', ' high' and ' n', and issues."""
    out = []
    for s in found:
        row: dict = {"tag": s.tag, "rater": s.rater, "judgments": s.n_judgments, "items": s.n_items}
        for key, _ in TAG_RATES:
            stat = getattr(s, key)
            row.update({key: _number(stat.rate), f"{key} low": _number(stat.low), f"{key} high": _number(stat.high)})
            row[f"{key} n"] = stat.total
        row["issues"] = "; ".join(s.issues)
        out.append(row)
    return out


def tag_tables(store: Store, campaign: Campaign | None = None) -> tuple[list[dict], list[dict]]:
    """Quality by prompt tag as plain rows: (one per tag, one per rater x tag), hitl.quality.by_tag.tag_report."""
    crowd, cells = tag_report(judgment_rows(store, campaign))
    return tag_table(crowd), tag_table(cells)
