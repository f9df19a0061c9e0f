"""Reward-model training: TRL's RewardTrainer, wrapped (not subclassed or copied), on pre-tokenized pairs.

    hitl train-reward --config configs/cpu.yaml --campaign demo
    accelerate launch --config_file configs/accelerate/cpu_2proc.yaml -m hitl.cli.main train-reward ...

What the wrapper adds: our truncation (reward.encoding) instead of TRL's dropping of long pairs; per-pair
weights (ties, Dawid-Skene) by wrapping the trainer's compute_loss; a data order that is a function of (seed,
epoch) alone, so a run killed mid-epoch and started again with the same command resumes from its last checkpoint
and trains on exactly the batches the uninterrupted run would have; the saved model with the settings the scorer
needs; an evaluation report; and the reward model version registered in the store with its dataset snapshots.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback, set_seed
from transformers.trainer_utils import get_last_checkpoint
from trl import RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference

from hitl.catalog import register_model_version
from hitl.errors import Conflict, InvalidInput
from hitl.progress import quiet_trainer
from hitl.store import Store
from hitl.threads import set_torch_threads
from hitl.trainer_config import epochs_for_min_steps
from reward.config import RewardTrainConfig
from reward.data import PreferenceData, build_preference_data, content_hash, tokenize_rows
from reward.encoding import PairEncoder
from reward.models import load_backbone, max_positions, resolve_backbone, save_settings, score_head_names
from reward.pooling import pooling_of

RUN_FILE = "hitl_run.json"
Observer = Callable[[list[int]], None]


@dataclass
class PairCollator:
    """TRL's preference collator, plus per-pair `weight` and `pair_index` tensors (taken off before the model)."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __post_init__(self) -> None:
        self.inner = DataCollatorForPreference(
            pad_token_id=self.pad_token_id, pad_to_multiple_of=self.pad_to_multiple_of
        )

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner([{k: e[k] for k in ("chosen_ids", "rejected_ids", "margin") if k in e} for e in examples])
        batch["weight"] = torch.tensor([float(e.get("weight", 1.0)) for e in examples])
        batch["pair_index"] = torch.tensor([int(e.get("pair_index", -1)) for e in examples])
        return batch


def wrap_weighted_loss(trainer: RewardTrainer, observer: Observer | None = None) -> None:
    """Per-pair weights in TRL's loss: -sum(w * log sigmoid(r_c - r_r - margin)) / sum(w) (+ TRL's centring term).
    TRL's own compute_loss still runs (its metrics stay right); with all weights 1 its loss is used unchanged."""
    original = trainer.compute_loss

    def compute_loss(model, inputs, return_outputs=False, num_items_in_batch=None):
        weight = inputs.pop("weight", None)
        index = inputs.pop("pair_index", None)
        if observer is not None and index is not None and model.training:
            observer(index.tolist())
        loss, outputs = original(model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch)
        if weight is not None and not bool(torch.all(weight == 1)):
            weight = weight.to(outputs.logits.device, outputs.logits.dtype)
            chosen, rejected = torch.chunk(outputs.logits.squeeze(-1), chunks=2)
            gap = chosen - rejected - inputs.get("margin", torch.zeros_like(chosen))
            loss = -(weight * torch.nn.functional.logsigmoid(gap)).sum() / weight.sum().clamp_min(1e-8)
            if trainer.args.center_rewards_coefficient is not None:
                loss = loss + trainer.args.center_rewards_coefficient * torch.mean((chosen + rejected) ** 2)
        return (loss, outputs) if return_outputs else loss

    trainer.compute_loss = compute_loss


def _find_length_sampler(loader: Any) -> Any:
    """The LengthGroupedSampler under accelerate's dataloader wrappers, or None."""
    seen, todo = set(), [loader]
    while todo:
        obj = todo.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if type(obj).__name__ == "LengthGroupedSampler":
            return obj
        todo += [getattr(obj, name, None) for name in ("batch_sampler", "sampler", "base_dataloader")]
    return None


