"""`hitl train-reward`: train a reward model with TRL on a campaign's judgments (or a preference file), evaluate it
on held-out prompts, and register it as a reward model version with its dataset snapshots.

    hitl train-reward --config configs/cpu.yaml --campaign demo
    hitl train-reward --data pairs.jsonl --model default --num-train-epochs 1 --set warmup_steps=0
    accelerate launch --config_file configs/accelerate/cpu_2proc.yaml -m hitl.cli.main train-reward --campaign demo

Defaults come from reward.config, then the YAML's `reward:` section, then flags. After a kill, run the same
command with the same --name (or --output-dir): it resumes from the last checkpoint there, in the same data order.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, print_table, store_from
from hitl.errors import InvalidInput
from reward.options import TRAINER_FLAGS, RewardOptions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-reward",
        help="Train a reward model (TRL RewardTrainer) on judgments or a preference file, evaluate and register it.",
    )
    add_db_flag(p)
    p.add_argument("--config", help="YAML file; its `reward:` section overrides the defaults (e.g. configs/cpu.yaml).")
    p.add_argument(
        "--data",
        default="store",
        help="store (the judgments of --campaign) or a preference file: TRL prompt/chosen/rejected or HH-RLHF "
        "dialogues, as JSONL/CSV/Parquet, a saved HF dataset, or hf:OWNER/NAME[:SPLIT] (online) [store].",
    )
    p.add_argument("--eval-data", help="A held-out preference file to evaluate on instead of a split by prompt.")
    p.add_argument("--name", help="Name of the reward version [<campaign or file>-reward-<time>].")
    add_dataclass_flags(p, RewardOptions)
    for name, kind, help_text in TRAINER_FLAGS:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None, help=help_text)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Any other TRL RewardConfig / TrainingArguments option, e.g. --set lr_scheduler_type=cosine.",
    )
    p.set_defaults(func=_train)


def parse_sets(pairs: list[str]) -> dict:
    """`name=value` flags; values read as YAML scalars (numbers, booleans, strings)."""
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidInput(f"--set {pair!r}: use NAME=VALUE")
        key, value = pair.split("=", 1)
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def _train(args) -> None:
    from hitl import embedded
    from reward.config import load_config
    from reward.evaluate import summary_rows
    from reward.train import train_reward

    flags = {**dataclass_flag_values(args, RewardOptions), **parse_sets(args.set)}
    flags.update({name: getattr(args, name) for name, _, _ in TRAINER_FLAGS if getattr(args, name) is not None})
    source = args.campaign or (Path(args.data).stem.split(".")[0] if args.data != "store" else "all")
    name = args.name or f"{source}-reward-{time.strftime('%Y%m%d-%H%M%S')}"
    flags.setdefault("output_dir", None)
    flags["output_dir"] = flags["output_dir"] or str(embedded.hitl_home() / "rewards" / name)
    config = load_config(args.config, flags)
    store = store_from(args)
    main = config.process_index == 0
    if main:
        console.print(f"training reward model {name} on {args.data} (backbone {config.model}) -> {config.output_dir}")
    result = train_reward(config, store, data_source=args.data, eval_data=args.eval_data, version_name=name)
    if not main:
        return
    if result.report:
        print_table(f"Held-out evaluation of {name}", ["measure", "value", "n"], summary_rows(result.report))
        console.print(f"report and plots: {Path(result.output_dir) / 'eval'}")
    console.print(
        f"registered reward version {result.version_name} (id {result.version_id}); dataset snapshots "
        f"{result.snapshot_ids}; {result.metrics.get('train_pairs')} training pairs in "
        f"{result.metrics.get('train_seconds', 0):.0f} s"
    )
