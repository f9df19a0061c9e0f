"""On a CUDA machine (`make test-gpu`): the HF path on the GPU with a static cache, and vLLM serving a LoRA policy
on the default model's engine. Skipped where there is no GPU (every CPU run, CI included).

    make test-gpu
"""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (make test-gpu on a GPU machine)"),
]

PROMPTS = ["Name a fruit.", [{"role": "user", "content": "What colour is the sky?"}]]


def test_hf_path_runs_on_the_gpu_with_a_static_cache(tmp_path):
    from tiny import save_tiny_policy

    from policy.config import GenerationSettings
    from policy.generate import sample
    from policy.models import resolve

    resolved = resolve(save_tiny_policy(tmp_path / "tiny"))
    settings = GenerationSettings(n=2, max_new_tokens=6, temperature=0.0, backend="hf")
    samples = sample(resolved, PROMPTS, settings)
    assert len(samples) == 4 and all(s.settings["loop"] == "generate" for s in samples)
    again = sample(resolved, PROMPTS, settings)
    assert [s.text for s in samples] == [s.text for s in again]  # greedy on the GPU is repeatable


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs vllm (pip install 'hitl-rlhf[vllm]')")
def test_vllm_serves_a_lora_policy_on_its_base_engine(tmp_path):
    from peft import LoraConfig, get_peft_model

    from policy import generate_vllm
    from policy.config import GenerationSettings
    from policy.generate import sample
    from policy.models import load_policy, resolve

    base = resolve("default")
    model, tokenizer = load_policy(base, dtype="float32")
    lora = get_peft_model(model, LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    adapter_dir = tmp_path / "lora-policy"
    lora.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    adapter = resolve(str(adapter_dir))
    settings = GenerationSettings(n=1, max_new_tokens=12, temperature=0.0, backend="vllm", gpu_memory_utilization=0.3)
    with_lora = sample(adapter, PROMPTS, settings)
    engine = generate_vllm._engine
    plain = sample(base, PROMPTS, settings)
    assert all(s.settings["backend"] == "vllm" and s.text for s in with_lora + plain)
    assert [s.text for s in with_lora] != [s.text for s in plain]  # the random adapter changes greedy answers
    assert generate_vllm._engine is not engine  # another engine args key (no LoRA) replaced the first engine
