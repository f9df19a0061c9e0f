"""Style control: Bradley-Terry fitted jointly with style covariates, so a rating says how good a model is once the
length and markdown of its answers are held equal, and each style feature's coefficient says how much the judges
reward it.

    python -c "from hitl.style_control import style_counts; print(style_counts('# Title\\n\\n- one\\n- **two**'))"

Pure functions over plain arrays. Each battle is (model A, model B, outcome for A: 1 / 0.5 / 0) with the style
counts of both answers (STYLE_FEATURES: characters, list items, headers, bold spans, fenced code blocks). A battle's
covariate for feature f is the normalised difference (f_A - f_B) / (f_A + f_B) (0 when both are 0), divided by its
standard deviation over the battles, so every coefficient is "log-odds of A winning per standard deviation of this
difference". The model is logistic: P(A wins) = sigmoid(theta_A - theta_B + sum_f gamma_f * z_f), fitted by
Newton's method with ties counting half a win to each side. A Gaussian prior on theta (`ridge`, the inverse of its
variance) keeps a model that won or lost everything at a finite rating; the coefficients get a tiny ridge only so
a feature that is constant in one resample cannot make the system singular. Without style features the fit is the
plain Bradley-Terry of hitl.ratings (up to that prior).

Intervals are percentile bootstraps over battles; every resample is fitted at once (one Newton step updates all of
them), and with one seed the first r rows of a larger draw are the draw of r rounds, as in hitl.ratings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hitl.ratings import BASE, MAX_ROUNDS, SCALE

STYLE_FEATURES = ("length", "lists", "headers", "bold", "code_blocks")
# log-odds -> Elo points: a coefficient times this is the rating gap that would give the same odds.
ELO_PER_LOGIT = SCALE / math.log(10.0)

_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)
_FENCED = re.compile(r"^\s{0,3}(```|~~~).*?(^\s{0,3}\1|\Z)", re.MULTILINE | re.DOTALL)
_LIST_ITEM = re.compile(r"^\s{0,8}(?:[-*+]|\d{1,3}[.)])\s+\S", re.MULTILINE)
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?=\S)[^_\n]+?(?<=\S)__")
# Resampled cells (rounds x battles x parameters) held at once; larger boards are fitted in slices of rounds.
_FIT_CELLS = 4_000_000


def style_counts(text: str) -> tuple[int, int, int, int, int]:
    """(characters, list items, headers, bold spans, fenced code blocks) of one answer, in STYLE_FEATURES order.

    Lists, headers and bold are counted outside code blocks: a `# comment` in Python is not a header."""
    text = text or ""
    fences = len(_FENCE.findall(text))
    prose = _FENCED.sub("\n", text)
    return (
        len(text),
        len(_LIST_ITEM.findall(prose)),
        len(_HEADER.findall(prose)),
        len(_BOLD.findall(prose)),
        (fences + 1) // 2,  # an unclosed fence still opened a block
    )


def style_differences(counts_a: np.ndarray, counts_b: np.ndarray) -> np.ndarray:
    """Normalised differences (a - b) / (a + b) per battle and feature; 0 where both counts are 0."""
    a, b = np.asarray(counts_a, dtype=float), np.asarray(counts_b, dtype=float)
    if a.ndim == 1:
        a, b = a[:, None], b[:, None]
    total = a + b
    return np.where(total > 0, (a - b) / np.where(total > 0, total, 1.0), 0.0)


def standardise(diffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, sd): each column divided by its standard deviation (not centred: which side is A is random, and a mean
    left in is signal, not offset). Columns with no spread get sd 0 and z 0: they cannot be fitted."""
    sd = diffs.std(axis=0) if len(diffs) else np.zeros(diffs.shape[1])
    safe = np.where(sd > 1e-12, sd, 1.0)
    return np.where(sd > 1e-12, diffs / safe, 0.0), np.where(sd > 1e-12, sd, 0.0)


def _newton(
    design: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    ridge: np.ndarray,
    start: np.ndarray | None = None,
    iters: int = 50,
    tol: float = 1e-8,
) -> np.ndarray:
    """Weighted ridge logistic regression with fractional targets, for a stack of weight rows at once.

    design: (n, p); y: (n,); weights: (rounds, n); ridge: (p,); start: (p,) where every row begins (a resample's
    fit lies near the full fit, so a few steps reach it). Returns (rounds, p) coefficients."""
    rounds, p = weights.shape[0], design.shape[1]
    beta = np.zeros((rounds, p)) if start is None else np.tile(start, (rounds, 1))
    eye = np.diag(ridge)
    for _ in range(iters):
        eta = beta @ design.T  # (rounds, n)
        prob = 0.5 * (1.0 + np.tanh(0.5 * eta))  # sigmoid without overflow
        grad = (weights * (prob - y)) @ design + beta * ridge
        curvature = weights * prob * (1.0 - prob)
        hess = (design.T[None, :, :] * curvature[:, None, :]) @ design + eye
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        # Separable resamples (one model won all its battles) have steep, flat-bottomed losses: cap each step so the
        # prior, not an overshoot, decides where the rating settles.
        step = np.clip(step, -3.0, 3.0)
        beta -= step
        if np.max(np.abs(step)) < tol:
            break
    return beta


