"""Evaluation numbers on synthetic rewards with known answers, the raters' ceiling from real votes, report files."""

import json

import numpy as np
import pytest
from reward_helpers import add_item, judge

from reward.evaluate import calibration, pair_metrics, rater_agreement, summary_rows, write_report


def _row(chosen="aa", rejected="b", strength=2.0, source="judgment", tie=False, item_id=None):
    return {"prompt": "p", "chosen": chosen, "rejected": rejected, "strength": strength, "source": source,
            "tie": tie, "item_id": item_id}  # fmt: skip


def test_accuracy_by_strength_gold_and_length():
    rows = [
        _row(strength=1.0),  # right, chosen longer
        _row(strength=1.0, chosen="a", rejected="bbb"),  # wrong, chosen shorter
        _row(strength=3.0, source="gold"),  # right
        _row(strength=3.0, chosen="a", rejected="bb", source="gold"),  # right, chosen shorter
        _row(tie=True, strength=0.0),  # a tie: out of accuracy
    ]
    chosen = np.array([2.0, 0.0, 1.0, 3.0, 0.5])
    rejected = np.array([1.0, 1.0, 0.0, 0.0, 0.4])
    m = pair_metrics(rows, chosen, rejected)
    assert m["accuracy"] == 0.75 and m["decisive_pairs"] == 4
    assert m["by_strength"] == {"1": {"n": 2, "accuracy": 0.5}, "3": {"n": 2, "accuracy": 1.0}}
    assert m["gold"] == {"n": 2, "accuracy": 1.0}
    assert m["length"]["chosen_longer"] == {"n": 2, "accuracy": 1.0}
    assert m["length"]["chosen_shorter"] == {"n": 2, "accuracy": 0.5}
    assert m["length"]["data_chosen_longer_rate"] == 0.5
    assert m["length"]["model_prefers_longer_rate"] == 0.75
    assert m["ties"] == {"pairs": 1, "mean_abs_gap": pytest.approx(0.1)}


def test_expected_calibration_error():
    # Confidence sigmoid(log 7) = 0.875 on every pair (mid-bin), right on 7 of 8: calibrated.
    gap = np.log(7.0)
    assert calibration(np.array([gap] * 7 + [-gap]))["ece"] == pytest.approx(0.0, abs=1e-9)
    # Same confidence, right on half: off by 0.375.
    assert calibration(np.array([gap, -gap] * 4))["ece"] == pytest.approx(0.375)


def test_reward_length_correlation_sign():
    rows = [_row(chosen="x" * (10 * i + 5), rejected="y" * (10 * i)) for i in range(1, 20)]
    lengths_c = np.array([10 * i + 5 for i in range(1, 20)], dtype=float)
    m = pair_metrics(rows, lengths_c / 10, lengths_c / 10 - 1)
    assert m["length"]["reward_length_spearman"] > 0.9


def test_rater_agreement_is_the_ceiling(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=3)
    item, (a, b) = add_item(store, c, ["A", "B"])
    judge(store, c, make_user(), item, [a, b])
    judge(store, c, make_user(), item, [a, b])
    judge(store, c, make_user(), item, [b, a])
    single, (x, y) = add_item(store, c, ["X", "Y"], prompt="other")
    judge(store, c, make_user(), single, [x, y])
    ceiling = rater_agreement(store, [item, single])
    assert ceiling == {
        "items": 1,
        "item_ids": [item],
        "pairwise_agreement": pytest.approx(1 / 3),
        "vote_pairs": 3,
        "decisive_agreement": pytest.approx(1 / 3),
        "decisive_vote_pairs": 3,
    }


def test_report_files_and_table(tmp_path):
    rows = [_row(), _row(chosen="a", rejected="bbb"), _row(source="gold")]
    chosen, rejected = np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.5])
    report = pair_metrics(rows, chosen, rejected)
    files = write_report(report, tmp_path / "eval", rows, chosen, rejected)
    assert sorted(f.name for f in files) == [
        "accuracy.png",
        "calibration.png",
        "length.png",
        "report.json",
        "rewards.png",
    ]
    assert json.loads((tmp_path / "eval" / "report.json").read_text())["accuracy"] == pytest.approx(2 / 3)
    assert summary_rows(report)[0] == ["pairwise accuracy", pytest.approx(2 / 3), "0.21-0.94", 3]
