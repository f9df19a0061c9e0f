"""The reward-training config: TRL's `RewardConfig` extended with hitl's options, parsed by TRL's own `TrlParser`
(hitl.trainer_config): defaults, then the `reward:` section of a YAML file, then flags under their TRL names.

    python -c "from reward.config import make_config; print(make_config(config_path='configs/cpu.yaml'))"
    hitl train-reward --trainer-help

Defaults that differ from TRL's are the ones a CPU needs (DESIGN.md): no bf16 without hardware that runs it, no
gradient checkpointing, length-grouped batches, and our own truncation (`max_length` cuts, it never drops).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trl import RewardConfig

from hitl.trainer_config import device_defaults, parse_trainer_config, yaml_section


@dataclass
class RewardOptions:
    """What hitl adds to TRL's RewardConfig."""

    model: str = field(
        default="default",
        metadata={
            "help": "Backbone: 'default' (the embedded all-MiniLM-L6-v2), a local path or a hub id (online only); a "
            "causal LM gets a sequence-classification head."
        },
    )
    pooling: str = field(
        default="model",
        metadata={
            "help": "How the backbone's token states become the scored vector: model (its own head: [CLS] for "
            "BERT, last token for causal LMs) or mean (mean of the tokens; BERT-style encoders)."
        },
    )
    ties: str = field(default="drop", metadata={"help": "Ties: drop, or half (both orders at weight 0.5, margin 0)."})
    both_bad: str = field(default="drop", metadata={"help": "Judgments marked both bad: drop, or keep."})
    aggregate: str = field(
        default="all",
        metadata={"help": "all: a pair per judgment; majority / dawid_skene: one outcome per item (weighted)."},
    )
    include_corrections: bool = field(
        default=True, metadata={"help": "Rater-written corrections enter as chosen over the original responses."}
    )
    margin_per_strength: float = field(
        default=0.5,
        metadata={"help": "Training margin per step of rater strength above 'slightly better' (0 turns margins off)."},
    )
    eval_fraction: float = field(
        default=0.1, metadata={"help": "Share of prompts held out for evaluation (split by prompt)."}
    )
    split_seed: int = field(default=0, metadata={"help": "Seed of the prompt-level train / eval split."})
    skip_invalid: bool = field(
        default=False, metadata={"help": "Leave out invalid file records (reported) instead of refusing the file."}
    )
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter (plus the score head) only."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (alpha / r scales the update)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: str = field(
        default="all-linear", metadata={"help": "Modules that get adapters (peft's target_modules)."}
    )
    use_chat_template: bool = field(
        default=True, metadata={"help": "Encode chat prompts with the tokenizer's chat template when it has one."}
    )
    threads: int = field(
        default=0, metadata={"help": "torch threads per process; 0 = the free cores divided among the processes."}
    )
    min_steps: int = field(
        default=0,
        metadata={
            "help": "At least this many optimizer steps: a small dataset (a loop's first rounds) gets more epochs "
            "instead of a handful of steps (0: epochs as set; max_steps, when set, wins)."
        },
    )


@dataclass
class RewardTrainConfig(RewardOptions, RewardConfig):
    """Reward-model training: every TRL RewardConfig / TrainingArguments field, plus hitl's options."""

    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where checkpoints and the trained model go. hitl train-reward and hitl loop: "
            "$HITL_HOME/rewards/<version name> unless set."
        },
    )

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


def hardware_defaults() -> dict[str, Any]:
    """bf16 only where the GPU supports it (TRL turns it on by default, which fails or crawls on a CPU)."""
    import torch

    cuda = torch.cuda.is_available()
    return device_defaults(cuda, cuda and torch.cuda.is_bf16_supported())


def make_config(
    values: Mapping[str, Any] | None = None,
    *,
    config_path: str | None = None,
    args: Sequence[str] = (),
    defaults: Mapping[str, Any] | None = None,
) -> RewardTrainConfig:
    """The config from, lowest first: code and hardware defaults, `defaults`, the `reward:` section of the YAML at
    `config_path`, `values`, then `args` (flags under TRL names). Unknown names are refused."""
    section = yaml_section(config_path, "reward")
    return parse_trainer_config(
        RewardTrainConfig,
        defaults={**hardware_defaults(), **(defaults or {})},
        values={**section, **(values or {})},
        args=args,
        what="reward",
        source=str(config_path) if config_path else "the reward options",
    )
