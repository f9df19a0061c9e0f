"""Batched sampling on a tiny random Llama: padding, batching, seeds, settings, truncation, EOS."""

from __future__ import annotations

import logging

import pytest

from hitl.errors import InvalidInput
from hitl.threads import free_cores
from policy.config import GenerationSettings
from policy.generate import encode, generate, left_pad, plan_batches, render, split_at_eos

PROMPTS = [
    "why is the sky blue",
    "hello",
    [{"role": "system", "content": "short answer please"}, {"role": "user", "content": "what is a cat"}],
    "one two three four five why how what when where the dog runs fast",
]


def settings(**kw) -> GenerationSettings:
    kw.setdefault("max_new_tokens", 8)
    return GenerationSettings(**kw)


def test_left_pad_puts_every_sequence_flush_right():
    ids, mask = left_pad([[5, 6, 7], [8]], pad_id=1)
    assert ids.tolist() == [[5, 6, 7], [1, 1, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]


def test_batches_hold_n_samples_per_prompt_sorted_longest_first():
    batches = plan_batches([3, 10, 5], n=2, batch_size=4)
    rows = [r for b in batches for r in b]
    assert [len(b) for b in batches] == [4, 2]
    assert sorted(rows) == [(p, s) for p in range(3) for s in range(2)]
    assert [p for p, _ in rows] == [1, 1, 2, 2, 0, 0]


def test_greedy_batched_output_matches_one_prompt_at_a_time(tiny_model, tiny_tokenizer):
    # Left padding with an attention mask must not change what a prompt generates.
    greedy = dict(temperature=0.0, n=1)
    batched = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(batch_size=4, **greedy))
    single = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(batch_size=1, **greedy))
    assert [s.text for s in batched] == [s.text for s in single]
    assert [s.n_tokens for s in batched] == [s.n_tokens for s in single]


def test_n_samples_per_prompt_in_prompt_then_sample_order(tiny_model, tiny_tokenizer):
    out = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(n=3, batch_size=5))
    assert [(s.prompt_index, s.sample_index) for s in out] == [(p, s) for p in range(4) for s in range(3)]
    assert len({s.text for s in out}) > 6  # sampling: the samples differ


def test_same_seed_same_samples_and_other_seed_other_samples(tiny_model, tiny_tokenizer):
    a = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(n=2, seed=7))
    b = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(n=2, seed=7))
    c = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(n=2, seed=8))
    assert [s.text for s in a] == [s.text for s in b]
    assert [s.text for s in a] != [s.text for s in c]


def test_the_global_random_state_is_left_alone(tiny_model, tiny_tokenizer):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    generate(tiny_model, tiny_tokenizer, PROMPTS[:1], settings())
    assert torch.equal(torch.rand(3), expected)


def test_every_sample_records_its_settings(tiny_model, tiny_tokenizer):
    cfg = settings(n=2, temperature=0.7, top_p=0.9, max_new_tokens=6, seed=3)
    out = generate(tiny_model, tiny_tokenizer, PROMPTS[:2], cfg)
    for s in out:
        record = s.sampling()
        assert {k: record[k] for k in ("temperature", "top_p", "max_new_tokens", "seed", "n")} == {
            "temperature": 0.7,
            "top_p": 0.9,
            "max_new_tokens": 6,
            "seed": 3,
            "n": 2,
        }
        assert record["backend"] == "hf" and record["sample_index"] == s.sample_index
        assert record["dtype"] == "float32"  # the dtype that ran, not the setting ("auto" by default)
        assert record["n_tokens"] == s.n_tokens <= 6
        assert record["finish_reason"] in ("eos", "length")


def test_generation_stops_at_eos(tiny_model, tiny_tokenizer):
    out = generate(tiny_model, tiny_tokenizer, PROMPTS, settings(n=4, max_new_tokens=24))
    stopped = [s for s in out if s.finish_reason == "eos"]
    assert stopped, "a near-uniform model over ~50 tokens should pick EOS within 24 tokens somewhere"
    assert all(s.n_tokens < 24 for s in stopped)
    assert all(s.n_tokens == 24 for s in out if s.finish_reason == "length")
    assert split_at_eos([5, 6, 3, 7, 3], {3}) == ([5, 6], "eos")
    assert split_at_eos([5, 6], {3}) == ([5, 6], "length")


def test_chat_prompts_use_every_message_and_text_prompts_become_one_user_turn(tiny_tokenizer):
    chat = render(tiny_tokenizer, PROMPTS[2])
    assert "system : short answer please" in chat and "user : what is a cat" in chat
    assert render(tiny_tokenizer, "hello") == render(tiny_tokenizer, [{"role": "user", "content": "hello"}])
    assert render(tiny_tokenizer, "hello").endswith("assistant : ")


def test_long_prompts_keep_their_end_and_say_so(tiny_model, tiny_tokenizer, caplog):
    full = encode(tiny_tokenizer, [PROMPTS[3]], max_prompt_tokens=1000)[0]
    with caplog.at_level(logging.WARNING, logger="policy.generate"):
        cut = encode(tiny_tokenizer, [PROMPTS[3]], max_prompt_tokens=5)[0]
    assert cut.truncated and not full.truncated
    assert cut.ids == full.ids[-5:]
    assert "keeping its end" in caplog.text
    out = generate(tiny_model, tiny_tokenizer, PROMPTS[3:], settings(max_prompt_tokens=5, n=1))
    assert out[0].truncated and out[0].prompt_tokens == 5 and out[0].sampling()["truncated"]


def test_the_context_limit_truncates_without_being_asked(tiny_model, tiny_tokenizer):
    long_prompt = " ".join(["the dog runs"] * 40)  # 120 words, over the tiny model's 64 positions
    out = generate(tiny_model, tiny_tokenizer, [long_prompt], settings(n=1, max_new_tokens=8))
    assert out[0].truncated and out[0].prompt_tokens == 64 - 8


@pytest.mark.parametrize(
    "bad",
    [dict(n=0), dict(temperature=-1), dict(top_p=0), dict(max_new_tokens=0), dict(batch_size=0), dict(dtype="int3")],
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(InvalidInput):
        GenerationSettings(**bad).validate()


def test_free_cores_is_at_least_one():
    assert free_cores() >= 1
