"""Adaptive pairing for arena battles: the next battle goes to the pair of versions whose comparison most reduces
the uncertainty of the ranking, with a floor of uniformly random pairs so every pair keeps being seen.

    python scripts/bench_arena_pairing.py --seeds 5      # votes needed for the same rank intervals, vs uniform

Pure functions over battle tallies. The ratings' uncertainty is the Gaussian approximation of the Bradley-Terry
fit: covariance = the inverse of the Fisher information at the (ridge-regularised) maximum, on the logit scale.
One more battle between i and j adds information w = p (1 - p) along e_i - e_j (p = the fitted chance that i
wins), whatever its outcome, so the covariance after it is known in advance (a rank-one update). The leaderboard's
rank intervals (hitl.rank_intervals) widen by one for every pair of models whose gap is not significant in the
joint band over all pairs; the score of a candidate pair is how much one battle of it lowers that count, smoothed
(`pair_scores`), through every gap it informs: the pair's own and, through the covariance, the gaps of the
models either one met. Far-apart pairs (p near 0 or 1) tell little and pairs already told apart gain nothing, so
votes go to close, rarely met, or linking pairs. A batch is chosen greedily, updating the covariance after each
pick. `scripts/bench_arena_pairing.py` measures what this saves against uniform pairing on simulated voters.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.special import ndtr

from hitl.rank_intervals import Z95

PAIRINGS = ("adaptive", "uniform")


@dataclass(frozen=True)
class PairingConfig:
    """How the arena picks the two versions of a battle when the rater did not choose them."""

    method: str = field(
        default="adaptive",
        metadata={"help": "adaptive: the pair that most narrows the ranking's intervals; uniform: a random pair."},
    )
    floor: float = field(
        default=0.1,
        metadata={"help": "Share of adaptive picks that are a uniformly random pair instead, so every pair is seen."},
    )
    ridge: float = field(
        default=0.25,
        metadata={"help": "Gaussian prior on log-strengths (inverse variance): keeps a sweep finite in the fit."},
    )
    z: float | None = field(
        default=None,
        metadata={
            "help": "Band (in sd of a gap) inside which two models are not told apart; default: the joint band over "
            "all pairs, as the rank intervals use."
        },
    )

    def validate(self) -> None:
        if self.method not in PAIRINGS:
            raise ValueError(f"pairing method must be one of {', '.join(PAIRINGS)}, not {self.method!r}")
        if not 0.0 <= self.floor <= 1.0:
            raise ValueError(f"floor must be between 0 and 1, not {self.floor}")
        if self.ridge <= 0:
            raise ValueError(f"ridge must be positive (it keeps the information matrix invertible), not {self.ridge}")


def tallies(models: Sequence[str], battles: Sequence[tuple[str, str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(points, games): points[i, j] = what i scored against j (ties half), games[i, j] = their battles."""
    index = {m: i for i, m in enumerate(models)}
    n = len(models)
    points, games = np.zeros((n, n)), np.zeros((n, n))
    for a, b, outcome in battles:
        if a in index and b in index:
            i, j = index[a], index[b]
            points[i, j] += outcome
            points[j, i] += 1.0 - outcome
            games[i, j] += 1.0
            games[j, i] += 1.0
    return points, games


