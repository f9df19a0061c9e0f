"""`hitl demo`: set up the demo under HITL_HOME, run the calibration round (see hitl/demo.py), fetch the default
models and fill the `demo` campaign's queue from the default policy (once; `--no-models` skips both).

    hitl demo              # make demo
    hitl demo --no-models  # the collection part only, in seconds
"""

from __future__ import annotations

import argparse

from hitl import demo, io
from hitl.campaigns import get_campaign
from hitl.cli.common import add_db_flag, console, store_from
from hitl.cli.stats_cmd import show_stats
from hitl.paths import hitl_home


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="The demo on embedded data: logins, campaigns, prompts, a calibration round.")
    add_db_flag(p)
    p.add_argument("--seed", type=int, default=0, help="Seed of the scripted raters and of the sampling [0].")
    p.add_argument(
        "--no-models", action="store_true", help="Skip fetching the default models and generating the demo queue."
    )
    p.add_argument(
        "--prompts",
        type=int,
        default=demo.QUEUE_PROMPTS,
        help=f"Demo prompts the policy answers [{demo.QUEUE_PROMPTS}].",
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=demo.QUEUE_MAX_NEW_TOKENS,
        help=f"Longest demo response in tokens (2 samples per prompt) [{demo.QUEUE_MAX_NEW_TOKENS}].",
    )
    p.set_defaults(func=_demo)


def _demo(args) -> None:
    home = hitl_home()
    home.mkdir(parents=True, exist_ok=True)
    store = store_from(args)
    console.rule("hitl demo")
    console.print(f"store: {store.url}")
    creds = demo.set_up(store, home)
    calibration = get_campaign(store, "calibration")
    n = demo.run_calibration(store, calibration, seed=args.seed)
    console.print(f"scripted raters recorded {n} new judgments on the calibration campaign's gold pairs")
    show_stats(store, calibration, hours=1)
    manifest = io.export(store, home / "exports" / "calibration-raw.jsonl", layout="raw", campaign=calibration)
    console.print(f"exported {manifest.counts} to {manifest.data_path} (manifest: {manifest.path})")
    if not args.no_models:
        _fill_demo_queue(store, args)
    console.rule("logins")
    for name, password in creds.items():
        console.print(f"  {name:6s} {password}")
    console.print(
        "Next: the web app (`make demo` starts it; or `hitl serve --loop-campaign demo --loop-config "
        "configs/cpu.yaml`): log in at http://127.0.0.1:7860/login as the reviewer, a rater or the admin above. "
        f"In another shell, with HITL_HOME={home}, the README's tour: `hitl stats --campaign calibration`, "
        "`hitl simulate --campaign demo --judgments 200` (enough judgments for the loop's first round), then "
        "train-reward, eval-reward, train-policy, generate, score, eval-policy."
    )


def _fill_demo_queue(store, args) -> None:
    """Fetch both default models, then answer the first demo prompts with the default policy, once."""
    from hitl.cli.models_cmd import fetch_defaults

    console.rule("models")
    fetch_defaults(["policy", "reward"])
    queued = demo.queued_items(store)
    if queued:
        console.print(f"the demo queue already holds {queued} items from the default policy: not generating again")
        return
    from hitl.campaigns import get_campaign
    from hitl.loop.steps import QueuePart, QueueStep, queue_step
    from policy.config import GenerationSettings

    settings = GenerationSettings(n=2, max_new_tokens=args.max_new_tokens, seed=args.seed)
    prompts = str(demo.data_file("demo_prompts.jsonl"))
    step = QueueStep(
        [QueuePart("default")], prompts=prompts, limit=args.prompts, settings=settings, source="hitl demo"
    )
    console.print(queue_step(store, get_campaign(store, "demo"), step).summary())
