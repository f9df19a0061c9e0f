"""The whole leaderboard from plain battle records: raw and style-controlled ratings side by side with 95%
intervals, simultaneous rank intervals, a verdict per adjacent pair, the battles that would separate each
unseparated pair, per-category boards from prompt tags, and the models with no battles listed as unrated.

    hitl leaderboard --judge human            # the same report in the terminal (or --json)

Pure functions (no store): `draw` does the costly part once per change of the battle set (the raw and the
style-controlled bootstrap at MAX_ROUNDS, each category's bootstrap at CATEGORY_ROUNDS); `report(draws, rounds)`
reads intervals, ranks and verdicts off the first `rounds` resamples, which costs a few array operations.

Bad input is part of the contract: fewer than MIN_BATTLES_TO_RANK battles (on the board or in a category) says so
instead of ranking; a model with no battles is listed as unrated; a model that won (lost) every battle keeps a
finite rating (the fits' priors) and its interval is open above (below).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hitl.arena_integrity import IntegrityReport, VoterFlag
from hitl.rank_intervals import (
    PairPlan,
    RankInterval,
    Verdict,
    adjacent_verdicts,
    pair_plan,
    rank_intervals,
)
from hitl.ratings import MAX_ROUNDS, SCALE, bootstrap_samples, bradley_terry, intervals_from
from hitl.style_control import STYLE_FEATURES, StyleBoard, StyleCoefficient, style_board

# Below this many battles a bootstrap interval says nothing (a single battle resamples to itself): no ranking.
MIN_BATTLES_TO_RANK = 10
# Categories get a smaller bootstrap (there can be many); at most this many are shown, those with most battles.
CATEGORY_ROUNDS = 200
MAX_CATEGORIES = 12
VIEWS = ("raw", "style")  # what orders a report: the plain ratings or the style-controlled ones


@dataclass(frozen=True)
class BattleRecord:
    """One counted battle: the two models, A's score (1 / 0.5 / 0), both answers' style counts
    (hitl.style_control.style_counts) and the prompt's tags."""

    model_a: str
    model_b: str
    outcome: float
    style_a: tuple[int, ...]
    style_b: tuple[int, ...]
    tags: tuple[str, ...] = ()
    weight: float = 1.0  # below 1 for battles on a prompt asked several times (hitl.arena_integrity)


@dataclass(frozen=True)
class Draws:
    """The costly part of a report: bootstrap resamples of every board, drawn once per battle set."""

    records: list[BattleRecord]
    known: list[str]  # every model that could be on the board (with stored answers), battles or not
    raw: dict[str, float]
    raw_models: list[str]
    raw_samples: np.ndarray
    style: StyleBoard
    categories: dict[str, tuple[dict[str, float], list[str], np.ndarray, int]]  # tag -> (ratings, cols, samples, n)
    hidden_categories: int  # categories with battles beyond MAX_CATEGORIES
    integrity: IntegrityReport | None = None  # what the integrity rules removed before these draws (human votes)


def draw(
    records: Sequence[BattleRecord],
    known: Sequence[str] = (),
    *,
    seed: int = 0,
    integrity: IntegrityReport | None = None,
) -> Draws:
    """Fit and resample every board of these battles (the one costly step of a report)."""
    records = list(records)
    battles = [(r.model_a, r.model_b, r.outcome) for r in records]
    weights = [r.weight for r in records]
    raw = bradley_terry(battles, weights=weights)
    raw_models, raw_samples = bootstrap_samples(
        battles, rounds=MAX_ROUNDS if battles else 0, seed=seed, weights=weights
    )
    style = style_board(
        [r.model_a for r in records],
        [r.model_b for r in records],
        [r.outcome for r in records],
        np.array([r.style_a for r in records], dtype=float).reshape(len(records), len(STYLE_FEATURES)),
        np.array([r.style_b for r in records], dtype=float).reshape(len(records), len(STYLE_FEATURES)),
        rounds=MAX_ROUNDS if records else 0,
        seed=seed,
        weights=weights,
    )
    by_tag = Counter(t for r in records for t in set(r.tags))
    shown = [t for t, _ in sorted(by_tag.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]]
    categories = {}
    for tag in sorted(shown):
        inside = [r for r in records if tag in r.tags]
        sub = [(r.model_a, r.model_b, r.outcome) for r in inside]
        w = [r.weight for r in inside]
        rounds = CATEGORY_ROUNDS if len(sub) >= MIN_BATTLES_TO_RANK else 0
        cols, samples = bootstrap_samples(sub, rounds=rounds, seed=seed, weights=w)
        categories[tag] = (bradley_terry(sub, weights=w), cols, samples, len(sub))
    known_all = sorted(set(known) | set(raw))
    hidden = len(by_tag) - len(shown)
    return Draws(records, known_all, raw, raw_models, raw_samples, style, categories, hidden, integrity)


