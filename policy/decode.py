"""hitl's batched decode loop: the model's forward pass plus exact, cheap sampling; what policy.generate runs.

    python scripts/bench_generate.py     # compares this loop with transformers' generate and a naive loop

Why not `model.generate`: on a CPU, its top-p sorts the whole vocabulary (49k tokens for SmolLM2) for every row
at every step, and `torch.multinomial` scans it again; at batch 16 on 2 cores the two together cost about as
much as the forward pass. Here top-p is exact but only sorts the few hundred most likely tokens (the full sort
is the fallback when those do not reach the top-p mass), sampling is an exponential race (argmax of p / E, E ~
Exp(1), the same distribution as multinomial), and rows that reached EOS leave the batch instead of being
computed to the end. The prompts' shared start (the chat template's system turn) is computed once, and the rest
of the prompts in chunks of similar length: with short answers, the prompts are a large share of the compute.
Randomness comes from a torch.Generator, so the caller's global RNG is untouched.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

TOP_CANDIDATES = 256  # tokens sorted for top-p before falling back to the whole vocabulary
DROP_FRACTION = 0.25  # shrink the batch once this share of its rows has finished (a cache copy is not free)
MIN_SHARED_PREFIX = 4  # shorter common starts are not worth a separate forward pass
PREFILL_ROWS = 8  # prompts run through the model together at the start (sorted by length, so little padding)


def _cache_kwarg(model) -> str:
    """transformers 5.x renamed the forward argument `past_key_values` to `cache`; accept either."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _race(values, ids, top_p: float, generator):
    """Sample one of each row's candidates (sorted most likely first) after the top-p cut."""
    import torch

    cumulative = values.cumsum(-1)
    keep = (cumulative - values) < top_p  # the mass of the more likely tokens is still below top_p
    weights = torch.where(keep, values, torch.zeros_like(values))
    race = torch.empty_like(weights).exponential_(generator=generator)
    return ids.gather(-1, (weights / race).argmax(-1, keepdim=True))[:, 0]


def top_p_sample(probs, top_p: float, generator):
    """One token per row from the smallest set of most likely tokens with mass >= top_p (renormalised).

    The same set transformers' TopPLogitsWarper keeps. Only the TOP_CANDIDATES most likely tokens are sorted;
    a row whose candidates hold less than top_p of the mass (a flat distribution) is sorted in full.
    """
    import torch

    k = min(TOP_CANDIDATES, probs.shape[-1])
    values, ids = probs.topk(k, dim=-1)
    flat = values.sum(-1) < top_p if k < probs.shape[-1] else torch.zeros(len(probs), dtype=torch.bool)
    if not bool(flat.any()):
        return _race(values, ids, top_p, generator)
    tokens = torch.empty(len(probs), dtype=torch.long, device=probs.device)
    peaked = ~flat
    if bool(peaked.any()):
        tokens[peaked] = _race(values[peaked], ids[peaked], top_p, generator)
    full_values, full_ids = probs[flat].sort(dim=-1, descending=True)
    tokens[flat] = _race(full_values, full_ids, top_p, generator)
    return tokens


def pick_next(logits, temperature: float, top_p: float, generator):
    """One token per row: greedy when temperature is 0, else a sample from the temperature / top-p distribution."""
    import torch

    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        return top_p_sample(probs, top_p, generator)
    # Exponential race: argmax of p / E with E ~ Exp(1) picks token i with probability p_i, in one pass.
    race = torch.empty_like(probs).exponential_(generator=generator)
    return (probs / race).argmax(-1)


