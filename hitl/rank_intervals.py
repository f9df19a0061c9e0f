"""Intervals people can trust on a leaderboard: simultaneous rating and rank intervals, one verdict per adjacent
pair, and how many more battles would separate two models.

    python -c "from hitl.rank_intervals import battles_to_separate; print(battles_to_separate(0.6, 40))"

Pure functions over bootstrap samples of ratings (rows: resamples, columns: models; hitl.ratings and
hitl.style_control make them). A 95% interval per model holds its model's rating 95% of the time, but ten of them
all hold at once far less often, and a rank depends on all of them. So:

- `simultaneous_intervals`: the max-t bootstrap band. For each resample, the largest standardised deviation over
  all models, max_i |sample_i - rating_i| / sd_i; its 95th percentile c widens every interval to rating_i +- c sd_i,
  and then all of them hold together with 95% confidence (c is about 1.96 for one model, more for many).
- `rank_intervals`: from the gaps between models, not from the rating intervals. The max-t band over every pair's
  gap (rating_i - rating_j) holds for all pairs at once with 95% confidence; the best rank of a model is 1 + the
  models whose gap over it is above 0 across the whole band, its worst is the number of models not significantly
  below it. So the ranks hold jointly for every model (the simultaneous rank sets of Mogstad, Romano, Shaikh and
  Wilhelm). Whether two rating intervals overlap is a much weaker test: ratings that are both uncertain in the
  same direction (two models mostly compared with each other) overlap widely while their gap is known closely.
- `adjacent_verdicts`: for each pair next to each other on the board, the rating gap with a band corrected the same
  way over all adjacent pairs: "A above B with 95% confidence" only when the whole band lies above 0.
- `battles_to_separate`: head-to-head battles needed for the 95% interval of A's win rate over B (at the rate seen
  so far) to exclude one half, by the normal approximation n = z^2 p (1 - p) / (p - 1/2)^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


def _max_t_critical(deviation: np.ndarray, sd: np.ndarray, level: float) -> float:
    """The `level` quantile of the largest standardised deviation per resample (columns with sd 0 ignored)."""
    usable = sd > 1e-12
    if not len(deviation) or not usable.any():
        return math.nan
    t = np.abs(deviation[:, usable]) / sd[usable]
    return float(np.quantile(t.max(axis=1), level))


def simultaneous_intervals(
    models: Sequence[str], ratings: dict[str, float], samples: np.ndarray, level: float = 0.95
) -> tuple[dict[str, tuple[float, float]], float]:
    """({model: (low, high)} holding for every model at once with probability `level`, the critical value c).

    `samples` columns follow `models`; without samples every interval is (nan, nan)."""
    point = np.array([ratings[m] for m in models], dtype=float)
    if not len(samples):
        return {m: (math.nan, math.nan) for m in models}, math.nan
    sd = samples.std(axis=0)
    c = _max_t_critical(samples - point, sd, level)
    if math.isnan(c):
        return {m: (float(point[i]), float(point[i])) for i, m in enumerate(models)}, c
    return {m: (float(point[i] - c * sd[i]), float(point[i] + c * sd[i])) for i, m in enumerate(models)}, c


@dataclass(frozen=True)
class RankInterval:
    """A model's rank by its rating (1 best) and the ranks it may hold, jointly with every other model, at 95%."""

    model: str
    rank: int
    best: int
    worst: int

    def text(self) -> str:
        return str(self.best) if self.best == self.worst else f"{self.best}–{self.worst}"


def rank_intervals(
    models: Sequence[str], ratings: dict[str, float], samples: np.ndarray, level: float = 0.95
) -> tuple[list[RankInterval], float]:
    """(Rank intervals best first, holding for every model at once with probability `level`; the critical value of
    the band over all pairwise gaps). `samples` columns follow `models`; without samples (or with one model) every
    model gets its own rank and the critical value is nan."""
    order = sorted(ratings, key=lambda m: (-ratings[m], m))
    column = {m: i for i, m in enumerate(models)}
    if not len(samples) or len(order) < 2:
        return [RankInterval(m, k + 1, k + 1, k + 1) for k, m in enumerate(order)], math.nan
    point = np.array([ratings[m] for m in order], dtype=float)
    drawn = samples[:, [column[m] for m in order]]
    # The band's critical value: the `level` quantile over resamples of the largest standardised deviation of any
    # pair's gap. Pairs are taken one model at a time, so memory grows with the models, not with the pairs.
    n = len(order)
    largest = np.zeros(len(drawn))
    sds = []
    for i in range(n - 1):
        gaps = drawn[:, i : i + 1] - drawn[:, i + 1 :]
        sd = gaps.std(axis=0)
        sds.append(sd)
        usable = sd > 1e-12
        if usable.any():
            deviation = np.abs(gaps[:, usable] - (point[i] - point[i + 1 :])[usable]) / sd[usable]
            largest = np.maximum(largest, deviation.max(axis=1))
    if not any((sd > 1e-12).any() for sd in sds):
        return [RankInterval(m, k + 1, k + 1, k + 1) for k, m in enumerate(order)], math.nan
    c = float(np.quantile(largest, level))
    above = np.zeros(n, dtype=int)  # models significantly above model k
    below = np.zeros(n, dtype=int)
    for i in range(n - 1):
        # Model i is at least as high as every later one; the gap is significant when its band clears 0.
        separated = (point[i] - point[i + 1 :]) - c * sds[i] > 0
        above[i + 1 :] += separated
        below[i] += int(separated.sum())
    return [RankInterval(m, k + 1, 1 + int(above[k]), n - int(below[k])) for k, m in enumerate(order)], c