@dataclass(frozen=True)
class StyleFit:
    """Log-strengths (theta, mean 0) of `models`, style coefficients gamma (log-odds per sd) of `features`, and the
    features left out because the pairing of models decides them (`confounded_features`)."""

    models: list[str]
    theta: np.ndarray
    features: list[str]
    gamma: np.ndarray
    confounded: list[str] = field(default_factory=list)

    def ratings(self) -> dict[str, float]:
        """Elo-scale style-controlled ratings, mean 1000."""
        if not len(self.theta):
            return {}
        elo = ELO_PER_LOGIT * (self.theta - self.theta.mean()) + BASE
        return dict(zip(self.models, elo.tolist(), strict=True))


def _design(a: Sequence[str], b: Sequence[str], z: np.ndarray, models: Sequence[str]) -> np.ndarray:
    """(battles, models + features): +1 in A's column, -1 in B's, then the standardised style differences."""
    index = {m: i for i, m in enumerate(models)}
    x = np.zeros((len(a), len(models)))
    rows = np.arange(len(a))
    x[rows, [index[m] for m in a]] = 1.0
    x[rows, [index[m] for m in b]] = -1.0
    return np.hstack([x, z])


def _check(model_a: Sequence[str], model_b: Sequence[str], outcomes: Sequence[float], diffs: np.ndarray) -> None:
    if not len(model_a) == len(model_b) == len(outcomes) == len(diffs):
        raise ValueError("model_a, model_b, outcomes and style rows must have one entry per battle")
    for m, o in zip(model_a, model_b, strict=True):
        if m == o:
            raise ValueError(f"a battle needs two different models, not {m!r} twice")
    if any(o not in (0.0, 0.5, 1.0) for o in outcomes):
        raise ValueError("outcome must be 1.0 (A won), 0.0 (B won) or 0.5 (tie)")


def _ridges(n_models: int, n_features: int, ridge: float) -> np.ndarray:
    return np.r_[np.full(n_models, ridge), np.full(n_features, 1e-3)]


def fit_style(
    model_a: Sequence[str],
    model_b: Sequence[str],
    outcomes: Sequence[float],
    diffs: np.ndarray,
    *,
    features: Sequence[str] = STYLE_FEATURES,
    ridge: float = 0.25,
    weights: Sequence[float] | None = None,
) -> StyleFit:
    """The joint fit on all battles. `diffs`: style_differences per battle (columns in `features` order); columns
    with no spread are left out of the fit (their coefficient is not reported)."""
    diffs = np.asarray(diffs, dtype=float).reshape(len(outcomes), len(features))
    _check(model_a, model_b, outcomes, diffs)
    models = sorted(set(model_a) | set(model_b))
    z, sd = standardise(diffs)
    # A feature that the pairing of models decides cannot be told apart from the models: fitting it would let the
    # priors choose who gets the credit (style, whose prior is weaker), so it is reported and left out instead.
    confounded = confounded_features(model_a, model_b, diffs, features)
    kept = [i for i in range(z.shape[1]) if sd[i] > 0 and features[i] not in confounded]
    design = _design(model_a, model_b, z[:, kept], models)
    y = np.asarray(outcomes, dtype=float)
    if not len(y):
        return StyleFit([], np.zeros(0), [features[i] for i in kept], np.zeros(len(kept)), confounded)
    w = np.ones((1, len(y))) if weights is None else np.asarray(weights, dtype=float)[None, :]
    beta = _newton(design, y, w, _ridges(len(models), len(kept), ridge))[0]
    theta = beta[: len(models)]
    return StyleFit(models, theta - theta.mean(), [features[i] for i in kept], beta[len(models) :], confounded)


