"""The vLLM backend of policy sampling, used where vllm is installed and a GPU is present; LoRA policies included.

    hitl generate --model demo-dpo-1 --prompts all --n 4 --campaign demo --backend vllm --tensor-parallel-size 2

Prompts are rendered and truncated by the same code as the HF path (policy.generate.encode), so both backends
see identical token ids; vLLM only does the sampling. A LoRA policy (an adapter folder) is served by the engine of
its base model with `enable_lora` and a `LoRARequest` per call, instead of being merged on the slow path. One
engine per process (vLLM holds the GPU's memory for its KV cache): calls with the same base model and engine
settings reuse it, another base model replaces it. The pure functions (engine_args, lora_args, sampling_args) are
what the CPU tests check; `generate` only hands their results to vLLM.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hitl.errors import InvalidInput
from policy.config import GenerationSettings

# vLLM sizes its LoRA slots by a maximum rank from this set; an adapter's rank is rounded up to the next one.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
_engine: tuple[tuple, Any] | None = None  # (engine_args as a key, the LLM): one engine per process


def available() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def use_vllm(backend: str, resolved) -> bool:
    """Whether this request goes to vLLM: `vllm` asks for it (refused when impossible), `auto` takes it if present."""
    if backend == "hf":
        return False
    ok = available()
    if backend == "vllm" and not ok:
        raise InvalidInput("--backend vllm needs the vllm package (pip install 'hitl-rlhf[vllm]') and a CUDA GPU")
    return ok


def adapter_rank(adapter_dir: str | Path) -> int:
    """The LoRA rank `r` of an adapter folder, rounded up to a rank vLLM can reserve."""
    try:
        r = int(json.loads((Path(adapter_dir) / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{adapter_dir}/adapter_config.json gives no LoRA rank r: {exc}") from None
    fitting = [rank for rank in LORA_RANKS if rank >= r]
    if not fitting:
        raise InvalidInput(f"LoRA rank {r} is above vLLM's largest ({LORA_RANKS[-1]}): use --backend hf")
    return fitting[0]


def engine_args(resolved, settings: GenerationSettings) -> dict[str, Any]:
    """The keyword arguments of `vllm.LLM` for a policy: its base model when it is an adapter, LoRA on then."""
    weights = resolved.base if resolved.is_adapter else resolved
    args: dict[str, Any] = {
        "model": weights.path,
        "seed": settings.seed,
        "dtype": settings.dtype,
        "tensor_parallel_size": settings.tensor_parallel_size,
        "gpu_memory_utilization": settings.gpu_memory_utilization,
    }
    if settings.max_model_len:
        args["max_model_len"] = settings.max_model_len
    if resolved.is_adapter:
        args.update(enable_lora=True, max_loras=1, max_lora_rank=adapter_rank(resolved.path))
    return args


def lora_args(resolved) -> tuple[str, int, str] | None:
    """(lora_name, lora_int_id, lora_path) of `vllm.lora.request.LoRARequest` for an adapter, else None. The id is
    derived from the folder, so the engine's adapter cache recognises the same adapter on a later call."""
    if not resolved.is_adapter:
        return None
    path = str(Path(resolved.path).resolve())
    return Path(path).name, zlib.crc32(path.encode()) % (2**31 - 1) + 1, path


def sampling_args(settings: GenerationSettings) -> dict[str, Any]:
    """The keyword arguments of `vllm.SamplingParams`: greedy decoding ignores top-p, as the HF path does."""
    return {
        "n": settings.n,
        "temperature": settings.temperature,
        "top_p": settings.top_p if settings.temperature > 0 else 1.0,
        "max_tokens": settings.max_new_tokens,
        "seed": settings.seed,
    }


def engine(args: dict[str, Any]):
    """The process's vLLM engine for `args`: the one already built when they match, else a new one (the old one
    is released first, so two never hold the GPU at once)."""
    global _engine
    key = tuple(sorted(args.items()))
    if _engine is not None and _engine[0] == key:
        return _engine[1]
    from vllm import LLM

    if _engine is not None:
        _engine = None
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    llm = LLM(**args)
    _engine = (key, llm)
    return llm


def generate(resolved, prompts: Sequence, settings: GenerationSettings) -> list:
    from transformers import AutoTokenizer
    from vllm import SamplingParams

    from policy.generate import Sample, encode

    tokenizer_dir = resolved.path
    if resolved.is_adapter and not (Path(resolved.path) / "tokenizer_config.json").is_file():
        tokenizer_dir = resolved.base.path
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    llm = engine(engine_args(resolved, settings))
    room = max(1, llm.llm_engine.model_config.max_model_len - settings.max_new_tokens)
    max_prompt = min(settings.max_prompt_tokens or room, room)
    encoded = encode(tokenizer, prompts, max_prompt)
    request = None
    if (lora := lora_args(resolved)) is not None:
        from vllm.lora.request import LoRARequest

        request = LoRARequest(*lora)
    outputs = llm.generate(
        [{"prompt_token_ids": e.ids} for e in encoded],
        SamplingParams(**sampling_args(settings)),
        use_tqdm=True,
        lora_request=request,
    )
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
