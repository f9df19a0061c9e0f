"""The reward-model step: train a reward model on a campaign's judgments (or a preference file) with TRL, evaluate
it on held-out prompts and register it under a version name. `hitl train-reward` and the loop's rounds call it.

    hitl train-reward --config configs/cpu.yaml --campaign demo --name demo-rm

Idempotent by version name: a name that is already registered returns that version and trains nothing. A run
killed before it registered resumes from its last checkpoint when started again with the same name.

`cross_validate` is for when the held-out split holds too few decisive pairs to judge the model on (a sparse
preference: most judgments are ties): one reward model per other fold of prompts, each trained the same way on the
rest and scored on its fold, so every decisive pair is held out once. The registered model stays the one of the
main split; the folds only say how well a model trained like it does on pairs it has not seen.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass
class FoldScores:
    """Held-out accuracy over the folds of a cross-validation, the main split's included."""

    accuracy: float | None  # decisive held-out pairs predicted right, over the folds trained
    pairs: int
    folds: list[dict[str, Any]]  # per fold trained: start of its window, accuracy, pairs
    seconds: float


def cross_validate(result: RewardStepResult, step: RewardStep, folds: int, enough: int | None = None) -> FoldScores:
    """Train a reward model on every fold of prompts but one, for the `folds` - 1 folds the main split did not
    hold out, with the main model's trainer config, and pool their held-out decisive pairs with the main split's.

    `enough` (the gate's minimum of decisive held-out pairs) saves training: folds are trained in order only until
    the pooled pairs reach it, and none when all of them together cannot (the gate then fails on the count
    whatever the accuracy; `pairs` says how many decisive pairs the folds could hold out, so the wait asks raters
    for what is missing). Each fold's count is known before it is trained, so where the folds stop never depends
    on how well they score.

    A fold's result is kept beside the model, so a restarted round does not train it again; the fold models
    themselves are deleted (only their scores matter)."""
    from reward.config import make_config
    from reward.data import PreferenceData, read_rows, split_by_prompt
    from reward.train import train_reward

    main_pairs = int(result.eval_pairs or 0)
    scores = [{"start": 0.0, "accuracy": result.accuracy, "pairs": main_pairs}]
    rows_file = Path(result.path) / "data" / "full.jsonl"
    started = time.perf_counter()
    config = make_config(
        step.trainer.overrides,
        config_path=step.trainer.config_path,
        args=step.trainer.args,
        defaults={"output_dir": result.path, **step.trainer.defaults},
    )
    share = config.eval_fraction
    if rows_file.is_file() and share > 0:
        rows = read_rows(rows_file)
        starts = [k * share for k in range(1, folds) if (k + 1) * share <= 1.0 + 1e-9]
        splits = {start: split_by_prompt(rows, share, config.split_seed, start=start) for start in starts}
        # A fold with nothing to train on scores nothing, whatever it holds out.
        decisive = {
            start: sum(not r.get("tie") for r in held) if train else 0 for start, (train, held) in splits.items()
        }
        available = main_pairs + sum(decisive.values())
        if enough is not None and available < enough:
            untrained = [{"start": start, "accuracy": None, "pairs": decisive[start]} for start in starts]
            return FoldScores(None, available, scores + untrained, time.perf_counter() - started)
        pooled = main_pairs
        for k, start in enumerate(starts, start=1):
            if enough is not None and pooled >= enough:
                break
            folder = Path(result.path) / "folds" / f"{k}"
            done = folder / "scores.json"
            if not done.is_file():
                train, held = splits[start]
                fold = {"start": start, "accuracy": None, "pairs": 0}
                if decisive[start]:
                    fold_config = make_config(
                        {**step.trainer.overrides, "output_dir": str(folder / "model"), "save_strategy": "no"},
                        config_path=step.trainer.config_path,
                        args=step.trainer.args,
                        defaults=step.trainer.defaults,
                    )
                    report = train_reward(fold_config, None, data=PreferenceData(train=train, eval=held)).report
                    fold.update(accuracy=report.get("accuracy"), pairs=int(report.get("decisive_pairs") or 0))
                    shutil.rmtree(folder / "model", ignore_errors=True)
                folder.mkdir(parents=True, exist_ok=True)
                done.write_text(json.dumps(fold))
            scores.append(json.loads(done.read_text()))
            pooled += scores[-1]["pairs"]
    counted = [f for f in scores if f["pairs"] and f["accuracy"] is not None]
    pairs = sum(f["pairs"] for f in counted)
    accuracy = sum(f["accuracy"] * f["pairs"] for f in counted) / pairs if pairs else None
    return FoldScores(accuracy, pairs, scores, time.perf_counter() - started)