@dataclass(frozen=True)
class ModelRow:
    """One model on the board: raw and style-controlled rating with 95% intervals (None: open-ended), its rank
    interval under the view the board is ordered by, and its battles. Unrated models have rating None."""

    model: str
    rank: str  # "1", "2–3", "unrated"
    rating: float | None
    low: float | None
    high: float | None
    style_rating: float | None
    style_low: float | None
    style_high: float | None
    battles: int
    wins: int
    losses: int
    ties: int

    @property
    def rated(self) -> bool:
        return self.rating is not None


@dataclass(frozen=True)
class CategoryBoard:
    """A per-tag board: its rows (ranked) or, under MIN_BATTLES_TO_RANK battles, only the message why not."""

    tag: str
    n_battles: int
    rows: list[ModelRow]
    message: str


@dataclass(frozen=True)
class Report:
    view: str  # "raw" or "style": what orders the rows, the ranks and the verdicts
    n_battles: int
    rounds: int
    rows: list[ModelRow]
    coefficients: list[StyleCoefficient]
    skipped_features: list[str]
    verdicts: list[Verdict]
    plans: list[PairPlan]
    categories: list[CategoryBoard]
    hidden_categories: int
    critical_value: float  # multiplier of the band over every pair's gap that sets the ranks (1.96 for two models)
    message: str
    notes: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)  # one line per integrity rule: what it removed
    flagged_voters: list[VoterFlag] = field(default_factory=list)


def _tallies(records: Sequence[BattleRecord]) -> tuple[Counter, Counter, Counter, Counter]:
    wins, losses, ties, total = Counter(), Counter(), Counter(), Counter()
    for r in records:
        total[r.model_a] += 1
        total[r.model_b] += 1
        if r.outcome == 0.5:
            ties[r.model_a] += 1
            ties[r.model_b] += 1
        else:
            winner, loser = (r.model_a, r.model_b) if r.outcome == 1.0 else (r.model_b, r.model_a)
            wins[winner] += 1
            losses[loser] += 1
    return wins, losses, ties, total


def _bounds(low: float, high: float, won_all: bool, lost_all: bool) -> tuple[float | None, float | None]:
    """An interval with its open ends as None: a model that never lost has no upper bound the data can set."""
    lo = None if lost_all or math.isnan(low) else float(low)
    hi = None if won_all or math.isnan(high) else float(high)
    return lo, hi


def _ranked(
    ratings: dict[str, float], cols: list[str], samples: np.ndarray, n: int
) -> tuple[dict[str, RankInterval], list[Verdict], float]:
    ranked, c = rank_intervals(cols, ratings, samples)
    ranks = {r.model: r for r in ranked}
    if n < MIN_BATTLES_TO_RANK:
        everyone = len(ratings)
        ranks = {m: RankInterval(m, r.rank, 1, everyone) for m, r in ranks.items()}
        return ranks, [], c
    return ranks, adjacent_verdicts(cols, ratings, samples), c


def _rows(
    ratings: dict[str, float],
    intervals: dict[str, tuple[float, float]],
    style: dict[str, tuple[float, float, float]],
    ranks: dict[str, RankInterval],
    records: Sequence[BattleRecord],
    known: Sequence[str],
    order: dict[str, float],
) -> list[ModelRow]:
    wins, losses, ties, total = _tallies(records)
    rows = []
    for m in sorted(ratings, key=lambda k: (-order[k], k)):
        won_all = total[m] > 0 and wins[m] == total[m]
        lost_all = total[m] > 0 and losses[m] == total[m]
        low, high = _bounds(*intervals.get(m, (math.nan, math.nan)), won_all, lost_all)
        s_rating, s_low, s_high = style.get(m, (math.nan, math.nan, math.nan))
        s_low, s_high = _bounds(s_low, s_high, won_all, lost_all)
        rows.append(
            ModelRow(
                m,
                ranks[m].text(),
                float(ratings[m]),
                low,
                high,
                None if math.isnan(s_rating) else float(s_rating),
                s_low,
                s_high,
                total[m],
                wins[m],
                losses[m],
                ties[m],
            )
        )
    for m in sorted(set(known) - set(ratings)):
        rows.append(ModelRow(m, "unrated", None, None, None, None, None, None, 0, 0, 0, 0))
    return rows


