"""Krippendorff's alpha for nominal, ordinal and interval data, from per-unit value lists or from judgment rows.

Alpha is computed from the coincidence matrix: every ordered pair of values from different coders within a unit
contributes ``1 / (m_u - 1)``, where ``m_u`` is the number of values in the unit. Then

    alpha = 1 - (n - 1) * sum_ck o_ck d2_ck / sum_ck n_c n_k d2_ck

with ``n_c`` the marginals of the coincidence matrix, ``n`` their total and ``d2`` the squared difference metric.
Missing values are simply absent from a unit, so any number of coders per unit is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

from hitl.quality.rows import JudgmentRow, category, infer_n_responses, latest_by_item

LEVELS = ("nominal", "ordinal", "interval")


def _clean(values: Sequence[float | int | None]) -> list[float]:
    # None and NaN both mean "this coder gave no value", which the store may produce for skipped items.
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def _delta2(level: str, values: np.ndarray, marginals: np.ndarray) -> np.ndarray:
    """Squared distance between every pair of distinct values (sorted ascending) for the given level."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "interval":
        diff = values[:, None] - values[None, :]
        return diff * diff
    # Ordinal: for c <= k, d = sum_{g=c..k} n_g - (n_c + n_k) / 2. Writing mid_i = cum_i - n_i / 2 (a mid-rank of
    # value i among all pairable values) turns this into mid_k - mid_c, which is symmetric and easy to vectorise.
    mid = np.cumsum(marginals) - marginals / 2.0
    diff = mid[:, None] - mid[None, :]
    return diff * diff


def krippendorff_alpha(units: Mapping[Hashable, Sequence[float | int | None]], level: str = "ordinal") -> float:
    """Krippendorff's alpha over ``units`` (unit -> the values its coders gave).

    ``level`` is "nominal", "ordinal" (repeated values allowed; the metric uses the frequencies of all pairable
    values) or "interval". Units with fewer than two values are not pairable and are ignored; ``None``/NaN values
    are treated as missing. Returns nan when alpha is undefined: no pairable unit, or no variation at all among the
    pairable values (expected disagreement is zero).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    pairable = [vals for vals in (_clean(v) for v in units.values()) if len(vals) >= 2]
    if not pairable:
        return math.nan
    distinct = np.array(sorted({v for vals in pairable for v in vals}), dtype=float)
    if len(distinct) < 2:
        return math.nan
    index = {v: i for i, v in enumerate(distinct.tolist())}
    counts = np.zeros((len(pairable), len(distinct)))
    for u, vals in enumerate(pairable):
        for v in vals:
            counts[u, index[v]] += 1.0
    m = counts.sum(axis=1)
    weighted = counts / (m - 1.0)[:, None]
    # o_ck = sum_u n_uc (n_uk - [c == k]) / (m_u - 1): pairs of *different* coders only.
    coincidence = counts.T @ weighted - np.diag(weighted.sum(axis=0))
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    d2 = _delta2(level, distinct, marginals)
    expected = float(marginals @ d2 @ marginals)
    if expected <= 0.0:
        return math.nan
    observed = float((coincidence * d2).sum())
    return float(1.0 - (n - 1.0) * observed / expected)


def alpha_units(rows: Iterable[JudgmentRow], level: str = "ordinal") -> dict[int, list[float]]:
    """Per-item values for alpha: ``score`` for ordinal/interval, :func:`category` for nominal.

    Uses each rater's latest judgment of an item. K-way items all carry ``score == 0``, so for K-way campaigns only
    the nominal level is meaningful.
    """
    rows = list(rows)
    k = infer_n_responses(rows)
    grouped = latest_by_item(rows)
    if level == "nominal":
        return {item: [float(category(r, k)) for r in raters.values()] for item, raters in grouped.items()}
    return {item: [float(r.score) for r in raters.values()] for item, raters in grouped.items()}


def alpha_from_rows(rows: Iterable[JudgmentRow], level: str = "ordinal") -> float:
    """Krippendorff's alpha over judgment rows (see :func:`alpha_units` for the values used)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    return krippendorff_alpha(alpha_units(rows, level), level)
