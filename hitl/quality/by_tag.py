"""Quality by prompt tag: preference shares, agreement and gold accuracy per tag and per rater x tag, so a rater or
a guideline that fails on one kind of prompt shows.

    hitl stats --campaign demo --by-tag

A judgment counts under every tag its prompt carries (a prompt without tags under UNTAGGED). Every share comes with
its n and a Wilson 95% interval:

* ``first_shown``: decisive picks that went to the response shown first (position on screen);
* ``stored_first``: decisive pairwise picks of response 1 in the stored order (e.g. the model listed first; K-way
  rankings are left out);
* ``longer``: decisive picks between responses of unequal length that went to the longer one;
* ``agreement``: picks that match the leave-one-out majority of the other raters on the item (hitl.quality.consensus);
* ``gold``: gold judgments that picked the gold answer.

"Fails on one kind of prompt" is a test, not a look at intervals: for each cell (a tag, or a rater on a tag) with
enough checked judgments, a one-sided Fisher exact test of whether its gold accuracy (and its agreement) is lower
than the same rater's (or the crowd's) on the other tags. The tests of a campaign form one Benjamini-Hochberg family
(hitl.quality.multiple), so dozens of tags x raters do not flag someone by chance; ``issues`` names the ones found.
The crowd's agreement pools judgments of shared items, which are not independent: its interval is a little narrow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from scipy.stats import fisher_exact

from hitl.quality.consensus import loo_agreement
from hitl.quality.gold import is_correct, is_gold
from hitl.quality.multiple import bh_adjust
from hitl.quality.rows import JudgmentRow, by_rater
from hitl.quality.stats import RateStat, rate_stat

UNTAGGED = "(untagged)"
# Checked judgments (gold, or agreement) a cell and the rest each need before "lower on this tag" is tested.
DEFAULT_MIN_N = 10


@dataclass(frozen=True)
class TagStat:
    """The figures of one tag (``rater`` None: the whole crowd) or of one rater on one tag."""

    tag: str
    rater: str | None
    n_judgments: int
    n_items: int
    first_shown: RateStat
    stored_first: RateStat
    longer: RateStat
    agreement: RateStat
    gold: RateStat
    # BH-adjusted p-values of "lower on this tag than on the others" (gold, agreement); absent when not tested.
    q_values: dict[str, float]
    issues: tuple[str, ...] = ()


def tag_groups(rows: Iterable[JudgmentRow]) -> dict[str, list[JudgmentRow]]:
    """Rows under each tag their prompt carries (untagged rows under UNTAGGED), tags sorted by name."""
    out: dict[str, list[JudgmentRow]] = {}
    for r in rows:
        for tag in dict.fromkeys(r.tags or (UNTAGGED,)):
            out.setdefault(tag, []).append(r)
    return dict(sorted(out.items()))


def _shares(rows: list[JudgmentRow]) -> tuple[RateStat, RateStat, RateStat, RateStat]:
    decisive = [r for r in rows if r.winner is not None]
    pairs = [r for r in decisive if r.score != 0]  # a decisive pairwise pick has a signed strength; K-way rows 0
    unequal = [r for r in decisive if r.longer is not None]
    gold = [r for r in rows if is_gold(r)]
    return (
        rate_stat(sum(r.winner == r.first_shown for r in decisive), len(decisive)),
        rate_stat(sum(r.winner == 0 for r in pairs), len(pairs)),
        rate_stat(sum(r.winner == r.longer for r in unequal), len(unequal)),
        rate_stat(sum(is_correct(r) for r in gold), len(gold)),
    )


def _cell(tag: str, rater: str | None, rows: list[JudgmentRow], agreement: RateStat) -> TagStat:
    first, stored, longer, gold = _shares(rows)
    return TagStat(tag, rater, len(rows), len({r.item_id for r in rows}), first, stored, longer, agreement, gold, {})


def _pooled(stats: Iterable[RateStat]) -> RateStat:
    stats = list(stats)
    return rate_stat(sum(s.correct for s in stats), sum(s.total for s in stats))


def lower_p(here: RateStat, rest: RateStat, min_n: int) -> float:
    """One-sided Fisher exact p-value that the rate ``here`` is below the rate of ``rest``; nan under ``min_n``
    trials on either side."""
    if here.total < min_n or rest.total < min_n:
        return math.nan
    table = [[here.correct, here.total - here.correct], [rest.correct, rest.total - rest.correct]]
    return float(fisher_exact(table, alternative="less").pvalue)


def _less(a: RateStat, b: RateStat) -> RateStat:
    """``a`` without the trials of ``b`` (b is part of a)."""
    return rate_stat(a.correct - b.correct, a.total - b.total)


def tag_report(
    rows: Iterable[JudgmentRow], *, min_raters: int = 3, min_n: int = DEFAULT_MIN_N, fdr: float = 0.05
) -> tuple[list[TagStat], list[TagStat]]:
    """(one TagStat per tag, one per rater x tag), by tag then rater, with ``issues`` where a tag's (or a rater's
    on that tag) gold accuracy or agreement is lower than on the other tags at false discovery rate ``fdr``."""
    if not 0.0 < fdr < 1.0:
        raise ValueError(f"fdr must be strictly between 0 and 1, got {fdr}")
    rows = list(rows)
    groups = tag_groups(rows)
    everyone = loo_agreement(rows, min_raters)
    crowd: list[TagStat] = []
    cells: list[TagStat] = []
    for tag, own in groups.items():
        # Leave-one-out majorities come from the item's own raters, all on the same prompt: restricting to the tag
        # changes no item's majority.
        loo = loo_agreement(own, min_raters)
        crowd.append(_cell(tag, None, own, _pooled(loo.values())))
        for rater, mine in sorted(by_rater(own).items()):
            cells.append(_cell(tag, rater, mine, loo[rater]))

    # The family: each cell's gold and agreement against the same rater's (or the crowd's) other tags.
    overall_gold = rate_stat(sum(is_correct(r) for r in rows if is_gold(r)), sum(is_gold(r) for r in rows))
    overall_agree = _pooled(everyone.values())
    rater_gold = {
        name: rate_stat(sum(is_correct(r) for r in own if is_gold(r)), sum(is_gold(r) for r in own))
        for name, own in by_rater(rows).items()
    }
    p: dict[tuple[int, str], float] = {}
    every = [*crowd, *cells]
    multi_tag = len(groups) > 1
    for k, s in enumerate(every):
        if not multi_tag:
            break
        gold_all = overall_gold if s.rater is None else rater_gold[s.rater]
        agree_all = overall_agree if s.rater is None else everyone[s.rater]
        # The whole counts each judgment once, so the whole less this tag is exactly the judgments without it.
        p[(k, "gold")] = lower_p(s.gold, _less(gold_all, s.gold), min_n)
        p[(k, "agreement")] = lower_p(s.agreement, _less(agree_all, s.agreement), min_n)
    q = bh_adjust(p)
    out: list[TagStat] = []
    for k, s in enumerate(every):
        values = {name: q[(k, name)] for name in ("gold", "agreement") if not math.isnan(q.get((k, name), math.nan))}
        issues = []
        who = "the crowd" if s.rater is None else s.rater
        if values.get("gold", 1.0) <= fdr:
            issues.append(
                f"{who}: gold accuracy on {s.tag} {s.gold.rate:.0%} ({s.gold.correct}/{s.gold.total}) is lower than "
                f"on the other tags (q={values['gold']:.1g})"
            )
        if values.get("agreement", 1.0) <= fdr:
            issues.append(
                f"{who}: agreement on {s.tag} {s.agreement.rate:.0%} ({s.agreement.correct}/{s.agreement.total}) is "
                f"lower than on the other tags (q={values['agreement']:.1g})"
            )
        out.append(replace(s, q_values=values, issues=tuple(issues)))
    return out[: len(crowd)], out[len(crowd) :]
