"""Bradley-Terry ratings with bootstrap 95% intervals, and the win-rate matrix, for the arena leaderboard.

    python -c "from hitl.ratings import leaderboard; print(leaderboard([('a', 'b', 1.0), ('b', 'a', 0.0)]))"

Pure functions over plain battles: (model_a, model_b, outcome) with outcome 1.0 when A won, 0.0 when B
won and 0.5 for a tie. Strengths are fitted with Hunter's MM algorithm (ties count half a win to each
side) and shown on the Elo scale: rating = 400 * log10(strength), shifted so the mean rating is 1000.
So a 100-point gap means the higher model wins 64% of the time (10^(100/400) / (1 + 10^(100/400))).

A small prior (`prior` virtual games, half won, against a reference of average strength) keeps a model
that won or lost every battle at a finite rating; `prior=0` gives the plain maximum-likelihood fit.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Battle = tuple[str, str, float]
SCALE = 400.0
BASE = 1000.0


@dataclass(frozen=True)
class Rating:
    """One leaderboard row: the fitted rating, its bootstrap 95% interval and the battle counts."""

    model: str
    rating: float
    low: float
    high: float
    battles: int
    wins: int
    losses: int
    ties: int


def _check(battles: Iterable[Battle]) -> list[Battle]:
    out = []
    for a, b, outcome in battles:
        if a == b:
            raise ValueError(f"a battle needs two different models, not {a!r} twice")
        if outcome not in (0.0, 0.5, 1.0):
            raise ValueError(f"outcome must be 1.0 (A won), 0.0 (B won) or 0.5 (tie), not {outcome!r}")
        out.append((str(a), str(b), float(outcome)))
    return out


def models_of(battles: Iterable[Battle]) -> list[str]:
    """Every model that appears in a battle, sorted by name."""
    return sorted({m for a, b, _ in battles for m in (a, b)})


def _arrays(battles: Sequence[Battle], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.array([index[b[0]] for b in battles], dtype=int)
    b = np.array([index[b[1]] for b in battles], dtype=int)
    return a, b, np.array([b[2] for b in battles], dtype=float)


def _tallies(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """wins[i, j]: points i scored against j (ties half); games[i, j]: battles between i and j (each counted at its
    weight, 1 unless given)."""
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    wins = np.zeros((n, n))
    games = np.zeros((n, n))
    np.add.at(wins, (a, b), outcome * w)
    np.add.at(wins, (b, a), (1.0 - outcome) * w)
    np.add.at(games, (a, b), w)
    np.add.at(games, (b, a), w)
    return wins, games


def _fit(wins: np.ndarray, games: np.ndarray, prior: float, iters: int, tol: float) -> np.ndarray:
    """Log-strengths by MM iterations; models with no battles (and no prior) stay at the mean."""
    n = wins.shape[0]
    strength = np.ones(n)
    scored = wins.sum(axis=1) + prior
    for _ in range(iters):
        pair_sum = strength[:, None] + strength[None, :]
        denom = (games / pair_sum).sum(axis=1) + 2.0 * prior / (strength + 1.0)
        new = np.where(denom > 0, scored / np.where(denom > 0, denom, 1.0), strength)
        # A model that never scored has MLE strength 0 (rating -inf): keep it tiny but finite.
        new = np.maximum(new, 1e-12)
        new /= math.exp(np.log(new).mean())
        if np.max(np.abs(np.log(new) - np.log(strength))) < tol:
            strength = new
            break
        strength = new
    return np.log(strength)


def _to_elo(log_strength: np.ndarray) -> np.ndarray:
    elo = SCALE * log_strength / math.log(10.0)
    return elo - elo.mean() + BASE


def bradley_terry(
    battles: Iterable[Battle],
    *,
    prior: float = 1.0,
    iters: int = 2000,
    tol: float = 1e-10,
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """Elo-scale Bradley-Terry rating of each model (mean 1000); `weights` count some battles less (e.g. repeats of
    one prompt, hitl.arena_integrity)."""
    battles = _check(battles)
    models = models_of(battles)
    if not models:
        return {}
    index = {m: i for i, m in enumerate(models)}
    wins, games = _tallies(*_arrays(battles, index), len(models), None if weights is None else np.asarray(weights))
    return dict(zip(models, _to_elo(_fit(wins, games, prior, iters, tol)).tolist(), strict=True))


# Resampling is the costly part of a leaderboard: every caller bounds its rounds by this.
MAX_ROUNDS = 1000
# Battle indices drawn at once (rounds x battles); larger boards are resampled in slices of rounds.
_DRAW_CELLS = 2_000_000


def bootstrap_samples(
    battles: Iterable[Battle],
    *,
    rounds: int = 200,
    seed: int = 0,
    prior: float = 1.0,
    weights: Sequence[float] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Each model's Elo rating in `rounds` resamples of the battles (with replacement): (models, rounds x models).

    All resamples are fitted at once (one MM iteration updates every resample), so the cost is a few array
    operations per iteration rather than a Python loop per round. With one seed, the first r rows of a larger
    draw are the draw of r rounds, so one fit at many rounds serves every smaller request.
    """
    if not 0 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be between 0 and {MAX_ROUNDS}, not {rounds}")
    battles = _check(battles)
    models = models_of(battles)
    n = len(models)
    if not models or rounds < 1:
        return models, np.empty((0, n))
    index = {m: i for i, m in enumerate(models)}
    a, b, outcome = _arrays(battles, index)
    w = np.ones(len(battles)) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    per_slice = max(1, _DRAW_CELLS // len(battles))
    out = []
    for start in range(0, rounds, per_slice):
        r = min(per_slice, rounds - start)
        k = rng.integers(0, len(battles), size=(r, len(battles)))
        wins, games = _batched_tallies(a[k], b[k], outcome[k], n, w[k])
        out.append(_to_elo_rows(_fit_rows(wins, games, prior, 500, 1e-8)))
    return models, np.concatenate(out)


def _batched_tallies(
    a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n: int, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """_tallies for each row of (rounds x battles) index arrays: (rounds, n, n) wins and games."""
    rounds = a.shape[0]
    cell = (np.arange(rounds)[:, None] * n * n).astype(np.int64)
    ab, ba = (cell + a * n + b).ravel(), (cell + b * n + a).ravel()
    size = rounds * n * n
    w = weights.ravel()
    wins = np.bincount(ab, outcome.ravel() * w, size) + np.bincount(ba, (1.0 - outcome).ravel() * w, size)
    games = np.bincount(ab, w, size) + np.bincount(ba, w, size)
    return wins.reshape(rounds, n, n), games.reshape(rounds, n, n)


def _fit_rows(wins: np.ndarray, games: np.ndarray, prior: float, iters: int, tol: float) -> np.ndarray:
    """_fit for a stack of (wins, games) boards at once: (rounds, n) log-strengths."""
    strength = np.ones(wins.shape[:2])
    scored = wins.sum(axis=2) + prior
    for _ in range(iters):
        pair_sum = strength[:, :, None] + strength[:, None, :]
        denom = (games / pair_sum).sum(axis=2) + 2.0 * prior / (strength + 1.0)
        new = np.where(denom > 0, scored / np.where(denom > 0, denom, 1.0), strength)
        new = np.maximum(new, 1e-12)
        new /= np.exp(np.log(new).mean(axis=1, keepdims=True))
        done = np.max(np.abs(np.log(new) - np.log(strength))) < tol
        strength = new
        if done:
            break
    return np.log(strength)


def _to_elo_rows(log_strength: np.ndarray) -> np.ndarray:
    elo = SCALE * log_strength / math.log(10.0)
    return elo - elo.mean(axis=1, keepdims=True) + BASE


def intervals_from(models: Sequence[str], samples: np.ndarray, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each model's rating over bootstrap samples (nan without samples)."""
    if not len(samples):
        return {m: (math.nan, math.nan) for m in models}
    tail = (1.0 - level) / 2.0 * 100.0
    low = np.percentile(samples, tail, axis=0)
    high = np.percentile(samples, 100.0 - tail, axis=0)
    return {m: (float(low[i]), float(high[i])) for i, m in enumerate(models)}


def bootstrap_intervals(
    battles: Iterable[Battle], *, rounds: int = 200, seed: int = 0, prior: float = 1.0, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each model's rating over `rounds` resamples of the battles (with replacement)."""
    models, samples = bootstrap_samples(battles, rounds=rounds, seed=seed, prior=prior)
    return intervals_from(models, samples, level)


def win_rate_matrix(battles: Iterable[Battle], models: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """matrix[i, j] = share of points model i scored against model j (ties half); nan where they never met."""
    battles = _check(battles)
    models = list(models) if models is not None else models_of(battles)
    index = {m: i for i, m in enumerate(models)}
    kept = [b for b in battles if b[0] in index and b[1] in index]
    wins, games = _tallies(*_arrays(kept, index), len(models))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.where(games > 0, wins / np.where(games > 0, games, 1.0), np.nan)
    return models, matrix


def battle_counts(battles: Iterable[Battle], models: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """counts[i, j] = number of battles between models i and j (symmetric)."""
    battles = _check(battles)
    models = list(models) if models is not None else models_of(battles)
    index = {m: i for i, m in enumerate(models)}
    kept = [b for b in battles if b[0] in index and b[1] in index]
    _, games = _tallies(*_arrays(kept, index), len(models))
    return models, games.astype(int)


def leaderboard(
    battles: Iterable[Battle],
    *,
    rounds: int = 200,
    seed: int = 0,
    prior: float = 1.0,
    samples: tuple[list[str], np.ndarray] | None = None,
    weights: Sequence[float] | None = None,
) -> list[Rating]:
    """Ratings, intervals and win/loss/tie counts per model, best first.

    `samples`: bootstrap_samples of these battles computed before (at `rounds` or more: the first `rounds` rows
    are used), so a cached draw answers every request. `weights` weigh the fit (the counts stay whole battles).
    """
    battles = _check(battles)
    ratings = bradley_terry(battles, prior=prior, weights=weights)
    if samples is None:
        samples = bootstrap_samples(battles, rounds=rounds, seed=seed, prior=prior, weights=weights)
    intervals = intervals_from(samples[0], samples[1][:rounds])
    wins, ties, total = Counter(), Counter(), Counter()
    for a, b, o in battles:
        total[a] += 1
        total[b] += 1
        if o == 0.5:
            ties[a] += 1
            ties[b] += 1
        else:
            wins[a if o == 1.0 else b] += 1
    rows = []
    for m in ratings:
        low, high = intervals.get(m, (math.nan, math.nan))
        rows.append(Rating(m, ratings[m], low, high, total[m], wins[m], total[m] - wins[m] - ties[m], ties[m]))
    return sorted(rows, key=lambda r: (-r.rating, r.model))


def shared_ranks(ratings: Sequence[Rating]) -> list[int]:
    """Rank of each row (best first, as `leaderboard` returns them): 1 + the number of models whose whole interval
    lies above this one's. Models whose intervals overlap share a rank, so two models at the same rating are
    never ranked 1 and 2; without intervals (nan) every model is its own rank."""
    ranks = []
    for k, r in enumerate(ratings):
        if math.isnan(r.low) or math.isnan(r.high):
            ranks.append(k + 1)
            continue
        ranks.append(1 + sum(1 for o in ratings if not math.isnan(o.low) and o.low > r.high))
    return ranks
