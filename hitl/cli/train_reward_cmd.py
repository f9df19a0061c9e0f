"""`hitl train-reward`: train a reward model with TRL on a campaign's judgments (or a preference file), evaluate it
on held-out prompts, and register it as a reward model version with its dataset snapshots.

    hitl train-reward --config configs/cpu.yaml --campaign demo --name demo-rm
    hitl train-reward --data pairs.jsonl --model default --num_train_epochs 1 --warmup_steps 0
    accelerate launch --config_file configs/accelerate/cpu_2proc.yaml -m hitl.cli.main train-reward --campaign demo

Trainer options (every TRL RewardConfig / TrainingArguments field and hitl's reward options) come from their
defaults, then the YAML's `reward:` section, then flags under their TRL names (`--trainer-help` lists them).
The work is hitl.loop.steps.train_reward_step: a registered --name is returned, not trained again; after a kill,
the same command resumes from the last checkpoint in the same data order.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hitl.cli.common import (
    add_db_flag,
    add_trainer_flags,
    console,
    print_table,
    store_from,
    third_party_warnings_hidden,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-reward",
        help="Train a reward model (TRL RewardTrainer) on judgments or a preference file, evaluate and register it.",
        description="Train a reward model (TRL RewardTrainer) on judgments or a preference file, evaluate it on "
        "held-out prompts and register it. Any TRL RewardConfig option is a flag too: see --trainer-help.",
        allow_abbrev=False,
    )
    add_db_flag(p)
    p.add_argument("--config", help="YAML file; its `reward:` section overrides the defaults (e.g. configs/cpu.yaml).")
    p.add_argument("--campaign", help="Campaign whose judgments are the data (--data store); all campaigns if unset.")
    p.add_argument(
        "--data",
        default="store",
        help="store (the judgments of --campaign) or a preference file: TRL prompt/chosen/rejected or HH-RLHF "
        "dialogues, as JSONL/CSV/Parquet, a saved HF dataset, or hf:OWNER/NAME[:SPLIT] (online) [store].",
    )
    p.add_argument("--eval-data", help="A held-out preference file to evaluate on instead of a split by prompt.")
    p.add_argument("--name", help="Name of the reward version [<campaign or file>-reward-<time>].")
    add_trainer_flags(p, "reward-training")
    p.set_defaults(func=_train)


def _train(args) -> None:
    from hitl.campaigns import get_campaign
    from hitl.loop.steps import RewardStep, train_reward_step
    from hitl.trainer_config import TrainerSource

    if args.trainer_help:
        from hitl.trainer_config import trainer_help
        from reward.config import RewardTrainConfig

        console.print(trainer_help(RewardTrainConfig, "hitl train-reward"), markup=False, highlight=False)
        return
    source = args.campaign or (Path(args.data).stem.split(".")[0] if args.data != "store" else "all")
    name = args.name or f"{source}-reward-{time.strftime('%Y%m%d-%H%M%S')}"
    store = store_from(args)
    campaign = get_campaign(store, args.campaign) if args.campaign else None
    step = RewardStep(
        name=name, trainer=TrainerSource(args.config, args.trainer_args), data=args.data, eval_data=args.eval_data
    )
    console.print(f"training reward model {name} on {args.data if not campaign else campaign.name}")
    with third_party_warnings_hidden():
        result = train_reward_step(store, campaign, step)
    if not result.main_process:
        return
    if not result.trained:
        console.print(
            f"reward version {name} is already registered (id {result.version_id}, held-out accuracy "
            f"{result.accuracy}): nothing trained; pick another --name to train a new one"
        )
        return
    if result.report:
        from reward.evaluate import small_sample_warning, summary_rows

        table = summary_rows(result.report)
        print_table(f"Held-out evaluation of {name}", ["measure", "value", "95% CI", "n"], table)
        warning = small_sample_warning(result.report)
        if warning:
            console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
        console.print(f"report and plots: {Path(result.path) / 'eval'}")
    console.print(
        f"registered reward version {result.name} (id {result.version_id}) at {result.path}; dataset snapshots "
        f"{result.snapshot_ids}; {result.metrics.get('train_pairs')} training pairs in "
        f"{result.metrics.get('train_seconds', 0):.0f} s"
    )
