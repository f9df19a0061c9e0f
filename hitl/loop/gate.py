"""The reward-model gate of a round: a policy is trained on a reward model only when the lower end of the 95%
interval of its held-out accuracy (on decisive pairs) clears the bar, on enough pairs to mean something.

    hitl loop --campaign demo --min-reward-accuracy 0.5 --min-reward-pairs 30

Pure: a reward model that is right on 6 of 6 held-out pairs has a Wilson interval of [0.61, 1.0]; one right on
4 of 4 has [0.51, 1.0]: a handful of pairs can pass a point-estimate gate by luck, never this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hitl.quality.stats import wilson_interval


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    accuracy: float
    low: float
    high: float
    pairs: int
    needed_pairs: int
    message: str  # empty when passed


def judgments_for_pairs(pairs: int, needed: int, judgments: int) -> int | None:
    """More judgments the campaign needs, at the rate seen so far (`pairs` decisive held-out pairs out of
    `judgments`), to reach `needed` decisive held-out pairs; 0 when it has them; None when it has none (no rate).

    A sparse preference (most pairs tie) needs many judgments per decisive pair; training a reward model again
    after every small batch would only repeat the same verdict."""
    if pairs >= needed:
        return 0
    if pairs <= 0 or judgments <= 0:
        return None
    return math.ceil((needed - pairs) * judgments / pairs)


def reward_gate(
    accuracy: float | None, pairs: int | None, min_accuracy: float, min_pairs: int, judgments: int = 0
) -> GateVerdict:
    """Pass when `pairs` >= `min_pairs` and the Wilson 95% lower bound of `accuracy` is above `min_accuracy`.
    `judgments`: the campaign's judgments so far, to say how many more the missing pairs need (0: not said)."""
    n = int(pairs or 0)
    unmeasured = accuracy is None or (isinstance(accuracy, float) and math.isnan(accuracy))
    if n == 0:
        return GateVerdict(
            False,
            math.nan,
            math.nan,
            math.nan,
            0,
            min_pairs,
            f"the reward model has no decisive held-out pairs (it needs {min_pairs}): collect more judgments",
        )
    if unmeasured:
        # Pairs but no accuracy (an evaluation that produced none): never a pass; say what is known.
        if n < min_pairs:
            message = (
                f"the reward model has {n} decisive pairs to hold out and the gate needs {min_pairs} (its accuracy "
                "is not measured on fewer): collect more judgments"
            )
            more = judgments_for_pairs(n, min_pairs, judgments)
            if more:
                message += f" (about {more} more at the rate so far: {n} decisive pairs from {judgments})"
        else:
            message = f"the reward model's accuracy on its {n} decisive held-out pairs was not measured: train again"
        return GateVerdict(False, math.nan, math.nan, math.nan, n, min_pairs, message)
    low, high = wilson_interval(round(accuracy * n), n)
    message = ""
    if n < min_pairs:
        message = (
            f"the reward model has {n} decisive held-out pairs and the gate needs {min_pairs} "
            f"(accuracy {accuracy:.2f}, 95% CI {low:.2f}-{high:.2f}): collect more judgments"
        )
        more = judgments_for_pairs(n, min_pairs, judgments)
        if more:
            message += f" (about {more} more at the rate so far: {n} decisive held-out pairs from {judgments})"
    elif low <= min_accuracy:
        message = (
            f"the reward model's held-out accuracy {accuracy:.2f} (95% CI {low:.2f}-{high:.2f}, n={n}) is not "
            f"clearly above {min_accuracy}: the policy is not trained on it; collect more (or cleaner) judgments"
        )
    return GateVerdict(not message, accuracy, low, high, n, min_pairs, message)