def _plans(
    verdicts: list[Verdict], records: Sequence[BattleRecord], ratings: dict[str, float], controlled: bool
) -> list[PairPlan]:
    """The planner for every adjacent pair the board cannot separate yet."""
    plans = []
    for v in verdicts:
        if v.separated:
            continue
        a, b = v.higher, v.lower
        meets = [r for r in records if {r.model_a, r.model_b} == {a, b}]
        points = sum(r.outcome if r.model_a == a else 1.0 - r.outcome for r in meets)
        implied = 1.0 / (1.0 + 10.0 ** ((ratings[b] - ratings[a]) / SCALE))
        plans.append(pair_plan(a, b, points, len(meets), implied_rate=implied, controlled=controlled))
    return plans


def _category(tag: str, entry: tuple, records: Sequence[BattleRecord], known: Sequence[str]) -> CategoryBoard:
    ratings, cols, samples, n = entry
    sub = [r for r in records if tag in r.tags]
    if n < MIN_BATTLES_TO_RANK:
        plural = "" if n == 1 else "s"
        message = f"only {n} battle{plural} on {tag!r} prompts: too few to rank (at least {MIN_BATTLES_TO_RANK})"
        return CategoryBoard(tag, n, [], message)
    ranks, _, _ = _ranked(ratings, cols, samples, n)
    intervals = intervals_from(cols, samples)
    rows = _rows(ratings, intervals, {}, ranks, sub, known, ratings)
    return CategoryBoard(tag, n, rows, f"{n} battles on {tag!r} prompts")


def interval_text(low: float | None, high: float | None, rated: bool = True) -> str:
    """A row's interval as people read it: '950 – 1080', '≥ 950' (open above: never lost), '≤ 1080', '–'."""
    if not rated:
        return "–"
    if low is None and high is None:
        return "open"
    if high is None:
        return f"≥ {low:.0f}"
    if low is None:
        return f"≤ {high:.0f}"
    return f"{low:.0f} – {high:.0f}"


def report(draws: Draws, rounds: int = 1000, view: str = "raw") -> Report:
    """The board read off the first `rounds` resamples, ordered, ranked and judged by `view` ("raw" / "style")."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    if not 0 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be between 0 and {MAX_ROUNDS}, not {rounds}")
    records, n = draws.records, len(draws.records)
    raw_samples = draws.raw_samples[:rounds]
    style = draws.style.at(rounds)
    style_ratings = {r.model: r.rating for r in style.ratings}
    if view == "raw":
        ratings, cols, samples = draws.raw, draws.raw_models, raw_samples
    else:
        ratings, cols, samples = style_ratings, style.models, style.samples
    ranks, verdicts, c = _ranked(ratings, cols, samples, n)
    rows = _rows(
        draws.raw,
        intervals_from(draws.raw_models, raw_samples),
        {r.model: (r.rating, r.low, r.high) for r in style.ratings},
        ranks,
        records,
        draws.known,
        ratings,
    )
    if not n:
        message = "no battles yet"
    elif n < MIN_BATTLES_TO_RANK:
        message = f"only {n} battle{'' if n == 1 else 's'}: too few to separate the models, so no ranking yet"
    else:
        message = f"{n} battles"
    notes = []
    if style.skipped and n:
        notes.append(
            f"style features that never differ in these battles (nothing to control): {', '.join(style.skipped)}"
        )
    if style.confounded:
        notes.append(
            f"not controlled: {', '.join(style.confounded)}. It nearly follows from which models met (e.g. one "
            "model's answers are longer than the other's in almost every battle), so its effect cannot be told apart "
            "from the models' and the style-controlled rating leaves it in"
        )
    categories = [_category(tag, entry, records, draws.known) for tag, entry in draws.categories.items()]
    return Report(
        view=view,
        n_battles=n,
        rounds=min(rounds, len(raw_samples)),
        rows=rows,
        coefficients=style.coefficients,
        skipped_features=style.skipped,
        verdicts=verdicts,
        plans=_plans(verdicts, records, ratings, controlled=view == "style"),
        categories=categories,
        hidden_categories=draws.hidden_categories,
        critical_value=c,
        message=message,
        notes=notes,
        integrity=[] if draws.integrity is None else [r.text() for r in draws.integrity.rules],
        flagged_voters=[] if draws.integrity is None else draws.integrity.flagged,
    )
