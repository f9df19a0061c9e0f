"""What the commands print for people: progress as plain lines with an ETA off a terminal (no redrawn bars), and
the summaries of a policy training run and of a reward model's evaluation.

pytest tests/cli/test_cli_output.py -q
"""

from __future__ import annotations

import io

import pytest

from hitl.progress import LineProgress, progress, quiet_third_party_bars


def test_off_a_terminal_progress_is_lines_with_an_eta(monkeypatch):
    out = io.StringIO()
    bar = LineProgress(10, "generating", unit="sample", every=0.0, stream=out)
    for _ in range(10):
        bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert "generating: 5/10 samples (50%)" in text and "left" in text
    assert text.splitlines()[-1].startswith("generating: 10/10 samples (100%)")
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    assert isinstance(progress(3, "x"), LineProgress)


def test_off_a_terminal_library_bars_are_switched_off(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    for name in ("TQDM_DISABLE", "HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(name, raising=False)
    quiet_third_party_bars()
    import os

    assert os.environ["TQDM_DISABLE"] == "1" and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


def test_a_policy_run_is_summarised_from_its_log():
    from policy.report import summarize

    log = [{"step": s, "loss": 0.69 - 0.03 * s, "rewards/margins": 0.05 * s} for s in range(1, 10)]
    summary = summarize([*log, {"train_runtime": 12.0, "train_loss": 0.6}])
    assert summary.steps == 9
    assert summary.loss_start == pytest.approx(0.63) and summary.loss_end == pytest.approx(0.45)
    assert summary.margin_end == pytest.approx(0.4) and "the loss fell" in summary.verdict()
    flat = summarize([{"step": s, "loss": 0.69} for s in range(1, 10)])
    assert "did not fall" in flat.verdict()
    assert "too few" in summarize([{"step": 1, "loss": 0.7}]).verdict()


def test_reward_evaluation_rows_carry_intervals_and_their_own_n():
    import numpy as np

    from reward.evaluate import pair_metrics, small_sample_warning, summary_rows

    rows = [{"prompt": "p", "chosen": "c" * (3 + i), "rejected": "r" * (10 - i), "strength": 2} for i in range(8)]
    report = pair_metrics(rows, np.arange(8, dtype=float), np.zeros(8))
    report["rater_ceiling"] = {
        "items": 3,
        "pairwise_agreement": 0.4,
        "vote_pairs": 9,
        "decisive_agreement": 0.75,
        "decisive_vote_pairs": 4,
        "model_accuracy": 0.6,
        "model_pairs": 5,
    }
    table = {r[0].strip(): r for r in summary_rows(report)}
    assert table["pairwise accuracy"][2] != "-" and table["pairwise accuracy"][3] == 8
    # The model's accuracy on the raters' items is a share of its 5 pairs, not of the 3 items.
    assert table["model accuracy, same items"][3] == 5
    assert table["raters agree (two decisive votes)"][1:] == [0.75, "0.30-0.95", 4]
    assert table["model prefers the longer of a pair"][3] == report["length"]["unequal_pairs"]
    assert "Spearman" in " ".join(table)
    assert "only 8 held-out decisive pairs" in small_sample_warning(report)
