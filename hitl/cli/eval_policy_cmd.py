"""`hitl eval-policy`: win rate of policy version A over B, judged by an oracle, a reward model, or humans.

    hitl eval-policy --a demo-dpo-1 --b default --prompts all --limit 48 --max-new-tokens 256 --oracle rule:concise

Answers already stored for a version (by `hitl generate`, the demo or an earlier comparison) are reused when they
were sampled with the same temperature, top-p and token limit, and the run says how many; only the missing ones
are generated. The judged pairs are stored as reward- or oracle-judged battles, so the leaderboard page shows the
comparison (its Comparisons tab) and rates the versions on that judge's board. The sampling defaults are
`hitl generate`'s, so a comparison after a generate reuses its answers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hitl.cli.common import add_db_flag, console, print_table, store_from, third_party_warnings_hidden
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput
from hitl.stats import BOOTSTRAP_ROUNDS, format_rate, win_verdict
from policy.config import GenerationSettings

DEFAULTS = GenerationSettings()


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
    p.add_argument("--max-new-tokens", type=int, default=DEFAULTS.max_new_tokens, help=f"[{DEFAULTS.max_new_tokens}]")
    p.add_argument("--temperature", type=float, default=DEFAULTS.temperature, help=f"[{DEFAULTS.temperature}]")
    p.add_argument("--top-p", type=float, default=DEFAULTS.top_p, help=f"[{DEFAULTS.top_p}]")
    p.add_argument("--seed", type=int, default=0, help="Seed of newly generated answers [0].")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=BOOTSTRAP_ROUNDS,
        help=f"Bootstrap resamples for the intervals [{BOOTSTRAP_ROUNDS}].",
    )
    p.add_argument("--no-store", action="store_true", help="Do not store the judged pairs as battles.")
    p.add_argument("--out", help="Write the comparison (rates and every judged pair) as JSON here.")
    add_json_flag(p)
    p.set_defaults(func=_eval)


def _judge_name(store, args) -> tuple[str, str] | None:
    """(battle judge, its model version name) the pairs are stored under, or None when they cannot be."""
    if args.oracle and args.oracle.startswith("reward:"):
        args.reward = args.oracle.removeprefix("reward:")
    if args.reward:
        from sqlalchemy import select

        from hitl.store.schema import model_versions
        from reward.models import resolve_reward_ref

        _, version_id = resolve_reward_ref(store, args.reward)
        if version_id is None:
            return None
        with store.read() as conn:
            name = conn.execute(select(model_versions.c.name).where(model_versions.c.id == version_id)).scalar()
        return "reward", name
    return "oracle", args.oracle


def _eval(args) -> None:
    store = store_from(args)
    settings = GenerationSettings(
        n=1, max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p, seed=args.seed
    )
    settings.validate()
    if args.arena:
        from hitl.campaigns import get_campaign
        from hitl.loop.steps import QueuePart, QueueStep, queue_step

        part = QueuePart(model=args.a, pairing="versus", against=args.b)
        step = QueueStep([part], prompts=args.prompts, limit=args.limit, settings=settings, source="hitl eval-policy")
        queued = queue_step(store, get_campaign(store, args.arena), step)
        if args.json:
            emit_json({"arena": args.arena, "queued": queued, "summary": queued.summary()})
        else:
            console.print(queued.summary())
        return
    if args.bootstrap < 10:
        raise InvalidInput("--bootstrap must be at least 10")
    from hitl.loop.judges import load_judge
    from policy.evaluate import compare_policies

    judge = load_judge(args.oracle if args.oracle else f"reward:{args.reward}", store)
    with third_party_warnings_hidden():
        comparison = compare_policies(
            store, args.a, args.b, args.prompts, judge, settings, limit=args.limit, bootstrap=args.bootstrap
        )
    if not args.json:
        report(comparison, args)
    stored = None if args.no_store else _store_pairs(store, comparison, args)
    if args.json:
        emit_json({**comparison.to_dict(), "stored": stored})
    elif stored:
        console.print(stored)
    if args.out:
        Path(args.out).write_text(json.dumps(comparison.to_dict(), indent=2))
        console.print(f"wrote {args.out}")


def report(comparison, args) -> None:
    """Where the answers came from, the table (n, ties, rates with intervals) and the verdict."""
    for side in comparison.sides:
        alias = f" ({side.spec})" if side.spec != side.name else ""
        console.print(
            f"{side.name}{alias}: {side.reused} stored answers reused (sampled at temperature {args.temperature}, "
            f"top-p {args.top_p}, up to {args.max_new_tokens} new tokens), {side.generated} generated"
        )
    r, style = comparison.result, comparison.style
    wins, ties, losses = comparison.tally
    judged_by = f"oracle {args.oracle}" if args.oracle else f"reward model {args.reward}"
    print_table(
        f"{comparison.a} vs {comparison.b}, judged by {judged_by}",
        [
            "pairs",
            "A wins",
            "ties",
            "B wins",
            "A's win rate [95% CI]",
            "length-controlled [95% CI]",
            "style-controlled [95% CI]",
        ],
        [
            [
                r.n,
                wins,
                ties,
                losses,
                format_rate(r.rate, r.low, r.high),
                format_rate(r.length_controlled, r.lc_low, r.lc_high),
                "–" if style is None else format_rate(style.rate, style.low, style.high),
            ]
        ],
    )
    if style is not None and style.coefficients:
        # How much the judge rewards each style feature: why A wins, beside whether it does.
        parts = [f"{c.feature} {format_rate(c.coefficient, c.low, c.high)}" for c in style.coefficients]
        console.print(
            f"style coefficients (log-odds per sd of the normalised difference, n={r.n}): {'; '.join(parts)}"
        )
    console.print(f"verdict: {win_verdict(comparison.a, comparison.b, r.low, r.high, r.n)}")


def _store_pairs(store, comparison, args) -> str:
    from hitl.service.comparisons import JudgedPair, record_pairs

    named = _judge_name(store, args)
    if named is None:
        return "the reward model is not a registered version: the judged pairs are not stored as battles"
    judge, name = named
    pairs = [JudgedPair(r["a_id"], r["b_id"], r["outcome"]) for r in comparison.rows if r["a_id"] and r["b_id"]]
    new = record_pairs(store, pairs, judge, name)
    return (
        f"stored {new} new {judge}-judged battles ({len(pairs) - new} were stored before): the leaderboard page "
        "shows them (its Comparisons tab)"
    )
