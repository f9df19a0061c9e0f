"""Dawid-Skene EM: competence recovers rater quality and its labels beat majority vote."""

import math

import numpy as np
import pytest
from quality_sim import Rater, row, simulate

from hitl.quality import dawid_skene, majority_labels, weighted_labels

GOOD = [f"good{i}" for i in range(5)]


def accuracy(labels, truth):
    return float(np.mean([labels.get(item) == t for item, t in truth.items()]))


def crowd():
    raters = {name: Rater("honest", 0.9) for name in GOOD}
    raters["spam"] = Rater("random")
    raters["adv"] = Rater("adversarial", 0.9)
    return raters


@pytest.fixture(scope="module")
def random_panels():
    # Each item gets 3 of the 7 raters at random.
    return simulate(crowd(), n_items=400, per_item=3, seed=0)


@pytest.fixture(scope="module")
def outnumbered():
    # Every fourth item is judged by both bad raters and a single good one; the rest by three good raters.
    rng = np.random.default_rng(99)
    assignment = {
        i: ["spam", "adv", GOOD[rng.integers(5)]] if i % 4 == 0 else list(rng.choice(GOOD, 3, replace=False))
        for i in range(400)
    }
    return simulate(crowd(), n_items=400, seed=1, assignment=assignment)


def test_model_is_well_formed(random_panels):
    res = dawid_skene(random_panels.rows)
    assert res.n_classes == 3
    assert res.priors.sum() == pytest.approx(1.0)
    assert set(res.posteriors) == set(random_panels.truth)
    for post in res.posteriors.values():
        assert post.sum() == pytest.approx(1.0)
    for conf in res.confusion.values():
        assert conf.shape == (3, 3)
        assert np.allclose(conf.sum(axis=1), 1.0)
    assert res.n_iter <= 100
    assert np.isfinite(res.log_likelihood)


def test_converges_and_likelihood_improves(random_panels):
    # EM crawls along the spammer-driven tie class, so give it room; the likelihood must not get worse.
    short = dawid_skene(random_panels.rows, max_iter=3)
    full = dawid_skene(random_panels.rows, max_iter=2000)
    assert full.converged and full.n_iter < 2000
    assert full.log_likelihood >= short.log_likelihood
    assert not dawid_skene(random_panels.rows, max_iter=1).converged


def test_competence_ranks_good_above_bad(random_panels):
    comp = dawid_skene(random_panels.rows).competence
    worst_good = min(comp[name] for name in GOOD)
    assert worst_good > 0.75
    assert comp["spam"] < 0.5
    assert comp["adv"] < 0.2
    assert max(comp["spam"], comp["adv"]) < worst_good - 0.3


def test_labels_at_least_as_good_as_majority(random_panels):
    res = dawid_skene(random_panels.rows)
    mv = accuracy(majority_labels(random_panels.rows), random_panels.truth)
    ds = accuracy(res.labels, random_panels.truth)
    assert ds >= mv
    assert ds > 0.85


def test_labels_strictly_better_when_bad_raters_outnumber(outnumbered):
    res = dawid_skene(outnumbered.rows)
    truth = outnumbered.truth
    hard = {i: t for i, t in truth.items() if i % 4 == 0}
    mv_labels = majority_labels(outnumbered.rows)
    # Majority vote follows the two bad raters on the items they dominate; DS learns to trust the good rater there.
    assert accuracy(mv_labels, hard) < 0.55
    assert accuracy(res.labels, hard) > 0.8
    assert accuracy(res.labels, truth) > accuracy(mv_labels, truth) + 0.05


def test_confusion_of_adversary_is_flipped(outnumbered):
    conf = dawid_skene(outnumbered.rows).confusion["adv"]
    # Row = true class, column = given label: the adversary answers 1 for true 0 and 0 for true 1.
    assert conf[0, 1] > 0.75 and conf[1, 0] > 0.75


def test_perfect_raters():
    sim = simulate({f"p{i}": Rater("honest", 1.0) for i in range(3)}, n_items=50, seed=2)
    res = dawid_skene(sim.rows)
    assert res.labels == sim.truth
    assert all(post.max() > 0.99 for post in res.posteriors.values())
    assert all(c > 0.97 for c in res.competence.values())


def test_single_judgment_raters_do_not_produce_nan():
    rows = [row(1, "a", 0), row(1, "b", 0), row(1, "once", 1), row(2, "a", 1), row(2, "b", 1), row(3, "solo", None)]
    res = dawid_skene(rows)
    for name in ("a", "b", "once", "solo"):
        assert np.isfinite(res.confusion[name]).all()
        assert math.isfinite(res.competence[name])
    assert all(np.isfinite(p).all() for p in res.posteriors.values())
    assert res.labels[1] == 0 and res.labels[2] == 1
    # Item 3 has one label from a rater seen once: any class explains it equally well, so no label is asserted.


def test_k_way_items():
    rng = np.random.default_rng(5)
    truth = {i: int(rng.integers(4)) for i in range(150)}
    rows = []
    for name, p in [("a", 0.85), ("b", 0.85), ("c", 0.85), ("d", 0.4), ("e", 0.4)]:
        for i, t in truth.items():
            winner = t if rng.random() < p else int(rng.choice([k for k in range(4) if k != t]))
            rows.append(row(i, name, winner, score=0, first_shown=int(rng.integers(4))))
    res = dawid_skene(rows)
    assert res.n_classes == 5  # four responses plus the tie class
    assert accuracy(res.labels, truth) >= accuracy(majority_labels(rows), truth)
    assert min(res.competence[n] for n in "abc") > max(res.competence[n] for n in "de")


def test_weighted_labels_confidence_cut(random_panels):
    res = dawid_skene(random_panels.rows)
    assert weighted_labels(res) == res.labels
    cautious = weighted_labels(res, min_confidence=0.9)
    unsure = {item for item, post in res.posteriors.items() if post.max() < 0.9}
    assert 0 < len(unsure) < len(res.labels) // 2
    assert {item for item, label in cautious.items() if label is None} == unsure
    assert all(cautious[item] == res.labels[item] for item in res.labels if item not in unsure)
    # The confident labels are more accurate than all labels.
    sure = {i: t for i, t in random_panels.truth.items() if i not in unsure}
    assert accuracy(res.labels, sure) > accuracy(res.labels, random_panels.truth)


def test_n_classes_validation():
    rows = [row(1, "a", None), row(1, "b", 0)]
    with pytest.raises(ValueError, match="outside"):
        dawid_skene(rows, n_classes=2)
    with pytest.raises(ValueError, match="n_classes"):
        dawid_skene(rows, n_classes=1)
    assert dawid_skene(rows, n_classes=4).n_classes == 4


def test_empty():
    res = dawid_skene([])
    assert res.labels == {} and res.competence == {} and res.posteriors == {}
    assert weighted_labels(res) == {}
