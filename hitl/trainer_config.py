"""Trainer configs (reward and policy) parsed by TRL's own `TrlParser` over their dataclasses: the one parser.

    hitl train-reward --config configs/cpu.yaml --campaign demo --learning_rate 1e-4 --num_train_epochs 1
    hitl train-policy --config configs/cpu.yaml --campaign demo --trainer-help     # every option, TRL's help

Precedence, lowest first: the dataclass defaults (TRL's, and hitl's where it overrides them), the caller's
defaults (hardware-safe settings, the output folder a version name implies, the loop's choices), the YAML file's
section (`reward:` or `policy:`; a file without sections is read whole, as TRL's own `--config` files are), then
flags under their TRL names (`--learning_rate 1e-4` or `--learning-rate 1e-4`). Every value goes through the
parser's own type conversion, so `1e-4` in YAML is a float; unknown keys are refused with the file or flag named.

This module is torch-free: TRL is imported inside the functions that need it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hitl.config import load_yaml_overrides
from hitl.errors import InvalidInput, UsageError

T = TypeVar("T")


@dataclass
class TrainerSource:
    """Where a training step's trainer config comes from, besides the code defaults (see the module docstring)."""

    config_path: str | None = field(default=None, metadata={"help": "YAML file; its stage's section is read."})
    args: list[str] = field(default_factory=list, metadata={"help": "Flags under TRL's names: ['--beta', '0.2']."})
    defaults: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "The caller's option defaults, below the YAML and the flags."}
    )
    overrides: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "The caller's option values, above the YAML, below the flags."}
    )


# Top-level keys of a hitl YAML file that hold one stage's options each (configs/cpu.yaml).
SECTIONS = ("reward", "policy", "generate", "loop")


def yaml_section(path: str | Path | None, section: str) -> dict[str, Any]:
    """The options of `section` in the YAML file at `path` ({} without a file).

    A file with hitl's sections gives that section (absent: {}); a file without any is a flat TRL-style config
    and is taken whole, so `hitl train-reward --config` reads the same files as TRL's own scripts.
    """
    data = load_yaml_overrides(path)
    if not any(key in data for key in SECTIONS):
        return dict(data)
    values = data.get(section) or {}
    if not isinstance(values, dict):
        raise InvalidInput(f"{path}: the '{section}' section must be a mapping of option: value")
    return dict(values)


def device_defaults(cuda: bool, bf16: bool) -> dict[str, Any]:
    """Settings a trainer needs on this hardware. TRL defaults to bf16 and gradient checkpointing, which fail or
    crawl on a CPU (DESIGN.md); `bf16` says whether bf16 should be used (a GPU or a CPU that runs it natively)."""
    if cuda:
        return {"bf16": bf16, "fp16": False}
    # transformers 5 renamed gradient_checkpointing to activation_checkpointing (TRL still defaults the old one on).
    return {
        "bf16": bf16,
        "fp16": False,
        "use_cpu": True,
        "activation_checkpointing": False,
        "gradient_checkpointing": None,
    }


def epochs_for_min_steps(config: Any, examples: int, max_epochs: float | None = None) -> float:
    """The epochs a run of `examples` training rows gets: `config.num_train_epochs`, or more when those would
    make fewer than `config.min_steps` optimizer steps, so a small dataset (a loop's first rounds, a sparse
    preference's few decisive pairs) is trained as long as a normal one, at most `max_epochs`. `max_steps`, when
    set, wins (the Trainer's own rule); `min_steps` 0 keeps the epochs as configured."""
    epochs = float(config.num_train_epochs)
    if config.min_steps <= 0 or (config.max_steps or 0) > 0 or examples <= 0:
        return epochs
    per_step = config.per_device_train_batch_size * config.gradient_accumulation_steps * max(1, config.world_size)
    wanted = max(epochs, config.min_steps / math.ceil(examples / per_step))
    return min(wanted, max(epochs, max_epochs)) if max_epochs else wanted


def _parser(cls: type) -> Any:
    from trl import TrlParser

    return TrlParser([cls], exit_on_error=False, allow_abbrev=False)


def _yaml_bools_as_strings(parser: Any, values: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads a bare `no` as False: for an option that is not a boolean (`save_strategy: no`) the word
    was meant, so it goes back to a string for the parser's own conversion."""
    from transformers.hf_argparser import string_to_bool

    boolean = {a.dest for a in parser._actions if a.type is string_to_bool}
    return {k: ("yes" if v else "no") if isinstance(v, bool) and k not in boolean else v for k, v in values.items()}


def parse_trainer_config(
    cls: type[T],
    *,
    defaults: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    args: Sequence[str] = (),
    what: str = "trainer",
    source: str = "the config",
) -> T:
    """`cls` from its defaults, then `defaults`, then `values` (a YAML section), then command-line `args`.

    `what` names the config in errors ("reward", "dpo", ...), `source` where `values` came from.
    """
    parser = _parser(cls)
    values = dict(values or {})
    if "gradient_checkpointing" in values and "activation_checkpointing" not in values:
        # The old name, set by a user, must win over a default of the new one.
        values["activation_checkpointing"] = values.pop("gradient_checkpointing")
    merged = _yaml_bools_as_strings(parser, {**(defaults or {}), **values})
    unknown = parser.set_defaults_with_config(**merged)
    if unknown:
        names = ", ".join(name.removeprefix("--") for name in unknown[::2])
        raise InvalidInput(f"unknown {what} option(s) in {source}: {names} (`--trainer-help` lists them all)")
    try:
        config, rest = parser.parse_args_into_dataclasses(args=list(args), return_remaining_strings=True)
    except argparse.ArgumentError as exc:
        raise UsageError(f"{what} option {exc}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} config: {exc}") from None
    if rest:
        flags = " ".join(rest)
        raise UsageError(f"unknown {what} flag(s): {flags} (`--trainer-help` lists every option)")
    check_trackers(getattr(config, "report_to", None))
    return config


TRACKERS_EXTRA = "pip install 'hitl-rlhf[trackers]' (tensorboard, trackio, wandb)"


def check_trackers(report_to: Any) -> None:
    """Every tracker `report_to` names is installed: transformers finds out only once training has started.

    `none` and `all` (whatever is installed) pass; a name transformers does not know is a usage error."""
    named = [report_to] if isinstance(report_to, str) else list(report_to or [])
    named = [n for n in named if n not in ("none", "all")]
    if not named:
        return
    from transformers.integrations import get_available_reporting_integrations
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    unknown = [n for n in named if n not in INTEGRATION_TO_CALLBACK]
    if unknown:
        raise UsageError(
            f"report_to {', '.join(unknown)}: not a tracker; use none, all or {', '.join(INTEGRATION_TO_CALLBACK)}"
        )
    missing = [n for n in named if n not in get_available_reporting_integrations()]
    if missing:
        raise InvalidInput(f"report_to {', '.join(missing)}: not installed here; {TRACKERS_EXTRA}")


def trainer_help(cls: type, prog: str) -> str:
    """TRL's help text of every option of `cls`, as `hitl <command> --trainer-help` prints it."""
    parser = _parser(cls)
    parser.prog = prog
    return parser.format_help()
