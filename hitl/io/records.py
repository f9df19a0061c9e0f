"""Pure parsing of import records: prompts, tags, TRL preference records, HH-RLHF dialogues and scored pairs.

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
    """One preference record, cleaned: the prompt, the two answers and the strength (1-3; 0 when the record calls
    the two equal), plus the scores a published set gave each answer (UltraFeedback's score, HelpSteer2's aspects),
    kept with the responses."""

    prompt: PromptValue
    chosen: str
    rejected: str
    strength: int
    chosen_scores: dict[str, float] | None = None
    rejected_scores: dict[str, float] | None = None


def _answer(value: Any, what: str) -> Any:
    """The answer text: the value itself, or the content of a chat list's last (assistant) message."""
    if isinstance(value, list):
        if not value or not isinstance(value[-1], dict) or value[-1].get("role") != "assistant":
            raise InvalidInput(f"{what} must end with an assistant message (the answer)")
        return value[-1].get("content")
    return value


# UltraFeedback's fine-grained scores run 1-10; a quarter of that is one step of hitl's 1-3 strength.
SCORE_SCALE_MAX = 10.0


def strength_from_gap(gap: float, scale_max: float) -> int:
    """Strength 1-3 from a score gap on a 0..scale_max scale: one step per quarter of the scale, clipped to 1..3
    (UltraFeedback 1-10: a gap up to 2.5 is 1, up to 5 is 2, more is 3; HelpSteer2's 0-4 aspects: the gap itself)."""
    return int(min(3, max(1, math.ceil(gap / (scale_max / 4) - 1e-9))))


def _scores(record: dict[str, Any]) -> tuple[float, float] | None:
    chosen, rejected = optional(record, "score_chosen"), optional(record, "score_rejected")
    if chosen is None and rejected is None:
        return None
    try:
        pair = float(chosen), float(rejected)
    except (TypeError, ValueError):
        raise InvalidInput("'score_chosen' and 'score_rejected' must both be numbers") from None
    if not all(math.isfinite(x) for x in pair):
        raise InvalidInput("'score_chosen' and 'score_rejected' must be finite numbers")
    return pair


def parse_strength(record: dict[str, Any]) -> int:
    """Strength 1-3 from `strength`, else from `margin` (rounded, clipped to 1..3), else from the gap between
    `score_chosen` and `score_rejected` (strength_from_gap on UltraFeedback's 1-10 scale), else 2 (clearly better).
    0 for a tie: a record marked `tie`, scored equal, or with strength 0 (how hitl exports a tie); the importer
    refuses those, a reward-training file keeps them."""
    if record.get("tie") is True:
        return 0
    scores = _scores(record)
    if scores is not None and optional(record, "strength") is None and optional(record, "margin") is None:
        gap = scores[0] - scores[1]
        if gap < 0:
            raise InvalidInput("'score_rejected' is higher than 'score_chosen': chosen must be the better answer")
        return strength_from_gap(gap, SCORE_SCALE_MAX) if gap > 0 else 0
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
        if key == "strength" and number == 0:
            return 0
        if key == "strength" and not 1 <= number <= 3:
            raise InvalidInput("'strength' must be 1 (slightly better) to 3 (much better), or 0 for a tie")
        # A margin is a reward gap with no fixed scale; our strengths are 1..3, so extremes are clipped.
        return int(min(3, max(1, round(number))))
    return 2


def _score_dict(record: dict[str, Any], key: str) -> dict[str, float] | None:
    value = optional(record, key)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, int | float) for v in value.values()):
        raise InvalidInput(f"'{key}' must map aspect names to numbers")
    return {str(k): float(v) for k, v in value.items()}


def _with_context(prompt: Any, chosen: list, rejected: list) -> Any:
    """The prompt of a record whose chosen / rejected are whole conversations (the prompt's turns, then the
    answer), as UltraFeedback-binarized and other published sets write them: the shared turns are the prompt,
    and a text `prompt` must be the last user turn of them (the text itself when it is the only turn)."""
    context = chosen[:-1]
    if context != rejected[:-1]:
        raise InvalidInput("chosen and rejected must share every turn before the answer")
    if isinstance(prompt, list) or prompt is None:
        if prompt is not None and prompt != context:
            raise InvalidInput("'prompt' differs from the turns before the answer in chosen and rejected")
        return context
    last = context[-1] if context else None
    if not isinstance(last, dict) or last.get("role") != "user" or last.get("content") != prompt:
        raise InvalidInput("'prompt' is not the last user turn before the answer in chosen and rejected")
    return prompt if len(context) == 1 else context


def parse_preference(record: dict[str, Any], max_bytes: int) -> PreferenceValue:
    """A TRL preference record (explicit or implicit prompt, text or conversational), an HH-RLHF pair, or a
    published layout's row (UltraFeedback-binarized: `prompt`, whole-conversation `chosen` / `rejected`, a copy of
    chosen as `messages`, `score_chosen` / `score_rejected`; see hitl.io.layouts for HelpSteer2)."""
    chosen, rejected = record.get("chosen"), record.get("rejected")
    if chosen is None or rejected is None:
        raise InvalidInput("a preference record needs 'chosen' and 'rejected' (and usually 'prompt')")
    if optional(record, "prompt") is not None and optional(record, "messages") in (chosen, rejected):
        # UltraFeedback-binarized repeats the chosen conversation as `messages` (for SFT): not a second prompt.
        record = {k: v for k, v in record.items() if k != "messages"}
    prompt_value = prompt_field(record)
    if isinstance(chosen, list) and isinstance(rejected, list) and (len(chosen) > 1 or len(rejected) > 1):
        prompt_value, chosen, rejected = _with_context(prompt_value, chosen, rejected), chosen[-1:], rejected[-1:]
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
    strength = parse_strength(record)
    chosen_scores, rejected_scores = _score_dict(record, "chosen_scores"), _score_dict(record, "rejected_scores")
    if chosen_scores is None and (scores := _scores(record)) is not None:
        chosen_scores, rejected_scores = {"score": scores[0]}, {"score": scores[1]}
    return PreferenceValue(prompt, chosen_text, rejected_text, strength, chosen_scores, rejected_scores)
