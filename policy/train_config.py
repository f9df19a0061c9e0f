"""Policy-training configs: TRL's own DPO / KTO / GRPO / RLOO configs, extended with hitl's options, parsed by
TRL's own `TrlParser` (hitl.trainer_config).

    hitl train-policy --config configs/cpu.yaml --algorithm dpo --beta 0.2
    hitl train-policy --algorithm grpo --trainer-help

Only what TRL does not have is declared here (LoRA settings, where the weights go); every TRL field keeps its
TRL name and help. `hardware_defaults()` gives the settings that are right on this machine (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trl import DPOConfig, GRPOConfig, KTOConfig, RLOOConfig

from hitl.errors import InvalidInput
from hitl.trainer_config import device_defaults, parse_trainer_config, yaml_section

ALGORITHMS = ("dpo", "kto", "grpo", "rloo")


@dataclass
class PolicyOptions:
    """LoRA through peft (on by default: full fine-tuning on a CPU is slow and memory-hungry), and where the
    weights go."""

    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where the trained policy goes. hitl train-policy and hitl loop: $HITL_HOME/policies/<version "
            "name> unless set."
        },
    )

    use_lora: bool = field(default=True, metadata={"help": "Train a LoRA adapter instead of every weight."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (alpha / r scales the update)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: str = field(
        default="all-linear", metadata={"help": "Modules that get adapters (peft's target_modules)."}
    )
    min_steps: int = field(
        default=0,
        metadata={
            "help": "DPO / KTO: at least this many optimizer steps, so a step with few pairs (a sparse preference "
            "whose raters mostly tie) learns as much as one with many: more epochs, up to max_epochs (0: epochs "
            "as set; max_steps, when set, wins)."
        },
    )
    max_epochs: float = field(
        default=4.0,
        metadata={"help": "The most epochs min_steps may raise a run to: how often one pair is seen at most."},
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
class HitlDPOConfig(PolicyOptions, DPOConfig):
    """DPO on preference pairs (human judgments plus reward-labelled best-of-n pairs)."""


@dataclass
class HitlKTOConfig(PolicyOptions, KTOConfig):
    """KTO on unpaired good / bad ratings."""


@dataclass
class HitlGRPOConfig(PolicyOptions, GRPOConfig):
    """GRPO online, with the reward model as a callable reward function."""


@dataclass
class HitlRLOOConfig(PolicyOptions, RLOOConfig):
    """RLOO online, with the reward model as a callable reward function."""


CONFIGS: dict[str, type] = {"dpo": HitlDPOConfig, "kto": HitlKTOConfig, "grpo": HitlGRPOConfig, "rloo": HitlRLOOConfig}


def hardware_defaults() -> dict[str, Any]:
    """bf16 where it runs natively (a GPU that supports it, or a CPU with AMX / AVX-512 bf16: the policy step was
    measured faster there), never emulated; no gradient checkpointing on a CPU (DESIGN.md). A policy step saves
    once, at the end (a round is short), and logs every step so a diverging loss is caught at once."""
    import torch

    from policy.models import native_bf16

    hardware = device_defaults(torch.cuda.is_available(), native_bf16())
    return {**hardware, "report_to": "none", "save_strategy": "no", "logging_steps": 1}


def make_config(
    algorithm: str,
    values: Mapping[str, Any] | None = None,
    *,
    config_path: str | None = None,
    args: Sequence[str] = (),
    defaults: Mapping[str, Any] | None = None,
):
    """The config of `algorithm` from, lowest first: code and hardware defaults, `defaults`, the `policy:` section
    of the YAML at `config_path` (its `algorithm` key aside), `values`, then `args` (flags under TRL names)."""
    if algorithm not in CONFIGS:
        raise InvalidInput(f"unknown algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    section = yaml_section(config_path, "policy")
    section.pop("algorithm", None)
    return parse_trainer_config(
        CONFIGS[algorithm],
        defaults={**hardware_defaults(), **(defaults or {})},
        values={**section, **(values or {})},
        args=args,
        what=algorithm,
        source=str(config_path) if config_path else f"the {algorithm} options",
    )


def algorithm_of(config_path: str | None, chosen: str | None = None) -> str:
    """The algorithm: the one chosen (a flag), else the YAML's `policy: algorithm:`, else dpo."""
    algorithm = chosen or yaml_section(config_path, "policy").get("algorithm") or "dpo"
    if algorithm not in CONFIGS:
        raise InvalidInput(f"unknown algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    return algorithm


def loss_terms(config: Any) -> str | None:
    """The loss a trainer config runs, with its weights, for the lineage: "sigmoid + sft" (DPO with an SFT term on
    the chosen answers), "0.5*sft" for a weight other than 1, "kto" ...; None for a trainer without loss_type."""
    types = getattr(config, "loss_type", None)
    if not types:
        return None
    types = [types] if isinstance(types, str) else list(types)
    weights = list(getattr(config, "loss_weights", None) or [1.0] * len(types))
    return " + ".join(t if w == 1.0 else f"{w:g}*{t}" for t, w in zip(types, weights, strict=False))