def bootstrap_style(
    model_a: Sequence[str],
    model_b: Sequence[str],
    outcomes: Sequence[float],
    diffs: np.ndarray,
    *,
    rounds: int = 200,
    seed: int = 0,
    features: Sequence[str] = STYLE_FEATURES,
    ridge: float = 0.25,
    weights: Sequence[float] | None = None,
) -> tuple[StyleFit, np.ndarray, np.ndarray]:
    """(fit on all battles, Elo ratings per resample (rounds x models), coefficients per resample (rounds x kept
    features)). The covariates are standardised once on all battles, so every resample measures in the same units."""
    if not 0 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be between 0 and {MAX_ROUNDS}, not {rounds}")
    fit = fit_style(model_a, model_b, outcomes, diffs, features=features, ridge=ridge, weights=weights)
    n, m, k = len(outcomes), len(fit.models), len(fit.features)
    if not n or rounds < 1:
        return fit, np.empty((0, m)), np.empty((0, k))
    diffs = np.asarray(diffs, dtype=float).reshape(n, len(features))
    z, sd = standardise(diffs)
    design = _design(model_a, model_b, z[:, [features.index(f) for f in fit.features]], fit.models)
    y = np.asarray(outcomes, dtype=float)
    rng = np.random.default_rng(seed)
    per_battle = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    per_slice = max(1, _FIT_CELLS // (n * (m + k)))
    thetas, gammas = [], []
    for start in range(0, rounds, per_slice):
        r = min(per_slice, rounds - start)
        picks = rng.integers(0, n, size=(r, n))
        counts = np.zeros((r, n))
        np.add.at(counts, (np.repeat(np.arange(r), n), picks.ravel()), 1.0)
        beta = _newton(design, y, counts * per_battle, _ridges(m, k, ridge), start=np.r_[fit.theta, fit.gamma])
        theta = beta[:, :m]
        thetas.append(ELO_PER_LOGIT * (theta - theta.mean(axis=1, keepdims=True)) + BASE)
        gammas.append(beta[:, m:])
    return fit, np.concatenate(thetas), np.concatenate(gammas)


@dataclass(frozen=True)
class StyleCoefficient:
    """How much the judges reward one style feature: log-odds of winning per standard deviation of the normalised
    difference, its 95% interval, the same in Elo points, and `sd` (one standard deviation, as a share of the pair's
    total: 0.3 for length means one answer 30% of the pair's characters longer)."""

    feature: str
    coefficient: float
    low: float
    high: float
    elo: float
    sd: float
    n: int


@dataclass(frozen=True)
class StyleRating:
    model: str
    rating: float
    low: float
    high: float


@dataclass(frozen=True)
class StyleBoard:
    """Style-controlled ratings (best first) with 95% intervals, the coefficients, and the samples behind them."""

    ratings: list[StyleRating]
    coefficients: list[StyleCoefficient]
    n_battles: int
    models: list[str]  # column order of the samples
    samples: np.ndarray  # (rounds, models) Elo ratings
    coefficient_samples: np.ndarray  # (rounds, fitted features)
    fit: StyleFit
    sd: dict[str, float]  # one standard deviation of each feature's normalised difference
    skipped: list[str]  # features with no difference (or no spread) in these battles: nothing to fit
    confounded: list[str]  # features the pairing of models decides: not controlled (fit.confounded)

    def at(self, rounds: int) -> StyleBoard:
        """The same board with intervals from the first `rounds` resamples (the draw of `rounds` rounds)."""
        return _board(self.fit, self.samples[:rounds], self.coefficient_samples[:rounds], self.n_battles, self.sd)


def _percentiles(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    if not len(samples):
        nan = np.full(samples.shape[1], np.nan)
        return nan, nan
    tail = (1.0 - level) / 2.0 * 100.0
    return np.percentile(samples, tail, axis=0), np.percentile(samples, 100.0 - tail, axis=0)


def _board(fit: StyleFit, samples: np.ndarray, coef_samples: np.ndarray, n: int, sd: dict[str, float]) -> StyleBoard:
    ratings = fit.ratings()
    low, high = _percentiles(samples)
    rows = [StyleRating(m, ratings[m], float(low[i]), float(high[i])) for i, m in enumerate(fit.models)]
    c_low, c_high = _percentiles(coef_samples)
    coefficients = [
        StyleCoefficient(f, float(g), float(c_low[i]), float(c_high[i]), float(g * ELO_PER_LOGIT), sd[f], n)
        for i, (f, g) in enumerate(zip(fit.features, fit.gamma, strict=True))
    ]
    return StyleBoard(
        ratings=sorted(rows, key=lambda r: (-r.rating, r.model)),
        coefficients=coefficients,
        n_battles=n,
        models=fit.models,
        samples=samples,
        coefficient_samples=coef_samples,
        fit=fit,
        sd=sd,
        skipped=[f for f in STYLE_FEATURES if f not in fit.features and f not in fit.confounded],
        confounded=list(fit.confounded),
    )


def style_board(
    model_a: Sequence[str],
    model_b: Sequence[str],
    outcomes: Sequence[float],
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    *,
    rounds: int = 200,
    seed: int = 0,
    ridge: float = 0.25,
    weights: Sequence[float] | None = None,
) -> StyleBoard:
    """The style-controlled leaderboard from raw style counts (rows of style_counts) of both answers per battle."""
    n = len(outcomes)
    counts_a = np.asarray(counts_a, dtype=float).reshape(n, len(STYLE_FEATURES))
    counts_b = np.asarray(counts_b, dtype=float).reshape(n, len(STYLE_FEATURES))
    diffs = style_differences(counts_a, counts_b)
    fit, samples, coef_samples = bootstrap_style(
        model_a, model_b, outcomes, diffs, rounds=rounds, seed=seed, ridge=ridge, weights=weights
    )
    sd = standardise(diffs)[1] if n else np.zeros(len(STYLE_FEATURES))
    return _board(fit, samples, coef_samples, n, dict(zip(STYLE_FEATURES, sd.tolist(), strict=True)))


# Above this share of a feature's variance explained by which models met, its effect and the models' cannot be told
# apart: the fit credits style (its prior is the weaker one) and the intervals do not show the doubt.
CONFOUNDED_R2 = 0.9


def confounded_features(
    model_a: Sequence[str], model_b: Sequence[str], diffs: np.ndarray, features: Sequence[str] = STYLE_FEATURES
) -> list[str]:
    """Features whose battle differences are (nearly) a function of the two models' identities (R^2 of a least
    squares fit on the model columns >= CONFOUNDED_R2): e.g. one model always writing longer than the other."""
    n = len(model_a)
    if n == 0:
        return []
    diffs = np.asarray(diffs, dtype=float).reshape(n, len(features))
    x = _design(model_a, model_b, np.zeros((n, 0)), sorted(set(model_a) | set(model_b)))
    out = []
    for i, f in enumerate(features):
        y = diffs[:, i]
        total = float(((y - y.mean()) ** 2).sum()) + float(y.mean() ** 2) * n  # uncentred: no intercept here
        if total <= 1e-12:  # no difference in any battle; a constant non-zero one is fully confounded
            continue
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        residual = float(((y - x @ coef) ** 2).sum())
        if 1.0 - residual / total >= CONFOUNDED_R2:
            out.append(f)
    return out


@dataclass(frozen=True)
class StyleControlledRate:
    """P(A beats B | equal style) with its 95% interval and n, the fitted coefficients (as StyleBoard's), and the
    features that A's and B's answers differ in (nearly) the same way every time: their effect cannot be told
    apart from A's, so the controlled rate does not remove it."""

    rate: float
    low: float
    high: float
    n: int
    coefficients: list[StyleCoefficient]
    confounded: list[str] = field(default_factory=list)


def style_controlled_rate(
    outcomes: Sequence[float],
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    *,
    bootstrap: int = 1000,
    seed: int = 0,
) -> StyleControlledRate:
    """A's win rate over B with every style feature held equal (two models: the joint fit's theta_A - theta_B,
    read as a probability), for `hitl eval-policy` beside the raw and the length-controlled rate."""
    n = len(outcomes)
    if n == 0:
        nan = float("nan")
        return StyleControlledRate(nan, nan, nan, 0, [])
    counts_a = np.array([style_counts(t) for t in texts_a], dtype=float)
    counts_b = np.array([style_counts(t) for t in texts_b], dtype=float)
    # Tiny prior: with two models it only keeps a sweep (A won every pair) finite.
    board = style_board(
        ["A"] * n, ["B"] * n, outcomes, counts_a, counts_b, rounds=min(bootstrap, MAX_ROUNDS), seed=seed, ridge=0.01
    )
    gap = lambda elo_a, elo_b: 1.0 / (1.0 + 10.0 ** ((elo_b - elo_a) / SCALE))  # noqa: E731
    by = {r.model: r for r in board.ratings}
    ia, ib = board.models.index("A"), board.models.index("B")
    rates = gap(board.samples[:, ia], board.samples[:, ib]) if len(board.samples) else np.array([np.nan])
    y = np.asarray(outcomes, dtype=float)
    # A sweep: the prior keeps the rate below 1, and the interval stays open up to 1 (down to 0 for a whitewash).
    return StyleControlledRate(
        rate=float(gap(by["A"].rating, by["B"].rating)),
        low=0.0 if (y == 0.0).all() else float(np.percentile(rates, 2.5)),
        high=1.0 if (y == 1.0).all() else float(np.percentile(rates, 97.5)),
        n=n,
        coefficients=board.coefficients,
        confounded=board.confounded,
    )
