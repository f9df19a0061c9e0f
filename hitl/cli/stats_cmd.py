"""`hitl stats`: throughput, queue depth, agreement and per-rater quality in the terminal (or `--json`).

hitl stats --campaign demo --by-tag     # also preference shares, agreement and gold accuracy per prompt tag
"""

from __future__ import annotations

import argparse
import time

from hitl import stats
from hitl.campaigns import Campaign, get_campaign
from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="Throughput, queue depth, agreement and per-rater quality.")
    add_db_flag(p)
    p.add_argument("--campaign", help="Only this campaign (default: all judgments).")
    p.add_argument("--hours", type=int, default=12, help="Hours of throughput history to show [12].")
    p.add_argument(
        "--by-tag",
        action="store_true",
        help="Also per prompt tag and per rater x tag: first-shown, response-1 and longer shares, agreement and "
        "gold accuracy, each with its 95%% interval and n, and who (or which tag) fails on one kind of prompt.",
    )
    add_json_flag(p)
    p.set_defaults(func=_stats)


def _stats(args) -> None:
    store = store_from(args)
    campaign = get_campaign(store, args.campaign) if args.campaign else None
    if args.json:
        emit_json(stats_data(store, campaign, args.hours, by_tag=args.by_tag))
        return
    show_stats(store, campaign, args.hours)
    if args.by_tag:
        show_tags(store, campaign)


def stats_data(store: Store, campaign: Campaign | None, hours: int = 12, by_tag: bool = False) -> dict:
    """What `hitl stats` shows, as data: summary, queue depth (with a campaign), hourly throughput, raters; with
    `by_tag` also "tags" and "rater_tags" (hitl.stats.tag_table rows)."""
    summary, raters = stats.collection_report(store, campaign)
    out = {
        "campaign": campaign.name if campaign is not None else None,
        "summary": summary,
        "queue": stats.queue_depth(store, campaign) if campaign is not None else None,
        "throughput": [{"hour_start": t, "judgments": n} for t, n in stats.throughput(store, campaign, 3600, hours)],
        "raters": raters,
    }
    if by_tag:
        out["tags"], out["rater_tags"] = stats.tag_tables(store, campaign)
    return out


def show_stats(store: Store, campaign: Campaign | None, hours: int = 12) -> None:
    summary, raters = stats.collection_report(store, campaign)
    print_table("Collection", ["metric", "value"], [[k, v] for k, v in summary.items()])
    if campaign is not None:
        depth = stats.queue_depth(store, campaign)
        print_table(
            f"Queue of {campaign.name}",
            ["open items", "judgments needed", "done items", "gold items"],
            [[depth.open_items, depth.judgments_needed, depth.done_items, depth.gold_items]],
        )
    history = stats.throughput(store, campaign, 3600, hours)
    print_table(
        "Judgments per hour",
        ["hour starting", "judgments"],
        [[time.strftime("%Y-%m-%d %H:%M", time.localtime(t)), n] for t, n in history],
    )
    rows = [
        [
            q.rater,
            q.n_judgments,
            q.gold.rate,
            q.loo_agreement.rate,
            q.position.share,
            q.length.share,
            q.speed.median_seconds,
            q.competence,
            "review" if q.issues else "ok",
        ]
        for q in raters
    ]
    print_table(
        "Raters",
        ["rater", "judgments", "gold acc", "agreement", "first-shown", "longer", "median s", "competence", "verdict"],
        rows,
    )
    for q in raters:
        for issue in q.issues:
            console.print(f"[yellow]{q.rater}[/yellow]: {issue}", soft_wrap=True)
    if not raters:
        console.print("no judgments yet")


def show_tags(store: Store, campaign: Campaign | None) -> None:
    """The by-tag tables: every rate as 'value [low, high] n=N'."""
    crowd, cells = stats.tag_tables(store, campaign)
    headers = [label for _, label in stats.TAG_RATES]

    def rates(row: dict) -> list[str]:
        return [
            stats.format_rate(row[k], row[f"{k} low"], row[f"{k} high"], row[f"{k} n"]) for k, _ in stats.TAG_RATES
        ]

    print_table(
        "By prompt tag",
        ["tag", "judgments", "items", *headers],
        [[r["tag"], r["judgments"], r["items"], *rates(r)] for r in crowd],
    )
    print_table(
        "Raters by prompt tag",
        ["tag", "rater", "judgments", *headers],
        [[r["tag"], r["rater"], r["judgments"], *rates(r)] for r in cells],
    )
    for r in [*crowd, *cells]:
        if r["issues"]:
            console.print(f"[yellow]{r['tag']}[/yellow]: {r['issues']}", soft_wrap=True)
