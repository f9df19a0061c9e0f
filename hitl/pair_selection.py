"""Which pairs of a prompt's candidate answers raters should judge: the ones whose label should teach the reward
model most, never two near-identical texts.

    hitl loop --campaign demo --selection informative      # the loop's queue step uses this module

Pure functions over plain arrays (no model here). Each prompt has several candidate answers; for each candidate
the caller passes reward *samples* (rows: members of a small ensemble, or MC-dropout passes of one reward
model). For a pair (a, b) every sample s gives p_s = sigmoid(r_a,s - r_b,s), the probability that a is preferred:

- disagreement (BALD, the mutual information between the label and the model): H(mean p) - mean H(p_s). High
  when the samples are each sure but disagree with each other: a label settles what the model does not know.
- uncertainty: H(mean p), the total entropy of the predicted label (includes pairs the model finds equal).
- spread: |mean reward gap| in units of the samples' spread; large when the pair differs in what the model has
  learned to care about, which makes a decisive (non-tie) human answer likely.

`diversity` (round 0: no reward model yet) ranks by how different the two answers are, in words (1 - bigram
similarity) and in form (line and list structure, numbers, sentence length, length): raters' preferences are often
about either, and two answers alike in both rarely get a decisive label. `informative` ranks by disagreement +
uncertainty_weight * uncertainty + spread_weight * tanh(spread) + diversity_weight * diversity; `random` is the
baseline.
With `decisive` (hitl.decisiveness: the chance raters decide a pair rather than tie it, learned from the campaign's
judged pairs), the score of `diversity` and `informative` is multiplied by it: a tie teaches the reward model
nothing, so a pair's expected information is its information when decided times the chance it is.
Pairs whose texts are near-duplicates (word-shingle Jaccard similarity at or above `max_similarity`) are never
chosen, under any method.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

METHODS = ("informative", "diversity", "random")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SelectionSettings:
    """How pairs are chosen; the loop's RoundPlan carries these."""

    method: str = "informative"
    max_similarity: float = 0.8
    per_prompt: int = 2
    uncertainty_weight: float = 0.25
    spread_weight: float = 0.5
    diversity_weight: float = 0.25

    def validate(self) -> None:
        from hitl.errors import InvalidInput

        if self.method not in METHODS:
            raise InvalidInput(f"selection must be one of {', '.join(METHODS)}, not {self.method!r}")
        if not 0 < self.max_similarity <= 1:
            raise InvalidInput(f"max_similarity must be in (0, 1], not {self.max_similarity}")
        if self.per_prompt < 1:
            raise InvalidInput(f"per_prompt must be at least 1, not {self.per_prompt}")


@dataclass(frozen=True)
class PromptCandidates:
    """One prompt's candidate answers: ids (e.g. response ids), texts, and optional reward samples [S, n]."""

    key: int
    ids: Sequence[int]
    texts: Sequence[str]
    rewards: np.ndarray | None = None


@dataclass(frozen=True)
class ChosenPair:
    key: int
    ids: tuple[int, int]
    score: float
    method: str
    details: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict:
        """What is stored on the item: how and why it was chosen."""
        return {
            "method": self.method,
            "score": round(self.score, 6),
            **{k: round(v, 6) for k, v in self.details.items()},
        }


def reward_samples_by_prompt(
    score: Callable[[list[str], list[str]], np.ndarray], groups: Sequence[tuple[str, Sequence[str]]]
) -> list[np.ndarray]:
    """Each group's (prompt, answers) reward samples [S, len(answers)], from one call of `score` over every answer
    of every group: one scoring pass batches answers by length across prompts, far faster than one per prompt.
    `score(prompts, texts)` returns [S, len(texts)] (the rows: ensemble members or MC-dropout passes)."""
    if not groups:
        return []
    prompts = [prompt for prompt, answers in groups for _ in answers]
    flat = np.asarray(score(prompts, [text for _, answers in groups for text in answers]))
    bounds = np.cumsum([0, *[len(answers) for _, answers in groups]])
    return [flat[:, bounds[i] : bounds[i + 1]] for i in range(len(groups))]


