"""Configuration dataclasses of the collection core, and the YAML + flag loader every stage uses.

    hitl campaign create demo --overlap 3 --gold-rate 0.1

Defaults live here; YAML files in configs/ hold overrides only; command-line flags override YAML.
Every field carries `metadata={"help": ...}` which the CLI turns into `--help` text.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from hitl.errors import InvalidInput
from hitl.store.schema import ITEM_KINDS

T = TypeVar("T")

FLAGS = ("unsafe", "factually_wrong", "off_topic", "unsure")
# Multi-attribute ratings: each response scored 0..ASPECT_MAX on a campaign's named aspects (Likert, as HelpSteer2).
ASPECT_MAX = 4
MAX_ASPECTS = 5  # HelpSteer2 has five: helpfulness, correctness, coherence, complexity, verbosity
_ASPECT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_MAX_TEXT_BYTES = 200_000


@dataclass
class CampaignSettings:
    """How one rating campaign collects judgments."""

    name: str = field(metadata={"help": "Unique campaign name (letters, digits, - _ .)."})
    guidelines: str = field(default="", metadata={"help": "Rater guidelines in Markdown, shown on the rate page."})
    item_kind: str = field(
        default="pairwise", metadata={"help": "pairwise (A vs B) or ranking (K responses ranked best to worst)."}
    )
    overlap: int = field(default=3, metadata={"help": "Judgments required per item from distinct raters."})
    gold_rate: float = field(
        default=0.1, metadata={"help": "Probability that the next item is a gold item the rater has not seen."}
    )
    lease_ttl_seconds: float = field(
        default=600.0, metadata={"help": "Seconds a rater holds an item before it returns to the pool."}
    )
    allow_tie: bool = field(default=True, metadata={"help": "Raters may answer 'tie'."})
    allow_both_bad: bool = field(default=True, metadata={"help": "Raters may answer 'both bad'."})
    require_rationale: bool = field(
        default=False, metadata={"help": "A rationale is required for ties and both-bad answers."}
    )
    show_prelabel: bool = field(
        default=False, metadata={"help": "Show the reward model's pre-label as a hint on the rate page."}
    )
    aspects: str = field(
        default="",
        metadata={
            "help": "Aspects raters may score each response on besides the preference, comma-separated, 0-4 each "
            "(e.g. helpfulness,correctness,coherence,complexity,verbosity as in HelpSteer2; '' for none)."
        },
    )

    def aspect_names(self) -> list[str]:
        """The campaign's aspects in order ([] when it has none)."""
        return parse_aspects(self.aspects)

    def validate(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name) or len(self.name) > 128:
            raise InvalidInput(f"campaign name {self.name!r}: use 1-128 letters, digits, '-', '_' or '.'")
        if self.item_kind not in ITEM_KINDS:
            raise InvalidInput(f"item_kind must be one of {', '.join(ITEM_KINDS)}, not {self.item_kind!r}")
        if not 1 <= self.overlap <= 100:
            raise InvalidInput(f"overlap must be between 1 and 100, not {self.overlap}")
        if not 0.0 <= self.gold_rate <= 1.0:
            raise InvalidInput(f"gold_rate must be between 0 and 1, not {self.gold_rate}")
        if not 1 <= self.lease_ttl_seconds <= 7 * 24 * 3600:
            raise InvalidInput(f"lease_ttl_seconds must be between 1 s and 7 days, not {self.lease_ttl_seconds}")
        parse_aspects(self.aspects)


def parse_aspects(text: str | None) -> list[str]:
    """'helpfulness, correctness' as ['helpfulness', 'correctness']; InvalidInput for a bad, repeated or 9th name."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    for name in names:
        if not _ASPECT.match(name):
            raise InvalidInput(f"aspect {name!r}: use 1-32 lowercase letters, digits or '_', starting with a letter")
    if len(set(names)) != len(names):
        raise InvalidInput(f"aspects {text!r}: each aspect once")
    if len(names) > MAX_ASPECTS:
        raise InvalidInput(f"at most {MAX_ASPECTS} aspects, not {len(names)}")
    return names


@dataclass
class ImportSettings:
    """Limits and options for `hitl import`."""

    max_text_bytes: int = field(
        default=DEFAULT_MAX_TEXT_BYTES, metadata={"help": "Largest accepted prompt or response, in UTF-8 bytes."}
    )
    source: str = field(default="", metadata={"help": "Where the data came from (stored with each record)."})


def load_yaml_overrides(path: str | Path | None) -> dict[str, Any]:
    """The mapping in a YAML override file; a clear error if the file is missing or not a mapping."""
    if path is None:
        return {}
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"config file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{p} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{p} must hold a mapping of option: value")
    return data


def build_config(cls: type[T], yaml_overrides: dict[str, Any], flag_overrides: dict[str, Any]) -> T:
    """`cls` from its defaults, then YAML, then flags (None flags are 'not given'); unknown keys are refused."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(yaml_overrides) - names)
    if unknown:
        raise InvalidInput(
            f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; known: {', '.join(sorted(names))}"
        )
    values = {**yaml_overrides, **{k: v for k, v in flag_overrides.items() if v is not None and k in names}}
    try:
        return cls(**values)
    except TypeError as exc:
        raise InvalidInput(f"{cls.__name__}: {exc}") from exc
