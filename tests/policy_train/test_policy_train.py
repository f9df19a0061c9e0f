"""Policy training wrappers on a tiny random Llama: DPO learns, KTO and GRPO run, divergence is caught."""

import math

import pytest
import torch
from tiny import tiny_llama, tiny_tokenizer

from hitl.errors import InvalidInput
from policy.train import train_policy
from policy.train_config import make_config

PAIRS = [{"prompt": "question", "chosen": "good answer", "rejected": "bad answer"}] * 16


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def logp(model, tok, prompt, answer):
    text = tok.apply_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}], tokenize=False
    )
    ids = tok(text, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits[0, :-1]
    return torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None]).sum().item()


def test_dpo_with_lora_learns_the_preference(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(tok)
    before = logp(model, tok, "question", "good answer") - logp(model, tok, "question", "bad answer")
    config = make_config(
        "dpo",
        {
            "output_dir": str(tmp_path / "out"),
            "per_device_train_batch_size": 4,
            "num_train_epochs": 3,
            "learning_rate": 5e-2,
            "max_length": 32,
            "lora_r": 4,
            "lora_alpha": 8,
        },
    )
    from policy.models import native_bf16

    # bf16 exactly where the hardware runs it natively; never gradient checkpointing on a CPU.
    assert config.bf16 is native_bf16() and config.activation_checkpointing is False
    result = train_policy(model, tok, "dpo", config, pairs=PAIRS, threads=1)
    assert not result.diverged and result.steps == 12
    assert (tmp_path / "out" / "adapter_config.json").exists()
    # peft injected the trained adapters into `model` in place
    after = logp(model, tok, "question", "good answer") - logp(model, tok, "question", "bad answer")
    assert after > before + 0.5


def test_min_steps_gives_a_step_with_few_pairs_more_epochs_up_to_max_epochs(tmp_path):
    tok = tiny_tokenizer()
    options = {"output_dir": str(tmp_path / "out"), "per_device_train_batch_size": 4, "max_length": 32}
    options.update(lora_r=4, lora_alpha=8, num_train_epochs=1, min_steps=6)
    # 16 pairs at 4 a step are 4 steps an epoch: 6 steps need 1.5 epochs.
    result = train_policy(tiny_llama(tok), tok, "dpo", make_config("dpo", options), pairs=PAIRS, threads=1)
    assert result.steps == 6 and result.metrics["epoch"] == pytest.approx(1.5)
    # 4 pairs are one step an epoch: 6 steps would be 6 epochs, max_epochs caps them at 3.
    capped = make_config("dpo", {**options, "max_epochs": 3})
    result = train_policy(tiny_llama(tok), tok, "dpo", capped, pairs=PAIRS[:4], threads=1)
    assert result.steps == 3


def test_min_steps_leaves_a_large_step_and_max_steps_alone():
    from hitl.trainer_config import epochs_for_min_steps

    one_epoch = {"num_train_epochs": 1, "min_steps": 20}
    config = make_config("dpo", {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 4, **one_epoch})
    assert epochs_for_min_steps(config, 160, 4.0) == 1.0  # 20 steps already
    assert epochs_for_min_steps(config, 60, 4.0) == pytest.approx(20 / 8)  # 8 steps an epoch
    assert epochs_for_min_steps(config, 8, 4.0) == 4.0  # one step an epoch: capped
    assert epochs_for_min_steps(make_config("dpo", {**one_epoch, "max_steps": 3}), 8, 4.0) == 1.0


def test_a_saved_adapter_keeps_training_against_the_original_base(tmp_path):
    # Round 2 of the loop: the round-1 policy is an adapter folder; it trains on, with no copied reference.
    from policy.models import resolve
    from policy.train import load_for_training

    tok = tiny_tokenizer()
    base = tmp_path / "base"
    tiny_llama(tok).save_pretrained(base)
    tok.save_pretrained(base)
    options = {"per_device_train_batch_size": 4, "max_length": 32, "lora_r": 4, "lora_alpha": 8}
    first = make_config("dpo", {**options, "output_dir": str(tmp_path / "r1"), "max_steps": 2, "learning_rate": 1e-2})
    model, tokenizer = load_for_training(resolve(str(base)))
    assert not train_policy(model, tokenizer, "dpo", first, pairs=PAIRS, threads=1).diverged
    adapter = resolve(str(tmp_path / "r1"))
    assert adapter.is_adapter
    model, tokenizer = load_for_training(adapter)
    before = logp(model, tokenizer, "question", "good answer") - logp(model, tokenizer, "question", "bad answer")
    second = make_config("dpo", {**options, "output_dir": str(tmp_path / "r2"), "max_steps": 6, "learning_rate": 5e-2})
    result = train_policy(model, tokenizer, "dpo", second, pairs=PAIRS, threads=1)
    assert not result.diverged and result.steps == 6
    assert (tmp_path / "r2" / "adapter_config.json").exists()
    after = logp(model, tokenizer, "question", "good answer") - logp(model, tokenizer, "question", "bad answer")
    assert after > before


def test_full_finetune_dpo_changes_weights(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(tok)
    start = model.model.layers[0].mlp.up_proj.weight.detach().clone()
    config = make_config(
        "dpo",
        {
            "output_dir": str(tmp_path / "out"),
            "per_device_train_batch_size": 4,
            "max_steps": 2,
            "learning_rate": 1e-2,
            "max_length": 32,
            "use_lora": False,
        },
    )
    result = train_policy(model, tok, "dpo", config, pairs=PAIRS, threads=1)
    assert not result.diverged
    assert not torch.equal(start, model.model.layers[0].mlp.up_proj.weight)


def test_nan_loss_is_a_diverged_run_and_nothing_is_saved(tmp_path):
    tok = tiny_tokenizer()
    model = tiny_llama(tok)
    with torch.no_grad():
        model.model.embed_tokens.weight.fill_(float("nan"))
    config = make_config(
        "dpo",
        {
            "output_dir": str(tmp_path / "out"),
            "per_device_train_batch_size": 4,
            "max_steps": 3,
            "max_length": 32,
            "use_lora": False,
        },
    )
    result = train_policy(model, tok, "dpo", config, pairs=PAIRS, threads=1)
    assert result.diverged and result.output_dir is None
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.safetensors"))


def test_kto_runs_on_unpaired_labels(tmp_path):
    tok = tiny_tokenizer()
    rows = [
        {"prompt": "question", "completion": "good answer", "label": True},
        {"prompt": "question", "completion": "bad answer", "label": False},
    ] * 4
    config = make_config(
        "kto",
        {
            "output_dir": str(tmp_path / "out"),
            "per_device_train_batch_size": 4,
            "max_steps": 2,
            "max_length": 32,
            "lora_r": 4,
        },
    )
    result = train_policy(tiny_llama(tok), tok, "kto", config, unpaired=rows, threads=1)
    assert not result.diverged and result.steps == 2 and math.isfinite(result.metrics["train_loss"])


def test_grpo_runs_with_a_callable_reward(tmp_path):
    tok = tiny_tokenizer()
    calls = []

    def reward(prompts, completions, **kwargs):
        calls.append(len(completions))
        return [float("good" in str(c)) for c in completions]

    config = make_config(
        "grpo",
        {
            "output_dir": str(tmp_path / "out"),
            "per_device_train_batch_size": 2,
            "num_generations": 2,
            "max_completion_length": 4,
            "max_steps": 2,
            "lora_r": 4,
        },
    )
    result = train_policy(
        tiny_llama(tok), tok, "grpo", config, prompts=["question", "hello"], reward_fn=reward, threads=1
    )
    assert not result.diverged and calls and all(n == 2 for n in calls)


def test_bad_input():
    with pytest.raises(InvalidInput, match="unknown algorithm"):
        make_config("ppo", {"output_dir": "x"})
    with pytest.raises(InvalidInput, match="unknown dpo option"):
        make_config("dpo", {"output_dir": "x", "not_a_field": 1})
    tok = tiny_tokenizer()
    config = make_config("dpo", {"output_dir": "/tmp/never", "max_length": 32})
    with pytest.raises(InvalidInput, match="no preference pairs"):
        train_policy(tiny_llama(tok), tok, "dpo", config, pairs=[])
    with pytest.raises(InvalidInput, match="chosen == rejected"):
        train_policy(tiny_llama(tok), tok, "dpo", config, pairs=[{"prompt": "q", "chosen": "a", "rejected": "a"}])
    with pytest.raises(InvalidInput, match="needs a reward"):
        train_policy(tiny_llama(tok), tok, "grpo", make_config("grpo", {"output_dir": "/tmp/never"}), prompts=["q"])
