"""Policy-training configs: TRL's own DPO / KTO / GRPO / RLOO configs, extended with hitl's options.

    hitl train-policy --config configs/cpu.yaml --algorithm dpo

Only what TRL does not have is declared here (LoRA settings, the algorithm choice); every TRL field
keeps its TRL name and help. `cpu_safe()` applies the settings that are right on a CPU (DESIGN.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from trl import DPOConfig, GRPOConfig, KTOConfig, RLOOConfig

ALGORITHMS = ("dpo", "kto", "grpo", "rloo")


@dataclass
class LoraOptions:
    """LoRA through peft; on by default because full fine-tuning on a CPU is slow and memory-hungry."""

    use_lora: bool = field(default=True, metadata={"help": "Train a LoRA adapter instead of every weight."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (alpha / r scales the update)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: str = field(
        default="all-linear", metadata={"help": "Modules that get adapters (peft's target_modules)."}
    )

    def peft_config(self):
        if not self.use_lora:
            return None
        from peft import LoraConfig

        return LoraConfig(
            r=self.lora_r,
            lora_alpha=self.lora_alpha,
            lora_dropout=self.lora_dropout,
            target_modules=self.lora_target_modules,
            task_type="CAUSAL_LM",
        )


@dataclass
class HitlDPOConfig(LoraOptions, DPOConfig):
    """DPO on preference pairs (human judgments plus reward-labelled best-of-n pairs)."""


@dataclass
class HitlKTOConfig(LoraOptions, KTOConfig):
    """KTO on unpaired good / bad ratings."""


@dataclass
class HitlGRPOConfig(LoraOptions, GRPOConfig):
    """GRPO online, with the reward model as a callable reward function."""


@dataclass
class HitlRLOOConfig(LoraOptions, RLOOConfig):
    """RLOO online, with the reward model as a callable reward function."""


CONFIGS: dict[str, type] = {"dpo": HitlDPOConfig, "kto": HitlKTOConfig, "grpo": HitlGRPOConfig, "rloo": HitlRLOOConfig}


def cpu_safe(values: dict[str, Any], cuda: bool) -> dict[str, Any]:
    """Defaults that are right without a GPU: TRL's bf16 and gradient checkpointing are not (DESIGN.md)."""
    if cuda:
        return values
    safe = {"bf16": False, "fp16": False, "gradient_checkpointing": False, "use_cpu": True}
    return {**safe, **{k: v for k, v in values.items() if k not in safe or v is False}}


def make_config(algorithm: str, values: dict[str, Any]):
    """The config for `algorithm` from override values; unknown keys are refused with the known ones listed."""
    from hitl.errors import InvalidInput

    if algorithm not in CONFIGS:
        raise InvalidInput(f"unknown algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    cls = CONFIGS[algorithm]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InvalidInput(f"unknown {algorithm} option(s): {', '.join(unknown)} (see `hitl train-policy --help`)")
    import torch

    values = cpu_safe(
        {"report_to": "none", "save_strategy": "no", "logging_steps": 1, **values}, torch.cuda.is_available()
    )
    return cls(**values)
