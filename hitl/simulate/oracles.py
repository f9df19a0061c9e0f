"""Oracles: the "true" preference that simulated raters perturb (AlpacaFarm-style simulated annotation).

    hitl simulate --campaign demo --oracle rule:concise

An oracle maps (prompt, responses) to one score per response; higher is better. Built-in rules are
below; any Python callable `module:function(prompt, responses) -> scores` works too. A trained reward model
(`reward:VERSION_OR_PATH`) is a judge of the same shape, loaded by `hitl.loop.judges.load_judge`, which the CLI
and the loop use (this package stays free of the reward stack).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence

from hitl.errors import InvalidInput

Oracle = Callable[[str, Sequence[str]], Sequence[float]]

_WORD = re.compile(r"\w+")
_POLITE = ("please", "thank", "glad", "happy to", "sorry", "hope this helps")
_REFUSAL = ("i can't", "i cannot", "i won't", "i'm not able", "i am not able", "as an ai")


def concise(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers the shorter answer (fewer words), as long as it says something."""
    return [-len(_WORD.findall(r)) if r.strip() else float("-inf") for r in responses]


def detailed(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers the longer answer (more words)."""
    return [float(len(_WORD.findall(r))) for r in responses]


def polite(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers with more polite phrases; ties broken toward the shorter one."""
    return [sum(p in r.lower() for p in _POLITE) - 1e-4 * len(r) for r in responses]


def no_refusal(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers that do not refuse; ties broken toward the shorter one."""
    return [-float(any(p in r.lower() for p in _REFUSAL)) - 1e-4 * len(r) for r in responses]


_SENTENCE = re.compile(r"[^.!?\n]+")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)
_EXAMPLE = ("for example", "for instance", "e.g.", "such as", "an example")
_LIST = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)
_SELF = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|myself|as an ai)\b", re.IGNORECASE)


def plain(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers plain language: shorter sentences and shorter words, whatever the total length (a dense rule: almost
    every two answers differ). Score: minus (mean words per sentence / 4 + mean letters per word)."""
    scores = []
    for r in responses:
        sentences = [s for s in _SENTENCE.findall(r) if _WORD.search(s)]
        words = _WORD.findall(r)
        if not words:
            scores.append(float("-inf"))
            continue
        per_sentence = len(words) / max(1, len(sentences))
        scores.append(-(per_sentence / 4 + sum(len(w) for w in words) / len(words)))
    return scores


def numbered(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers laid out as a numbered list (two or more lines `1.` / `2)` ...); all others tie (a structural
    rule that most sampled answers do not meet)."""
    return [float(len(_NUMBERED.findall(r)) >= 2) for r in responses]


def listed(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers laid out as a list (two or more lines starting `-`, `*`, `•` or `1.`); all others tie. A
    structural rule that few of the default policy's answers meet (46 of 1,152 in one loop run: 5% at temperature
    0.7, 3% at 1.0)."""
    return [float(len(_LIST.findall(r)) >= 2) for r in responses]


def no_self(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers that keep the assistant out of them (no "I", "my", "as an AI"); all others tie. A content
    rule: about one answer in six of the default policy talks about itself."""
    return [0.0 if _SELF.search(r) else 1.0 for r in responses]


def example(prompt: str, responses: Sequence[str]) -> list[float]:
    """Prefers answers that give a concrete example ("for example", "for instance", "such as", ...); others tie."""
    return [float(any(p in r.lower() for p in _EXAMPLE)) for r in responses]


def contains(word: str) -> Oracle:
    """Prefers answers that mention `word` (case-insensitive)."""
    needle = word.lower()

    def oracle(prompt: str, responses: Sequence[str]) -> list[float]:
        return [float(needle in r.lower()) - 1e-4 * len(r) for r in responses]

    return oracle


RULES: dict[str, Oracle] = {
    "concise": concise,
    "detailed": detailed,
    "polite": polite,
    "no-refusal": no_refusal,
    "plain": plain,
    "numbered": numbered,
    "list": listed,
    "no-self": no_self,
    "example": example,
}


def load_oracle(spec: str) -> Oracle:
    """`rule:NAME`, `rule:contains=WORD` or `module:function`."""
    if spec.startswith("reward:"):
        # Checked before module:function, which would otherwise import the `reward` package itself.
        raise InvalidInput(f"{spec!r} is a reward model: load it with hitl.loop.judges.load_judge (hitl's CLI does)")
    if spec.startswith("rule:"):
        name = spec.removeprefix("rule:")
        if name.startswith("contains="):
            return contains(name.split("=", 1)[1])
        if name in RULES:
            return RULES[name]
        raise InvalidInput(f"unknown oracle rule {name!r}: use one of {', '.join(RULES)} or contains=WORD")
    if ":" in spec:
        module_name, func_name = spec.split(":", 1)
        try:
            func = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError) as exc:
            raise InvalidInput(f"cannot load oracle {spec!r}: {exc}") from exc
        if not callable(func):
            raise InvalidInput(f"oracle {spec!r} is not callable")
        return func
    raise InvalidInput(
        f"oracle {spec!r}: use rule:NAME ({', '.join(RULES)}, contains=WORD), module:function, or reward:VERSION"
    )
