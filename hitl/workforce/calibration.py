"""Calibrated confidence of a reward model: Platt scaling of its reward gap against human (or oracle) labels.

    python -m pytest -q tests/workforce/test_workforce_routing.py

The raw sigmoid of a reward gap says how sure the model is, not how often it is right; on HH-RLHF a model that is
right 60% of the time is "90% sure" of many pairs. P(response 0 is better) = sigmoid(a * gap + b), with a and b fit
by logistic regression (Newton's method, a little ridge so a separable sample stays finite) on pairs with a known
answer, is what auto-labels are thresholded on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_PAIRS = 30  # labelled pairs needed before a calibration is trusted


@dataclass(frozen=True)
class Calibration:
    a: float
    b: float
    n: int  # labelled pairs it was fit on
    accuracy: float  # share of them where the model's side was the right one

    def prob(self, gap: float) -> float:
        """Calibrated P(response 0 is better) for a reward gap r0 - r1."""
        return 1.0 / (1.0 + math.exp(-(self.a * gap + self.b)))

    def confidence(self, gap: float) -> float:
        """Calibrated probability that the model's preferred response is the better one."""
        p = self.prob(gap)
        return max(p, 1.0 - p)


def fit(gaps: Sequence[float], first_better: Sequence[bool], ridge: float = 1e-3, iters: int = 50) -> Calibration:
    """Platt scaling: the logistic regression of "response 0 is better" on the reward gap."""
    x = np.asarray(gaps, dtype=float)
    y = np.asarray(first_better, dtype=float)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("calibration needs as many labels as gaps, and at least one")
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.array([1.0, 0.0])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        grad = design.T @ (p - y) + ridge * w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    right = float(np.mean((x >= 0) == (y > 0.5)))
    return Calibration(float(w[0]), float(w[1]), int(len(x)), right)
