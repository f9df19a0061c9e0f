"""`hitl eval-policy`: win rate of policy version A over B, judged by an oracle, a reward model, or humans.

hitl eval-policy --a demo-r1-policy --b default --prompts demo --oracle rule:concise --out eval.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-policy", help="Win rate of policy A over B (oracle, reward model, or arena battles).")
    add_db_flag(p)
    p.add_argument("--a", required=True, help="Policy A: a version name, default, a hub id or a path.")
    p.add_argument("--b", required=True, help="Policy B (the baseline).")
    p.add_argument("--prompts", required=True, help="A prompt file, a tag of stored prompts, or all.")
    judge = p.add_mutually_exclusive_group(required=True)
    judge.add_argument("--oracle", help="rule:NAME, module:function or reward:VERSION (see `hitl simulate --help`).")
    judge.add_argument("--reward", help="A reward model version name or path.")
    judge.add_argument("--arena", metavar="CAMPAIGN", help="Queue A-vs-B battles in this campaign for humans.")
    p.add_argument("--limit", type=int, help="At most this many prompts.")
    p.add_argument("--max-new-tokens", type=int, default=64, help="[64]")
    p.add_argument("--temperature", type=float, default=0.7, help="[0.7]")
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.add_argument("--bootstrap", type=int, default=1000, help="Bootstrap resamples for the intervals [1000].")
    p.add_argument("--out", help="Write the comparison (rates and every judged pair) as JSON here.")
    p.set_defaults(func=_eval)


def _eval(args) -> None:
    from policy.config import GenerationSettings

    store = store_from(args)
    settings = GenerationSettings(
        n=1, max_new_tokens=args.max_new_tokens, temperature=args.temperature, seed=args.seed
    )
    if args.arena:
        from hitl.campaigns import get_campaign
        from hitl.loop.steps import QueuePart, QueueStep, queue_step

        part = QueuePart(model=args.a, pairing="versus", against=args.b)
        step = QueueStep([part], prompts=args.prompts, limit=args.limit, settings=settings, source="hitl eval-policy")
        console.print(queue_step(store, get_campaign(store, args.arena), step).summary())
        return
    from hitl.loop.judges import load_judge

    judge = load_judge(args.oracle if args.oracle else f"reward:{args.reward}", store)
    from policy.evaluate import compare_policies

    if args.bootstrap < 10:
        raise InvalidInput("--bootstrap must be at least 10")
    comparison = compare_policies(
        store, args.a, args.b, args.prompts, judge, settings, limit=args.limit, bootstrap=args.bootstrap
    )
    r = comparison.result
    print_table(
        f"{args.a} vs {args.b}",
        ["pairs", "win rate", "95% CI", "length-controlled", "LC 95% CI"],
        [[r.n, r.rate, f"{r.low:.3f}-{r.high:.3f}", r.length_controlled, f"{r.lc_low:.3f}-{r.lc_high:.3f}"]],
    )
    if args.out:
        Path(args.out).write_text(json.dumps(comparison.to_dict(), indent=2))
        console.print(f"wrote {args.out}")
