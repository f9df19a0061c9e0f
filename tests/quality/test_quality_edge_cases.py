"""Degenerate inputs: no rows, and a single rater, give empty results or nan, never exceptions."""

import math

import pytest
from quality_sim import Rater, simulate

import hitl.quality as q


def test_empty_rows():
    rows = []
    assert math.isnan(q.alpha_from_rows(rows))
    assert math.isnan(q.alpha_from_rows(rows, "nominal"))
    assert math.isnan(q.fleiss_from_rows(rows))
    assert q.pairwise_cohen(rows) == {}
    assert q.gold_accuracy(rows) == {}
    assert q.loo_agreement(rows) == {}
    assert q.majority_labels(rows) == {}
    assert q.position_bias(rows) == {}
    assert q.length_bias(rows) == {}
    assert math.isnan(q.campaign_length_share(rows))
    assert q.speed(rows) == {}
    assert q.fatigue(rows) == {}
    assert q.dawid_skene(rows).labels == {}
    assert q.rater_report(rows) == []
    summary = q.campaign_summary(rows)
    assert (summary["n_judgments"], summary["n_items"], summary["n_raters"]) == (0, 0, 0)
    assert math.isnan(summary["alpha_ordinal"]) and math.isnan(summary["fleiss_kappa"])


def test_generators_are_accepted():
    sim = simulate({"a": Rater("honest", 0.9), "b": Rater("honest", 0.9)}, n_items=30, seed=1)
    assert q.alpha_from_rows(iter(sim.rows)) == pytest.approx(q.alpha_from_rows(sim.rows))
    assert len(q.rater_report(r for r in sim.rows)) == 2


@pytest.fixture(scope="module")
def single():
    return simulate({"solo": Rater("honest", 0.8)}, n_items=80, seed=9)


def test_single_rater_agreement_is_undefined(single):
    assert math.isnan(q.alpha_from_rows(single.rows))
    assert math.isnan(q.fleiss_from_rows(single.rows))
    assert q.pairwise_cohen(single.rows) == {}
    assert q.loo_agreement(single.rows)["solo"].total == 0


def test_single_rater_behaviour_metrics_work(single):
    assert q.gold_accuracy(single.rows)["solo"].total > 10
    assert q.position_bias(single.rows)["solo"].n == 80
    assert q.speed(single.rows)["solo"].n == 80
    assert len(q.fatigue(single.rows)["solo"]) == 5


def test_single_rater_ds_and_report(single):
    res = q.dawid_skene(single.rows)
    assert len(res.labels) == 80
    assert math.isfinite(res.competence["solo"])
    (rep,) = q.rater_report(single.rows)
    assert rep.rater == "solo" and rep.n_judgments == 80
    assert math.isnan(rep.loo_agreement.rate)
    summary = q.campaign_summary(single.rows)
    assert summary["n_raters"] == 1 and math.isnan(summary["alpha_ordinal"])


def test_public_names_exported():
    for name in q.__all__:
        assert hasattr(q, name), name
