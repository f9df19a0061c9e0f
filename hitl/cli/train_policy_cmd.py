"""`hitl train-policy`: a TRL policy step (DPO by default; KTO, GRPO, RLOO) on a campaign's judgments.

    hitl train-policy --config configs/cpu.yaml --campaign demo --model default --name demo-dpo-1 --beta 0.2
    hitl train-policy --campaign demo --reward demo-rm --best-of-n 4      # plus reward-labelled best-of-n pairs

Trainer options (every field of TRL's DPOConfig / KTOConfig / GRPOConfig / RLOOConfig, and LoRA) come from
their defaults, then the YAML's `policy:` section, then flags under their TRL names (`--trainer-help`). The work
is hitl.loop.steps.train_policy_step, the same function the loop's rounds call: the version is registered with
its base policy, reward model and pair counts as parents; a registered --name is returned, not trained again; a
run whose loss diverges registers nothing.
"""

from __future__ import annotations

import argparse
import time

from hitl.cli.common import add_db_flag, add_trainer_flags, console, store_from, third_party_warnings_hidden
from hitl.loop.steps.policy_step import AGGREGATES

ALGORITHMS = ("dpo", "kto", "grpo", "rloo")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-policy",
        help="Fine-tune the policy on judgments with TRL (DPO, KTO, GRPO, RLOO).",
        description="Fine-tune the policy on a campaign's judgments with TRL (DPO, KTO, GRPO, RLOO) and register "
        "it. Any option of the TRL config is a flag too: see --trainer-help.",
        allow_abbrev=False,
    )
    add_db_flag(p)
    p.add_argument("--campaign", required=True, help="Campaign whose judgments (or prompts, for GRPO/RLOO) to use.")
    p.add_argument("--model", default="default", help="Base policy: default, a hub id, a path or a version name.")
    p.add_argument("--algorithm", choices=ALGORITHMS, help="[the config's policy: algorithm, else dpo]")
    p.add_argument("--config", help="YAML file; its `policy:` section overrides the trainer config.")
    p.add_argument("--reward", help="Reward model (version name or path): the reward of grpo/rloo, best-of-n labels.")
    p.add_argument(
        "--aggregate",
        choices=AGGREGATES,
        default="dawid_skene",
        help="DPO pairs: one per item from the competence-weighted (Dawid-Skene) label, the majority, or one per "
        "judgment [dawid_skene].",
    )
    p.add_argument(
        "--best-of-n",
        type=int,
        default=0,
        metavar="N",
        help="DPO: also sample N answers per campaign prompt with the base policy and add the reward model's "
        "best-vs-worst pair (needs --reward) [0: off].",
    )
    p.add_argument(
        "--best-of-n-gap", type=float, default=0.1, help="Smallest reward gap for a best-of-n pair to count [0.1]."
    )
    p.add_argument("--newest", type=int, help="Train on only the pairs of the newest N items (on-policy data).")
    p.add_argument("--name", help="Name of the new policy version [<campaign>-<algorithm>-<time>].")
    add_trainer_flags(p, "policy-training")
    p.set_defaults(func=_train)


def _train(args) -> None:
    from hitl.campaigns import get_campaign
    from hitl.loop.steps import PolicyStep, train_policy_step
    from hitl.trainer_config import TrainerSource
    from policy.train_config import CONFIGS, algorithm_of

    algorithm = algorithm_of(args.config, args.algorithm)
    if args.trainer_help:
        from hitl.trainer_config import trainer_help

        console.print(trainer_help(CONFIGS[algorithm], "hitl train-policy"), markup=False, highlight=False)
        return
    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    name = args.name or f"{campaign.name}-{algorithm}-{time.strftime('%Y%m%d-%H%M%S')}"
    step = PolicyStep(
        name=name,
        base=args.model,
        algorithm=algorithm,
        trainer=TrainerSource(args.config, args.trainer_args),
        reward=args.reward,
        aggregate=args.aggregate,
        newest=args.newest,
        best_of_n=args.best_of_n,
        best_of_n_gap=args.best_of_n_gap,
    )
    from hitl.embedded import EMBEDDED

    base = f"default ({EMBEDDED['policy'].name})" if args.model == "default" else args.model
    console.print(f"training {algorithm} from {base} on the judgments of {campaign.name} -> version {name}")
    with third_party_warnings_hidden():
        result = train_policy_step(store, campaign, step)
    if not result.trained:
        console.print(f"policy version {name} is already registered (id {result.version_id}): nothing trained")
        return
    print_summary(result)


def print_summary(result) -> None:
    """What the run did, in the order a reader asks: data, work, what the loss and margin did, a verdict."""
    from hitl.loop.steps.policy_step import policy_dir
    from policy.report import loss_plot, summarize

    summary = summarize(result.log_history)
    plot = loss_plot(
        result.log_history, f"{policy_dir(result.name)}/training-loss.png", f"{result.name} ({result.algorithm})"
    )

    def pair(a, b, digits: int = 3) -> str:
        return "–" if a is None else f"{a:.{digits}f} -> {b:.{digits}f}"

    console.print(
        f"registered policy version {result.name} (id {result.version_id}), {result.algorithm}, {result.precision}"
    )
    console.print(f"  pairs:         {result.human_pairs} human + {result.best_of_n_pairs} best-of-n")
    console.print(f"  steps:         {result.steps} in {result.seconds:.0f} s")
    console.print(f"  loss:          {pair(summary.loss_start, summary.loss_end)} (first third of the steps -> last)")
    console.print(f"  reward margin: {pair(summary.margin_start, summary.margin_end, 2)} (chosen - rejected)")
    if summary.accuracy_end is not None:
        console.print(f"  chosen ahead:  {summary.accuracy_end:.0%} of the last steps' pairs")
    console.print(f"  verdict:       {summary.verdict()}")
    console.print(f"  loss plot:     {plot}")