class EpochOrder(TrainerCallback):
    """Seeds the length-grouped sampler with (seed, epoch) at each epoch start. transformers leaves it on the
    global RNG, whose state on a resumed run differs, so the resumed epoch would be shuffled differently."""

    def __init__(self, seed: int):
        self.seed = seed

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
        sampler = _find_length_sampler(train_dataloader)
        if sampler is not None:
            epoch = math.floor((state.epoch or 0.0) + 1e-6)
            sampler.generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)


@dataclass
class RewardTrainResult:
    output_dir: str
    version_id: int | None
    version_name: str | None
    metrics: dict[str, Any]
    snapshot_ids: dict[str, int | None]
    report: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)
    trainer: Any = field(default=None, repr=False)  # TRL's trainer, for its own evaluate() and state


def _resume_checkpoint(output_dir: Path, fingerprint: str, main: bool) -> str | None:
    """The last checkpoint of the same run (same training data and model) in output_dir, if any."""
    checkpoint = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    run_file = output_dir / RUN_FILE
    recorded = json.loads(run_file.read_text()).get("fingerprint") if run_file.is_file() else None
    if recorded is not None and recorded != fingerprint and (checkpoint or (output_dir / "config.json").exists()):
        raise Conflict(
            f"{output_dir} holds another run (different data or model): pass another --output-dir or delete it"
        )
    if main and recorded is None:
        output_dir.mkdir(parents=True, exist_ok=True)
        run_file.write_text(json.dumps({"fingerprint": fingerprint}))
    return checkpoint


def _drop_checkpoints(output_dir: Path) -> None:
    """Checkpoints exist to resume a killed run; once the model is saved they are only disk (two of MiniLM with
    its optimizer state are ~520 MB, and a loop trains one to three reward models a round)."""
    import shutil

    for folder in output_dir.glob("checkpoint-*"):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _peft_config(config: RewardTrainConfig, model: Any) -> Any:
    if not config.use_lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        task_type="SEQ_CLS",
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules,
        modules_to_save=score_head_names(model),
    )


def _check_version_name(store: Store, name: str, path: Path) -> None:
    from sqlalchemy import select

    from hitl.store.schema import model_versions

    with store.read() as conn:
        row = conn.execute(
            select(model_versions.c.path).where(model_versions.c.kind == "reward", model_versions.c.name == name)
        ).first()
    if row is not None and row.path != str(path.resolve()):
        raise Conflict(f"reward version {name!r} already exists (at {row.path}): pick another --name")


def _build_data(
    config: RewardTrainConfig,
    store: Store | None,
    source: str,
    eval_data: str | None,
    record: bool,
    campaign: str | None,
) -> PreferenceData:
    if store is None:
        raise InvalidInput("train_reward needs a store or prepared data")
    return build_preference_data(
        store,
        source,
        campaign=campaign,
        eval_data=eval_data,
        eval_fraction=config.eval_fraction,
        split_seed=config.split_seed,
        ties=config.ties,
        both_bad=config.both_bad,
        aggregate=config.aggregate,
        include_corrections=config.include_corrections,
        margin_per_strength=config.margin_per_strength,
        skip_invalid=config.skip_invalid,
        out_dir=config.output_dir,
        record=record,
    )


