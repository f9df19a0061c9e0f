"""Synthetic raters with known behaviour as plain judgment rows: what the quality tests and the flag-calibration
benchmark (scripts/bench_quality_flags.py) check each quality metric against.

    python -c "from hitl.simulate.rows import Rater, simulate; print(len(simulate({'a': Rater()}).rows))"

Items are pairwise with a true winner (0 or 1), a true strength 1..3 and a longer response that is independent of
the truth unless asked otherwise. Every judgment shows the two responses in a random order. Raters work through
their items in stretches of ``stretch_len`` judgments separated by an hour's break, so fatigue can be simulated and
measured.

Behaviours:

* ``honest``: picks the true winner with probability ``p_correct`` (else the other response); reports the item's
  strength, jittered by +-1 unless ``exact`` is set.
* ``first``: picks the response shown first (with probability ``habit``; otherwise judges like an honest rater).
* ``longer``: picks the longer response (a coin flip when lengths are equal), with probability ``habit``.
* ``random``: a fast spammer choosing uniformly among response 0, response 1 and tie, in about 1-2.5 seconds.
* ``adversarial``: picks the wrong response with probability ``p_correct``.
* ``fatigued``: like honest, but accuracy falls linearly from ``p_correct`` at the start of a stretch to ``p_end``
  after ``fatigue_len`` judgments, and stays there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hitl.quality import JudgmentRow

KINDS = ("honest", "first", "longer", "random", "adversarial", "fatigued")


@dataclass(frozen=True)
class Rater:
    kind: str = "honest"
    p_correct: float = 0.9
    p_end: float = 0.4
    fatigue_len: int = 40
    exact: bool = False
    seconds: tuple[float, float] = (8.0, 40.0)  # uniform range of time per judgment
    flag_share: float = 0.0  # share of judgments carrying a flag
    habit: float = 1.0  # first / longer: how often the habit decides instead of the rater's judgment

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown rater kind {self.kind!r}: use one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Item:
    item_id: int
    truth: int
    strength: int
    longer: int | None
    gold: bool


@dataclass
class Simulation:
    rows: list[JudgmentRow]
    items: dict[int, Item]
    raters: dict[str, Rater]
    truth: dict[int, int] = field(default_factory=dict)

    def rows_of(self, rater: str) -> list[JudgmentRow]:
        return [r for r in self.rows if r.rater == rater]


def make_items(
    rng: np.random.Generator, n_items: int, gold_share: float, longer_better: float | None = None
) -> dict[int, Item]:
    """``longer_better``: probability that the longer response is the true winner (None = independent)."""
    items = {}
    for i in range(n_items):
        truth = int(rng.integers(2))
        if longer_better is None:
            longer = int(rng.integers(2)) if rng.random() < 0.9 else None
        else:
            longer = truth if rng.random() < longer_better else 1 - truth
        items[i] = Item(i, truth, int(rng.integers(1, 4)), longer, bool(rng.random() < gold_share))
    return items


def _accuracy(rater: Rater, pos: int) -> float:
    if rater.kind != "fatigued":
        return rater.p_correct
    frac = min(pos / rater.fatigue_len, 1.0)
    return rater.p_correct + (rater.p_end - rater.p_correct) * frac


def _judge(rng: np.random.Generator, rater: Rater, item: Item, first: int, pos: int) -> tuple[int | None, int]:
    """The rater's (winner, score) for an item shown with ``first`` on the left at stretch position ``pos``."""
    kind = rater.kind
    if kind in ("first", "longer") and rater.habit < 1.0 and rng.random() >= rater.habit:
        kind = "honest"
    magnitude = int(rng.integers(1, 4))
    if kind in ("honest", "fatigued"):
        correct = rng.random() < _accuracy(rater, pos)
        winner = item.truth if correct else 1 - item.truth
        if correct:
            jitter = 0 if rater.exact else int(rng.integers(-1, 2))
            magnitude = int(np.clip(item.strength + jitter, 1, 3))
        else:
            magnitude = 1
    elif kind == "adversarial":
        winner = 1 - item.truth if rng.random() < rater.p_correct else item.truth
    elif kind == "first":
        winner = first
    elif kind == "longer":
        winner = item.longer if item.longer is not None else int(rng.integers(2))
    else:  # random
        pick = int(rng.integers(3))
        winner = None if pick == 2 else pick
    if winner is None:
        return None, 0
    return winner, magnitude if winner == 0 else -magnitude


def simulate(
    raters: dict[str, Rater],
    n_items: int = 200,
    per_item: int | None = None,
    gold_share: float = 0.3,
    stretch_len: int = 50,
    seed: int = 0,
    longer_better: float | None = None,
    assignment: dict[int, list[str]] | None = None,
) -> Simulation:
    """Simulate a campaign.

    Each item is judged by every rater (``per_item=None``), by ``per_item`` raters drawn at random, or by the raters
    listed for it in ``assignment``.
    """
    rng = np.random.default_rng(seed)
    items = make_items(rng, n_items, gold_share, longer_better)
    names = sorted(raters)
    queue: dict[str, list[int]] = {name: [] for name in names}
    for item_id in items:
        if assignment is not None:
            chosen = assignment[item_id]
        elif per_item is None:
            chosen = names
        else:
            chosen = [names[j] for j in rng.choice(len(names), size=per_item, replace=False)]
        for name in chosen:
            queue[name].append(item_id)

    rows: list[JudgmentRow] = []
    for k, name in enumerate(names):
        rater = raters[name]
        order = rng.permutation(queue[name])
        clock = 1_700_000_000.0 + 17.0 * k
        for n, item_id in enumerate(order.tolist()):
            pos = n % stretch_len
            if n and pos == 0:
                clock += 3600.0  # a break between stretches
            item = items[item_id]
            first = int(rng.integers(2))
            winner, score = _judge(rng, rater, item, first, pos)
            low, high = (1.0, 2.5) if rater.kind == "random" else rater.seconds
            secs = float(rng.uniform(low, high))
            clock += secs
            flags = ("unsure",) if rng.random() < rater.flag_share else ()
            rows.append(
                JudgmentRow(
                    item_id=item_id,
                    rater=name,
                    winner=winner,
                    score=score,
                    first_shown=first,
                    longer=item.longer,
                    seconds=secs,
                    created_at=clock,
                    gold_answer=item.truth if item.gold else None,
                    both_bad=False,
                    flags=flags,
                )
            )
    return Simulation(rows=rows, items=items, raters=dict(raters), truth={i: it.truth for i, it in items.items()})


def row(
    item_id: int,
    rater: str,
    winner: int | None,
    *,
    score: int | None = None,
    first_shown: int = 0,
    longer: int | None = None,
    seconds: float | None = None,
    created_at: float = 0.0,
    gold_answer: int | None = None,
    flags: tuple[str, ...] = (),
) -> JudgmentRow:
    """Hand-written pairwise row; the score defaults to +-1 / 0 from the winner."""
    if score is None:
        score = 0 if winner is None else (1 if winner == 0 else -1)
    return JudgmentRow(
        item_id=item_id,
        rater=rater,
        winner=winner,
        score=score,
        first_shown=first_shown,
        longer=longer,
        seconds=seconds,
        created_at=created_at,
        gold_answer=gold_answer,
        flags=flags,
    )
