"""The policy step: fine-tune a policy with TRL (DPO by default; KTO, GRPO, RLOO) on a campaign's judgments, plus
reward-labelled best-of-n pairs when asked, and register it. `hitl train-policy` and the loop's rounds call it.

    hitl train-policy --config configs/cpu.yaml --campaign demo --name demo-dpo-1 --reward demo-rm --best-of-n 4

Idempotent by version name: a registered name returns that version and trains nothing. Every version records the
same lineage: algorithm, campaign, base version, reward version, data snapshot, round, pair counts and metrics.
A run whose loss diverges registers nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hitl import embedded
from hitl.campaigns import Campaign
from hitl.errors import InvalidInput, TrainingDiverged
from hitl.loop.steps.versions import find_version
from hitl.store import Store
from hitl.trainer_config import TrainerSource
from policy.config import GenerationSettings

AGGREGATES = ("dawid_skene", "majority", "all")
ONLINE = ("grpo", "rloo")


@dataclass
class PolicyStep:
    """What `train_policy_step` trains, on what, and where its trainer config comes from (hitl.trainer_config)."""

    name: str = field(metadata={"help": "Version name of the new policy (its folder: $HITL_HOME/policies/NAME)."})
    base: str = field(default="default", metadata={"help": "Base policy: default, a hub id, a path or a version."})
    algorithm: str | None = field(
        default=None, metadata={"help": "dpo, kto, grpo or rloo (unset: the YAML's policy: algorithm, else dpo)."}
    )
    trainer: TrainerSource = field(
        default_factory=TrainerSource, metadata={"help": "Where the trainer config comes from (YAML, flags)."}
    )
    reward: str | None = field(
        default=None,
        metadata={"help": "Reward model (version name, id or folder): GRPO/RLOO's reward, best-of-n labels."},
    )
    aggregate: str = field(
        default="dawid_skene",
        metadata={"help": "DPO pairs: one per item (Dawid-Skene or majority label), or one per judgment (all)."},
    )
    newest: int | None = field(
        default=None, metadata={"help": "Train on the pairs of the newest N items only (None: every judged item)."}
    )
    max_pairs: int | None = field(
        default=None,
        metadata={
            "help": "DPO: at most this many pairs per step, a bound on its time (None: all). Best-of-n pairs take "
            "up to a third (largest reward gaps first), the newest human pairs half of the rest, and older human "
            "pairs are drawn at random for the remainder: older, off-policy pairs count less, none is excluded."
        },
    )
    best_of_n: int = field(
        default=0, metadata={"help": "DPO: also sample N answers per prompt and add the reward model's best-vs-worst."}
    )
    best_of_n_gap: float = field(default=0.1, metadata={"help": "Smallest reward gap for a best-of-n pair to count."})
    best_of_n_stored: bool = field(
        default=False,
        metadata={
            "help": "Best-of-n from the base policy's answers already in the store (the candidates a round queued "
            "from), instead of sampling best_of_n new ones; prompts with two or more distinct answers count."
        },
    )
    best_of_n_prompts: str | None = field(
        default=None, metadata={"help": "Prompts for best-of-n: a file, a tag or all (None: the campaign's prompts)."}
    )
    best_of_n_limit: int | None = field(default=None, metadata={"help": "At most this many best-of-n prompts."})
    sampling: GenerationSettings = field(
        default_factory=GenerationSettings, metadata={"help": "How best-of-n samples are drawn (n is best_of_n)."}
    )
    round: int | None = field(default=None, metadata={"help": "The loop round this step belongs to (lineage)."})
    snapshot_id: int | None = field(default=None, metadata={"help": "The dataset snapshot behind it (lineage)."})
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})


@dataclass
class PolicyStepResult:
    version_id: int
    name: str
    base_version_id: int | None
    trained: bool  # False when the version already existed
    algorithm: str
    human_pairs: int = 0
    best_of_n_pairs: int = 0
    steps: int = 0
    seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"  # what the trainer ran in (bf16 where the hardware runs it natively)
    loss: str | None = None  # the loss terms it ran, e.g. "sigmoid + sft" (policy.train_config.loss_terms)
    log_history: list[dict[str, Any]] = field(default_factory=list)  # the trainer's logs (empty if not trained)


def policy_dir(name: str) -> str:
    return str(embedded.hitl_home() / "policies" / name)


def check_step(step: PolicyStep, algorithm: str) -> None:
    """Refuse what cannot work before anything is loaded or generated."""
    if step.aggregate not in AGGREGATES:
        raise InvalidInput(f"aggregate must be one of {', '.join(AGGREGATES)}, not {step.aggregate!r}")
    if step.newest is not None and step.newest < 1:
        raise InvalidInput("--newest must be at least 1")
    wants_best_of_n = step.best_of_n or step.best_of_n_stored
    if wants_best_of_n and (algorithm != "dpo" or not step.reward or (step.best_of_n and step.best_of_n < 2)):
        raise InvalidInput("--best-of-n N adds DPO pairs: use it with --algorithm dpo, N >= 2 and --reward")
    if algorithm in ONLINE and not step.reward:
        raise InvalidInput(f"{algorithm} needs --reward (a reward model version or path)")


def _existing(row: Any) -> PolicyStepResult:
    meta = row.metadata or {}
    return PolicyStepResult(
        row.id,
        row.name,
        row.parent_id,
        trained=False,
        algorithm=meta.get("algorithm", "?"),
        human_pairs=meta.get("human_pairs", 0),
        best_of_n_pairs=meta.get("best_of_n_pairs", 0),
        steps=meta.get("steps", 0),
        metrics=dict(meta.get("metrics") or {}),
        precision=meta.get("precision", "fp32"),
        loss=meta.get("loss"),
    )


def stored_answer_groups(store: Store, version_id: int, limit: int | None = None) -> list[tuple[Any, list[str]]]:
    """(prompt, distinct answers) for each prompt the version answered at least twice, newest prompts first."""
    from sqlalchemy import select

    from hitl.store.schema import prompts, responses

    with store.read() as conn:
        rows = conn.execute(
            select(responses.c.prompt_id, responses.c.text, prompts.c.text.label("prompt"), prompts.c.messages)
            .join(prompts, prompts.c.id == responses.c.prompt_id)
            .where(responses.c.model_version_id == version_id)
            .order_by(responses.c.prompt_id.desc(), responses.c.id)
        ).all()
    groups: dict[int, tuple[Any, list[str]]] = {}
    for r in rows:
        prompt, answers = groups.setdefault(r.prompt_id, (r.messages or r.prompt, []))
        if r.text.strip() and r.text not in answers:
            answers.append(r.text)
    found = [g for g in groups.values() if len(g[1]) >= 2]
    return found[:limit] if limit else found


def bounded_pairs(
    human: list[dict], best_of_n: list[dict], limit: int, seed: int = 0
) -> tuple[list[dict], list[dict]]:
    """At most `limit` pairs (see PolicyStep.max_pairs): best-of-n up to a third (largest gaps first), the newest
    human pairs (the list is oldest first) for half of what is left, random older ones for the rest."""
    import random

    if len(human) + len(best_of_n) <= limit:
        return human, best_of_n
    kept_bon = sorted(best_of_n, key=lambda p: -p.get("reward_gap", 0.0))[: max(0, limit // 3)]
    room = limit - len(kept_bon)
    newest = room // 2
    older = len(human) - newest
    drawn = sorted(random.Random(seed).sample(range(older), min(older, room - newest)))
    return [*(human[i] for i in drawn), *human[older:]], kept_bon


def _best_of_n_pairs(
    store: Store, campaign: Campaign, step: PolicyStep, base: Any, base_id: int, score: Any, human: list[dict]
) -> list[dict]:
    """Reward-labelled best-vs-worst pairs of the base policy's answers, leaving out pairs a human judged."""
    import dataclasses

    from hitl.catalog import campaign_prompts
    from policy.best_of_n import best_of_n_pairs, best_vs_worst, sampler_for
    from policy.prompts import load_prompts

    if step.best_of_n_stored:
        pairs = best_vs_worst(
            stored_answer_groups(store, base_id, step.best_of_n_limit), score, min_gap=step.best_of_n_gap
        )
    else:
        if step.best_of_n_prompts:
            prompts = [r.prompt for r in load_prompts(store, step.best_of_n_prompts, step.best_of_n_limit)]
        else:
            prompts = campaign_prompts(store, campaign)[: step.best_of_n_limit]
        settings = dataclasses.replace(step.sampling, n=step.best_of_n)
        sampler = sampler_for(base, progress=step.progress)
        pairs = best_of_n_pairs(prompts, sampler, score, settings, min_gap=step.best_of_n_gap)
    judged = {(str(p["prompt"]), frozenset((p["chosen"], p["rejected"]))) for p in human}
    return [
        {k: p[k] for k in ("prompt", "chosen", "rejected", "reward_gap")}
        for p in pairs
        if (str(p["prompt"]), frozenset((p["chosen"], p["rejected"]))) not in judged
    ]


