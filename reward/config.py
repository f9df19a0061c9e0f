"""The reward-training config: TRL's `RewardConfig` extended with hitl's options, loaded from defaults, then the
`reward:` section of a YAML file, then flags.

    python -c "from reward.config import load_config; print(load_config('configs/cpu.yaml').learning_rate)"

Defaults that differ from TRL's are the ones a CPU needs (DESIGN.md): no bf16 without a GPU that supports it, no
gradient checkpointing, length-grouped batches, and our own truncation (`max_length` cuts, it never drops).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from trl import RewardConfig

from hitl.config import load_yaml_overrides
from hitl.errors import InvalidInput
from reward.options import RewardOptions


@dataclass
class RewardTrainConfig(RewardOptions, RewardConfig):
    """Reward-model training: every TRL RewardConfig / TrainingArguments field, plus hitl's options."""

    max_length: int | None = field(
        default=256,
        metadata={
            "help": "Most tokens per prompt + response. Longer pairs are truncated (start of the prompt first, "
            "the whole response kept when it fits), never dropped."
        },
    )
    num_train_epochs: float = field(default=2.0, metadata={"help": "Passes over the training pairs."})
    per_device_train_batch_size: int = field(default=16, metadata={"help": "Pairs per batch and process."})
    per_device_eval_batch_size: int = field(default=32, metadata={"help": "Pairs per evaluation batch."})
    # None leaves transformers' `activation_checkpointing` (off) in charge; TRL's True would turn it on.
    gradient_checkpointing: bool | None = field(
        default=None, metadata={"help": "Deprecated alias of activation_checkpointing (off: it is ~25% slower)."}
    )
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={"help": "group_by_length batches pairs of similar length (less padding); random; sequential."},
    )
    warmup_steps: float = field(default=0.1, metadata={"help": "Warm-up steps, or a fraction of training if < 1."})
    save_strategy: str = field(default="steps", metadata={"help": "Checkpoints: no, steps or epoch."})
    save_steps: float = field(default=50, metadata={"help": "Checkpoint every N optimizer steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept (oldest deleted)."})
    report_to: None | str | list[str] = field(
        default="none", metadata={"help": "Trackers to report to: none, all, tensorboard, wandb, ..."}
    )


def cpu_safe(values: dict[str, Any], cuda: bool, bf16_ok: bool) -> dict[str, Any]:
    """bf16 only where the GPU supports it (TRL turns it on by default, which fails or crawls on a CPU)."""
    values = dict(values)
    if not cuda:
        values["bf16"] = False
        values["fp16"] = False
        values.setdefault("use_cpu", True)
    elif values.get("bf16") is None:
        values["bf16"] = bf16_ok
    return values


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """A YAML or command-line value as the field's type: PyYAML reads 1e-4 as a string, flags are strings."""
    args = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) else (hint,)
    if isinstance(value, bool) and bool not in args:
        # YAML 1.1 reads a bare `no` as False: `save_strategy: no` means the string.
        return "yes" if value else "no"
    if not isinstance(value, str):
        return value
    if type(None) in args and value.strip().lower() in ("none", "null", ""):
        return None
    for kind in (bool, int, float):
        if kind not in args:
            continue
        if kind is bool:
            low = value.strip().lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            raise InvalidInput(f"{name} must be true or false, not {value!r}")
        try:
            return kind(float(value)) if kind is int and float(value).is_integer() else kind(value)
        except ValueError:
            if str in args:
                return value
            raise InvalidInput(f"{name} must be a {kind.__name__}, not {value!r}") from None
    return value


def make_config(values: dict[str, Any]) -> RewardTrainConfig:
    """The config from option values (unknown names refused, strings converted, CPU-safe settings applied)."""
    import torch

    fields = {f.name: f for f in dataclasses.fields(RewardTrainConfig) if f.init}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise InvalidInput(
            f"unknown reward option(s): {', '.join(unknown)}; see `hitl train-reward --help` (any TRL RewardConfig "
            "or TrainingArguments field also works)"
        )
    hints = typing.get_type_hints(RewardTrainConfig)
    clean = {k: _coerce(k, v, hints.get(k, str)) for k, v in values.items()}
    cuda = torch.cuda.is_available()
    clean = cpu_safe(clean, cuda, cuda and torch.cuda.is_bf16_supported())
    clean.setdefault("output_dir", os.path.join("reward-models", "run"))
    try:
        return RewardTrainConfig(**clean)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"reward config: {exc}") from exc


def load_config(path: str | None = None, overrides: dict[str, Any] | None = None) -> RewardTrainConfig:
    """Defaults, then the `reward:` section of the YAML file at `path`, then `overrides` (None values skipped)."""
    data = load_yaml_overrides(path)
    section = data.get("reward", {}) if data else {}
    if not isinstance(section, dict):
        raise InvalidInput(f"{path}: the 'reward' section must be a mapping of option: value")
    values = {**section, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return make_config(values)
