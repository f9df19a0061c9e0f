"""Position and length bias measured against the crowd: does a rater pick the first-shown (or longer) response more
often than the consensus of the same items says an honest rater of their accuracy would?

    python -m pytest -q tests/quality/test_quality_crowd_bias.py

Testing a rater's share of longer picks against 50% confuses a campaign's taste with a rater's habit: when the
better answers happen to be the shorter ones, every honest rater "prefers shorter" at p < 1e-3. Here each decisive
pick is set against what the others say about the item, from the rater's own point of view: the gold answer on gold
items, else the Dawid-Skene posterior with the rater's own label divided out (a biased rater cannot make the
consensus they are compared with). For the length test that posterior's prior is the crowd's own length share
instead of the share of each canonical position: two disagreeing raters on a campaign where the longer answer wins
one time in five say "probably the shorter one", not "a coin flip".

If the posterior gives the property side probability pi and the rater is right with probability a (their
Dawid-Skene competence), an honest rater picks that side with probability e = pi * a + (1 - pi) * (1 - a) / (K - 1).
The number of such picks is then a sum of independent Bernoulli(e_i) (Poisson-binomial); the test is its exact
two-sided tail. Comparing slips or shares with the crowd's directly would not do: under a concise taste every slip
of an honest rater lands on the longer answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from hitl.quality.dawid_skene import DawidSkeneResult, dawid_skene, leave_one_out_posteriors
from hitl.quality.rows import JudgmentRow, by_rater, infer_n_responses, latest_by_item

# Above this many picks the exact Poisson-binomial tail (O(n^2)) gives way to its normal approximation.
EXACT_MAX_N = 2000


@dataclass(frozen=True)
class CrowdBias:
    """A rater's share of ``n`` decisive picks with the property, the crowd's share on the same items (the mean
    posterior that the property side is the better answer), what an honest rater of the same accuracy would pick
    (``expected``), and the exact two-sided p-value of the difference (nan with nothing to test). ``min_p``: the
    smallest p-value these ``n`` items allow (hitl.quality.multiple.reachable_family)."""

    share: float
    crowd_share: float
    expected: float
    n: int
    p_value: float = math.nan
    min_p: float = 1.0


@dataclass(frozen=True)
class Consensus:
    """For every (item, rater) the others have an opinion on: the posterior over the item's responses (canonical
    order, ties left out) without that rater, and each rater's accuracy on decisive answers."""

    posteriors: dict[tuple[int, str], np.ndarray]
    accuracy: dict[str, float]

    def best(self, min_posterior: float = 0.0) -> dict[tuple[int, str], int]:
        """(item, rater) -> the response the others prefer, where they prefer it with at least ``min_posterior``."""
        return {key: int(p.argmax()) for key, p in self.posteriors.items() if float(p.max()) >= min_posterior}


def crowd_consensus(rows: Iterable[JudgmentRow], result: DawidSkeneResult | None = None) -> Consensus:
    """The leave-one-out consensus of every judged item (gold items: their gold answer, with certainty)."""
    rows = list(rows)
    result = result if result is not None else dawid_skene(rows)
    k = infer_n_responses(rows)
    posteriors: dict[tuple[int, str], np.ndarray] = {}
    for key, post in leave_one_out_posteriors(result, rows).items():
        responses = post[:k]
        if responses.sum() > 0:
            posteriors[key] = responses / responses.sum()
    for item, raters in latest_by_item(rows).items():
        for rater, r in raters.items():
            if r.gold_answer is not None and r.gold_answer < k:
                posteriors[(item, rater)] = np.eye(k)[r.gold_answer]
    accuracy = {}
    for rater, confusion in result.confusion.items():
        weights = result.priors[:k]
        accuracy[rater] = float(weights @ np.diag(confusion)[:k] / weights.sum()) if weights.sum() else 0.5
    return Consensus(posteriors, accuracy)


def consensus_for_rater(
    rows: Iterable[JudgmentRow], result: DawidSkeneResult | None = None, min_posterior: float = 0.6
) -> dict[tuple[int, str], int]:
    """(item, rater) -> the canonical index the others prefer (gold answer on gold items), where their leave-one-out
    posterior for it is at least ``min_posterior``; what fatigue and escalation check judgments against."""
    return crowd_consensus(rows, result).best(min_posterior)


def _length_prior(result: DawidSkeneResult, rows: list[JudgmentRow], k: int) -> float:
    """The crowd's share of items whose better answer is the longer one (mean posterior of the longer response)."""
    longer = {r.item_id: r.longer for r in rows if r.longer is not None}
    shares = [float(result.posteriors[i][j] / result.posteriors[i][:k].sum()) for i, j in longer.items()]
    shares = [s for s in shares if not math.isnan(s)]
    # Clipped away from 0 and 1 so that a lopsided campaign still leaves the others' labels a say.
    return min(0.95, max(0.05, sum(shares) / len(shares))) if shares else 0.5


