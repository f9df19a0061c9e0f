"""`hitl score`: score a campaign's pending items with a reward model and set their queue priorities to the model's
uncertainty, so raters see the pairs the model is least sure about first.

    hitl score --campaign demo --model demo-reward-20250101-120000 --mc-samples 8
    hitl score --campaign demo --model rm-a --model rm-b --out prelabels.jsonl    # a two-model ensemble

The work is hitl.loop.steps.score_step (the loop's rounds call it too). Uncertainty comes from MC dropout
(--mc-samples passes with dropout on) and, with several --model, from their disagreement. Each item's pre-label
(preferred response, confidence, rewards) is kept in the store for the rate page's hint (campaigns with
show_prelabel on); --out also writes them as JSONL.
"""

from __future__ import annotations

import argparse
import json

from hitl.cli.common import add_db_flag, console, print_table, store_from, third_party_warnings_hidden


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="Score pending items with a reward model; most uncertain first in the queue.")
    add_db_flag(p)
    p.add_argument("--campaign", required=True, help="Campaign whose open items to score.")
    p.add_argument(
        "--model", action="append", required=True, help="Reward version name or id, or a folder (repeat: ensemble)."
    )
    p.add_argument("--mc-samples", type=int, default=8, help="Dropout passes per model (1: no MC dropout) [8].")
    p.add_argument("--batch-size", type=int, default=32, help="Sequences per scoring batch [32].")
    p.add_argument("--no-priorities", action="store_true", help="Only report (and --out); leave priorities alone.")
    p.add_argument("--out", help="Write the pre-labels as JSONL here.")
    p.set_defaults(func=_score)


def _score(args) -> None:
    from hitl.campaigns import get_campaign
    from hitl.io.atomic import write_atomic
    from hitl.loop.steps import ScoreStep, score_step

    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    step = ScoreStep(args.model, args.mc_samples, args.batch_size, priorities=not args.no_priorities)
    with third_party_warnings_hidden():
        result = score_step(store, campaign, step)
    scores = result.scores
    if not scores:
        console.print(f"campaign {args.campaign} has no open items to score")
        return
    if args.out:
        lines = "".join(json.dumps(s.to_dict()) + "\n" for s in scores)
        write_atomic(args.out, lambda p: p.write_text(lines))
    top = sorted(scores, key=lambda s: -s.uncertainty)[:10]
    print_table(
        f"Most uncertain of {len(scores)} items (served first)" if step.priorities else "Most uncertain items",
        ["item", "uncertainty", "preferred response", "confidence"],
        [[s.item_id, s.uncertainty, s.preferred_response_id, s.confidence] for s in top],
    )
    done = "priorities updated" if step.priorities else "priorities unchanged"
    console.print(f"scored {len(scores)} items with {result.models} model(s) x {args.mc_samples} pass(es); {done}")