def fit_with_covariance(
    points: np.ndarray, games: np.ndarray, ridge: float = 0.25, iters: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Bradley-Terry log-strengths (logit scale, mean 0) and their covariance (inverse Fisher information)."""
    n = points.shape[0]
    theta = np.zeros(n)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
        grad = (games * p - points).sum(axis=1) + ridge * theta
        w = games * p * (1.0 - p)
        hess = np.diag(w.sum(axis=1)) - w + ridge * np.eye(n)
        step = np.clip(np.linalg.solve(hess, grad), -3.0, 3.0)
        theta -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
    w = games * p * (1.0 - p)
    info = np.diag(w.sum(axis=1)) - w + ridge * np.eye(n)
    return theta - theta.mean(), np.linalg.inv(info)


def centred(cov: np.ndarray) -> np.ndarray:
    """The covariance of the ratings about their mean (what a leaderboard interval shows): the fit only knows
    differences, and the mean's own variance is the prior's."""
    centre = np.eye(len(cov)) - 1.0 / len(cov)
    return centre @ cov @ centre


def sidak_z(n_intervals: int, level: float = 0.95) -> float:
    """The band multiplier that holds for n independent intervals at once (the max-t band's value, roughly)."""
    from statistics import NormalDist

    if n_intervals < 1:
        return Z95
    single = 1.0 - level ** (1.0 / n_intervals)
    return NormalDist().inv_cdf(1.0 - single / 2.0)


def gap_band_z(n_models: int, level: float = 0.95) -> float:
    """The multiplier of the joint band over all n (n - 1) / 2 pairwise gaps (what sets the rank intervals)."""
    return sidak_z(max(1, n_models * (n_models - 1) // 2), level)


def _difference_matrix(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    e = np.zeros((n, len(pairs)))
    for c, (i, j) in enumerate(pairs):
        e[i, c], e[j, c] = 1.0, -1.0
    return e


def _gaps(theta: np.ndarray, cov: np.ndarray):
    """Every pair (i < j), the difference matrix, cov @ it, each gap's variance and each gap (theta_i - theta_j)."""
    n = len(theta)
    pairs = list(combinations(range(n), 2))
    e = _difference_matrix(n, pairs)
    cov_e = cov @ e  # (models, pairs)
    var = np.maximum(np.einsum("kc,kc->c", e, cov_e), 1e-12)
    gap = theta[[i for i, _ in pairs]] - theta[[j for _, j in pairs]]
    return pairs, e, cov_e, var, gap


def pairs_not_told_apart(theta: np.ndarray, cov: np.ndarray, z: float | None = None) -> int:
    """Pairs whose gap is not significant in the joint band (|gap| < z sd of the gap), on the fit's Gaussian
    approximation: what the rank intervals leave open (each such pair widens both its models' intervals by one)."""
    _, _, _, var, gap = _gaps(theta, cov)
    z = gap_band_z(len(theta)) if z is None else z
    return int((np.abs(gap) < z * np.sqrt(var)).sum())


# pair_scores works through the gaps in blocks of at most this many (gap, candidate, node) cells: bounded memory.
_SCORE_CELLS = 4_000_000
# Where a gap's estimate may move after the battles: Gauss-Hermite nodes and weights for a standard normal.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(8)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
# On a big board only this many battles are scored in full (those that would settle their own gap best).
_MOST_CANDIDATES = 256


def pair_scores(
    theta: np.ndarray, cov: np.ndarray, z: float | None = None, lookahead: float = 1.0
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Every pair (i < j) and its score: how much `lookahead` battles of it are expected to lower the smoothed count
    of pairs not told apart.

    m battles of pair c, each with information w, lower the variance of every gap d by
    drop = Cov(gap d, gap c)^2 m w / (1 + m w Var(gap c)) (the rank-one update), and the estimate of gap d moves
    by a normal amount of that same variance (what the battles will show is not known yet): the expected count
    after them is E Phi(z - |gap + sqrt(drop) u| / sd after), u standard normal. So a gap nobody has measured (a
    new model's, estimated at the prior's 0) scores by what it may turn out to be, not by its estimate; gaps far
    from significance either way hardly move the count. choose_pairs looks ahead by each pair's share of the
    votes so far: one battle cannot settle an unmeasured gap, its share of the coming votes can."""
    pairs, e, cov_e, var, gap = _gaps(theta, cov)
    if not pairs:
        return pairs, np.zeros(0)
    z = gap_band_z(len(theta)) if z is None else z
    p = 1.0 / (1.0 + np.exp(-gap))
    info = p * (1.0 - p)  # what one battle of pair c tells, whoever wins
    gain = lookahead * info / (1.0 + lookahead * info * var)
    # Only gaps that are not settled either way can change the count, and only their battles are scored (a battle
    # of a settled pair informs the rest through the covariance, but less than the open pairs' own): on a big
    # board most pairs are settled, and this keeps the cost to (open pairs)^2.
    # A pair counts Phi(z - |gap| / sd): ~1 while its band covers 0, ~0 once it clears it (the smoothed count).
    open_now = ndtr(z - np.abs(gap) / np.sqrt(var))
    live = np.flatnonzero(open_now > 1e-6)
    scores = np.zeros(len(pairs))
    if not len(live):
        return pairs, scores
    candidates = live
    if len(live) > _MOST_CANDIDATES:
        # A battle moves its own gap most: keep the pairs whose own gap it would settle best.
        own = _expected_unresolved(gap[live], var[live], var[live] ** 2 * gain[live], z)
        candidates = live[np.argsort(own - open_now[live])[:_MOST_CANDIDATES]]
    scores[candidates] = float(open_now[live].sum())
    block = max(1, _SCORE_CELLS // (len(candidates) * len(_NODES)))
    for start in range(0, len(live), block):
        d = live[start : start + block]
        drop = (e[:, d].T @ cov_e[:, candidates]) ** 2 * gain[None, candidates]  # (gaps d, candidates c)
        scores[candidates] -= _expected_unresolved(gap[d, None], var[d, None], drop, z).sum(axis=0)
    return pairs, scores


def _expected_unresolved(gap: np.ndarray, var: np.ndarray, drop: np.ndarray, z: float) -> np.ndarray:
    """E Phi(z - |gap + sqrt(drop) u| / sqrt(var - drop)), u standard normal, elementwise (arrays broadcast)."""
    drop = np.minimum(drop, var - 1e-12)
    sd_after = np.sqrt(var - drop)
    moved = gap[..., None] + np.sqrt(drop)[..., None] * _NODES
    return ndtr(z - np.abs(moved) / sd_after[..., None]) @ _WEIGHTS


def choose_pairs(
    models: Sequence[str],
    battles: Sequence[tuple[str, str, float]],
    k: int = 1,
    *,
    rng: random.Random | None = None,
    config: PairingConfig | None = None,
    allowed: set[frozenset[str]] | None = None,
    fitted: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[str, str]]:
    """The next k pairs to battle (in no particular side order), chosen greedily; `allowed` limits the choice to
    pairs that can battle (both answered a common prompt); `fitted`: fit_with_covariance of these battles over
    `models`, computed before (the arena caches it per battle set)."""
    config = config or PairingConfig()
    config.validate()
    rng = rng or random.Random()
    names = list(models)
    candidates = [
        (i, j) for i, j in combinations(range(len(names)), 2) if allowed is None or {names[i], names[j]} in allowed
    ]
    if not candidates:
        return []
    if config.method == "uniform":
        return [tuple(names[x] for x in rng.choice(candidates)) for _ in range(k)]
    theta, cov = fitted if fitted is not None else fit_with_covariance(*tallies(names, battles), ridge=config.ridge)
    usable = set(candidates)
    # Score each pair by what its share of the votes so far would do (at least one battle): see pair_scores.
    lookahead = max(1.0, len(battles) / len(candidates))
    out = []
    for _ in range(k):
        if rng.random() < config.floor:
            i, j = rng.choice(candidates)
        else:
            pairs, scores = pair_scores(theta, cov, config.z, lookahead)
            ranked = [(s, c) for c, s in zip(pairs, scores, strict=True) if c in usable]
            best = max(s for s, _ in ranked)
            i, j = rng.choice([c for s, c in ranked if s >= best - 1e-12 * max(1.0, abs(best))])  # ties: at random
        out.append((names[i], names[j]))
        # The battle's information is known before its outcome: fold it in, so the next pick of the batch differs.
        e = np.zeros(len(names))
        e[i], e[j] = 1.0, -1.0
        p = 1.0 / (1.0 + math.exp(-(theta[i] - theta[j])))
        w = p * (1.0 - p)
        u = cov @ e
        cov = cov - np.outer(u, u) * (w / (1.0 + w * float(e @ u)))
    return out
