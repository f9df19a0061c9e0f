"""`hitl simulate`: simulated raters (noise, position/length bias, fatigue, a spammer) judge a campaign."""

from __future__ import annotations

import argparse

from hitl.campaigns import get_campaign
from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.loop.judges import load_judge
from hitl.simulate import default_crowd, simulate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="Simulated raters judge a campaign through the queue, over an oracle.")
    add_db_flag(p)
    p.add_argument("--campaign", required=True, help="Campaign to judge.")
    p.add_argument(
        "--oracle",
        default="rule:concise",
        help="rule:concise|detailed|polite|no-refusal|contains=WORD, or module:function(prompt, responses) -> scores, "
        "or reward:VERSION_OR_PATH [rule:concise].",
    )
    p.add_argument(
        "--raters",
        type=int,
        default=8,
        help="Crowd size (>= 4): honest raters plus a position-biased one, a spammer and a fatigued one [8].",
    )
    p.add_argument("--judgments", type=int, default=200, help="Stop after this many judgments [200].")
    p.add_argument("--seed", type=int, default=0, help="Seed of the raters' randomness [0].")
    p.add_argument(
        "--url",
        help="Judge over HTTP against this running `hitl serve` (same store: each simulated rater gets an API "
        "token there) instead of in-process.",
    )
    p.set_defaults(func=_simulate)


def _simulate(args) -> None:
    from hitl.errors import InvalidInput

    if args.raters < 4:
        raise InvalidInput("--raters must be at least 4 (the default crowd has three special raters)")
    if args.judgments < 1:
        raise InvalidInput("--judgments must be at least 1")
    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    oracle = load_judge(args.oracle, store)
    report = simulate(store, campaign, default_crowd(args.raters), oracle, args.judgments, args.seed, url=args.url)
    print_table("Simulated judgments", ["rater", "judgments"], [[k, v] for k, v in sorted(report.judgments.items())])
    if report.exhausted:
        console.print(f"ran out of items for: {', '.join(report.exhausted)}")
    for name, why in sorted(report.stopped.items()):  # the campaign's workforce rules refused them
        console.print(f"stopped {name}: {why}", soft_wrap=True)
    console.print(f"recorded {report.total} judgments; see `hitl stats --campaign {campaign.name}`")
