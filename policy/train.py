"""Policy training: TRL's DPO, KTO, GRPO and RLOO trainers, wrapped (never subclassed or copied).

    hitl train-policy --config configs/cpu.yaml --algorithm dpo --campaign demo

`train_policy` takes a model (a path/hub id or a loaded PreTrainedModel) and plain records, builds the
TRL dataset, trains, and reports whether the run diverged (a NaN or infinite loss): a diverged run is
not saved, so it can never be registered as a policy version.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import trl
from transformers import TrainerCallback

from hitl.errors import InvalidInput
from hitl.progress import quiet_trainer
from hitl.threads import set_torch_threads
from hitl.trainer_config import epochs_for_min_steps

RewardFn = Callable[..., list[float]]


@dataclass
class PolicyTrainResult:
    output_dir: str | None  # None when the run diverged and nothing was saved
    metrics: dict[str, float]
    diverged: bool
    steps: int
    log_history: list[dict[str, Any]] = field(default_factory=list)


def _chat(prompt: str | list[dict]) -> list[dict]:
    """TRL's conversational format, so the tokenizer's chat template is applied the same way as at generation."""
    return prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]


def preference_dataset(records: Sequence[dict]):
    """prompt/chosen/rejected records (text or chat prompts) -> a conversational DPO dataset."""
    from datasets import Dataset

    rows = []
    for i, r in enumerate(records):
        chosen, rejected = r.get("chosen"), r.get("rejected")
        if not r.get("prompt") or not chosen or not rejected:
            raise InvalidInput(f"preference record {i} needs a prompt, chosen and rejected")
        if chosen == rejected:
            raise InvalidInput(f"preference record {i}: chosen == rejected")
        rows.append(
            {
                "prompt": _chat(r["prompt"]),
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
            }
        )
    if not rows:
        raise InvalidInput("no preference pairs to train on: collect judgments first (or lower the threshold)")
    return Dataset.from_list(rows)


def unpaired_dataset(records: Sequence[dict]):
    """prompt/completion/label records -> a conversational KTO dataset (needs both labels)."""
    from datasets import Dataset

    rows = [
        {
            "prompt": _chat(r["prompt"]),
            "completion": [{"role": "assistant", "content": r["completion"]}],
            "label": bool(r["label"]),
        }
        for r in records
    ]
    labels = {r["label"] for r in rows}
    if labels != {True, False}:
        raise InvalidInput("KTO needs both good (label true) and bad (label false) examples")
    return Dataset.from_list(rows)


def prompt_dataset(prompts: Sequence[str | list[dict]]):
    from datasets import Dataset

    if not prompts:
        raise InvalidInput("no prompts for online training")
    return Dataset.from_list([{"prompt": _chat(p)} for p in prompts])


class DivergenceGuard(TrainerCallback):
    """Stops training at the first non-finite loss or gradient norm; the run is then reported as diverged.

    TRL can log a loss of 0 while the gradients are NaN, so the gradient norm is watched too.
    """

    WATCHED = ("loss", "grad_norm")

    def __init__(self) -> None:
        self.diverged = False

    def on_log(self, args, state, control, logs=None, **kwargs):
        values = [(logs or {}).get(key) for key in self.WATCHED]
        if any(v is not None and not math.isfinite(float(v)) for v in values):
            self.diverged = True
            control.should_training_stop = True


def _weights_finite(model: Any) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters() if p.requires_grad)


def records_from_store(
    store, campaign, algorithm: str, *, aggregate: str = "dawid_skene", newest: int | None = None
) -> dict:
    """The training data of one algorithm from the store, as plain records for policy.train.

    DPO pairs are one per item by default (the Dawid-Skene label, so a spammer's or a biased rater's votes
    count for less than a careful rater's); `aggregate="all"` gives a pair per judgment instead. `newest`
    keeps only the pairs of the newest items: on-policy data for an iterative round, at a bounded cost.
    """
    from hitl.preferences import build_pairs, unpaired_rows

    if algorithm == "dpo":
        pairs = build_pairs(store, campaign, aggregate=aggregate)  # ordered by item id
        if newest:
            pairs = pairs[-newest:]
        return {
            "pairs": [{"prompt": p.messages or p.prompt, "chosen": p.chosen, "rejected": p.rejected} for p in pairs]
        }
    if algorithm == "kto":
        rows = unpaired_rows(store, campaign)
        return {
            "unpaired": [
                {"prompt": r.messages or r.prompt, "completion": r.completion, "label": r.label} for r in rows
            ]
        }
    from hitl.catalog import campaign_prompts

    return {"prompts": campaign_prompts(store, campaign)}


def load_for_training(resolved: Any) -> tuple[Any, Any]:
    """(model, tokenizer) to train from a resolved policy. An adapter policy keeps training its own adapter
    (so round n+1 builds on round n, and the reference stays the original base with the adapter off)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    weights = resolved.base if resolved.is_adapter else resolved
    model = AutoModelForCausalLM.from_pretrained(weights.path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(weights.path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if resolved.is_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, resolved.path, is_trainable=True)
    return model, tokenizer


def train_policy(
    model: str | Any,
    tokenizer: Any,
    algorithm: str,
    config: Any,
    *,
    pairs: Sequence[dict] = (),
    unpaired: Sequence[dict] = (),
    prompts: Sequence[str | list[dict]] = (),
    reward_fn: RewardFn | None = None,
    threads: int | None = None,
) -> PolicyTrainResult:
    """Train with `algorithm` ("dpo", "kto", "grpo", "rloo") and save to `config.output_dir` unless it diverged."""
    set_torch_threads(threads or 0)
    from peft import PeftModel

    # A model that already carries an adapter keeps training it; otherwise LoRA per the config.
    peft_config = None if isinstance(model, PeftModel) else config.peft_config()
    common = {"args": config, "processing_class": tokenizer, "peft_config": peft_config}
    guard = DivergenceGuard()
    if algorithm in ("dpo", "kto"):
        dataset = preference_dataset(pairs) if algorithm == "dpo" else unpaired_dataset(unpaired)
        if getattr(config, "min_steps", 0):
            config = copy.copy(config)
            config.num_train_epochs = epochs_for_min_steps(config, len(dataset), config.max_epochs)
            common["args"] = config
        # TRL rebuilds a reference model from the policy's path; an in-memory model without LoRA needs a copy.
        # (A PeftModel needs none: TRL scores the reference with the adapter switched off, i.e. the original base.)
        ref = copy.deepcopy(model) if peft_config is None and not isinstance(model, str | PeftModel) else None
        trainer_cls = trl.DPOTrainer if algorithm == "dpo" else trl.KTOTrainer
        trainer = trainer_cls(model=model, ref_model=ref, train_dataset=dataset, callbacks=[guard], **common)
    elif algorithm in ("grpo", "rloo"):
        if reward_fn is None:
            raise InvalidInput(f"{algorithm} needs a reward: train a reward model first (hitl train-reward)")
        trainer_cls = trl.GRPOTrainer if algorithm == "grpo" else trl.RLOOTrainer
        trainer = trainer_cls(
            model=model, reward_funcs=reward_fn, train_dataset=prompt_dataset(prompts), callbacks=[guard], **common
        )
    else:
        raise InvalidInput(f"unknown algorithm {algorithm!r}: use dpo, kto, grpo or rloo")
    quiet_trainer(trainer)  # a bar (or ETA lines in a log) instead of printed log dicts
    output = trainer.train()
    history = list(trainer.state.log_history)
    losses = [h["loss"] for h in history if "loss" in h]
    diverged = (
        guard.diverged
        or not math.isfinite(output.training_loss)
        or any(not math.isfinite(x) for x in losses)
        or not _weights_finite(trainer.model)
    )
    out_dir = None
    if not diverged:
        trainer.save_model(config.output_dir)
        tokenizer.save_pretrained(config.output_dir)
        out_dir = str(Path(config.output_dir))
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, int | float)}
    return PolicyTrainResult(out_dir, metrics, diverged, trainer.state.global_step, history)
