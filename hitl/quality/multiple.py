"""Benjamini-Hochberg across raters: which of many per-rater tests still say "flag" once their number is counted.

    python -c "from hitl.quality.multiple import bh_flags; print(bh_flags({'a': 0.001, 'b': 0.2}))"

A campaign with 300 honest raters runs hundreds of tests (position, length, gold, agreement, fatigue per rater); at a
per-test level of 1% a few of them come out "significant" in almost every campaign by chance alone. The adjusted
p-values of Benjamini-Hochberg (:func:`scipy.stats.false_discovery_control`) control the expected share of false
flags among all flags; when every rater is honest that is the chance that a campaign flags anyone at all, so
``fdr=0.05`` means at most one honest campaign in twenty shows a single flag.

Most of those tests are discrete and small: an honest rater who disagreed with the crowd 6 times cannot reach a
McNemar p-value below 2 * 0.5^6 = 0.03, whatever the data. Counting such tests in the family only makes the bar of
the others higher. :func:`reachable_family` drops them first (Tarone's rule, as in Gilbert's discrete FDR procedure,
2005): the smallest K for which at most K tests can reach fdr / K at all; the others cannot be discoveries.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Mapping

import numpy as np
from scipy.stats import false_discovery_control


def bh_adjust(p_values: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """Benjamini-Hochberg adjusted p-values ("q-values") of a family of tests, keyed as given.

    nan p-values (a test that could not run) are left out of the family and stay nan, so an untestable rater does
    not dilute the correction of the others.
    """
    keys = [k for k, p in p_values.items() if p is not None and not math.isnan(p)]
    out: dict[Hashable, float] = {k: math.nan for k in p_values}
    if keys:
        adjusted = false_discovery_control(np.array([p_values[k] for k in keys], dtype=float), method="bh")
        out.update({k: float(q) for k, q in zip(keys, adjusted, strict=True)})
    return out


def reachable_family(
    p_values: Mapping[Hashable, float], min_p: Mapping[Hashable, float], fdr: float = 0.05
) -> dict[Hashable, float]:
    """The p-values of the tests that could still be discoveries (Tarone's rule), keyed as given.

    ``min_p[k]`` is the smallest p-value test ``k`` could have given its sample (e.g. ``2 * 0.5**n`` for a
    two-sided binomial test of n trials at 1/2; 0 for a continuous test, which always stays). A test with a nan
    p-value is left out.
    """
    usable = [k for k, p in p_values.items() if p is not None and not math.isnan(p)]
    floors = sorted(min_p.get(k, 0.0) for k in usable)
    for size in range(1, len(usable) + 1):
        # Tests able to reach fdr / size at all; the first size they fit in is Tarone's family size.
        reachable = bisect.bisect_right(floors, fdr / size)
        if reachable <= size:
            bar = fdr / size
            return {k: p_values[k] for k in usable if min_p.get(k, 0.0) <= bar}
    return {k: p_values[k] for k in usable}


def discrete_bh_adjust(
    p_values: Mapping[Hashable, float], min_p: Mapping[Hashable, float], fdr: float = 0.05
) -> dict[Hashable, float]:
    """Benjamini-Hochberg adjusted p-values over :func:`reachable_family`; tests left out (or untestable) get nan."""
    out: dict[Hashable, float] = {k: math.nan for k in p_values}
    out.update(bh_adjust(reachable_family(p_values, min_p, fdr)))
    return out


def bh_flags(p_values: Mapping[Hashable, float], fdr: float = 0.05) -> dict[Hashable, bool]:
    """Which tests of the family are discoveries at false discovery rate ``fdr`` (adjusted p <= fdr)."""
    if not 0.0 < fdr < 1.0:
        raise ValueError(f"fdr must be strictly between 0 and 1, got {fdr}")
    return {k: bool(q <= fdr) for k, q in bh_adjust(p_values).items()}