def shared_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Tokens every sequence starts with, leaving each at least one token of its own (the one that gives logits)."""
    limit = min(len(s) for s in sequences) - 1
    n = 0
    while n < limit and all(s[n] == sequences[0][n] for s in sequences):
        n += 1
    return n


def _plain_layers(cache) -> bool:
    """Prefix sharing splices cache tensors by hand: only for plain (not sliding-window) dynamic layers."""
    return all(type(layer).__name__ == "DynamicLayer" for layer in cache.layers)


def prefill(model, sequences: Sequence[Sequence[int]], pad_id: int):
    """Run the prompts through the model: (cache, attention mask, last positions, next-token logits), row order kept.

    Chat prompts share a long start (the template's system turn): it is computed once and its keys and values
    copied to every row. The rest is run in chunks of similar length, so little compute goes to padding. The
    cache layout per row is [shared prefix][padding][own tokens]; the mask hides the padding and positions count
    real tokens only, so the model sees exactly the unpadded prompt.
    """
    import torch
    from transformers import DynamicCache

    key = _cache_kwarg(model)
    device = model.device
    shared = shared_prefix_length(sequences) if _plain_layers(DynamicCache(config=model.config)) else 0
    if shared < MIN_SHARED_PREFIX:
        shared = 0
    prefix_kv = []
    if shared:
        cache = DynamicCache(config=model.config)
        ids = torch.tensor([list(sequences[0][:shared])], device=device)
        model(input_ids=ids, position_ids=torch.arange(shared, device=device)[None], use_cache=True, **{key: cache})
        prefix_kv = [(layer.keys, layer.values) for layer in cache.layers]
    own = [list(s[shared:]) for s in sequences]
    width = max(len(s) for s in own)
    chunk_rows = PREFILL_ROWS if _plain_layers(DynamicCache(config=model.config)) else len(own)
    order = sorted(range(len(own)), key=lambda i: -len(own[i]))
    layer_parts: list[list[tuple]] = []
    masks, logits = [], []
    for start in range(0, len(order), chunk_rows):
        rows = order[start : start + chunk_rows]
        ids, own_mask = _left_pad([own[i] for i in rows], pad_id, device)
        n, w = ids.shape
        cache = DynamicCache(
            [(k.expand(n, -1, -1, -1).contiguous(), v.expand(n, -1, -1, -1).contiguous()) for k, v in prefix_kv]
            or None,
            config=model.config,
        )
        ones = torch.ones((n, shared), dtype=own_mask.dtype, device=device)
        positions = shared + (own_mask.cumsum(-1) - 1).clamp(min=0)
        result = model(
            input_ids=ids,
            attention_mask=torch.cat([ones, own_mask], -1),
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **{key: cache},
        )
        logits.append(result.logits[:, -1, :])
        gap = width - w
        masks.append(torch.cat([ones, own_mask.new_zeros((n, gap)), own_mask], -1))
        # Widen this chunk's cache to the batch width: zeros (masked) between the prefix and its own tokens.
        parts = []
        for layer in cache.layers:
            k, v = layer.keys, layer.values
            pad = k.new_zeros((n, k.shape[1], gap, k.shape[3]))
            parts.append(tuple(torch.cat([t[:, :, :shared], pad, t[:, :, shared:]], 2) for t in (k, v)))
        layer_parts.append(parts)
    back = torch.tensor(order, device=device).argsort()  # from length order back to the caller's order
    merged = [
        tuple(torch.cat([chunk[i][j] for chunk in layer_parts], 0)[back] for j in (0, 1))
        for i in range(len(layer_parts[0]))
    ]
    lengths = torch.tensor([len(s) for s in sequences], device=device)
    return (
        DynamicCache(merged, config=model.config),
        torch.cat(masks, 0)[back],
        (lengths - 1)[:, None],
        torch.cat(logits, 0)[back],
    )


def _left_pad(sequences: Sequence[Sequence[int]], pad_id: int, device):
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(sequences), width), dtype=torch.long, device=device)
    for row, seq in enumerate(sequences):
        ids[row, width - len(seq) :] = torch.tensor(seq, dtype=torch.long, device=device)
        mask[row, width - len(seq) :] = 1
    return ids, mask


def decode(
    model,
    sequences: Sequence[Sequence[int]],
    *,
    pad_id: int,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    stop_ids: Sequence[int],
    generator=None,
) -> list[list[int]]:
    """New token ids for each prompt (token ids, unpadded), each ending at its first stop token (kept) or the limit."""
    import torch

    rows = len(sequences)
    out: list[list[int]] = [[] for _ in range(rows)]
    key = _cache_kwarg(model)
    with torch.inference_mode():
        cache, mask, positions, logits = prefill(model, sequences, pad_id)
        device = mask.device
        stop = torch.tensor(sorted(stop_ids) or [-1], device=device)
        active = torch.arange(rows, device=device)  # the caller's row of each row still in the batch
        finished = torch.zeros(rows, dtype=torch.bool, device=device)
        for step in range(max_new_tokens):
            nxt = pick_next(logits, temperature, top_p, generator)
            for row, token, was_done in zip(active.tolist(), nxt.tolist(), finished.tolist(), strict=True):
                if not was_done:
                    out[row].append(token)
            finished |= torch.isin(nxt, stop)
            if bool(finished.all()) or step == max_new_tokens - 1:
                break
            tokens = nxt[:, None]
            positions = positions + 1
            mask = torch.cat([mask, torch.ones_like(tokens)], dim=-1)
            if int(finished.sum()) >= DROP_FRACTION * len(active):
                keep = (~finished).nonzero()[:, 0]
                cache.batch_select_indices(keep)
                active, finished = active[keep], finished[keep]
                tokens, positions, mask = tokens[keep], positions[keep], mask[keep]
            result = model(
                input_ids=tokens,
                attention_mask=mask,
                position_ids=positions,
                use_cache=True,
                logits_to_keep=1,
                **{key: cache},
            )
            logits = result.logits[:, -1, :]
    return out
