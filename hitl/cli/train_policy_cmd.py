"""`hitl train-policy`: a TRL policy step (DPO by default; KTO, GRPO, RLOO) on a campaign's judgments.

    hitl train-policy --campaign demo --model default --algorithm dpo --config configs/cpu.yaml

The result is registered as a policy version whose parents are the base policy, the dataset snapshot
and (for GRPO / RLOO) the reward model. A run whose loss diverges is reported and not registered.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hitl.cli.common import add_db_flag, console, store_from
from hitl.config import load_yaml_overrides
from hitl.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-policy", help="Fine-tune the policy on judgments with TRL (DPO, KTO, GRPO, RLOO).")
    add_db_flag(p)
    p.add_argument("--campaign", required=True, help="Campaign whose judgments (or prompts, for GRPO/RLOO) to use.")
    p.add_argument("--model", default="default", help="Base policy: default, a hub id, a path or a version name.")
    p.add_argument("--algorithm", choices=("dpo", "kto", "grpo", "rloo"), help="[dpo, or the config's]")
    p.add_argument("--config", help="YAML file; its `policy:` section overrides the trainer config.")
    p.add_argument("--reward", help="Reward model (version name or path) for grpo/rloo.")
    p.add_argument(
        "--aggregate",
        choices=("dawid_skene", "majority", "all"),
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
    p.add_argument("--output-dir", help="Where the trained weights go [$HITL_HOME/policies/<name>].")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Override any trainer option (TRL's DPOConfig etc. or LoRA), e.g. --set beta=0.2.",
    )
    p.set_defaults(func=_train)


def parse_sets(pairs: list[str]) -> dict:
    """`key=value` flags, values read as YAML scalars (numbers, booleans, strings)."""
    import yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidInput(f"--set {pair!r}: use KEY=VALUE")
        key, value = pair.split("=", 1)
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def _train(args) -> None:
    from hitl import embedded
    from hitl.campaigns import get_campaign
    from hitl.catalog import register_model_version
    from policy.fill import register_resolved, resolve_named
    from policy.train import load_for_training, records_from_store, train_policy
    from policy.train_config import make_config

    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    yaml_values = dict(load_yaml_overrides(args.config).get("policy", {})) if args.config else {}
    algorithm = args.algorithm or yaml_values.pop("algorithm", "dpo")
    yaml_values.pop("algorithm", None)
    name = args.name or f"{campaign.name}-{algorithm}-{time.strftime('%Y%m%d-%H%M%S')}"
    out_dir = args.output_dir or str(embedded.hitl_home() / "policies" / name)
    config = make_config(algorithm, {**yaml_values, **parse_sets(args.set), "output_dir": out_dir})
    if args.newest is not None and args.newest < 1:
        raise InvalidInput("--newest must be at least 1")
    records = records_from_store(store, campaign, algorithm, aggregate=args.aggregate, newest=args.newest)
    reward_fn, reward_id = None, None
    if args.best_of_n and (algorithm != "dpo" or args.best_of_n < 2 or not args.reward):
        raise InvalidInput("--best-of-n N adds DPO pairs: use it with --algorithm dpo, N >= 2 and --reward")
    if algorithm in ("grpo", "rloo") or args.best_of_n:
        if not args.reward:
            raise InvalidInput(f"{algorithm} needs --reward (a reward model version or path)")
        from reward.score import reward_function_for

        reward_fn, reward_id = reward_function_for(store, args.reward)
    base = resolve_named(store, args.model)
    best_of_n = 0
    if args.best_of_n:
        from hitl.catalog import campaign_prompts
        from policy.best_of_n import best_of_n_pairs, sampler_for
        from policy.config import GenerationSettings

        extra = best_of_n_pairs(
            campaign_prompts(store, campaign),
            sampler_for(base, progress=True),
            reward_fn,
            GenerationSettings(n=args.best_of_n),
            min_gap=args.best_of_n_gap,
        )
        best_of_n = len(extra)
        records["pairs"] += [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in extra]
        console.print(f"best-of-{args.best_of_n}: {best_of_n} reward-labelled pairs added to the human ones")
        reward_fn = None  # DPO takes pairs, not a reward function
    with store.write() as conn:
        base_id = register_resolved(conn, base)
    model, tokenizer = load_for_training(base)
    console.print(f"training {algorithm} on {base.name} -> {out_dir}")
    result = train_policy(model, tokenizer, algorithm, config, reward_fn=reward_fn, **records)
    if result.diverged:
        raise InvalidInput(
            f"the {algorithm} run diverged (non-finite loss) after {result.steps} steps: "
            "nothing was registered; lower the learning rate or beta"
        )
    with store.write() as conn:
        vid = register_model_version(
            conn,
            kind="policy",
            name=name,
            path=str(Path(out_dir)),
            parent_id=base_id,
            metadata={
                "algorithm": algorithm,
                "campaign": campaign.name,
                "reward_version_id": reward_id,
                "metrics": result.metrics,
                "steps": result.steps,
                "best_of_n_pairs": best_of_n,
            },
        )
    console.print(f"registered policy version {name} (id {vid}): {result.metrics}")
