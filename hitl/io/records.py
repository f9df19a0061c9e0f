"""Pure parsing of import records: prompts, tags, TRL preference records and HH-RLHF dialogues.

    python -c "from hitl.io.records import split_hh_dialogue as s; print(s('\\n\\nHuman: hi\\n\\nAssistant: A', \
'\\n\\nHuman: hi\\n\\nAssistant: B'))"

No database here: each function turns one record into clean values or raises InvalidInput saying what is wrong
(the importers add the file and line).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

from hitl.catalog import check_messages, check_text
from hitl.errors import InvalidInput

_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")
_HH_ROLES = {"Human": "user", "Assistant": "assistant"}
_HH_ANSWER = "\n\nAssistant:"


def optional(record: dict[str, Any], key: str) -> Any:
    """The value of an optional field; missing, None and empty strings (blank CSV cells) all mean 'not given'."""
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):
        # pandas-written Parquet stores missing numbers as NaN.
        return None
    return value


def parse_tags(value: Any) -> list[str]:
    """Tags as a list of strings: a JSON list, or one string of comma-separated tags (as a CSV cell holds them)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list | tuple) and all(isinstance(t, str | int) for t in value):
        return [str(t) for t in value]
    raise InvalidInput("'tags' must be a list of strings or a comma-separated string")


@dataclass(frozen=True)
class PromptValue:
    """A prompt as stored: exactly one of a text and a chat."""

    text: str | None
    messages: list[dict[str, str]] | None

    def key(self) -> tuple:
        """Identity for finding an equal stored prompt."""
        if self.text is not None:
            return ("text", self.text)
        return ("chat", tuple((m["role"], m["content"]) for m in self.messages or []))


def prompt_field(record: dict[str, Any]) -> Any:
    """The raw prompt of a record: `prompt` (text or chat), else `messages`; None when neither is there.

    A blank `prompt` is returned as is (so it is reported as empty) unless `messages` is given: a CSV with both
    columns leaves one of them blank on every row.
    """
    prompt, messages = optional(record, "prompt"), optional(record, "messages")
    if prompt is not None and messages is not None:
        raise InvalidInput("give either 'prompt' or 'messages', not both")
    if prompt is None and messages is None:
        return record.get("prompt")
    return prompt if prompt is not None else messages


def parse_prompt(value: Any, max_bytes: int, what: str = "prompt") -> PromptValue:
    """A prompt given as text or as a chat list of {role, content} ending with the user's turn."""
    if isinstance(value, list):
        return PromptValue(None, check_messages(value, what, max_bytes))
    if value is None:
        raise InvalidInput(f"'{what}' is missing")
    return PromptValue(check_text(value, what, max_bytes), None)


def split_hh_dialogue(chosen: str, rejected: str) -> tuple[list[dict[str, str]], str, str]:
    """Split two HH-RLHF dialogues ("\\n\\nHuman: ...\\n\\nAssistant: ...") into the shared prompt and two answers.

    The prompt is everything up to the last "Assistant:" marker the two dialogues share, as chat messages (user /
    assistant); the answers are what follows it in each. Splitting at the shared text rather than at each
    dialogue's last turn keeps the few HH records whose answers themselves contain "Human:" turns. Turn texts
    are stripped of the space after each marker.
    """
    for value, what in ((chosen, "chosen"), (rejected, "rejected")):
        if not isinstance(value, str):
            raise InvalidInput(f"{what} must be a dialogue string, not {type(value).__name__}")
    shared = len(os.path.commonprefix([chosen, rejected]))
    cut = chosen.rfind(_HH_ANSWER, 0, shared)
    if cut < 0:
        raise InvalidInput(
            "chosen and rejected must be HH-RLHF dialogues sharing every turn up to the last '\\n\\nAssistant:' "
            "(or give a 'prompt' field)"
        )
    prompt = _hh_turns(chosen[:cut], "the shared dialogue")
    if prompt[-1]["role"] != "user":
        raise InvalidInput("the shared dialogue before the answers must end with a 'Human:' turn")
    start = cut + len(_HH_ANSWER)
    return prompt, chosen[start:].strip(), rejected[start:].strip()


def _hh_turns(dialogue: str, what: str) -> list[dict[str, str]]:
    parts = _HH_TURN.split(dialogue)
    # re.split with one group gives [text before the first marker, role, content, role, content, ...].
    if len(parts) < 3 or parts[0].strip():
        raise InvalidInput(
            f"{what} is not an HH-RLHF dialogue: it must start with 'Human:' turns in the form "
            "'\\n\\nHuman: ...\\n\\nAssistant: ...' (or give a 'prompt' field)"
        )
    roles, contents = parts[1::2], parts[2::2]
    return [{"role": _HH_ROLES[r], "content": c.strip()} for r, c in zip(roles, contents, strict=True)]


@dataclass(frozen=True)
class PreferenceValue:
    """One preference record, cleaned: the prompt, the two answers and the strength (1-3) to record."""

    prompt: PromptValue
    chosen: str
    rejected: str
    strength: int


def _answer(value: Any, what: str) -> Any:
    """The answer text: the value itself, or the content of a chat list's last (assistant) message."""
    if isinstance(value, list):
        if not value or not isinstance(value[-1], dict) or value[-1].get("role") != "assistant":
            raise InvalidInput(f"{what} must end with an assistant message (the answer)")
        return value[-1].get("content")
    return value


def parse_strength(record: dict[str, Any]) -> int:
    """Strength 1-3 from `strength`, else from `margin` (rounded, clipped to 1..3), else 2 (clearly better)."""
    for key in ("strength", "margin"):
        value = optional(record, key)
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"'{key}' must be a number, not {value!r}") from None
        if not math.isfinite(number):
            raise InvalidInput(f"'{key}' must be a finite number")
        if key == "strength" and not 1 <= number <= 3:
            raise InvalidInput("'strength' must be 1 (slightly better) to 3 (much better)")
        # A margin is a reward gap with no fixed scale; our strengths are 1..3, so extremes are clipped.
        return int(min(3, max(1, round(number))))
    return 2


def parse_preference(record: dict[str, Any], max_bytes: int) -> PreferenceValue:
    """A TRL preference record (explicit or implicit prompt, text or conversational) or an HH-RLHF pair."""
    chosen, rejected = record.get("chosen"), record.get("rejected")
    if chosen is None or rejected is None:
        raise InvalidInput("a preference record needs 'chosen' and 'rejected' (and usually 'prompt')")
    prompt_value = prompt_field(record)
    if prompt_value is None:
        if isinstance(chosen, list) and isinstance(rejected, list):
            # TRL's implicit-prompt conversational format: the shared turns are the prompt.
            if chosen[:-1] != rejected[:-1]:
                raise InvalidInput("without a 'prompt', chosen and rejected must share every turn but the last")
            prompt_value, chosen, rejected = chosen[:-1], chosen[-1:], rejected[-1:]
        else:
            prompt_value, chosen, rejected = split_hh_dialogue(chosen, rejected)
    prompt = parse_prompt(prompt_value, max_bytes)
    chosen_text = check_text(_answer(chosen, "chosen"), "chosen", max_bytes)
    rejected_text = check_text(_answer(rejected, "rejected"), "rejected", max_bytes)
    if chosen_text.strip() == rejected_text.strip():
        raise InvalidInput("chosen and rejected are the same text: a preference needs two different answers")
    return PreferenceValue(prompt, chosen_text, rejected_text, parse_strength(record))