def _reprior(post: np.ndarray, canonical_prior: np.ndarray, longer: int, share: float) -> np.ndarray:
    """The posterior with the canonical-position prior swapped for the length prior (longer: `share`)."""
    k = len(post)
    prior = np.full(k, (1.0 - share) / max(1, k - 1))
    prior[longer] = share
    swapped = post / np.clip(canonical_prior[:k], 1e-12, None) * prior
    return swapped / swapped.sum()


def poisson_binomial_p(hits: int, e: np.ndarray) -> tuple[float, float]:
    """(two-sided p-value of `hits` successes, smallest p-value possible) for independent Bernoulli(e_i) trials.

    Two-sided by doubling the smaller tail, capped at 1. Exact by convolution up to EXACT_MAX_N trials, then the
    normal approximation with a continuity correction.
    """
    n = len(e)
    if n == 0:
        return math.nan, 1.0
    floor = min(1.0, 2.0 * min(float(np.prod(1.0 - e)), float(np.prod(e))))
    if n <= EXACT_MAX_N:
        pmf = np.array([1.0])
        for p in e:
            pmf = np.convolve(pmf, [1.0 - p, p])
        low, high = float(pmf[: hits + 1].sum()), float(pmf[hits:].sum())
    else:
        mean, sd = float(e.sum()), math.sqrt(float((e * (1 - e)).sum()))
        low, high = norm.cdf((hits + 0.5 - mean) / sd), norm.sf((hits - 0.5 - mean) / sd)
    return min(1.0, 2.0 * min(low, high)), floor


def _crowd_bias(
    rows: list[JudgmentRow],
    consensus: Consensus,
    side: Callable[[JudgmentRow], int | None],
    adjust: Callable[[JudgmentRow, np.ndarray], np.ndarray] = lambda r, post: post,
) -> dict[str, CrowdBias]:
    picks: dict[str, list[tuple[bool, float, float]]] = {rater: [] for rater in by_rater(rows)}
    for item, raters in latest_by_item(rows).items():
        for rater, r in raters.items():
            post = consensus.posteriors.get((item, rater))
            target = side(r)
            if r.winner is None or post is None or target is None or target >= len(post):
                continue
            post = adjust(r, post) if r.gold_answer is None else post
            a = consensus.accuracy.get(rater, 0.5)
            pi = float(post[target])
            e = pi * a + (1.0 - pi) * (1.0 - a) / max(1, len(post) - 1)
            picks[rater].append((r.winner == target, pi, min(1.0, max(0.0, e))))
    out: dict[str, CrowdBias] = {}
    for rater, own in picks.items():
        if not own:
            out[rater] = CrowdBias(share=math.nan, crowd_share=math.nan, expected=math.nan, n=0)
            continue
        hits = sum(x for x, _, _ in own)
        e = np.array([e for _, _, e in own])
        p, floor = poisson_binomial_p(hits, e)
        out[rater] = CrowdBias(
            share=hits / len(own),
            crowd_share=float(np.mean([pi for _, pi, _ in own])),
            expected=float(e.mean()),
            n=len(own),
            p_value=p,
            min_p=floor,
        )
    return out


def position_vs_crowd(
    rows: Iterable[JudgmentRow], consensus: Consensus | None = None, result: DawidSkeneResult | None = None
) -> dict[str, CrowdBias]:
    """Per rater: picks of the response shown first, against what the others' consensus predicts for them.

    Every rater in ``rows`` gets an entry; pass ``consensus`` (from :func:`crowd_consensus`) to reuse one fit.
    """
    rows = list(rows)
    consensus = crowd_consensus(rows, result) if consensus is None else consensus
    return _crowd_bias(rows, consensus, lambda r: r.first_shown)


def length_vs_crowd(
    rows: Iterable[JudgmentRow], consensus: Consensus | None = None, result: DawidSkeneResult | None = None
) -> dict[str, CrowdBias]:
    """Per rater: picks of the longer response (items whose responses differ in length), against the consensus
    with the crowd's length share as its prior."""
    rows = list(rows)
    result = dawid_skene(rows) if result is None else result
    consensus = crowd_consensus(rows, result) if consensus is None else consensus
    k = infer_n_responses(rows)
    share = _length_prior(result, rows, k)
    return _crowd_bias(
        rows, consensus, lambda r: r.longer, lambda r, post: _reprior(post, result.priors, r.longer, share)
    )