def shingles(text: str, size: int = 2) -> frozenset[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < size:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word bigrams (1.0 for texts equal up to case, spacing and punctuation)."""
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def form(text: str) -> tuple[float, ...]:
    """A few counts that describe an answer's shape rather than its words."""
    words = len(_WORD.findall(text))
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    return (
        float(text.count("\n")),
        float(len(_LIST_LINE.findall(text))),
        float(sum(c.isdigit() for c in text)),
        float(sentences),
        words / sentences,
        float(words),
    )


def form_distance(a: str, b: str) -> float:
    """0 for answers of the same shape, towards 1 as their shapes differ (mean relative difference of `form`)."""
    return float(np.mean([abs(x - y) / (x + y + 1.0) for x, y in zip(form(a), form(b), strict=True)]))


def diversity(a: str, b: str, sim: float | None = None) -> float:
    """How different two answers are, in words and in form (0..1)."""
    return 0.5 * (1.0 - (similarity(a, b) if sim is None else sim)) + 0.5 * form_distance(a, b)


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def pair_information(samples_a: np.ndarray, samples_b: np.ndarray) -> dict[str, float]:
    """Disagreement (BALD), uncertainty and spread of one pair from the reward samples of its two answers."""
    gaps = np.asarray(samples_a, dtype=float) - np.asarray(samples_b, dtype=float)
    p = 1.0 / (1.0 + np.exp(-gaps))
    total = float(_entropy(np.array([p.mean()]))[0])
    expected = float(_entropy(p).mean())
    scale = float(gaps.std()) + 1e-6
    return {
        "disagreement": max(0.0, total - expected),
        "uncertainty": total,
        "spread": abs(float(gaps.mean())) / scale,
        "mean_gap": float(gaps.mean()),
    }


def _candidates(prompt: PromptCandidates, settings: SelectionSettings) -> list[tuple[int, int, float]]:
    """(i, j, text similarity) for every pair of distinct, not near-duplicate candidates."""
    out = []
    for i, j in combinations(range(len(prompt.texts)), 2):
        if prompt.ids[i] == prompt.ids[j]:
            continue
        sim = similarity(prompt.texts[i], prompt.texts[j])
        if sim < settings.max_similarity and prompt.texts[i].strip() != prompt.texts[j].strip():
            out.append((i, j, sim))
    return out


# (answer a, answer b) -> probability that raters decide the pair (not a tie); see hitl.decisiveness.
Decisive = Callable[[str, str], float]


def score_pair(
    prompt: PromptCandidates, i: int, j: int, sim: float, settings: SelectionSettings, decisive: Decisive | None = None
) -> ChosenPair:
    ids = (prompt.ids[i], prompt.ids[j])
    varied = diversity(prompt.texts[i], prompt.texts[j], sim)
    details = {"similarity": sim, "diversity": varied}
    chance = 1.0
    if decisive is not None:
        chance = decisive(prompt.texts[i], prompt.texts[j])
        details["p_decisive"] = chance
    if settings.method == "diversity" or prompt.rewards is None:
        return ChosenPair(prompt.key, ids, chance * varied, "diversity", details)
    info = pair_information(prompt.rewards[:, i], prompt.rewards[:, j])
    score = info["disagreement"] + settings.uncertainty_weight * info["uncertainty"]
    score += settings.spread_weight * math.tanh(info["spread"]) + settings.diversity_weight * varied
    return ChosenPair(prompt.key, ids, chance * score, "informative", {**details, **info})


def select_pairs(
    prompts: Sequence[PromptCandidates],
    budget: int,
    settings: SelectionSettings,
    rng: random.Random,
    exclude: set[tuple[int, frozenset[int]]] | None = None,
    decisive: Decisive | None = None,
) -> list[ChosenPair]:
    """Up to `budget` pairs over all prompts, at most `settings.per_prompt` per prompt and no answer twice within a
    prompt's chosen pairs, best first; pairs in `exclude` ((key, {id, id}), e.g. already judged) are never chosen.
    `informative` without reward samples falls back to `diversity`; `decisive` weighs both (never `random`)."""
    settings.validate()
    exclude = exclude or set()
    scored: list[ChosenPair] = []
    for prompt in prompts:
        pairs = [
            (i, j, sim)
            for i, j, sim in _candidates(prompt, settings)
            if (prompt.key, frozenset((prompt.ids[i], prompt.ids[j]))) not in exclude
        ]
        if settings.method == "random":
            scored += [
                ChosenPair(prompt.key, (prompt.ids[i], prompt.ids[j]), rng.random(), "random") for i, j, _ in pairs
            ]
        else:
            scored += [score_pair(prompt, i, j, sim, settings, decisive) for i, j, sim in pairs]
    # Ties in score (e.g. every pair of an untrained model) are broken at random, not by position.
    order = sorted(scored, key=lambda c: (-c.score, rng.random()))
    chosen: list[ChosenPair] = []
    taken: dict[int, set[int]] = {}
    for pair in order:
        if len(chosen) >= budget:
            break
        used = taken.setdefault(pair.key, set())
        if len(used) // 2 >= settings.per_prompt or used & set(pair.ids):
            continue
        used.update(pair.ids)
        chosen.append(pair)
    return chosen
