"""Win rates of one policy version over another, with bootstrap intervals and a length-controlled rate.

    hitl eval-policy --a demo-r3-policy --b default --prompts demo --oracle rule:concise

Pure functions over plain outcomes. Each comparison is (outcome, length_a, length_b) with outcome 1.0 when
A wins, 0.0 when B wins and 0.5 for a tie. The length-controlled rate answers "how often would A win if
its answers were as long as B's": a logistic regression of the outcome on the (squashed) length
difference, read off at a difference of zero, in the manner of AlpacaEval's length-controlled win rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WinRate:
    rate: float
    low: float
    high: float
    n: int
    length_controlled: float
    lc_low: float
    lc_high: float

    @property
    def significant(self) -> bool:
        """A beats B: the whole 95% interval lies above one half."""
        return self.low > 0.5


def _squash(len_a: np.ndarray, len_b: np.ndarray, scale: float) -> np.ndarray:
    return np.tanh((len_a - len_b) / scale)


def length_controlled_rate(outcomes: np.ndarray, diff: np.ndarray, l2: float = 1e-3, iters: int = 50) -> float:
    """P(A wins | equal lengths) from a two-parameter logistic fit (Newton's method, tiny ridge for stability)."""
    x = np.column_stack([np.ones_like(diff), diff])
    w = np.zeros(2)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - outcomes) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return float(1 / (1 + math.exp(-w[0])))


def win_rate(
    outcomes: Sequence[float],
    len_a: Sequence[int],
    len_b: Sequence[int],
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    length_scale: float | None = None,
    groups: Sequence[int] | None = None,
) -> WinRate:
    """Raw and length-controlled win rate of A over B with percentile-bootstrap 95% intervals.

    `groups` (e.g. the prompt of each comparison, when a prompt has several) makes the bootstrap resample whole
    groups: comparisons on one prompt are not independent, and resampling them one by one would narrow the
    interval dishonestly."""
    y = np.asarray(outcomes, dtype=float)
    if y.size == 0:
        nan = float("nan")
        return WinRate(nan, nan, nan, 0, nan, nan, nan)
    a, b = np.asarray(len_a, dtype=float), np.asarray(len_b, dtype=float)
    # The length difference is squashed on the scale of the typical answer, so one outlier cannot dominate.
    scale = length_scale or max(1.0, float(np.std(a - b)) or 1.0)
    diff = _squash(a, b, scale)
    rng = np.random.default_rng(seed)
    if groups is None:
        idx = rng.integers(0, y.size, size=(bootstrap, y.size))
    else:
        members = [np.flatnonzero(np.asarray(groups) == g) for g in dict.fromkeys(groups)]
        picks = rng.integers(0, len(members), size=(bootstrap, len(members)))
        idx = [np.concatenate([members[k] for k in row]) for row in picks]
    rates = np.array([y[i].mean() for i in idx])
    lcs = np.array([length_controlled_rate(y[i], diff[i]) for i in idx])
    return WinRate(
        rate=float(y.mean()),
        low=float(np.percentile(rates, 2.5)),
        high=float(np.percentile(rates, 97.5)),
        n=int(y.size),
        length_controlled=length_controlled_rate(y, diff),
        lc_low=float(np.percentile(lcs, 2.5)),
        lc_high=float(np.percentile(lcs, 97.5)),
    )


def outcome_from_scores(score_a: float, score_b: float, tie_tolerance: float = 0.0) -> float:
    """1.0 / 0.0 / 0.5 from two scores of the same judge (an oracle or a reward model)."""
    if abs(score_a - score_b) <= tie_tolerance:
        return 0.5
    return 1.0 if score_a > score_b else 0.0
