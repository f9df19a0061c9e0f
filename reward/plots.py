"""PNG figures of a reward-model evaluation: accuracy breakdown, calibration, reward distributions, length bias.

    hitl eval-reward --model MODEL --out eval/    # writes eval/accuracy.png, calibration.png, rewards.png, length.png

matplotlib with the Agg backend: no display needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def _accuracy_plot(report: dict[str, Any], out: Path) -> Path:
    plt = _pyplot()
    bars = [("overall", report["accuracy"], report["decisive_pairs"])]
    bars += [(f"strength {s}", g["accuracy"], g["n"]) for s, g in report["by_strength"].items()]
    if report["gold"]["n"]:
        bars.append(("gold", report["gold"]["accuracy"], report["gold"]["n"]))
    length = report["length"]
    bars.append(("chosen longer", length["chosen_longer"]["accuracy"], length["chosen_longer"]["n"]))
    bars.append(("chosen shorter", length["chosen_shorter"]["accuracy"], length["chosen_shorter"]["n"]))
    bars = [b for b in bars if b[1] is not None]
    from hitl.quality.stats import wilson_interval

    fig, ax = plt.subplots(figsize=(7, 4))
    # Each bar with its 95% Wilson interval: a handful of held-out pairs shows as the wide interval it is.
    intervals = [wilson_interval(int(round(acc * n)), n) if n else (acc, acc) for _, acc, n in bars]
    # A weighted accuracy (Dawid-Skene weights) can sit just outside the interval of its rounded count: clip at 0.
    errors = [[max(0.0, acc - lo) for (_, acc, _), (lo, _) in zip(bars, intervals, strict=True)]]
    errors += [[max(0.0, hi - acc) for (_, acc, _), (_, hi) in zip(bars, intervals, strict=True)]]
    ax.bar([b[0] for b in bars], [b[1] for b in bars], color="tab:blue", yerr=errors, capsize=3, ecolor="#444")
    for i, ((_, acc, n), (_, hi)) in enumerate(zip(bars, intervals, strict=True)):
        ax.text(i, hi + 0.01, f"{acc:.2f}\nn={n}", ha="center", va="bottom", fontsize=8)
    ax.axhline(0.5, color="grey", linestyle=":", label="chance")
    # The raters' own agreement on decisive votes is the ceiling comparable with these accuracies (ties aside).
    ceiling = report.get("rater_ceiling") or {}
    if ceiling.get("decisive_agreement") is not None:
        label = f"raters agree (two decisive votes, n={ceiling['decisive_vote_pairs']})"
        ax.axhline(ceiling["decisive_agreement"], color="tab:green", linestyle="--", label=label)
    ax.set_ylim(0, 1.35)  # room above 1 for the labels and the legend
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("accuracy: reward(chosen) > reward(rejected)")
    ax.set_title("Pairwise accuracy on held-out pairs (whiskers: 95% intervals)")
    ax.legend(loc="upper right", fontsize=8, ncol=2)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return _save(fig, out / "accuracy.png")


def _calibration_plot(report: dict[str, Any], out: Path) -> Path:
    plt = _pyplot()
    bins = report["calibration"]["bins"]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot([0.5, 1], [0.5, 1], color="grey", linestyle=":", label="perfectly calibrated")
    if bins:
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label="reward model")
        for b in bins:
            ax.annotate(
                f"{b['n']}", (b["confidence"], b["accuracy"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    ece = report["calibration"]["ece"]
    title = "Calibration of sigmoid(r_chosen - r_rejected)"
    ax.set_title(f"{title}\nexpected calibration error {ece:.3f}" if ece is not None else title, fontsize=10)
    ax.set_xlabel("model's confidence in the response it prefers")
    ax.set_ylabel("how often that response was the chosen one")
    ax.set_xlim(0.48, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return _save(fig, out / "calibration.png")


def _rewards_plot(chosen: np.ndarray, rejected: np.ndarray, out: Path) -> Path:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    bins = np.histogram_bin_edges(np.concatenate([chosen, rejected]), bins=30)
    left.hist(chosen, bins=bins, alpha=0.6, label="chosen", color="tab:green")
    left.hist(rejected, bins=bins, alpha=0.6, label="rejected", color="tab:red")
    left.set_title("Rewards of chosen and rejected responses")
    left.set_xlabel("reward")
    left.set_ylabel("responses")
    left.legend()
    right.hist(chosen - rejected, bins=30, color="tab:blue")
    right.axvline(0, color="black", linewidth=1)
    right.set_title("r_chosen - r_rejected (right of 0 = correct)")
    right.set_xlabel("reward gap")
    right.set_ylabel("pairs")
    return _save(fig, out / "rewards.png")


def _length_plot(
    report: dict[str, Any], rows: Sequence[dict[str, Any]], chosen: np.ndarray, rejected: np.ndarray, out: Path
) -> Path:
    plt = _pyplot()
    lengths = np.array([len(r["chosen"]) for r in rows] + [len(r["rejected"]) for r in rows], dtype=float)
    rewards = np.concatenate([chosen, rejected])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(np.maximum(lengths, 1), rewards, s=8, alpha=0.5)
    ax.set_xscale("log")
    rho = report["length"]["reward_length_spearman"]
    ax.set_title(f"Reward vs response length (Spearman {rho:.2f})" if rho is not None else "Reward vs length")
    ax.set_xlabel("response length (characters, log scale)")
    ax.set_ylabel("reward")
    return _save(fig, out / "length.png")


def plot_report(
    report: dict[str, Any], rows: Sequence[dict[str, Any]], chosen: np.ndarray, rejected: np.ndarray, out_dir: Path
) -> list[Path]:
    """The four figures, one file each, named for what they show."""
    out = Path(out_dir)
    paths = [_accuracy_plot(report, out), _calibration_plot(report, out)]
    if len(rows):
        paths += [_rewards_plot(np.asarray(chosen), np.asarray(rejected), out)]
        paths += [_length_plot(report, rows, np.asarray(chosen), np.asarray(rejected), out)]
    return paths
