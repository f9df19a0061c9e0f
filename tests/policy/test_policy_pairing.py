"""Which responses an item compares: samples of one version, two versions, K-way sets; never identical texts."""

from __future__ import annotations

import pytest

from hitl.errors import InvalidInput
from policy.pairing import distinct, plan_items, sample_groups, versus_groups


def test_two_samples_make_one_pair_and_identical_samples_none():
    assert sample_groups([(1, "a"), (2, "b")], "pairwise") == [[1, 2]]
    assert sample_groups([(1, "same"), (2, "same ")], "pairwise") == []


def test_more_samples_make_every_pair_of_distinct_texts():
    groups = sample_groups([(1, "a"), (2, "b"), (3, "a"), (4, "c")], "pairwise")
    assert groups == [[1, 2], [1, 4], [2, 4]]


def test_ranking_campaigns_get_k_way_sets_of_at_most_eight():
    answers = [(i, f"text {i}") for i in range(10)]
    groups = sample_groups(answers, "ranking")
    assert [len(g) for g in groups] == [5, 5]
    assert sorted(r for g in groups for r in g) == list(range(10))


def test_versus_pairs_each_of_mine_with_a_different_one_of_theirs():
    mine = [(1, "x"), (2, "y")]
    theirs = [(10, "x"), (11, "z"), (12, "w")]
    groups = versus_groups(mine, theirs, "pairwise")
    assert groups == [[1, 11], [2, 12]]
    texts = {1: "x", 2: "y", 10: "x", 11: "z", 12: "w"}
    assert all(texts[a] != texts[b] for a, b in groups)


def test_versus_skips_a_prompt_where_every_answer_is_the_same():
    assert versus_groups([(1, "same")], [(2, "same")], "pairwise") == []
    assert versus_groups([(1, "mine")], [], "pairwise") == []


def test_versus_on_a_ranking_campaign_ranks_both_versions_together():
    groups = versus_groups([(1, "a"), (2, "b")], [(3, "c"), (4, "a")], "ranking")
    assert groups == [[1, 2, 3]]


def test_plan_items_by_prompt_and_strategy():
    new = {7: [(1, "a"), (2, "b")], 8: [(3, "c"), (4, "c")]}
    assert plan_items(new, "pairwise") == [(7, [1, 2])]
    assert plan_items(new, "pairwise", "versus", {7: [(9, "z")], 8: [(10, "d")]}) == [
        (7, [1, 9]),
        (7, [2, 9]),  # their one answer meets each of mine
        (8, [3, 10]),
    ]
    with pytest.raises(InvalidInput):
        plan_items(new, "pairwise", "versus")
    with pytest.raises(InvalidInput):
        plan_items(new, "pairwise", "tournament")


def test_distinct_keeps_the_first_of_equal_texts():
    assert distinct([(1, "a"), (2, " a"), (3, "b")]) == [(1, "a"), (3, "b")]
