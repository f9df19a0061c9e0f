"""The vLLM backend's argument building, on a CPU: engine arguments (tensor parallel, memory, LoRA for adapter
policies), the LoRARequest, sampling parameters, one engine per process, and a whole `generate` call against a
stand-in `vllm` module that records what it was given. The real engine runs only where vllm and a GPU are."""

from __future__ import annotations

import json
import sys
import types
from types import SimpleNamespace

import pytest

from hitl.errors import InvalidInput
from policy import generate_vllm
from policy.config import GenerationSettings
from policy.generate import hf_plan
from policy.models import ResolvedModel


@pytest.fixture
def policies(tmp_path):
    """A full model folder (a tiny tokenizer is all vLLM's stand-in needs) and a LoRA adapter of rank 12 on it."""
    from tiny import tiny_tokenizer

    base = tmp_path / "base"
    tiny_tokenizer().save_pretrained(base)
    adapter = tmp_path / "demo-dpo-1"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 12, "base_model_name_or_path": str(base)}))
    full = ResolvedModel("base", "base", str(base), "local")
    return full, ResolvedModel("demo-dpo-1", "demo-dpo-1", str(adapter), "adapter", full)


def test_engine_args_for_a_full_model_and_an_adapter(policies):
    full, adapter = policies
    settings = GenerationSettings(seed=3, tensor_parallel_size=2, gpu_memory_utilization=0.6, max_model_len=4096)
    assert generate_vllm.engine_args(full, settings) == {
        "model": full.path,
        "seed": 3,
        "dtype": "auto",
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.6,
        "max_model_len": 4096,
    }
    lora = generate_vllm.engine_args(adapter, GenerationSettings())
    # The adapter is served by its base model's engine, with LoRA slots big enough for rank 12.
    assert lora["model"] == full.path and lora["enable_lora"] is True
    assert lora["max_lora_rank"] == 16 and lora["max_loras"] == 1 and "max_model_len" not in lora
    name, lora_id, path = generate_vllm.lora_args(adapter)
    assert name == "demo-dpo-1" and path.endswith("demo-dpo-1") and 1 <= lora_id < 2**31
    assert generate_vllm.lora_args(adapter) == (name, lora_id, path)  # the same id every call
    assert generate_vllm.lora_args(full) is None


def test_sampling_args_and_refusals(policies, tmp_path):
    assert generate_vllm.sampling_args(GenerationSettings(n=4, temperature=0.7, top_p=0.9, max_new_tokens=32)) == {
        "n": 4,
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 32,
        "seed": 0,
    }
    assert generate_vllm.sampling_args(GenerationSettings(temperature=0.0))["top_p"] == 1.0  # greedy: no nucleus
    big = tmp_path / "big"
    big.mkdir()
    (big / "adapter_config.json").write_text('{"r": 1024}')
    with pytest.raises(InvalidInput, match="above vLLM's largest"):
        generate_vllm.adapter_rank(big)
    for bad in ({"tensor_parallel_size": 0}, {"gpu_memory_utilization": 1.5}, {"max_model_len": -1}):
        with pytest.raises(InvalidInput):
            GenerationSettings(**bad).validate()
    assert hf_plan(cuda=True) == ("cuda", True) and hf_plan(cuda=False) == ("cpu", False)


class FakeVllm:
    """A `vllm` module stand-in: records every engine built and every generate call, answers fixed texts."""

    def __init__(self):
        self.engines, self.calls = [], []
        outer = self

        class LLM:
            def __init__(self, **kwargs):
                outer.engines.append(kwargs)
                self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=64))

            def generate(self, prompts, params, use_tqdm=True, lora_request=None):
                outer.calls.append((prompts, params, lora_request))
                completion = SimpleNamespace(text=" hello ", token_ids=[5, 6], finish_reason="stop")
                return [SimpleNamespace(outputs=[completion] * params.kwargs["n"]) for _ in prompts]

        class SamplingParams:
            def __init__(self, **kwargs):
                self.kwargs = kwargs

        class LoRARequest:
            def __init__(self, name, lora_id, path):
                self.args = (name, lora_id, path)

        self.module = types.ModuleType("vllm")
        self.module.LLM, self.module.SamplingParams = LLM, SamplingParams
        lora = types.ModuleType("vllm.lora")
        request = types.ModuleType("vllm.lora.request")
        request.LoRARequest = LoRARequest
        self.modules = {"vllm": self.module, "vllm.lora": lora, "vllm.lora.request": request}


def test_one_engine_per_process_and_lora_requests(policies, monkeypatch):
    full, adapter = policies
    fake = FakeVllm()
    for name, module in fake.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(generate_vllm, "_engine", None)
    prompts = ["hello world", [{"role": "user", "content": "why is the sky blue"}]]
    settings = GenerationSettings(n=2, max_new_tokens=8, seed=1)
    first = generate_vllm.generate(adapter, prompts, settings)
    second = generate_vllm.generate(adapter, prompts[:1], settings)
    plain = generate_vllm.generate(full, prompts[:1], settings)
    assert [s.text for s in first] == ["hello"] * 4 and first[0].settings["backend"] == "vllm"
    assert first[0].finish_reason == "eos" and first[0].n_tokens == 2
    # The adapter's two calls shared one engine (its base model with LoRA on); each call named the adapter.
    assert len(fake.engines) == 2 and fake.engines[0]["enable_lora"] is True and "enable_lora" not in fake.engines[1]
    assert [c[2].args[0] if c[2] else None for c in fake.calls] == ["demo-dpo-1", "demo-dpo-1", None]
    assert fake.calls[0][1].kwargs == generate_vllm.sampling_args(settings)
    assert all("prompt_token_ids" in p for p in fake.calls[0][0]) and len(plain) == 2 and len(second) == 2
