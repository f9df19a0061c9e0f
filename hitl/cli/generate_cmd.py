"""`hitl generate`: sample responses from a policy and queue them as comparison items of a campaign.

    hitl generate --model default --prompts hitl/data/demo_prompts.jsonl --n 2 --campaign demo --limit 24

Bad input (no prompts, an unknown model or campaign, n < 1, ...) is refused before anything is generated, and a
run stores everything (prompts from a file, responses, items, model versions) in one transaction or nothing.
"""

from __future__ import annotations

import argparse

from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, store_from
from hitl.config import build_config, load_yaml_overrides
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
    from policy.fill import fill_queue

    overrides = load_yaml_overrides(args.config)
    # A config file shared by several stages keeps sampling under `generate:`.
    overrides = overrides.get("generate", overrides) if isinstance(overrides.get("generate"), dict) else overrides
    settings = build_config(GenerationSettings, overrides, dataclass_flag_values(args, GenerationSettings))
    settings.validate()
    report = fill_queue(
        store_from(args),
        model=args.model,
        prompts=args.prompts,
        campaign=args.campaign,
        settings=settings,
        pairing=args.pairing,
        against=args.against,
        limit=args.limit,
        priority=args.priority,
        progress=not args.quiet,
    )
    console.print(report.summary())
