"""Prompt + completion -> token ids, the one way training and scoring both use.

    python -c "from transformers import AutoTokenizer as T; from reward.encoding import PairEncoder; \
print(PairEncoder(T.from_pretrained('PATH'), 64).encode(['Why?'], ['Because.']))"

Chat prompts go through the tokenizer's chat template when it has one; otherwise (BERT-style encoders, which
have neither a chat template nor an EOS token) the dialogue is rendered as HH-RLHF text ("Human: ... Assistant:")
and joined to the completion with the tokenizer's own pair layout ([CLS] prompt [SEP] completion [SEP]).

Truncation is ours, not TRL's (its `max_length` drops long pairs): the whole completion is kept when it fits,
and the prompt loses its start, because the last turns are what the answer responds to.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Prompt = str | list[dict[str, str]]

ROLE_NAMES = {"user": "Human", "assistant": "Assistant", "system": "System"}
# Even a completion longer than the budget keeps this share of it for the end of the prompt.
MIN_PROMPT_SHARE = 0.25


def render_prompt(prompt: Prompt) -> str:
    """Plain text of a prompt: a text prompt as is, a chat in the HH-RLHF layout ending with 'Assistant:'."""
    if isinstance(prompt, str):
        return prompt
    turns = [f"{ROLE_NAMES.get(m['role'], m['role'].title())}: {m['content']}" for m in prompt]
    return "\n\n".join([*turns, "Assistant:"])


def prompt_key(prompt: Prompt) -> str:
    """A canonical string for a prompt, equal for equal prompts (text or chat)."""
    if isinstance(prompt, str):
        return "text:" + prompt
    return "chat:" + json.dumps([[m["role"], m["content"]] for m in prompt], ensure_ascii=False)


def completion_text(completion: Any) -> str:
    """A completion given as text or as TRL's conversational list ending with the assistant's message."""
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def _find(seq: list[int], sub: list[int], start: int = 0) -> int:
    for i in range(start, len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    return -1


def special_layout(tokenizer) -> tuple[list[int], list[int], list[int]]:
    """The special tokens the tokenizer puts before, between and after a text pair: learned by encoding a probe
    pair, so any tokenizer works. A layout with nothing at the end gets EOS there (TRL ends sequences with it)."""
    head: list[int] = []
    mid: list[int] = []
    tail: list[int] = []
    try:
        a = tokenizer("hello", add_special_tokens=False)["input_ids"]
        b = tokenizer("world", add_special_tokens=False)["input_ids"]
        full = list(tokenizer("hello", "world")["input_ids"])
        ia = _find(full, a)
        ib = _find(full, b, ia + len(a)) if ia >= 0 else -1
        if ia < 0 or ib < 0:
            raise ValueError("probe not found")
        head, mid, tail = full[:ia], full[ia + len(a) : ib], full[ib + len(b) :]
    except (ValueError, TypeError, KeyError, NotImplementedError):
        head = [tokenizer.cls_token_id or tokenizer.bos_token_id]
        mid = [tokenizer.sep_token_id] if tokenizer.sep_token_id is not None else []
        tail = [tokenizer.sep_token_id or tokenizer.eos_token_id]
        head, tail = [t for t in head if t is not None], [t for t in tail if t is not None]
    if not tail and tokenizer.eos_token_id is not None:
        tail = [tokenizer.eos_token_id]
    return head, mid, tail


def fit(prompt_ids: list[int], completion_ids: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Both parts cut to `budget` tokens together: the prompt loses its start first; only a completion that
    cannot fit beside MIN_PROMPT_SHARE of the budget is cut (at its end)."""
    if len(prompt_ids) + len(completion_ids) <= budget:
        return prompt_ids, completion_ids
    keep_prompt = budget - len(completion_ids)
    floor = min(len(prompt_ids), int(budget * MIN_PROMPT_SHARE))
    if keep_prompt >= floor:
        return prompt_ids[len(prompt_ids) - keep_prompt :] if keep_prompt else [], completion_ids
    return (prompt_ids[len(prompt_ids) - floor :] if floor else []), completion_ids[: budget - floor]


@dataclass
class EncodeStats:
    """How many sequences lost part of their prompt, and how many part of the completion."""

    sequences: int = 0
    prompt_cut: int = 0
    completion_cut: int = 0


class PairEncoder:
    """Encodes (prompt, completion) pairs into token ids of at most `max_length` tokens."""

    def __init__(self, tokenizer, max_length: int = 512, use_chat_template: bool = True):
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.use_chat_template = use_chat_template and bool(getattr(tokenizer, "chat_template", None))
        self.head, self.mid, self.tail = special_layout(tokenizer)
        self.stats = EncodeStats()
        # Texts are tokenized whole and cut here, so transformers' "longer than the maximum" warning is noise.
        warned = getattr(tokenizer, "deprecation_warnings", None)
        if isinstance(warned, dict):
            warned["sequence-length-is-longer-than-the-specified-maximum"] = True

    def settings(self) -> dict[str, Any]:
        """What a scorer needs to encode exactly like this (saved beside the model)."""
        return {"max_length": self.max_length, "use_chat_template": self.use_chat_template}

    def _texts(self, prompt: Prompt, completion: str) -> tuple[str, str, bool]:
        """(prompt text, completion text, templated): templated texts already hold their special tokens."""
        if self.use_chat_template and isinstance(prompt, list):
            tok = self.tokenizer
            head = tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
            full = tok.apply_chat_template([*prompt, {"role": "assistant", "content": completion}], tokenize=False)
            if full.startswith(head):
                return head, full[len(head) :], True
        return render_prompt(prompt), completion, False

    def _ids(self, texts: list[str]) -> list[list[int]]:
        unique = list(dict.fromkeys(texts))
        if not unique:
            return []
        ids = self.tokenizer(unique, add_special_tokens=False)["input_ids"]
        table = dict(zip(unique, ids, strict=True))
        return [list(table[t]) for t in texts]

    def encode(self, prompts: Sequence[Prompt], completions: Sequence[Any]) -> list[list[int]]:
        """Token ids of each (prompt, completion); prompts repeated across pairs are tokenized once."""
        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        parts = [self._texts(p, completion_text(c)) for p, c in zip(prompts, completions, strict=True)]
        prompt_ids = self._ids([p for p, _, _ in parts])
        completion_ids = self._ids([c for _, c, _ in parts])
        out = []
        for (_, _, templated), p_ids, c_ids in zip(parts, prompt_ids, completion_ids, strict=True):
            head, mid, tail = ([], [], []) if templated else (self.head, self.mid, self.tail)
            budget = max(1, self.max_length - len(head) - len(mid) - len(tail))
            p_fit, c_fit = fit(p_ids, c_ids, budget)
            self.stats.sequences += 1
            self.stats.prompt_cut += len(p_fit) < len(p_ids)
            self.stats.completion_cut += len(c_fit) < len(c_ids)
            out.append([*head, *p_fit, *mid, *c_fit, *tail])
        return out
