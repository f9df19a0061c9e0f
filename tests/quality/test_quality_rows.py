"""Row coding: nominal categories, response-count inference and de-duplication of repeated judgments."""

import pytest
from quality_sim import row

from hitl.quality import JudgmentRow, by_rater, category, infer_n_responses, latest_by_item, n_categories


def test_category_pairwise():
    assert category(row(1, "a", 0)) == 0
    assert category(row(1, "a", 1)) == 1
    assert category(row(1, "a", None)) == 2


def test_category_both_bad_is_tie():
    r = JudgmentRow(item_id=1, rater="a", winner=None, score=0, first_shown=0, both_bad=True)
    assert category(r) == 2


def test_category_k_way_ties_map_to_k():
    assert category(row(1, "a", 3, score=0), n_responses=4) == 3
    assert category(row(1, "a", None, score=0), n_responses=4) == 4


def test_category_rejects_out_of_range_winner():
    with pytest.raises(ValueError, match="out of range"):
        category(row(1, "a", 2))


def test_infer_n_responses():
    assert infer_n_responses([]) == 2
    assert infer_n_responses([row(1, "a", 0), row(2, "a", None, first_shown=1)]) == 2
    assert infer_n_responses([row(1, "a", 0, score=0, first_shown=3)]) == 4
    assert infer_n_responses([row(1, "a", None, score=0, gold_answer=2)]) == 3
    assert n_categories([row(1, "a", 0, score=0, longer=3)]) == 5


def test_latest_by_item_keeps_most_recent_judgment():
    rows = [
        row(1, "a", 0, created_at=10.0),
        row(1, "a", 1, created_at=30.0),
        row(1, "a", None, created_at=20.0),
        row(1, "b", 0, created_at=5.0),
        row(2, "a", 1, created_at=1.0),
    ]
    grouped = latest_by_item(rows)
    assert set(grouped) == {1, 2}
    assert grouped[1]["a"].winner == 1
    assert grouped[1]["b"].winner == 0
    assert grouped[2]["a"].winner == 1


def test_latest_by_item_equal_times_prefers_later_input():
    rows = [row(1, "a", 0, created_at=5.0), row(1, "a", 1, created_at=5.0)]
    assert latest_by_item(rows)[1]["a"].winner == 1


def test_by_rater_preserves_order():
    rows = [row(1, "b", 0), row(1, "a", 1), row(2, "b", 1)]
    grouped = by_rater(rows)
    assert list(grouped) == ["b", "a"]
    assert [r.item_id for r in grouped["b"]] == [1, 2]
