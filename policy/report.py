"""What a policy training run did, for people: a summary from the trainer's log (loss and reward margin, first
steps against last) and a loss plot.

    hitl train-policy --config configs/cpu.yaml --campaign demo --name demo-dpo-1   # prints it, writes the plot

Pure over the trainer's `log_history` (one dict per logged step); matplotlib is imported only to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The per-step keys TRL logs, by what they mean (DPO / KTO log rewards; GRPO / RLOO log the reward itself).
MARGIN_KEYS = ("rewards/margins", "reward")
ACCURACY_KEYS = ("rewards/accuracies",)


@dataclass(frozen=True)
class TrainingSummary:
    steps: int
    loss_start: float | None  # mean of the first third of the logged steps (at least one)
    loss_end: float | None  # mean of the last third
    margin_start: float | None
    margin_end: float | None
    accuracy_end: float | None  # share of the last third's pairs whose chosen answer gained on the rejected one

    def verdict(self) -> str:
        if self.loss_start is None or self.loss_end is None:
            return "no loss was logged: nothing to judge the run by"
        if self.steps < 3:
            return f"only {self.steps} step(s): too few to tell whether the policy learned; collect more pairs"
        change = self.loss_end - self.loss_start
        if change < -0.01 * max(abs(self.loss_start), 1e-9):
            moved = "" if self.margin_end is None else f", reward margin {self.margin_end:+.2f}"
            return f"the loss fell ({self.loss_start:.3f} -> {self.loss_end:.3f}{moved}): the policy moved"
        return (
            f"the loss did not fall ({self.loss_start:.3f} -> {self.loss_end:.3f}): try more pairs or epochs, "
            "or a higher learning rate"
        )


def _series(history: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[tuple[int, float]]:
    for key in keys:
        points = [(int(h.get("step", i)), float(h[key])) for i, h in enumerate(history) if key in h]
        points = [(s, v) for s, v in points if math.isfinite(v)]
        if points:
            return points
    return []


def _ends(points: list[tuple[int, float]]) -> tuple[float | None, float | None]:
    if not points:
        return None, None
    k = max(1, len(points) // 3)
    first, last = [v for _, v in points[:k]], [v for _, v in points[-k:]]
    return sum(first) / len(first), sum(last) / len(last)


def summarize(history: Sequence[dict[str, Any]]) -> TrainingSummary:
    """The summary of a run from its per-step logs (the final train summary entry is left out)."""
    steps = [h for h in history if "train_runtime" not in h]
    loss = _series(steps, ("loss",))
    margin = _series(steps, MARGIN_KEYS)
    accuracy = _series(steps, ACCURACY_KEYS)
    last_step = max([int(h.get("step", 0)) for h in steps] + [0])
    return TrainingSummary(last_step, *_ends(loss), *_ends(margin), _ends(accuracy)[1])


def loss_plot(history: Sequence[dict[str, Any]], path: str | Path, title: str) -> Path:
    """Training loss per step (and the reward margin, where logged) as a PNG; axes from 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h for h in history if "train_runtime" not in h]
    loss, margin = _series(steps, ("loss",)), _series(steps, MARGIN_KEYS)
    with matplotlib.rc_context({"text.parse_math": False}):  # the title holds a version name
        fig, axes = plt.subplots(1, 2 if margin else 1, figsize=(10 if margin else 6, 3.6), squeeze=False)
        ax = axes[0][0]
        if loss:
            ax.plot([s for s, _ in loss], [v for _, v in loss], "o-", markersize=3)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0, top=max([v for _, v in loss] + [0.1]) * 1.15)
        ax.set_title("Loss (lower is better)", fontsize=10)
        if margin:
            right = axes[0][1]
            right.plot([s for s, _ in margin], [v for _, v in margin], "o-", markersize=3, color="tab:green")
            right.axhline(0, color="grey", linewidth=1)
            right.set_xlabel("step")
            right.set_ylabel("reward margin (chosen - rejected)")
            right.set_xlim(left=0)
            right.set_title("Implicit reward margin (higher is better)", fontsize=10)
        fig.suptitle(title, fontsize=11)
        fig.tight_layout()
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=110)
        plt.close(fig)
    return out
