"""hitl's decode loop against transformers: the same greedy tokens, the same top-p sets, the same distribution."""

from __future__ import annotations

import dataclasses

import pytest

from policy.config import GenerationSettings
from policy.decode import pick_next, top_p_sample
from policy.generate import generate

PROMPTS = ["why is the sky blue", "hello", "one two three four five why how what when where the dog runs fast"]


@pytest.mark.parametrize(("min_shared", "prefill_rows"), [(10**6, 1), (10**6, 8), (1, 1), (1, 2), (1, 8)])
def test_greedy_tokens_match_transformers_generate(tiny_tokenizer, monkeypatch, min_shared, prefill_rows):
    from policy import decode
    from tests.policy.conftest import build_model

    # Prefix sharing and chunked prompts on or off; the answers must be exactly the plain left-padded ones.
    monkeypatch.setattr(decode, "MIN_SHARED_PREFIX", min_shared)
    monkeypatch.setattr(decode, "PREFILL_ROWS", prefill_rows)
    spiky = build_model(tiny_tokenizer, seed=2, init_range=0.5)  # prompt-dependent greedy answers
    prompts = [*PROMPTS, [{"role": "user", "content": "why is the sea blue"}], "the cat"]
    greedy = GenerationSettings(n=1, temperature=0.0, max_new_tokens=10, batch_size=5)
    ours = generate(spiky, tiny_tokenizer, prompts, greedy)
    theirs = generate(spiky, tiny_tokenizer, prompts, dataclasses.replace(greedy, loop="generate"))
    assert len({s.text for s in ours}) > 2
    assert [s.text for s in ours] == [s.text for s in theirs]
    assert [s.finish_reason for s in ours] == [s.finish_reason for s in theirs]
    assert ours[0].sampling()["loop"] == "hitl" and theirs[0].sampling()["loop"] == "generate"


@pytest.mark.parametrize("top_p", [0.1, 0.5, 0.9, 0.95, 0.999])
def test_top_p_samples_only_tokens_transformers_keeps_and_all_of_them(top_p, monkeypatch):
    import torch
    from transformers import TopPLogitsWarper

    from policy import decode

    monkeypatch.setattr(decode, "TOP_CANDIDATES", 64)  # so the flat rows take the full-sort path
    torch.manual_seed(0)
    logits = torch.randn(8, 3000) * torch.linspace(0.5, 8, 8)[:, None]  # flat to peaked rows
    allowed = TopPLogitsWarper(top_p)(None, logits.clone()) > float("-inf")
    probs = torch.softmax(logits, -1)
    generator = torch.Generator().manual_seed(1)
    seen = torch.zeros_like(allowed)
    for _ in range(400):
        tokens = top_p_sample(probs, top_p, generator)
        seen[torch.arange(8), tokens] = True
    assert not (seen & ~allowed).any()  # never a token outside the top-p set
    kept = torch.where(allowed, probs, torch.zeros_like(probs))
    likely = kept / kept.sum(-1, keepdim=True) > 0.02
    assert not (likely & ~seen).any()  # every member with >2% of the kept mass came up in 400 draws


def test_the_exponential_race_samples_the_right_distribution():
    import torch

    logits = torch.log(torch.tensor([[0.6, 0.3, 0.1]])).repeat(20_000, 1)
    generator = torch.Generator().manual_seed(0)
    picks = pick_next(logits, temperature=1.0, top_p=1.0, generator=generator)
    freq = torch.bincount(picks, minlength=3).float() / len(picks)
    assert torch.allclose(freq, torch.tensor([0.6, 0.3, 0.1]), atol=0.015)
    top = pick_next(logits, temperature=1.0, top_p=0.8, generator=generator)  # keeps the 0.6 and 0.3 tokens
    freq = torch.bincount(top, minlength=3).float() / len(top)
    assert freq[2] == 0 and abs(freq[0] - 2 / 3) < 0.015


def test_dropping_finished_rows_does_not_change_what_the_others_generate(tiny_tokenizer, monkeypatch):
    import torch

    from policy import decode
    from policy.generate import encode
    from tests.policy.conftest import build_model

    sequences = [e.ids for e in encode(tiny_tokenizer, PROMPTS * 3, 100)]

    # Large random weights: greedy answers that depend on the prompt (small ones repeat one token everywhere).
    spiky = build_model(tiny_tokenizer, seed=2, init_range=0.5)

    def run(stops):
        return decode.decode(
            spiky,
            sequences,
            pad_id=tiny_tokenizer.pad_token_id,
            max_new_tokens=12,
            temperature=0.0,
            top_p=1.0,
            stop_ids=stops,
            generator=torch.Generator().manual_seed(0),
        )

    free = run([])

    # A stop token the rows first say at different steps, so they finish at different steps.
    def first(row, token):
        return row.index(token) if token in row else len(row)

    stops = [max({t for row in free for t in row}, key=lambda t: len({first(row, t) for row in free}))]
    monkeypatch.setattr(decode, "DROP_FRACTION", 2.0)
    full = run(stops)
    monkeypatch.setattr(decode, "DROP_FRACTION", 0.01)
    assert run(stops) == full
    lengths = {len(r) for r in full}
    assert len(lengths) > 1, "rows should finish at different steps for this test to mean anything"


def test_finished_rows_leave_the_batch_and_the_rest_go_on(tiny_model, tiny_tokenizer, monkeypatch):
    from policy import decode

    monkeypatch.setattr(decode, "DROP_FRACTION", 0.01)  # drop at the first finished row
    cfg = GenerationSettings(n=6, max_new_tokens=24, batch_size=18, seed=3)
    dropped = generate(tiny_model, tiny_tokenizer, PROMPTS, cfg)
    monkeypatch.setattr(decode, "DROP_FRACTION", 2.0)  # never drop
    kept = generate(tiny_model, tiny_tokenizer, PROMPTS, cfg)
    assert any(s.finish_reason == "eos" for s in kept) and any(s.finish_reason == "length" for s in kept)
    # Same random stream per batch but a smaller batch changes which numbers each row draws, so compare shapes:
    assert len(dropped) == len(kept) == 18
    assert all(s.n_tokens == 24 for s in dropped if s.finish_reason == "length")
    assert all(0 <= s.n_tokens < 24 for s in dropped if s.finish_reason == "eos")
