"""Work limits as pure functions over a rater's judgment times: the stretch under way, the day's minutes, whether a
break is due and until when, and the fatigue signal (speed and accuracy both falling) that calls it early.

    python -m pytest -q tests/workforce/test_workforce_limits.py

A stretch is continuous work: judgments closer together than `break_minutes`; it starts when the lease of its first
judgment began (created_at - seconds_on_item). Minutes of a day are minutes on items (the sum of seconds_on_item),
so a rater who leaves the page open is not charged for it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from hitl.workforce.rules import WorkforceRules

FATIGUE_WINDOW = 10  # judgments at the start and at the end of a stretch compared by the fatigue signal
FATIGUE_SPEED_RATIO = 0.6  # the latest answers take under this share of the early ones' median time ...
FATIGUE_ACCURACY_DROP = 0.2  # ... and agree with the reference at least this much less often


@dataclass(frozen=True)
class Worked:
    """One judgment as the limits see it: when it was recorded, seconds on the item, and whether it agreed with a
    reference (gold answer or the others' consensus; None when there is none yet)."""

    at: float
    seconds: float
    agreed: bool | None = None


@dataclass(frozen=True)
class Limits:
    """The rater's work in a campaign today, and the break the rules call (if any)."""

    stretch_start: float | None  # None: no stretch under way
    last_at: float | None
    stretch_judgments: int
    day_seconds: float
    tired: bool
    break_until: float | None  # a break is due until then
    reason: str = ""


def stretch(worked: Sequence[Worked], now: float, break_minutes: float) -> list[Worked]:
    """The judgments of the stretch under way (oldest first): empty when the last one is a break ago."""
    ordered = sorted(worked, key=lambda w: w.at)
    gap = break_minutes * 60
    if not ordered or now - ordered[-1].at >= gap:
        return []
    start = len(ordered) - 1
    while start > 0 and ordered[start].at - ordered[start - 1].at < gap:
        start -= 1
    return ordered[start:]


def is_tired(run: Sequence[Worked], window: int = FATIGUE_WINDOW) -> bool:
    """Speed and accuracy both fell within the stretch: the last `window` answers are much faster than the first
    `window` and agree with their references clearly less often (each window with 3+ references)."""
    if len(run) < 2 * window:
        return False
    early, late = run[:window], run[-window:]
    early_s = statistics.median(w.seconds for w in early)
    late_s = statistics.median(w.seconds for w in late)
    checked_early = [w.agreed for w in early if w.agreed is not None]
    checked_late = [w.agreed for w in late if w.agreed is not None]
    if early_s <= 0 or len(checked_early) < 3 or len(checked_late) < 3:
        return False
    drop = sum(checked_early) / len(checked_early) - sum(checked_late) / len(checked_late)
    return late_s < FATIGUE_SPEED_RATIO * early_s and drop >= FATIGUE_ACCURACY_DROP


def limits(worked: Sequence[Worked], rules: WorkforceRules, now: float, midnight: float) -> Limits:
    """What the rules say about this work (the rater's judgments in the campaign since `midnight`, or more)."""
    today = [w for w in worked if w.at >= midnight]
    day_seconds = sum(w.seconds for w in today)
    run = stretch(worked, now, rules.break_minutes)
    start = (run[0].at - run[0].seconds) if run else None
    last = run[-1].at if run else None
    tired = bool(rules.fatigue_breaks and is_tired(run))
    until, reason = None, ""
    rest = rules.break_minutes * 60
    if rules.max_daily_minutes and day_seconds >= rules.max_daily_minutes * 60:
        until = midnight + 24 * 3600
        reason = f"today's limit of {rules.max_daily_minutes:g} minutes on items here is reached"
    elif run and rules.max_stretch_minutes and last - start >= rules.max_stretch_minutes * 60:
        until = last + rest
        reason = f"you have rated here for {(last - start) / 60:.0f} minutes without a break"
    elif run and tired:
        until = last + rest
        reason = "your recent answers got much faster and agree less often than at the start of this stretch"
    return Limits(start, last, len(run), day_seconds, tired, until if until and until > now else None, reason)
