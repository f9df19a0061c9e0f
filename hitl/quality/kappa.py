"""Chance-corrected agreement on nominal labels: Fleiss' kappa (many raters) and Cohen's kappa (rater pairs).

Both operate on the nominal classes of :func:`hitl.quality.rows.category` when built from rows (response 0,
response 1, ..., tie), using each rater's latest judgment of an item.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from itertools import combinations

import numpy as np

from hitl.quality.rows import JudgmentRow, category_table, infer_n_responses, latest_by_item


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of how many raters chose each category.

    Every item must have the same number of raters (at least 2). Returns nan for an empty table or when expected
    agreement is 1 (every rating in one category), where kappa is 0/0.
    """
    table = np.asarray(counts, dtype=float)
    if table.size == 0:
        return math.nan
    if table.ndim != 2:
        raise ValueError(f"counts must be a 2-D items x categories table, got shape {table.shape}")
    if (table < 0).any():
        raise ValueError("counts must be non-negative")
    per_item = table.sum(axis=1)
    n_raters = per_item[0]
    if not np.all(per_item == n_raters):
        raise ValueError(
            "fleiss_kappa needs the same number of raters on every item; got row totals "
            f"{sorted(set(per_item.astype(int).tolist()))}"
        )
    if n_raters < 2:
        raise ValueError(f"fleiss_kappa needs at least 2 raters per item, got {int(n_raters)}")
    p_cat = table.sum(axis=0) / table.sum()
    p_exp = float((p_cat * p_cat).sum())
    p_item = ((table * table).sum(axis=1) - n_raters) / (n_raters * (n_raters - 1))
    p_obs = float(p_item.mean())
    if p_exp >= 1.0:
        return math.nan
    return (p_obs - p_exp) / (1.0 - p_exp)


def fleiss_table(rows: Iterable[JudgmentRow]) -> np.ndarray:
    """The items x categories count table :func:`fleiss_from_rows` uses (possibly with zero rows)."""
    rows = list(rows)
    k = infer_n_responses(rows)
    cats = category_table(latest_by_item(rows), k)
    sizes = Counter(len(raters) for raters in cats.values() if len(raters) >= 2)
    if not sizes:
        return np.zeros((0, k + 1), dtype=int)
    # The modal rater count keeps the most items; on a tie prefer more raters per item (more information per item).
    modal = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))[0]
    table = [np.bincount(list(raters.values()), minlength=k + 1) for raters in cats.values() if len(raters) == modal]
    return np.array(table, dtype=int)


def fleiss_from_rows(rows: Iterable[JudgmentRow]) -> float:
    """Fleiss' kappa over the rows' nominal categories.

    Fleiss' kappa assumes a fixed number of raters per item, so only items with the *modal* number of distinct
    raters (at least 2; ties broken towards the larger count) are used and all others are dropped. nan when no such
    items exist.
    """
    table = fleiss_table(rows)
    if len(table) == 0:
        return math.nan
    return fleiss_kappa(table)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa between two raters' labels on the same items (position i of ``a`` and ``b`` is one item).

    Returns nan for empty input or when expected agreement is 1 (both raters used one identical label throughout).
    """
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs equally long label sequences, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return math.nan
    p_obs = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_exp = sum(ca[label] * cb[label] for label in ca) / (n * n)
    if p_exp >= 1.0:
        return math.nan
    return (p_obs - p_exp) / (1.0 - p_exp)


def pairwise_cohen(rows: Iterable[JudgmentRow], min_shared: int = 10) -> dict[tuple[str, str], tuple[float, int]]:
    """Cohen's kappa for every rater pair that shares at least ``min_shared`` items.

    Keys are ``(rater_a, rater_b)`` with ``rater_a < rater_b``; values are ``(kappa, n_shared_items)``.
    """
    rows = list(rows)
    k = infer_n_responses(rows)
    cats = category_table(latest_by_item(rows), k)
    shared: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for raters in cats.values():
        for ra, rb in combinations(sorted(raters), 2):
            la, lb = shared.setdefault((ra, rb), ([], []))
            la.append(raters[ra])
            lb.append(raters[rb])
    return {pair: (cohen_kappa(la, lb), len(la)) for pair, (la, lb) in shared.items() if len(la) >= min_shared}
