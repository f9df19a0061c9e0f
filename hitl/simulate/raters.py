"""Simulated raters: an oracle's preference plus a rater's own habits (noise, bias, fatigue, spamming).

python -c "from hitl.simulate import default_crowd; print(default_crowd(8))"
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RaterBehaviour:
    """How one simulated rater departs from the oracle. Probabilities are per judgment."""

    name: str
    flip: float = 0.1  # label noise: answer against the oracle
    position_bias: float = 0.0  # pick the response shown first regardless
    length_bias: float = 0.0  # pick the longest response regardless
    fatigue: float = 0.0  # extra flip probability per judgment in a work stretch (capped at 0.5)
    spammer: bool = False  # answers uniformly at random, fast
    seconds: tuple[float, float] = (15.0, 60.0)  # time on item, uniform range
    allow_tie: bool = True  # answers "tie" when the oracle cannot separate the responses
    unsure: float = 0.0  # flags this share of answers "unsure"

    def decide(
        self, scores: list[float], lengths: list[int], position_in_stretch: int, rng: random.Random
    ) -> tuple[list[int], int, bool, float]:
        """Ranking (indices into the responses AS SHOWN, best first), strength, tie, seconds on item."""
        k = len(scores)
        if self.spammer:
            order = list(range(k))
            rng.shuffle(order)
            return order, rng.choice([1, 2, 3]), False, rng.uniform(0.5, 2.5)
        seconds = rng.uniform(*self.seconds)
        if self.position_bias and rng.random() < self.position_bias:
            return [0, *range(1, k)], 2, False, seconds
        if self.length_bias and rng.random() < self.length_bias:
            order = sorted(range(k), key=lambda i: -lengths[i])
            return order, 2, False, seconds
        order = sorted(range(k), key=lambda i: -scores[i])
        gap = scores[order[0]] - scores[order[1]]
        if gap == 0 and self.allow_tie and k == 2:
            return order, 0, True, seconds
        flip = min(0.5, self.flip + self.fatigue * position_in_stretch)
        if rng.random() < flip:
            order[0], order[1] = order[1], order[0]
        strength = 1 if gap < 1 else 2 if gap < 10 or math.isinf(gap) else 3
        return order, min(strength, 3), False, seconds


def default_crowd(n: int = 8) -> list[RaterBehaviour]:
    """`n` raters (>= 4): mostly honest with some noise, one position-biased, one spammer, one fatigued."""
    if n < 4:
        raise ValueError("a default crowd needs at least 4 raters")
    special = [
        RaterBehaviour("sim-position", flip=0.1, position_bias=0.9, seconds=(8, 25)),
        RaterBehaviour("sim-spammer", spammer=True),
        RaterBehaviour("sim-fatigued", flip=0.05, fatigue=0.02, seconds=(10, 40)),
    ]
    honest = [RaterBehaviour(f"sim-honest-{i + 1}", flip=0.05 + 0.05 * (i % 3)) for i in range(n - len(special))]
    return honest + special