def train_reward(
    config: RewardTrainConfig,
    store: Store | None = None,
    *,
    data: PreferenceData | None = None,
    data_source: str = "store",
    campaign: str | None = None,
    eval_data: str | None = None,
    model: Any = None,
    tokenizer: Any = None,
    version_name: str | None = None,
    observer: Observer | None = None,
    callbacks: Sequence[TrainerCallback] = (),
    evaluate: bool = True,
) -> RewardTrainResult:
    """Train a reward model on `data` (or build it from `data_source`: "store", the judgments of `campaign` or of
    every campaign, or a file), save it to
    config.output_dir, evaluate it on the held-out pairs and register it (when a store is given)."""
    main = config.process_index == 0
    set_torch_threads(config.threads, config.world_size)
    output_dir = Path(config.output_dir)
    if store is not None and version_name and main:
        _check_version_name(store, version_name, output_dir)
    backbone = model if model is not None else config.model
    set_seed(config.seed)  # the new score head is drawn from the global RNG: seeded, so a run is repeatable
    model, tokenizer = load_backbone(backbone, tokenizer, config.pooling)
    if data is None:
        data = _build_data(config, store, data_source, eval_data, record=main, campaign=campaign)
    limit = max_positions(model)
    max_length = min(config.max_length or limit or 512, limit or 1 << 30)
    encoder = PairEncoder(tokenizer, max_length, config.use_chat_template)
    train_set = tokenize_rows(data.train, encoder)
    eval_set = tokenize_rows(data.eval, encoder) if data.eval else None
    pooling = pooling_of(model)
    model_key = {"model": str(backbone) if isinstance(backbone, str) else "in-memory", "pooling": pooling}
    fingerprint = content_hash([model_key, *data.train])
    checkpoint = _resume_checkpoint(output_dir, fingerprint, main)
    args = copy.copy(config)
    args.num_train_epochs = epochs_for_min_steps(config, len(train_set))
    args.remove_unused_columns = False  # keep weight and pair_index for the collator
    args.max_length = None  # already cut to fit by the encoder: TRL's filter would only drop pairs
    trainer = RewardTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        data_collator=PairCollator(tokenizer.pad_token_id),
        peft_config=_peft_config(config, model),
        callbacks=[EpochOrder(config.seed), *callbacks],
    )
    wrap_weighted_loss(trainer, observer)
    started = time.perf_counter()
    quiet_trainer(trainer)  # a bar (or ETA lines in a log) instead of printed log dicts
    output = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - started
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    metrics.update(train_seconds=seconds, train_pairs=len(train_set), truncated=encoder.stats.prompt_cut)
    result = RewardTrainResult(str(output_dir), None, None, metrics, data.snapshot_ids, trainer=trainer)
    trainer.save_model(str(output_dir))  # every process: FSDP / ZeRO gather the weights; only the main one writes
    if not main:
        return result
    _drop_checkpoints(output_dir)
    tokenizer.save_pretrained(str(output_dir))
    base = resolve_backbone(backbone) if isinstance(backbone, str) else None
    save_settings(
        output_dir,
        {
            "encoding": encoder.settings(),
            "base_model": base,
            "lora": config.use_lora,
            "pooling": pooling,
            "snapshots": data.snapshot_ids,
        },
    )
    if evaluate and data.eval:
        result.report, result.files = _evaluate(trainer.model, tokenizer, encoder, data, store, output_dir)
        result.metrics["accuracy"] = result.report["accuracy"]
    if store is not None:
        result.version_name = version_name or output_dir.name
        result.version_id = _register(store, result, config, base)
    return result


def _evaluate(model, tokenizer, encoder, data, store, output_dir: Path) -> tuple[dict[str, Any], list[str]]:
    from reward.evaluate import evaluate_rows, write_report
    from reward.score import RewardScorer

    scorer = RewardScorer(model, tokenizer, **encoder.settings(), batch_size=32)
    report, chosen, rejected = evaluate_rows(scorer, data.eval, store)
    files = write_report(report, output_dir / "eval", data.eval, chosen, rejected)
    return report, [str(f) for f in files]


def _register(store: Store, result: RewardTrainResult, config: RewardTrainConfig, base: str | None) -> int:
    report = result.report or {}
    metadata = {
        "accuracy": report.get("accuracy"),  # held-out pairwise accuracy (hitl loop gates on it)
        "snapshot_ids": result.snapshot_ids,
        "dataset_snapshot_id": result.snapshot_ids.get("full"),
        "metrics": {
            "accuracy": report.get("accuracy"),
            "ece": (report.get("calibration") or {}).get("ece"),
            "eval_pairs": report.get("decisive_pairs"),
            **{k: v for k, v in result.metrics.items() if k != "accuracy"},
        },
        "backbone": base,
        "lora": config.use_lora,
        "options": {
            k: getattr(config, k)
            for k in ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "max_length", "seed")
        },
        "eval_report": str(Path(result.output_dir) / "eval" / "report.json") if report else None,
    }
    with store.write() as conn:
        return register_model_version(
            conn,
            kind="reward",
            name=result.version_name,
            path=str(Path(result.output_dir).resolve()),
            metadata=metadata,
        )
