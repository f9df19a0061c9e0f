"""`hitl generate`: sample responses from a policy and queue them as comparison items of a campaign.

    hitl generate --model default --prompts hitl/data/demo_prompts.jsonl --n 2 --campaign demo --limit 24

The work is hitl.loop.steps.queue_step (the loop's rounds call it too). Bad input (no prompts, an unknown model or
campaign, n < 1, ...) is refused before anything is generated, and a run stores everything (prompts from a file,
responses, items, model versions) in one transaction or nothing.
"""

from __future__ import annotations

import argparse

from hitl.cli.common import (
    add_dataclass_flags,
    add_db_flag,
    console,
    dataclass_flag_values,
    store_from,
    third_party_warnings_hidden,
)
from hitl.config import build_config
from policy.config import GenerationSettings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="Sample responses from a policy and queue them for rating.")
    p.add_argument(
        "--model",
        default="default",
        help="'default' (embedded SmolLM2-135M-Instruct), a hub id OWNER/NAME, a model or LoRA adapter folder, "
        "or a registered policy version name [default].",
    )
    p.add_argument(
        "--prompts",
        required=True,
        help="A prompt file (JSONL/CSV/Parquet with `prompt` or `messages`), a tag, or all.",
    )
    p.add_argument("--campaign", required=True, help="The campaign the items go into (must exist).")
    p.add_argument(
        "--pairing",
        choices=("samples", "versus"),
        default="samples",
        help="samples: compare samples of this model; versus: compare with --against (ranking campaigns get "
        "K-way sets) [samples].",
    )
    p.add_argument("--against", help="For --pairing versus: the other model (spec or registered version name).")
    p.add_argument("--limit", type=int, help="Use at most this many prompts.")
    p.add_argument("--priority", type=float, default=0.0, help="Queue priority of the new items (higher first) [0].")
    p.add_argument("--config", help="YAML file overriding the sampling defaults (flags override it).")
    p.add_argument("--quiet", action="store_true", help="No progress bars.")
    add_dataclass_flags(p, GenerationSettings)
    add_db_flag(p)
    p.set_defaults(func=_generate)


def _generate(args) -> None:
    from hitl.campaigns import get_campaign
    from hitl.loop.steps import QueuePart, QueueStep, queue_step
    from hitl.trainer_config import yaml_section

    # A config file shared by several stages keeps sampling under `generate:`; a file without sections is read whole.
    overrides = yaml_section(args.config, "generate")
    settings = build_config(GenerationSettings, overrides, dataclass_flag_values(args, GenerationSettings))
    settings.validate()
    store = store_from(args)
    step = QueueStep(
        [QueuePart(args.model, args.pairing, args.against)],
        prompts=args.prompts,
        limit=args.limit,
        settings=settings,
        priority=args.priority,
        progress=not args.quiet,
    )
    with third_party_warnings_hidden():
        report = queue_step(store, get_campaign(store, args.campaign), step)
    console.print(report.summary())
