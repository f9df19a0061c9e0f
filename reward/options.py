"""hitl's own reward-training options (data, backbone, LoRA, threads), apart from TRL's: importing this module
costs nothing, so `hitl --help` can list them without loading torch.

    hitl train-reward --help

`reward.config.RewardTrainConfig` joins these with TRL's `RewardConfig`. `TRAINER_FLAGS` are the TRL /
TrainingArguments options the CLI offers as flags; any other one goes through `--set NAME=VALUE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    campaign: str | None = field(
        default=None, metadata={"help": "Campaign whose judgments are the data (--data store); all when unset."}
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


# (name, type, help) of the TRL / TrainingArguments fields offered as flags; the rest via --set NAME=VALUE.
TRAINER_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("output_dir", str, "Where checkpoints and the final model go [$HITL_HOME/models/reward/NAME]."),
    ("learning_rate", float, "Peak learning rate."),
    ("num_train_epochs", float, "Passes over the training pairs."),
    ("max_steps", int, "Stop after this many optimizer steps (overrides epochs when > 0)."),
    ("per_device_train_batch_size", int, "Pairs per batch and process."),
    ("per_device_eval_batch_size", int, "Pairs per evaluation batch."),
    ("gradient_accumulation_steps", int, "Batches per optimizer step."),
    ("max_length", int, "Most tokens per prompt + response; longer ones lose the start of the prompt first."),
    ("center_rewards_coefficient", float, "Pull rewards towards mean zero (TRL; 0.01 is typical)."),
    ("warmup_steps", float, "Learning-rate warm-up: steps, or a fraction of training when below 1."),
    ("weight_decay", float, "AdamW weight decay."),
    ("seed", int, "Seed of the model head, data order and dropout."),
    ("save_steps", float, "Checkpoint every N steps (with --save-strategy steps)."),
    ("save_strategy", str, "no, steps or epoch."),
    ("save_total_limit", int, "Keep at most this many checkpoints."),
    ("logging_steps", float, "Log every N steps."),
    ("report_to", str, "none, all, or a tracker (tensorboard, wandb, ...)."),
    ("train_sampling_strategy", str, "group_by_length (default here), random or sequential."),
)