def train_policy_step(store: Store, campaign: Campaign, step: PolicyStep) -> PolicyStepResult:
    """Train and register the policy `step.name` from `step.base`, or return it when it is already registered."""
    existing = find_version(store, "policy", step.name)
    if existing is not None:
        return _existing(existing)
    from hitl.catalog import register_model_version
    from policy.fill import register_resolved, resolve_named
    from policy.train import load_for_training, records_from_store, train_policy
    from policy.train_config import algorithm_of, loss_terms, make_config

    algorithm = algorithm_of(step.trainer.config_path, step.algorithm)
    check_step(step, algorithm)
    config = make_config(
        algorithm,
        step.trainer.overrides,
        config_path=step.trainer.config_path,
        args=step.trainer.args,
        defaults={"output_dir": policy_dir(step.name), **step.trainer.defaults},
    )
    records = records_from_store(store, campaign, algorithm, aggregate=step.aggregate, newest=step.newest)
    human_pairs = len(records.get("pairs", []))
    if algorithm == "dpo" and not human_pairs and not (step.best_of_n or step.best_of_n_stored):
        raise InvalidInput(
            f"no preference pairs to train on in campaign {campaign.name!r}: collect judgments first (ties and "
            "both-bad answers give no pair)"
        )
    reward_fn, reward_id = None, None
    if step.reward:
        from reward.score import reward_function_for

        reward_fn, reward_id = reward_function_for(store, step.reward)
    base = resolve_named(store, step.base, progress=step.progress)
    with store.write() as conn:
        base_id = register_resolved(conn, base)
    started = time.perf_counter()
    extra = []
    if step.best_of_n or step.best_of_n_stored:
        extra = _best_of_n_pairs(store, campaign, step, base, base_id, reward_fn, records["pairs"])
    human = records.get("pairs", [])
    if algorithm == "dpo" and step.max_pairs:
        human, extra = bounded_pairs(human, extra, step.max_pairs, seed=step.round or 0)
    if algorithm == "dpo":
        records["pairs"] = [*human, *extra]
    if algorithm == "dpo" and not records["pairs"]:
        raise InvalidInput("no preference pairs to train on: no human pair and no best-of-n pair above the reward gap")
    model, tokenizer = load_for_training(base)
    online_reward = reward_fn if algorithm in ONLINE else None  # DPO / KTO take data, not a reward function
    result = train_policy(model, tokenizer, algorithm, config, reward_fn=online_reward, **records)
    if result.diverged:
        raise TrainingDiverged(
            f"the {algorithm} run diverged (non-finite loss) after {result.steps} steps: nothing was registered; "
            "lower the learning rate or beta"
        )
    seconds = time.perf_counter() - started
    metadata = {
        "algorithm": algorithm,
        "campaign": campaign.name,
        "base_version_id": base_id,
        "reward_version_id": reward_id,
        "snapshot_id": step.snapshot_id,
        "round": step.round,
        "human_pairs": human_pairs,
        "human_pairs_trained": len(human) if algorithm == "dpo" else human_pairs,
        "best_of_n_pairs": len(extra),
        "steps": result.steps,
        "seconds": seconds,
        "precision": "bf16" if getattr(config, "bf16", False) else "fp32",
        "loss": loss_terms(config),
        "metrics": result.metrics,
    }
    with store.write() as conn:
        vid = register_model_version(
            conn, kind="policy", name=step.name, path=result.output_dir, parent_id=base_id, metadata=metadata
        )
    return PolicyStepResult(
        vid,
        step.name,
        base_id,
        True,
        algorithm,
        human_pairs,
        len(extra),
        result.steps,
        seconds,
        result.metrics,
        metadata["precision"],
        metadata["loss"],
        log_history=result.log_history,
    )
