"""`hitl loop`: run rounds of the human-in-the-loop cycle on a campaign (resumable; see hitl/loop).

hitl loop --campaign demo --config configs/cpu.yaml --rounds 1
hitl loop --campaign demo --status
"""

from __future__ import annotations

import argparse
import time

from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput, UsageError
from hitl.loop.runner import LoopSettings
from hitl.loop.stages import RoundPlan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loop", help="Rounds: judgments -> reward model -> policy step -> new pairs in the queue.")
    add_db_flag(p)
    p.add_argument("--campaign", required=True, help="The campaign the loop feeds and learns from.")
    p.add_argument(
        "--base", default="default", help="Policy of the first round: default, a hub id, a path or a version."
    )
    p.add_argument("--status", action="store_true", help="Only show the rounds so far and their metrics.")
    p.add_argument(
        "--watch",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Keep going: while a round waits for judgments (or after one stopped), check again every SECONDS "
        "(0: return).",
    )
    p.add_argument(
        "--config", dest="config_path", help="YAML file with reward: and policy: sections (configs/cpu.yaml)."
    )
    add_json_flag(p)
    add_dataclass_flags(p, LoopSettings)
    add_dataclass_flags(p, RoundPlan, skip=("config_path",))
    p.set_defaults(func=_loop)


def show_rounds(store, campaign) -> None:
    from hitl.loop import rounds

    def interval(m: dict, rate: str, low: str, high: str, n: str) -> str:
        if m.get(rate) is None:
            return "-"
        return f"{m[rate]:.2f} [{m.get(low, float('nan')):.2f}, {m.get(high, float('nan')):.2f}] n={m.get(n, '?')}"

    rows = [
        [
            r.number,
            r.stage,
            r.status,
            r.metrics.get("new_judgments"),
            interval(r.metrics, "reward_accuracy", "reward_accuracy_low", "reward_accuracy_high", "reward_eval_pairs"),
            interval(r.metrics, "oracle_win_rate", "oracle_win_low", "oracle_win_high", "eval_pairs"),
            interval(r.metrics, "oracle_lc_win_rate", "oracle_lc_low", "oracle_lc_high", "eval_pairs"),
            r.metrics.get("items_queued"),
            r.message,
        ]
        for r in rounds(store, campaign)
    ]
    columns = ["round", "stage", "status", "new judgments", "RM accuracy [95% CI]", "oracle win vs base [95% CI]"]
    columns.append("length-controlled [95% CI]")
    print_table(f"Rounds of {campaign.name}", [*columns, "items queued", "message"], rows)


def _loop(args) -> None:
    from hitl.campaigns import get_campaign
    from hitl.loop import run_loop
    from hitl.loop.stages import RoundStages

    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    if args.status:
        if args.json:
            from hitl.loop import rounds

            emit_json({"campaign": campaign.name, "rounds": rounds(store, campaign)})
        else:
            show_rounds(store, campaign)
        return
    if args.json:
        raise UsageError("--json goes with --status (a running loop prints its progress)")
    settings = LoopSettings(**{k: v for k, v in dataclass_flag_values(args, LoopSettings).items() if v is not None})
    plan = RoundPlan(
        **{k: v for k, v in dataclass_flag_values(args, RoundPlan).items() if v is not None and k != "config_path"},
        config_path=args.config_path,
    )
    plan.validate()
    if settings.min_new_judgments < 1:
        raise InvalidInput("--min-new-judgments must be at least 1: a round never trains on nothing")
    stages = RoundStages(plan, base_policy=args.base)
    while True:
        done = run_loop(store, campaign, stages, settings)
        last = done[-1]
        console.print(f"round {last.number}: {last.status}{' - ' + last.message if last.message else ''}")
        # Watching, a stopped round (reward model no better than chance) is not the end: the next round
        # waits for more judgments and tries again.
        if args.watch <= 0 or last.status not in ("waiting", "stopped"):
            break
        time.sleep(args.watch)
    show_rounds(store, campaign)