@dataclass(frozen=True)
class Verdict:
    """The rating gap between two models next to each other on the board and its corrected 95% band."""

    higher: str
    lower: str
    gap: float
    low: float
    high: float
    separated: bool
    text: str


def adjacent_verdicts(
    models: Sequence[str], ratings: dict[str, float], samples: np.ndarray, level: float = 0.95
) -> list[Verdict]:
    """One verdict per adjacent pair of the board (best first), corrected for the number of pairs."""
    order = sorted(ratings, key=lambda m: (-ratings[m], m))
    if len(order) < 2:
        return []
    column = {m: i for i, m in enumerate(models)}
    gaps = np.array([ratings[a] - ratings[b] for a, b in zip(order, order[1:], strict=False)])
    pct = round(level * 100)
    if len(samples):
        drawn = np.column_stack(
            [samples[:, column[a]] - samples[:, column[b]] for a, b in zip(order, order[1:], strict=False)]
        )
        sd = drawn.std(axis=0)
        c = _max_t_critical(drawn - gaps, sd, level)
    else:
        sd, c = np.zeros(len(gaps)), math.nan
    out = []
    for k, (a, b) in enumerate(zip(order, order[1:], strict=False)):
        if math.isnan(c):
            low = high = math.nan
        else:
            low, high = float(gaps[k] - c * sd[k]), float(gaps[k] + c * sd[k])
        separated = not math.isnan(low) and low > 0
        text = f"{a} above {b} with {pct}% confidence" if separated else f"{a} and {b} not separated"
        out.append(Verdict(a, b, float(gaps[k]), low, high, separated, text))
    return out


def wilson(points: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a rate of `points` successes (ties as halves) in n trials; (nan, nan) for n = 0."""
    if n <= 0:
        return math.nan, math.nan
    p = points / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def battles_to_separate(rate: float, n: int, z: float = Z95) -> int | None:
    """More head-to-head battles needed, at win rate `rate` (seen over n battles), for the 95% interval of the rate
    to exclude one half; 0 when it already does; None at a rate of exactly one half (no number of battles will)."""
    if math.isnan(rate) or abs(rate - 0.5) < 1e-9:
        return None
    p = min(max(rate, 1e-6), 1 - 1e-6)
    # A sweep (p = 0 or 1) would need a single battle by this formula; ask for as many as p = 1 - 1/(n+1) needs.
    if rate in (0.0, 1.0):
        p = 1.0 - 1.0 / (n + 2) if rate == 1.0 else 1.0 / (n + 2)
    needed = math.ceil(z * z * p * (1 - p) / (p - 0.5) ** 2)
    return max(0, needed - n)


@dataclass(frozen=True)
class PairPlan:
    """Head to head so far (A's points, n, A's win rate with its Wilson 95% interval) and the battles still
    needed to separate A and B at that rate (None: they are even, no number will)."""

    a: str
    b: str
    n: int
    rate: float
    low: float
    high: float
    more: int | None
    text: str


def pair_plan(
    a: str, b: str, points_a: float, n: int, implied_rate: float | None = None, controlled: bool = False
) -> PairPlan:
    """The sample-size planner for one pair. Without head-to-head battles the rate the ratings imply is used; with
    `controlled` (a style-controlled board) always that rate: the raw head-to-head rate still holds the style."""
    if controlled and implied_rate is not None:
        rate = implied_rate
        source = f"at the style-controlled rate {rate:.2f} ({n} battles between them so far)"
        points_a = rate * n
    elif n > 0:
        rate = points_a / n
        low, high = wilson(points_a, n)
        source = f"at the observed rate {rate:.2f} [{low:.2f}, {high:.2f}] n={n}"
    elif implied_rate is not None:
        rate = implied_rate
        source = f"at the rate the ratings imply ({rate:.2f}; they never met)"
    else:
        return PairPlan(a, b, 0, math.nan, math.nan, math.nan, None, f"{a} and {b} never met")
    low, high = wilson(points_a, n)
    more = battles_to_separate(rate, n)
    if more is None:
        text = f"{a} vs {b}: even {source}; more battles will not separate them at this rate"
    elif more == 0:
        text = f"{a} vs {b}: already separated head to head {source}"
    else:
        text = f"{a} vs {b}: about {more} more battles between them would separate them {source}"
    return PairPlan(a, b, n, rate, low, high, more, text)
