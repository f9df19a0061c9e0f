"""hitl.arena_integrity on synthetic votes with known answers: each rule removes what it should, says so, and
leaves honest votes alone."""

from __future__ import annotations

import random

import pytest

from hitl.arena_integrity import IntegrityConfig, Vote, apply_rules

DAY = 86_400.0


def _vote(k: int, voter: str = "ann", a: str = "big", b: str = "small", outcome: float = 1.0, **kw) -> Vote:
    defaults = {
        "voted_at": 1_700_000_000.0 + k,
        "prompt": f"prompt {k}",
        "answer_a": "An answer.",
        "answer_b": "Another.",
    }
    return Vote(k, voter, model_a=a, model_b=b, outcome=outcome, **{**defaults, **kw})


def _rule(report, name):
    return next(r for r in report.rules if r.rule == name)


def test_an_answer_that_names_a_model_voids_the_vote():
    votes = [
        _vote(1, answer_a="As ChatGPT, I think so."),
        _vote(2, answer_b="I was trained by OpenAI."),
        _vote(3, answer_a="The big model says hello."),  # the version's own name
        _vote(4),
    ]
    kept, report = apply_rules(votes)
    assert [v.battle_id for v in kept] == [4]
    identity = _rule(report, "identity")
    assert identity.removed == 3 and identity.battle_ids == [1, 2, 3] and "3 votes void" in identity.text()
    custom = IntegrityConfig(identity_patterns=(r"\bsecret-model\b",))
    assert len(apply_rules([_vote(5, answer_a="I am secret-model")], custom)[0]) == 0
    assert len(apply_rules([_vote(6, answer_a="As ChatGPT")], custom)[0]) == 1


def test_caps_per_day_and_per_pair_remove_the_later_votes():
    later = 1_700_000_000 + DAY * 2
    votes = [_vote(k, voter="bot") for k in range(6)] + [
        _vote(10 + k, voter="bot", voted_at=later + k) for k in (0, 1)
    ]
    kept, report = apply_rules(votes, IntegrityConfig(votes_per_day=4, votes_per_pair=5))
    caps = _rule(report, "caps")
    # Day one: 4 kept, 2 over the day's cap; day three: one more fits the pair cap (5), the last does not.
    assert [v.battle_id for v in kept] == [0, 1, 2, 3, 10] and caps.removed == 3
    assert caps.detail == ["bot: 2 over the cap per day", "bot: 1 over the cap per pair"]
    assert apply_rules(votes, IntegrityConfig(votes_per_day=0, votes_per_pair=0))[1].rules[1].removed == 0


def test_a_voter_against_everyone_is_flagged_and_can_be_excluded():
    rng = random.Random(0)
    votes, k = [], 0
    for voter in ("ann", "bob", "cid", "dee"):
        for _ in range(30):  # honest: `big` wins 80% of the time
            votes.append(_vote(k, voter=voter, outcome=1.0 if rng.random() < 0.8 else 0.0))
            k += 1
    for _ in range(30):  # the contrarian: `small` every time
        votes.append(_vote(k, voter="eve", outcome=0.0))
        k += 1
    kept, report = apply_rules(votes, IntegrityConfig(votes_per_day=0, votes_per_pair=0, downweight_repeats=False))
    assert [f.voter for f in report.flagged] == ["eve"] and report.flagged[0].agreement == 0.0
    assert len(kept) == 150 and "votes kept" in _rule(report, "outliers").text()
    strict = IntegrityConfig(votes_per_day=0, votes_per_pair=0, exclude_outliers=True)
    kept, report = apply_rules(votes, strict)
    assert len(kept) == 120 and _rule(report, "outliers").removed == 30
    assert {v.voter for v in kept} == {"ann", "bob", "cid", "dee"}


def test_repeated_prompts_share_one_battles_weight():
    votes = [_vote(k, prompt=p) for k, p in enumerate(["Same  prompt", "same prompt", "SAME PROMPT ", "other"])]
    kept, report = apply_rules(votes)
    assert [round(v.weight, 3) for v in kept] == [0.333, 0.333, 0.333, 1.0]
    repeats = _rule(report, "repeats")
    assert repeats.removed == 2 and "their 3 battles count as 1" in repeats.text()
    assert report.kept == 4 and report.total == 4


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="regular expression"):
        IntegrityConfig(identity_patterns=("(",)).validate()
    with pytest.raises(ValueError, match="outlier_level"):
        IntegrityConfig(outlier_level=0).validate()
    with pytest.raises(ValueError, match="caps"):
        IntegrityConfig(votes_per_day=-1).validate()
