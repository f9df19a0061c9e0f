"""Quality by prompt tag: shares with n and intervals per tag and per rater x tag, and a rater (or a guideline)
that fails on one kind of prompt is found, while an honest crowd on several tags is not flagged."""

import math
from dataclasses import replace

import numpy as np

from hitl.quality.by_tag import UNTAGGED, lower_p, tag_groups, tag_report
from hitl.quality.stats import rate_stat
from hitl.simulate.rows import Rater, row, simulate

TAGS = ("code", "medical", "chat")


def _tagged(sim, seed=0):
    """Each item's rows under one tag, drawn per item."""
    rng = np.random.default_rng(seed)
    tag_of = {i: TAGS[int(rng.integers(len(TAGS)))] for i in sim.items}
    return [replace(r, tags=(tag_of[r.item_id],)) for r in sim.rows], tag_of


def test_shares_have_their_n_and_interval_and_rows_count_under_each_tag():
    rows = [
        replace(row(0, "a", 0, first_shown=0, longer=1), tags=("x", "y")),
        replace(row(1, "a", 1, first_shown=0, longer=1), tags=("x",)),
        replace(row(2, "a", None), tags=()),
        replace(row(3, "a", 0, first_shown=1, gold_answer=0), tags=("x",)),
    ]
    groups = tag_groups(rows)
    assert list(groups) == [UNTAGGED, "x", "y"] and len(groups["x"]) == 3
    crowd, cells = tag_report(rows)
    x = next(s for s in crowd if s.tag == "x")
    assert (x.n_judgments, x.n_items) == (3, 3)
    assert (x.first_shown.correct, x.first_shown.total) == (1, 3)
    assert (x.stored_first.correct, x.stored_first.total) == (2, 3)
    assert (x.longer.correct, x.longer.total) == (1, 2)
    assert (x.gold.correct, x.gold.total) == (1, 1)
    assert x.first_shown.low < 1 / 3 < x.first_shown.high
    assert [(s.tag, s.rater) for s in cells] == [(UNTAGGED, "a"), ("x", "a"), ("y", "a")]
    untagged = next(s for s in crowd if s.tag == UNTAGGED)
    assert untagged.first_shown.total == 0 and math.isnan(untagged.first_shown.rate)


def test_a_rater_who_fails_on_one_tag_is_found():
    raters = {f"h{i}": Rater("honest", p_correct=0.9) for i in range(5)}
    sim = simulate(raters, n_items=400, gold_share=0.3, seed=2)
    rows, tag_of = _tagged(sim)
    rng = np.random.default_rng(9)
    # h0 answers medical prompts at random: wrong half the time there, fine elsewhere.
    rows = [
        replace(r, winner=int(rng.integers(2))) if r.rater == "h0" and tag_of[r.item_id] == "medical" else r
        for r in rows
    ]
    crowd, cells = tag_report(rows)
    flagged = {(s.tag, s.rater) for s in cells if s.issues}
    assert ("medical", "h0") in flagged
    assert all(rater == "h0" for _, rater in flagged), flagged
    medical = next(s for s in cells if (s.tag, s.rater) == ("medical", "h0"))
    assert medical.gold.high < 0.8 and "lower than on the other tags" in medical.issues[0]


def test_an_honest_crowd_on_several_tags_is_rarely_flagged():
    raters = {f"h{i}": Rater("honest", p_correct=float(p)) for i, p in enumerate(np.linspace(0.8, 0.95, 8))}
    flagged = 0
    for seed in range(10):
        sim = simulate(raters, n_items=200, per_item=3, gold_share=0.3, seed=seed)
        rows, _ = _tagged(sim, seed)
        crowd, cells = tag_report(rows)
        flagged += any(s.issues for s in [*crowd, *cells])
    assert flagged <= 2  # BH at 5% over the campaign's family: about one campaign in twenty at most


def test_a_guideline_that_fails_on_a_tag_shows_for_the_crowd():
    raters = {f"h{i}": Rater("honest", p_correct=0.9) for i in range(5)}
    sim = simulate(raters, n_items=300, per_item=3, gold_share=0.4, seed=5)
    rows, tag_of = _tagged(sim)
    rng = np.random.default_rng(3)
    # On code prompts the guideline misleads everyone: gold answers are missed 40% of the time.
    rows = [
        replace(r, winner=1 - r.gold_answer)
        if r.gold_answer is not None and tag_of[r.item_id] == "code" and rng.random() < 0.4
        else r
        for r in rows
    ]
    crowd, _ = tag_report(rows)
    code = next(s for s in crowd if s.tag == "code")
    assert code.issues and "the crowd" in code.issues[0]


def test_lower_p_is_one_sided_and_needs_its_minimum():
    assert lower_p(rate_stat(2, 20), rate_stat(18, 20), 10) < 0.001
    assert lower_p(rate_stat(18, 20), rate_stat(2, 20), 10) > 0.99
    assert math.isnan(lower_p(rate_stat(2, 5), rate_stat(18, 20), 10))
