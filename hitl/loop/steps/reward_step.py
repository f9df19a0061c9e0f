"""The reward-model step: train a reward model on a campaign's judgments (or a preference file) with TRL, evaluate
it on held-out prompts and register it under a version name. `hitl train-reward` and the loop's rounds call it.

    hitl train-reward --config configs/cpu.yaml --campaign demo --name demo-rm

Idempotent by version name: a name that is already registered returns that version and trains nothing. A run
killed before it registered resumes from its last checkpoint when started again with the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hitl import embedded
from hitl.campaigns import Campaign
from hitl.loop.steps.versions import find_version
from hitl.store import Store
from hitl.trainer_config import TrainerSource


@dataclass
class RewardStep:
    """What `train_reward_step` makes, and where its trainer config comes from (hitl.trainer_config)."""

    name: str = field(metadata={"help": "Version name of the reward model (its folder: $HITL_HOME/rewards/NAME)."})
    trainer: TrainerSource = field(
        default_factory=TrainerSource, metadata={"help": "Where the trainer config comes from (YAML, flags)."}
    )
    data: str = field(default="store", metadata={"help": "store (the campaign's judgments) or a preference file."})
    eval_data: str | None = field(default=None, metadata={"help": "A held-out preference file to evaluate on."})


@dataclass
class RewardStepResult:
    version_id: int | None  # None on the non-main processes of a multi-process run
    name: str
    path: str
    trained: bool  # False when the version already existed
    accuracy: float | None  # held-out pairwise accuracy on decisive pairs
    eval_pairs: int  # how many decisive held-out pairs that accuracy is over
    metrics: dict[str, Any]
    snapshot_ids: dict[str, int | None]
    report: dict[str, Any] | None = None
    main_process: bool = True


def reward_dir(name: str) -> str:
    return str(embedded.hitl_home() / "rewards" / name)


def train_reward_step(store: Store, campaign: Campaign | None, step: RewardStep) -> RewardStepResult:
    """Train, evaluate and register the reward model `step.name`, or return it when it is already registered."""
    existing = find_version(store, "reward", step.name)
    if existing is not None:
        meta = existing.metadata or {}
        return RewardStepResult(
            existing.id,
            existing.name,
            existing.path,
            trained=False,
            accuracy=meta.get("accuracy"),
            eval_pairs=int((meta.get("metrics") or {}).get("eval_pairs") or 0),
            metrics=dict(meta.get("metrics") or {}),
            snapshot_ids=dict(meta.get("snapshot_ids") or {}),
        )
    from reward.config import make_config
    from reward.train import train_reward

    config = make_config(
        step.trainer.overrides,
        config_path=step.trainer.config_path,
        args=step.trainer.args,
        defaults={"output_dir": reward_dir(step.name), **step.trainer.defaults},
    )
    result = train_reward(
        config,
        store,
        data_source=step.data,
        campaign=campaign.name if campaign is not None else None,
        eval_data=step.eval_data,
        version_name=step.name,
    )
    return RewardStepResult(
        result.version_id,
        step.name,
        result.output_dir,
        trained=True,
        accuracy=result.metrics.get("accuracy"),
        eval_pairs=int((result.report or {}).get("decisive_pairs") or 0),
        metrics=result.metrics,
        snapshot_ids=dict(result.snapshot_ids or {}),
        report=result.report,
        main_process=config.process_index == 0,
    )
