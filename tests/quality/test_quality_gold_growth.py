"""Gold grows: unanimous items of competent raters are proposed, with the right answer; spammers, ties, flags and
existing gold never make a proposal."""

from dataclasses import replace

import pytest

from hitl.quality.gold_growth import gold_candidates
from hitl.simulate.rows import Rater, row, simulate


def test_unanimous_items_of_competent_raters_are_proposed_with_their_true_answer():
    raters = {f"h{i}": Rater("honest", p_correct=0.92) for i in range(6)}
    sim = simulate(raters, n_items=300, per_item=3, gold_share=0.1, seed=4)
    found = gold_candidates(sim.rows)
    assert len(found) > 100  # about 0.92^3 of the regular items are unanimous
    right = sum(c.answer == sim.truth[c.item_id] for c in found)
    assert right / len(found) >= 0.98
    assert all(not sim.items[c.item_id].gold for c in found)  # gold stays out
    assert all(c.min_competence >= 0.8 and c.posterior >= 0.95 and len(c.raters) == 3 for c in found)
    assert [c.posterior for c in found] == sorted((c.posterior for c in found), reverse=True)


def test_a_spammer_on_an_item_keeps_it_out_even_when_everyone_agrees():
    raters = {**{f"h{i}": Rater("honest", p_correct=0.95) for i in range(4)}, "spam": Rater("first")}
    sim = simulate(raters, n_items=200, gold_share=0.0, seed=1)  # everyone judges every item
    assert gold_candidates(sim.rows) == []  # the first-shown spammer is on every item
    honest = [r for r in sim.rows if r.rater != "spam"]
    assert gold_candidates(honest)


def test_ties_both_bad_flags_too_few_raters_and_low_competence_are_refused():
    good = [row(i, f"r{k}", i % 2) for i in range(20) for k in range(3)]
    assert {c.item_id for c in gold_candidates(good)} == set(range(20))
    tweaked = [
        replace(r, winner=None, score=0) if (r.item_id, r.rater) == (0, "r0") else r for r in good
    ]  # a tie on item 0
    tweaked = [replace(r, flags=("unsure",)) if (r.item_id, r.rater) == (1, "r1") else r for r in tweaked]
    tweaked = [replace(r, both_bad=True) if (r.item_id, r.rater) == (2, "r2") else r for r in tweaked]
    ids = {c.item_id for c in gold_candidates(tweaked)}
    assert ids.isdisjoint({0, 1, 2}) and len(ids) == 17
    assert gold_candidates(good, min_raters=4) == []
    assert gold_candidates(good, competence_min_n=21) == []  # each rater labelled 20 items
    assert gold_candidates([]) == []


@pytest.mark.parametrize(
    "bad",
    [{"min_competence": 1.5}, {"min_posterior": -0.1}, {"min_raters": 1}, {"competence_min_n": 0}],
)
def test_parameters_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        gold_candidates([row(0, "a", 0)], **bad)
