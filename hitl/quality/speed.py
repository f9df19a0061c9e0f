"""Per-rater speed: median time per judgment and the share of judgments made too fast to have read the responses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from hitl.quality.rows import JudgmentRow, by_rater


@dataclass(frozen=True)
class SpeedStat:
    """Median seconds over ``n`` timed judgments, the share under the too-fast cut-off, and the verdict."""

    median_seconds: float
    n: int
    fast_share: float
    flagged: bool


def speed(
    rows: Iterable[JudgmentRow], too_fast_seconds: float = 3.0, too_fast_share: float = 0.5, min_n: int = 5
) -> dict[str, SpeedStat]:
    """Speed statistics per rater over judgments that carry ``seconds``.

    A rater is flagged when at least ``too_fast_share`` of their timed judgments took under ``too_fast_seconds``
    and they have at least ``min_n`` timed judgments (one quick click is not a habit). The median rather than the
    mean, because a single item left open over lunch would dominate a mean. Every rater in ``rows`` gets an entry;
    one with no timed judgment has nan median and share and is not flagged.
    """
    out: dict[str, SpeedStat] = {}
    for rater, own in by_rater(rows).items():
        secs = np.array([r.seconds for r in own if r.seconds is not None], dtype=float)
        if secs.size == 0:
            out[rater] = SpeedStat(median_seconds=math.nan, n=0, fast_share=math.nan, flagged=False)
            continue
        share = float((secs < too_fast_seconds).mean())
        out[rater] = SpeedStat(
            median_seconds=float(np.median(secs)),
            n=int(secs.size),
            fast_share=share,
            flagged=bool(share >= too_fast_share and secs.size >= min_n),
        )
    return out
