"""A campaign's workforce rules: qualification, attention checks and minimum time, work limits, skills, escalation
and automation. Stored as one JSON value with the campaign (campaigns.workforce); every rule is off by default.

    hitl workforce rules demo --qualification-items 5 --min-seconds 4 --fast-warn 3 --fast-pause 6

Defaults fit a small team that has not asked for any of it: nothing changes for a campaign until a rule is set.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from hitl.errors import InvalidInput

_SKILL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class WorkforceRules:
    """How a campaign qualifies, checks, rests, routes and escalates its raters' work."""

    qualification_items: int = field(
        default=0,
        metadata={
            "help": "Gold items a new rater judges first, as training with the reference answer shown after each; "
            "raters who have not passed get no regular items (0: no qualification)."
        },
    )
    qualification_pass: float = field(
        default=0.8, metadata={"help": "Share of the training items answered right that passes (0-1)."}
    )
    qualification_retries: int = field(
        default=1, metadata={"help": "Attempts after a failed first one, each on training items not seen before."}
    )
    requalify_on_new_guidelines: bool = field(
        default=False, metadata={"help": "A new guidelines version sends every rater back to the qualification."}
    )
    attention_window: int = field(
        default=10, metadata={"help": "Attention checks (gold items) counted: the rater's latest this many."}
    )
    attention_warn_misses: int = field(
        default=0, metadata={"help": "Missed attention checks in the window that warn the rater (0: off)."}
    )
    attention_pause_misses: int = field(
        default=0,
        metadata={"help": "Missed attention checks in the window that pause the rater pending review (0: off)."},
    )
    min_seconds: float = field(
        default=0.0, metadata={"help": "An answer faster than this many seconds counts as too fast (0: off)."}
    )
    fast_window: int = field(
        default=20, metadata={"help": "Judgments counted for speed: the rater's latest this many."}
    )
    fast_warn: int = field(default=0, metadata={"help": "Too-fast answers in the window that warn (0: off)."})
    fast_pause: int = field(
        default=0, metadata={"help": "Too-fast answers in the window that pause pending review (0: off)."}
    )
    max_stretch_minutes: float = field(
        default=0.0,
        metadata={"help": "Longest continuous rating in this campaign before the page enforces a break (0: off)."},
    )
    break_minutes: float = field(
        default=10.0, metadata={"help": "A pause this long ends a stretch; an enforced break lasts this long."}
    )
    max_daily_minutes: float = field(
        default=0.0, metadata={"help": "Most minutes on items per rater per day in this campaign (0: off)."}
    )
    fatigue_breaks: bool = field(
        default=False,
        metadata={"help": "Call the break early when a rater's speed and accuracy both fall within the stretch."},
    )
    skills: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Prompt tag -> required skill: such items go only to raters with the skill."},
    )
    escalate_unsure: bool = field(
        default=False, metadata={"help": "An answer flagged 'unsure' sends the item to the expert queue."}
    )
    escalate_below_agreement: float = field(
        default=0.0,
        metadata={
            "help": "Once an item has its overlap: a top answer held by less than this share of its judgments, or "
            "no single top answer, sends it to the expert queue (0: off; 0-1)."
        },
    )
    escalation_skill: str = field(
        default="", metadata={"help": "Skill of the experts for escalations with no skill-mapped tag ('': reviewers)."}
    )
    auto_label_threshold: float = field(
        default=0.0,
        metadata={
            "help": "The reward model labels items whose calibrated confidence is at least this (0: off; 0.5-1)."
        },
    )
    audit_share: float = field(
        default=0.1, metadata={"help": "Share of auto-labelled items still sent to humans as an audit (0-1)."}
    )
    stop_at_confidence: float = field(
        default=0.0,
        metadata={
            "help": "An item is done once its label's posterior reaches this (the reward model's calibrated score as "
            "prior, each judgment weighted by the crowd's gold accuracy), before the overlap (0: off; 0.5-1)."
        },
    )

    def validate(self) -> None:
        """InvalidInput naming the first setting out of range; nothing is stored until every one is valid."""
        for name in (
            "qualification_pass",
            "escalate_below_agreement",
            "audit_share",
            "auto_label_threshold",
            "stop_at_confidence",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
                raise InvalidInput(f"{name} must be between 0 and 1, not {value!r}")
        for name in ("auto_label_threshold", "stop_at_confidence"):
            value = getattr(self, name)
            if 0 < value < 0.5:
                raise InvalidInput(
                    f"{name} {value} is below 0.5: items would be labelled with answers more likely wrong than right "
                    "(use 0 to turn it off)"
                )
        for name in ("qualification_items", "qualification_retries", "attention_warn_misses", "fast_warn"):
            _check_count(name, getattr(self, name), 0)
        for name in ("attention_pause_misses", "fast_pause"):
            _check_count(name, getattr(self, name), 0)
        for name in ("attention_window", "fast_window"):
            _check_count(name, getattr(self, name), 1)
        for name in ("min_seconds", "max_stretch_minutes", "max_daily_minutes"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 24 * 60:
                raise InvalidInput(f"{name} must be between 0 and 1440, not {value!r}")
        if not 1.0 <= self.break_minutes <= 24 * 60:
            raise InvalidInput(f"break_minutes must be between 1 and 1440, not {self.break_minutes!r}")
        for warn, pause, window in (
            ("attention_warn_misses", "attention_pause_misses", "attention_window"),
            ("fast_warn", "fast_pause", "fast_window"),
        ):
            w, p, n = getattr(self, warn), getattr(self, pause), getattr(self, window)
            if p and w and w >= p:
                raise InvalidInput(f"{warn} ({w}) must be below {pause} ({p}): the warning comes first")
            if max(w, p) > n:
                raise InvalidInput(f"{warn} and {pause} count within the last {window} ({n}): raise {window}")
        if (self.fast_warn or self.fast_pause) and not self.min_seconds:
            raise InvalidInput("fast_warn / fast_pause need min_seconds: what counts as too fast")
        if not isinstance(self.skills, dict):
            raise InvalidInput("skills must map prompt tags to skills, e.g. {'medical': 'medical'}")
        for tag, skill in self.skills.items():
            if not isinstance(tag, str) or not tag or len(tag) > 128:
                raise InvalidInput(f"skill map: tag {tag!r} must be 1-128 characters")
            check_skill(skill)
        if self.escalation_skill:
            check_skill(self.escalation_skill)

    @property
    def routes(self) -> bool:
        """Whether next_item must consult the rater's standing (qualification, pauses, limits, skills)."""
        return bool(
            self.qualification_items
            or self.attention_pause_misses
            or self.fast_pause
            or self.max_stretch_minutes
            or self.max_daily_minutes
            or self.fatigue_breaks
            or self.skills
        )

    @property
    def watches(self) -> bool:
        """Whether a recorded judgment must be looked at (qualification, warnings, pauses, escalations)."""
        return bool(
            self.qualification_items
            or self.attention_warn_misses
            or self.attention_pause_misses
            or self.fast_warn
            or self.fast_pause
            or self.escalate_unsure
            or self.escalate_below_agreement
            or self.fatigue_breaks
            or self.stop_at_confidence
        )

    def to_json(self) -> dict[str, Any] | None:
        """What campaigns.workforce stores: only the settings that differ from the defaults (None: no rules)."""
        default = WorkforceRules()
        changed = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }
        return changed or None


def _check_count(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 10_000:
        raise InvalidInput(f"{name} must be a whole number between {low} and 10000, not {value!r}")


def check_skill(skill: Any) -> str:
    """A skill name: 1-64 letters, digits, '_', '.', '-', starting alphanumeric; InvalidInput otherwise."""
    if not isinstance(skill, str) or not _SKILL.match(skill):
        raise InvalidInput(f"skill {skill!r}: use 1-64 letters, digits, '_', '.' or '-', starting alphanumeric")
    return skill


RULE_NAMES = tuple(f.name for f in dataclasses.fields(WorkforceRules))


def rules_from_json(value: Any) -> WorkforceRules:
    """The rules stored in campaigns.workforce (NULL or {} gives the defaults; unknown keys are ignored, so a store
    written by a newer hitl still opens)."""
    if not value:
        return WorkforceRules()
    if isinstance(value, str):
        import json

        value = json.loads(value)
    return WorkforceRules(**{k: v for k, v in value.items() if k in RULE_NAMES})


def changed_rules(current: WorkforceRules, changes: dict[str, Any]) -> WorkforceRules:
    """`current` with `changes` applied and validated; unknown names are refused naming the known ones."""
    unknown = sorted(set(changes) - set(RULE_NAMES))
    if unknown:
        raise InvalidInput(f"unknown workforce rule(s) {', '.join(unknown)}; known: {', '.join(RULE_NAMES)}")
    try:
        new = dataclasses.replace(current, **{k: v for k, v in changes.items() if v is not None})
    except TypeError as exc:
        raise InvalidInput(f"workforce rules: {exc}") from None
    new.validate()
    return new
