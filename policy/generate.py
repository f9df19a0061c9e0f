"""Batched sampling from a policy: n samples per prompt, left-padded batches sorted by prompt length.

    hitl generate --model default --prompts hitl/data/demo_prompts.jsonl --n 2 --campaign demo

Text prompts become one user turn of the tokenizer's chat template; chat prompts use their messages. Every
sample carries the settings that made it (temperature, top-p, max new tokens, seed, ...), which the store keeps
as the response's `sampling`. A prompt longer than the context keeps its end (the question is usually last)
and is reported in the log. `sample()` picks the backend: vLLM when installed with a GPU, else this HF path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from policy.config import GenerationSettings

log = logging.getLogger(__name__)

Prompt = str | list[dict[str, str]]


@dataclass(frozen=True)
class Sample:
    """One generated response: which prompt and sample it is, its text, and how it was made."""

    prompt_index: int
    sample_index: int
    text: str
    n_tokens: int  # generated tokens before EOS
    finish_reason: str  # "eos" or "length"
    prompt_tokens: int  # after truncation
    truncated: bool  # the prompt lost its beginning to fit the context
    settings: dict[str, Any]

    def sampling(self) -> dict[str, Any]:
        """The `sampling` record stored with the response."""
        return {
            **self.settings,
            "sample_index": self.sample_index,
            "n_tokens": self.n_tokens,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class EncodedPrompt:
    ids: list[int]
    truncated: bool


def set_threads(threads: int = 0) -> int:
    """Use `threads` torch threads (0: the free cores): two processes each using every core run many times slower."""
    from hitl.threads import set_torch_threads

    return set_torch_threads(threads)


def as_messages(prompt: Prompt) -> list[dict[str, str]]:
    return prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]


def render(tokenizer, prompt: Prompt) -> str:
    """The prompt as the model sees it: its chat template with the assistant turn opened."""
    messages = as_messages(prompt)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    # A base model without a template: a plain transcript ending where the answer starts.
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"


def context_length(model) -> int:
    config = model.config
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def encode(tokenizer, prompts: Sequence[Prompt], max_prompt_tokens: int) -> list[EncodedPrompt]:
    """Token ids of each rendered prompt; a prompt over `max_prompt_tokens` keeps its last tokens."""
    encoded = []
    for i, prompt in enumerate(prompts):
        # The template already holds the special tokens (BOS, turn markers): adding them again doubles them.
        ids = tokenizer(render(tokenizer, prompt), add_special_tokens=False)["input_ids"]
        truncated = len(ids) > max_prompt_tokens
        if truncated:
            log.warning("prompt %d has %d tokens, over %d: keeping its end", i, len(ids), max_prompt_tokens)
            ids = ids[-max_prompt_tokens:]
        encoded.append(EncodedPrompt(list(ids), truncated))
    return encoded


def plan_batches(lengths: Sequence[int], n: int, batch_size: int) -> list[list[tuple[int, int]]]:
    """(prompt index, sample index) rows in batches of `batch_size`, longest prompts first.

    Sorting by length keeps similar lengths together, so little of each batch is padding; longest first makes a
    batch that does not fit in memory fail at once rather than at the end.
    """
    rows = sorted(((p, s) for p in range(len(lengths)) for s in range(n)), key=lambda r: (-lengths[r[0]], r))
    return [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]


def left_pad(sequences: Sequence[Sequence[int]], pad_id: int):
    """input_ids and attention_mask with every sequence flush right, so the new tokens line up at the end."""
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq) :] = 1
    return ids, mask


def eos_ids(model, tokenizer) -> set[int]:
    ids: set[int] = set()
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    return ids


def split_at_eos(tokens: Sequence[int], stop: set[int]) -> tuple[list[int], str]:
    for i, t in enumerate(tokens):
        if t in stop:
            return list(tokens[:i]), "eos"
    return list(tokens), "length"


def generate(
    model,
    tokenizer,
    prompts: Sequence[Prompt],
    settings: GenerationSettings,
    *,
    progress: bool = False,
    static_cache: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """`settings.n` samples for each prompt, in (prompt, sample) order.

    The decode loop is policy.decode's (settings.loop "hitl") or transformers' `generate` ("generate", and always
    with `static_cache`, which only `generate` implements here).
    """
    settings.validate()
    if not prompts:
        return []
    max_prompt = settings.max_prompt_tokens or max(1, context_length(model) - settings.max_new_tokens)
    encoded = encode(tokenizer, prompts, max_prompt)
    stop = eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stop, default=0)
    record = {**settings.sampling_record(), "backend": "hf", "loop": "generate" if static_cache else settings.loop}
    record["dtype"] = str(model.dtype).removeprefix("torch.")  # what ran, also when the setting was auto
    batches = plan_batches([len(e.ids) for e in encoded], settings.n, settings.batch_size)
    run_batch = _generate_batch if static_cache or settings.loop == "generate" else _decode_batch
    bar = None
    if progress:
        from hitl.progress import progress as progress_bar

        # A bar with an ETA on a terminal, a line with the ETA every few seconds in a log.
        bar = progress_bar(len(prompts) * settings.n, "generating", unit="sample")
    samples: dict[tuple[int, int], Sample] = {}
    device = next(model.parameters()).device
    model.eval()
    for b, rows in enumerate(batches):
        ids, mask = left_pad([encoded[p].ids for p, _ in rows], pad_id)
        # A seed per batch: the same prompts and settings give the same samples.
        new = run_batch(
            model, ids.to(device), mask.to(device), settings, stop, pad_id, settings.seed * 1_000_003 + b, static_cache
        )
        for (p, s), tokens in zip(rows, new, strict=True):
            kept, reason = split_at_eos(tokens, stop)
            samples[(p, s)] = Sample(
                prompt_index=p,
                sample_index=s,
                text=tokenizer.decode(kept, skip_special_tokens=True).strip(),
                n_tokens=len(kept),
                finish_reason=reason,
                prompt_tokens=len(encoded[p].ids),
                truncated=encoded[p].truncated,
                settings=record,
            )
        if bar is not None:
            bar.update(len(rows))
        if on_batch is not None:
            on_batch(b, len(rows))
    if bar is not None:
        bar.close()
    return [samples[k] for k in sorted(samples)]


def _decode_batch(model, ids, mask, settings: GenerationSettings, stop, pad_id, seed: int, static_cache: bool):
    import torch

    from policy.decode import decode

    generator = torch.Generator(device=ids.device).manual_seed(seed)
    sequences = [row[m.bool()].tolist() for row, m in zip(ids, mask, strict=True)]
    return decode(
        model,
        sequences,
        pad_id=pad_id,
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        stop_ids=sorted(stop),
        generator=generator,
    )


def _generate_batch(model, ids, mask, settings: GenerationSettings, stop, pad_id, seed: int, static_cache: bool):
    """The same batch through transformers' `generate` (for comparison, and for models the own loop cannot run)."""
    import torch

    kwargs: dict[str, Any] = {
        "max_new_tokens": settings.max_new_tokens,
        "do_sample": settings.temperature > 0,
        "pad_token_id": pad_id,
        "eos_token_id": sorted(stop) or None,
    }
    if settings.temperature > 0:
        kwargs.update(temperature=settings.temperature, top_p=settings.top_p, top_k=0)
    else:
        # Greedy: clear the model's own sampling defaults so generate does not warn they are unused.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if static_cache:
        kwargs["cache_implementation"] = "static"
    # generate draws from the global RNG: fork it, so the caller's random state is left alone.
    with torch.random.fork_rng(devices=[] if ids.device.type == "cpu" else [ids.device]), torch.inference_mode():
        torch.manual_seed(seed)
        out = model.generate(input_ids=ids, attention_mask=mask, **kwargs)
    return out[:, ids.shape[1] :].tolist()


def sample(resolved, prompts: Sequence[Prompt], settings: GenerationSettings, *, progress: bool = False):
    """Generate with the best backend for a resolved model (policy.models.ResolvedModel)."""
    from policy import generate_vllm
    from policy.models import load_policy

    settings.validate()
    if generate_vllm.use_vllm(settings.backend, resolved):
        return generate_vllm.generate(resolved, prompts, settings)
    set_threads(settings.threads)
    model, tokenizer = load_policy(resolved, dtype=settings.dtype)
    device, static_cache = hf_plan(_cuda_available())
    return generate(model.to(device), tokenizer, prompts, settings, progress=progress, static_cache=static_cache)


def hf_plan(cuda: bool) -> tuple[str, bool]:
    """(device, static cache) of the HF path: on CUDA without vLLM, transformers' `generate` with a static KV cache
    (compiled-friendly, no reallocation per token); on a CPU, hitl's own decode loop (policy/decode.py)."""
    return ("cuda", True) if cuda else ("cpu", False)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
