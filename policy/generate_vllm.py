"""The vLLM backend of policy sampling, used only where vllm is installed and a GPU is present.

    hitl generate --model default --prompts all --n 4 --campaign demo --backend vllm   # on a GPU machine

Prompts are rendered and truncated by the same code as the HF path (policy.generate.encode), so both backends
see identical token ids; vLLM only does the sampling. Adapters are left to the HF path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from hitl.errors import InvalidInput
from policy.config import GenerationSettings


def available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def use_vllm(backend: str, resolved) -> bool:
    """Whether this request goes to vLLM: `vllm` asks for it (refused when impossible), `auto` takes it if present."""
    if backend == "hf":
        return False
    ok = available() and not resolved.is_adapter
    if backend == "vllm" and not ok:
        raise InvalidInput("--backend vllm needs the vllm package, a CUDA GPU and a full model (not an adapter)")
    return ok


def generate(resolved, prompts: Sequence, settings: GenerationSettings) -> list:
    from transformers import AutoTokenizer
    from vllm import LLM, SamplingParams

    from policy.generate import Sample, encode

    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    llm = LLM(model=resolved.path, seed=settings.seed, dtype="auto" if settings.dtype == "auto" else settings.dtype)
    room = max(1, llm.llm_engine.model_config.max_model_len - settings.max_new_tokens)
    max_prompt = min(settings.max_prompt_tokens or room, room)
    encoded = encode(tokenizer, prompts, max_prompt)
    params = SamplingParams(
        n=settings.n,
        temperature=settings.temperature,
        top_p=settings.top_p if settings.temperature > 0 else 1.0,
        max_tokens=settings.max_new_tokens,
        seed=settings.seed,
    )
    outputs = llm.generate([{"prompt_token_ids": e.ids} for e in encoded], params, use_tqdm=True)
    record = {**settings.sampling_record(), "backend": "vllm"}
    samples = []
    for p, out in enumerate(outputs):
        for s, completion in enumerate(out.outputs):
            samples.append(
                Sample(
                    prompt_index=p,
                    sample_index=s,
                    text=completion.text.strip(),
                    n_tokens=len(completion.token_ids),
                    finish_reason="eos" if completion.finish_reason == "stop" else "length",
                    prompt_tokens=len(encoded[p].ids),
                    truncated=encoded[p].truncated,
                    settings=record,
                )
            )
    return samples
