"""Best-of-n pairs: the reward model's best and worst of the policy's own samples, clear gaps only."""

import pytest

from hitl.errors import InvalidInput
from policy.best_of_n import best_of_n_pairs
from policy.config import GenerationSettings
from policy.generate import Sample


def fake_sampler(answers: dict[int, list[str]]):
    def sample(prompts, settings):
        return [
            Sample(p, k, text, len(text.split()), "eos", 3, False, {})
            for p in range(len(prompts))
            for k, text in enumerate(answers[p][: settings.n])
        ]

    return sample


def by_length(prompts, answers):
    return [-len(a) for a in answers]  # a "reward model" that likes short answers


def test_the_best_and_worst_sample_become_a_pair_and_unclear_ones_are_skipped():
    answers = {
        0: ["a long rambling answer", "short", "medium answer"],
        1: ["same", "same", "same"],  # nothing to learn from identical samples
        2: ["abc", "abd", "abe"],  # equal rewards: below the gap
        3: ["", "fine answer", "ok"],  # empty samples never become pairs
    }
    pairs = best_of_n_pairs(["p0", "p1", "p2", "p3"], fake_sampler(answers), by_length, GenerationSettings(n=3))
    assert [(p["prompt"], p["chosen"], p["rejected"]) for p in pairs] == [
        ("p0", "short", "a long rambling answer"),
        ("p3", "ok", "fine answer"),
    ]
    assert pairs[0]["reward_gap"] == len("a long rambling answer") - len("short")


def test_chat_prompts_pass_through_and_bad_settings_are_refused():
    chat = [{"role": "user", "content": "hi"}]
    pairs = best_of_n_pairs([chat], fake_sampler({0: ["hello there", "hi"]}), by_length, GenerationSettings(n=2))
    assert pairs[0]["prompt"] == chat
    with pytest.raises(InvalidInput, match="at least 2"):
        best_of_n_pairs(["p"], fake_sampler({0: ["x"]}), by_length, GenerationSettings(n=1))
    with pytest.raises(InvalidInput):
        best_of_n_pairs(["p"], fake_sampler({0: ["x", "y"]}), by_length, GenerationSettings(n=2), min_gap=-1)
