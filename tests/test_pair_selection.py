"""Pair selection on synthetic candidates with known answers: disagreement wins, near-duplicates never meet."""

import random

import numpy as np
import pytest

from hitl.errors import InvalidInput
from hitl.pair_selection import (
    PromptCandidates,
    SelectionSettings,
    pair_information,
    reward_samples_by_prompt,
    select_pairs,
    similarity,
)

TEXTS = ["Boil the water first.", "Use a kettle to heat it.", "Pour it over the leaves.", "Let it steep for minutes."]


def test_pair_information_separates_disagreement_from_plain_uncertainty():
    agree_unsure = pair_information(np.zeros(8), np.zeros(8))  # every sample says 50/50
    torn = pair_information(np.array([4.0, -4.0] * 4), np.zeros(8))  # each sure, half one way half the other
    sure = pair_information(np.full(8, 4.0), np.zeros(8))
    assert agree_unsure["disagreement"] == pytest.approx(0.0, abs=1e-9) and agree_unsure["uncertainty"] == 1.0
    assert torn["disagreement"] > 0.8 and torn["uncertainty"] == pytest.approx(1.0)
    assert sure["disagreement"] < 0.01 and sure["uncertainty"] < 0.15 and sure["spread"] > 100


def test_the_pair_an_ensemble_disagrees_on_is_chosen_first():
    rewards = np.zeros((6, 4))
    rewards[:, 2] = [3, -3, 3, -3, 3, -3]  # members split on candidate 2 only
    prompt = PromptCandidates(7, [10, 11, 12, 13], TEXTS, rewards)
    settings = SelectionSettings(method="informative", per_prompt=1, spread_weight=0, diversity_weight=0)
    (best,) = select_pairs([prompt], 1, settings, random.Random(0))
    assert 12 in best.ids and best.method == "informative" and best.details["disagreement"] > 0.5
    assert best.record()["method"] == "informative"


def test_near_duplicates_are_never_paired_by_any_method():
    texts = ["The answer is 42.", "the answer is 42", "The answer is forty-two, as computed.", "THE ANSWER IS 42!"]
    prompt = PromptCandidates(1, [1, 2, 3, 4], texts, np.random.default_rng(0).normal(size=(4, 4)))
    for method in ("informative", "diversity", "random"):
        chosen = select_pairs([prompt], 10, SelectionSettings(method=method, per_prompt=3), random.Random(1))
        for pair in chosen:
            a, b = (texts[pair.ids[0] - 1], texts[pair.ids[1] - 1])
            assert similarity(a, b) < 0.8, (method, a, b)
        assert chosen and all(3 in p.ids for p in chosen)  # only the one different answer can be paired


def test_budget_per_prompt_cap_and_disjoint_pairs():
    prompts = [PromptCandidates(k, [k * 10 + i for i in range(4)], TEXTS, None) for k in range(5)]
    chosen = select_pairs(prompts, 7, SelectionSettings(method="diversity", per_prompt=2), random.Random(0))
    assert len(chosen) == 7
    for k in range(5):
        mine = [p.ids for p in chosen if p.key == k]
        assert len(mine) <= 2 and len({i for ids in mine for i in ids}) == 2 * len(mine)
    assert all(p.method == "diversity" for p in chosen)  # informative without rewards would say the same


def test_random_baseline_is_seeded_and_bad_settings_are_refused():
    prompts = [PromptCandidates(k, [k * 10 + i for i in range(4)], TEXTS, None) for k in range(3)]
    first = select_pairs(prompts, 4, SelectionSettings(method="random"), random.Random(3))
    again = select_pairs(prompts, 4, SelectionSettings(method="random"), random.Random(3))
    assert [p.ids for p in first] == [p.ids for p in again]
    with pytest.raises(InvalidInput, match="selection must be one of"):
        select_pairs(prompts, 1, SelectionSettings(method="best"), random.Random(0))


def test_excluded_pairs_are_never_chosen():
    prompt = PromptCandidates(3, [1, 2, 3, 4], TEXTS, None)
    exclude = {(3, frozenset((a, b))) for a in (1, 2, 3, 4) for b in (1, 2, 3, 4) if a != b and 4 not in (a, b)}
    chosen = select_pairs([prompt], 5, SelectionSettings(method="diversity", per_prompt=3), random.Random(0), exclude)
    assert chosen and all(4 in p.ids for p in chosen)


def test_diversity_sees_form_as_well_as_words():
    from hitl.pair_selection import diversity, form_distance

    prose = "Water the plant once a week and keep it near a bright window so it grows well."
    listed = "1. Water the plant once a week.\n2. Keep it near a bright window.\n3. It grows well."
    reworded = "Give the plant water weekly, and put it by a sunny window so that it thrives."
    assert form_distance(prose, prose) == 0.0
    assert form_distance(prose, listed) > form_distance(prose, reworded)
    assert 0 < diversity(prose, reworded) < 1 and 0 < diversity(prose, listed) < 1


def test_a_large_predicted_gap_counts_when_spread_is_weighted():
    rewards = np.zeros((6, 4))
    rewards[:, 3] = 5.0  # every sample agrees candidate 3 is much better: a likely decisive pair
    prompt = PromptCandidates(1, [1, 2, 3, 4], TEXTS, rewards)
    spread = SelectionSettings(per_prompt=1, uncertainty_weight=0, spread_weight=1, diversity_weight=0)
    (best,) = select_pairs([prompt], 1, spread, random.Random(0))
    assert 4 in best.ids


def test_one_scoring_pass_is_split_back_to_each_prompts_answers():
    """Every answer of every prompt is scored in one call, and each prompt gets its own answers' columns, in order."""
    calls = []

    def score(prompts, texts):
        calls.append(len(texts))
        # Row s: the answer's length plus 100 * s; the prompt's number in the tens.
        row = [len(t) + 10 * int(p[1:]) for p, t in zip(prompts, texts, strict=True)]
        return np.array([[r + 100 * s for r in row] for s in range(3)])

    groups = [("p1", ["a", "bb"]), ("p2", ["ccc"]), ("p3", ["dddd", "e", "ff"])]
    split = reward_samples_by_prompt(score, groups)
    assert calls == [6]  # one pass
    assert [m.shape for m in split] == [(3, 2), (3, 1), (3, 3)]
    assert split[0][0].tolist() == [11, 12] and split[1][2].tolist() == [223]
    assert split[2][1].tolist() == [134, 131, 132]
    assert reward_samples_by_prompt(score, []) == [] and calls == [6]  # nothing to score: no call
