"""Small statistical building blocks shared by the quality metrics: a success-rate record with a Wilson interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided 95% standard-normal quantile.
Z95 = 1.959963984540054


def wilson_interval(correct: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; ``(nan, nan)`` when ``total`` is 0.

    Wilson rather than the normal approximation because rater samples are small and rates sit near 0 or 1, where the
    normal interval collapses to zero width or leaves [0, 1].
    """
    if total < 0 or correct < 0 or correct > total:
        raise ValueError(f"need 0 <= correct <= total, got correct={correct}, total={total}")
    if total == 0:
        return (math.nan, math.nan)
    p = correct / total
    z2 = z * z
    denom = 1.0 + z2 / total
    centre = (p + z2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denom
    # Clamp only float rounding; the Wilson interval is inside [0, 1] mathematically.
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class RateStat:
    """``correct`` out of ``total`` with the rate and its Wilson 95% interval (all nan when ``total`` is 0)."""

    correct: int
    total: int
    rate: float
    low: float
    high: float


def rate_stat(correct: int, total: int) -> RateStat:
    """Build a :class:`RateStat`; the rate is nan, not an error, when there is nothing to count."""
    low, high = wilson_interval(correct, total)
    rate = correct / total if total else math.nan
    return RateStat(correct=correct, total=total, rate=rate, low=low, high=high)
