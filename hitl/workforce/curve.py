"""The routing curve: label accuracy against an oracle as a function of the human judgments spent, for all-human
labelling and for routing with a reward model (pure; simulated raters).

    python scripts/bench_routing.py --data ../shared/data/hh-harmless --reward reward:bench-results/human-oracle/...

Each item has the oracle's better response and the reward model's calibrated probability that response 0 is better
(0.5 without a model). Simulated raters (hitl.simulate.RaterBehaviour) answer with their own noise. Policies:

* ``human-k``: k judgments per item, majority label (a split vote goes to the reward model's side).
* ``auto``: the reward model labels an item alone when its calibrated confidence reaches the threshold; a share
  of those (the audit) and every other item get k human judgments.
* ``auto+stop``: as auto, but humans are asked one at a time and an item stops as soon as the posterior of its
  label (the reward model's probability as the prior, each judgment's likelihood ratio from the raters' accuracy)
  reaches the threshold, or after k judgments. In a campaign: auto_label_threshold and stop_at_confidence at the
  threshold, overlap k (hitl.workforce.automation, hitl.workforce.stopping).

Accuracy comes with its Wilson 95% interval and n; the audit's agreement (humans with the auto-label) too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from hitl.quality.stats import RateStat, rate_stat
from hitl.simulate.raters import RaterBehaviour

POLICIES = ("human", "auto", "auto+stop")


@dataclass(frozen=True)
class RoutedItem:
    truth: int  # the oracle's better response: 0 or 1
    prior: float = 0.5  # calibrated P(response 0 is better) from the reward model


@dataclass(frozen=True)
class Policy:
    kind: str  # one of POLICIES
    threshold: float = 1.0  # the confidence at which the model (or the model and the votes so far) decides
    overlap: int = 3  # human judgments per item that goes to humans (the most, for auto+stop)
    audit_share: float = 0.0  # share of auto-labelled items also sent to humans

    @property
    def label(self) -> str:
        if self.kind == "human":
            return f"human-{self.overlap}"
        return f"{self.kind} t={self.threshold:g} k={self.overlap} audit={self.audit_share:g}"


@dataclass(frozen=True)
class CurvePoint:
    policy: str
    threshold: float
    items: int
    human_judgments: int
    per_item: float  # human judgments per item
    accuracy: RateStat  # labels matching the oracle
    auto_share: float  # items the model labelled alone (audited ones included)
    audit: RateStat  # audited auto-labels whose human majority agreed with the model


def _vote(rater: RaterBehaviour, truth: int, rng: random.Random, position: int) -> int:
    """One simulated judgment of a pair whose better response is `truth`, shown in random order."""
    shown = [0, 1]
    rng.shuffle(shown)
    scores = [1.0 if i == truth else 0.0 for i in shown]
    order, _, _, _ = rater.decide(scores, [1, 1], position, rng)
    return shown[order[0]]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def route_one(
    item: RoutedItem, policy: Policy, crowd: Sequence[RaterBehaviour], accuracy: float, rng: random.Random
) -> tuple[int, int, bool, int | None]:
    """(label, human judgments, auto-labelled, human majority of an audit or None) for one item."""
    model_label = 0 if item.prior >= 0.5 else 1
    confident = max(item.prior, 1 - item.prior) >= policy.threshold
    if policy.kind != "human" and confident:
        if rng.random() >= policy.audit_share:
            return model_label, 0, True, None
        votes = [_vote(rng.choice(crowd), item.truth, rng, 0) for _ in range(policy.overlap)]
        majority = _majority(votes, model_label)
        return majority, len(votes), True, majority
    raters = rng.sample(list(crowd), min(policy.overlap, len(crowd)))
    if policy.kind != "auto+stop":
        votes = [_vote(r, item.truth, rng, 0) for r in raters]
        return _majority(votes, model_label), len(votes), False, None
    # Sequential: the model's probability is the prior; each vote moves the log-odds by the raters' accuracy.
    step, log_odds, votes = _logit(accuracy), _logit(item.prior), []
    for r in raters:
        votes.append(_vote(r, item.truth, rng, 0))
        log_odds += step if votes[-1] == 0 else -step
        if max(1 / (1 + math.exp(-log_odds)), 1 / (1 + math.exp(log_odds))) >= policy.threshold - 1e-9:
            break
    return (0 if log_odds >= 0 else 1), len(votes), False, None


def _majority(votes: list[int], fallback: int) -> int:
    ones = sum(votes)
    if ones * 2 == len(votes):
        return fallback
    return 1 if ones * 2 > len(votes) else 0


def route(
    items: Sequence[RoutedItem],
    policy: Policy,
    crowd: Sequence[RaterBehaviour],
    accuracy: float,
    seed: int = 0,
) -> CurvePoint:
    """Label every item under `policy`; `accuracy` is what the policy believes of a judgment (e.g. from gold)."""
    if policy.kind not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy.kind!r}")
    rng = random.Random(seed)
    correct = spent = auto = audited = agreed = 0
    for item in items:
        label, n, was_auto, audit = route_one(item, policy, crowd, accuracy, rng)
        correct += label == item.truth
        spent += n
        auto += was_auto
        if audit is not None:
            audited += 1
            agreed += audit == (0 if item.prior >= 0.5 else 1)
    return CurvePoint(
        policy=policy.label,
        threshold=policy.threshold,
        items=len(items),
        human_judgments=spent,
        per_item=spent / len(items) if items else math.nan,
        accuracy=rate_stat(correct, len(items)),
        auto_share=auto / len(items) if items else math.nan,
        audit=rate_stat(agreed, audited),
    )


def savings_at(human: Sequence[CurvePoint], routed: Sequence[CurvePoint]) -> list[dict]:
    """For each all-human point: the cheapest routed point at least as accurate, and the share of human
    judgments it saves (None when no routed point reaches that accuracy)."""
    out = []
    for h in human:
        matching = [r for r in routed if r.accuracy.rate >= h.accuracy.rate]
        best = min(matching, key=lambda r: r.human_judgments, default=None)
        out.append(
            {
                "all_human": h.policy,
                "accuracy": h.accuracy.rate,
                "judgments": h.human_judgments,
                "routed": best.policy if best else None,
                "routed_accuracy": best.accuracy.rate if best else None,
                "routed_judgments": best.human_judgments if best else None,
                "saved": 1 - best.human_judgments / h.human_judgments if best and h.human_judgments else None,
            }
        )
    return out


def pooled(points: Sequence[CurvePoint]) -> CurvePoint:
    """One point from repeats of the same policy (more simulated raters, the same items)."""
    first = points[0]
    items = sum(p.items for p in points)
    spent = sum(p.human_judgments for p in points)
    correct = sum(p.accuracy.correct for p in points)
    audits = sum(p.audit.total for p in points)
    agreed = sum(p.audit.correct for p in points)
    return CurvePoint(
        policy=first.policy,
        threshold=first.threshold,
        items=items,
        human_judgments=spent,
        per_item=spent / items if items else math.nan,
        accuracy=rate_stat(correct, items),
        auto_share=sum(p.auto_share * p.items for p in points) / items if items else math.nan,
        audit=rate_stat(agreed, audits),
    )


def routing_curve(
    items: Sequence[RoutedItem],
    thresholds: Sequence[float],
    crowd: Sequence[RaterBehaviour],
    accuracy: float,
    overlaps: Sequence[int] = (1, 3, 5),
    max_judgments: Sequence[int] = (3, 5, 7),
    audit_share: float = 0.1,
    repeats: int = 10,
    seed: int = 0,
) -> tuple[list[CurvePoint], list[CurvePoint]]:
    """(all-human points at each overlap, routed points: auto at each overlap and auto+stop with each of
    `max_judgments` as its most, for each threshold), each pooled over `repeats` simulations of the raters."""
    for t in thresholds:
        if not 0.5 <= t <= 1.0:
            raise ValueError(f"thresholds are confidences between 0.5 and 1, not {t}")

    def run(policy: Policy) -> CurvePoint:
        return pooled([route(items, policy, crowd, accuracy, seed=seed + r) for r in range(repeats)])

    human = [run(Policy("human", overlap=k)) for k in overlaps]
    routed = [run(Policy("auto", t, k, audit_share)) for t in thresholds for k in overlaps]
    routed += [run(Policy("auto+stop", t, m, audit_share)) for t in thresholds for m in max_judgments]
    return human, routed
