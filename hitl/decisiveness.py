"""Which pairs raters will decide rather than tie, learned from the campaign's own judged pairs.

    hitl loop --campaign demo        # the loop's queue steps weigh every candidate pair by it

A tie teaches a Bradley-Terry reward model nothing, and under a sparse preference (most answers differ in ways the
raters do not care about) most pairs are ties: a batch chosen for diversity alone spends most of its judgments on
them. The judged pairs say which *differences* raters decide on: this module fits a small L2-regularised logistic
regression from features of a pair's difference (form: lines, list lines, digits, sentences, words; and hashed
markers that one answer has and the other lacks: words, the first token of each line, punctuation) to the share of
decisive votes. It knows nothing of any rule; it learns whatever the raters' ties and decisions show.

It is used only when it predicts: a 5-fold cross-validated log loss below that of the base rate (with the
regularisation chosen by the same folds). Otherwise `fit_decisiveness` returns None and choice stays as it was.
Pure numpy; no model, no store.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hitl.pair_selection import form

# Two answers differ in a hundred or so markers; in 256 buckets each bucket holds a few unrelated ones, and the
# marker that decides (e.g. "for example" in one answer only) drowned: under such a rule the fit predicted no better
# than the base rate until 768 judged pairs. 1,024 buckets predicted from the first 128 and the pairs it chose from
# the next batch's answers held 14-19 decided ones of 128 against 8-16 without it (scripts/bench_loop.py stores,
# rule:example); a fit on 768 pairs takes about 3 s.
HASH_BUCKETS = 1024
_TOKEN = re.compile(r"\w+|[^\w\s]")
_PUNCT = re.compile(r"[^\w\s]")
_PENALTIES = (0.3, 3.0, 30.0)


def _markers(text: str) -> set[str]:
    """What an answer has, as strings: its words, the first token of each of its lines, its punctuation marks."""
    marks = {"w:" + w.lower() for w in re.findall(r"\w+", text)}
    for line in text.splitlines():
        first = _TOKEN.findall(line.strip())
        if first:
            # "1." and "1)" and "-" open list lines: keep a digit's following mark with it.
            token = first[0] + (first[1] if len(first) > 1 and first[0].isdigit() and _PUNCT.match(first[1]) else "")
            marks.add("^" + re.sub(r"\d+", "#", token.lower()))
    marks.update("p:" + c for c in _PUNCT.findall(text))
    return marks


def pair_features(a: str, b: str) -> np.ndarray:
    """Symmetric features of how two answers differ (swapping a and b gives the same vector)."""
    shape = [abs(x - y) / (x + y + 1.0) for x, y in zip(form(a), form(b), strict=True)]
    hashed = np.zeros(HASH_BUCKETS)
    for mark in _markers(a) ^ _markers(b):
        hashed[zlib.crc32(mark.encode()) % HASH_BUCKETS] += 1.0
    return np.concatenate([np.asarray(shape), np.log1p(hashed)])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, penalty: float) -> np.ndarray:
    """Weighted logistic regression with soft labels y in [0, 1], L2 on all but the intercept (Newton steps)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    ridge = np.full(design.shape[1], penalty)
    ridge[0] = 1e-6
    for _ in range(50):
        p = _sigmoid(design @ beta)
        grad = design.T @ (weight * (p - y)) + ridge * beta
        hess = (design * (weight * p * (1 - p))[:, None]).T @ design + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-6:
            break
    return beta


def _log_loss(y: np.ndarray, p: np.ndarray, weight: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(np.sum(weight * -(y * np.log(p) + (1 - y) * np.log(1 - p))) / np.sum(weight))


@dataclass(frozen=True)
class DecisivenessModel:
    """P(a rater decides a pair rather than tying it), with the evidence that it predicts."""

    beta: np.ndarray
    pairs: int  # judged pairs it was fitted on
    base_rate: float  # the share of decisive votes over them
    cv_log_loss: float  # 5-fold cross-validated, at the chosen penalty
    base_log_loss: float  # the same folds, predicting each fold's training base rate
    penalty: float

    def predict(self, a: str, b: str) -> float:
        x = pair_features(a, b)
        return float(_sigmoid(np.array([self.beta[0] + x @ self.beta[1:]]))[0])

    def summary(self) -> dict[str, float]:
        """What a round records about it."""
        return {
            "pairs": self.pairs,
            "base_rate": round(self.base_rate, 4),
            "cv_log_loss": round(self.cv_log_loss, 4),
            "base_log_loss": round(self.base_log_loss, 4),
        }


def fit_decisiveness(
    pairs: Sequence[tuple[str, str]],
    decided: Sequence[float],
    votes: Sequence[int] | None = None,
    *,
    min_pairs: int = 40,
    folds: int = 5,
    seed: int = 0,
) -> DecisivenessModel | None:
    """Fit on judged pairs (their two texts), each with its share of decisive votes in [0, 1] and its number of
    votes (the weight; 1 each when None). None when there are fewer than `min_pairs`, when every vote went one way,
    or when the fit does not predict held-out pairs better than the base rate does."""
    y = np.asarray(decided, dtype=float)
    n = len(y)
    w = np.ones(n) if votes is None else np.asarray(votes, dtype=float)
    if n < min_pairs or len(pairs) != n or len(w) != n:
        return None
    base = float(np.sum(w * y) / np.sum(w))
    if base <= 0.0 or base >= 1.0:
        return None
    x = np.stack([pair_features(a, b) for a, b in pairs])
    fold = np.random.default_rng(seed).permutation(n) % folds
    base_loss = 0.0
    losses = dict.fromkeys(_PENALTIES, 0.0)
    for k in range(folds):
        train, test = fold != k, fold == k
        rate = float(np.sum(w[train] * y[train]) / np.sum(w[train]))
        base_loss += _log_loss(y[test], np.full(int(test.sum()), rate), w[test]) * w[test].sum()
        for penalty in _PENALTIES:
            beta = _fit_logistic(x[train], y[train], w[train], penalty)
            p = _sigmoid(beta[0] + x[test] @ beta[1:])
            losses[penalty] += _log_loss(y[test], p, w[test]) * w[test].sum()
    total = float(w.sum())
    penalty = min(losses, key=losses.get)
    cv_loss, base_loss = losses[penalty] / total, base_loss / total
    if not math.isfinite(cv_loss) or cv_loss >= base_loss:
        return None
    beta = _fit_logistic(x, y, w, penalty)
    return DecisivenessModel(beta, n, base, cv_loss, base_loss, penalty)
