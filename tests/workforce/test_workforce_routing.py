"""Hybrid labelling: calibration with known answers, the routing curve (monotone, audit share honoured), and
auto-labels with their audit through the store (both stores); bad thresholds are refused."""

import math
import random

import numpy as np
import pytest
from sqlalchemy import insert, select
from workforce_helpers import add_tagged_items, answer

from hitl.cli.route_cmd import parse_thresholds
from hitl.errors import InvalidInput
from hitl.simulate.raters import RaterBehaviour
from hitl.store.schema import auto_labels, item_prelabels, items, judgments
from hitl.workforce.automation import apply_auto_labels, audit_report
from hitl.workforce.calibration import fit
from hitl.workforce.curve import Policy, RoutedItem, route, routing_curve, savings_at
from hitl.workforce.manage import set_rules
from hitl.workforce.stopping import posterior

CROWD = [RaterBehaviour(f"sim-{i}", flip=0.2, allow_tie=False) for i in range(8)]


def test_platt_scaling_recovers_a_known_calibration():
    rng = np.random.default_rng(0)
    gaps = rng.normal(0, 2, 4000)
    labels = rng.random(4000) < 1 / (1 + np.exp(-(0.5 * gaps + 0.3)))
    cal = fit(gaps.tolist(), labels.tolist())
    assert cal.a == pytest.approx(0.5, abs=0.05) and cal.b == pytest.approx(0.3, abs=0.1)
    assert cal.confidence(0.0) == pytest.approx(max(cal.prob(0.0), 1 - cal.prob(0.0)))


def _items(n: int, seed: int = 0) -> list[RoutedItem]:
    """A calibrated model right about two times in three: its prior is the true probability."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        truth, p_truth = int(rng.integers(2)), 1 / (1 + math.exp(-rng.normal(0.5, 1.0)))
        out.append(RoutedItem(truth, p_truth if truth == 0 else 1 - p_truth))
    return out


def test_the_routing_curve_is_monotone_and_honours_the_audit_share():
    items = _items(3000)
    points = [route(items, Policy("auto", t, 3, audit_share=0.2), CROWD, 0.8, seed=1) for t in (0.6, 0.7, 0.8, 0.9)]
    spent = [p.human_judgments for p in points]
    assert spent == sorted(spent) and spent[0] < spent[-1]  # a higher threshold leaves more to humans
    assert [p.auto_share for p in points] == sorted((p.auto_share for p in points), reverse=True)
    assert points[-1].accuracy.rate >= points[0].accuracy.rate
    for p in points:  # audited share of the auto-labelled items, within its interval
        auto = round(p.auto_share * p.items)
        share = p.audit.total / auto
        assert abs(share - 0.2) < 3 * math.sqrt(0.2 * 0.8 / auto), (share, auto)
        assert p.audit.rate > 0.5  # the humans mostly agree with a model this sure
    human = route(items, Policy("human", overlap=3), CROWD, 0.8, seed=1)
    assert human.per_item == 3 and 0.86 < human.accuracy.rate < 0.93  # majority of three at 80% each: 0.896


def test_routing_saves_human_judgments_at_equal_accuracy_on_simulated_data():
    human, routed = routing_curve(_items(1500), [0.8, 0.85, 0.9, 0.95], CROWD, 0.8, repeats=3)
    saved = {s["all_human"]: s for s in savings_at(human, routed)}
    assert saved["human-3"]["routed_accuracy"] >= saved["human-3"]["accuracy"]
    assert saved["human-3"]["saved"] > 0.2  # the stop rule with the model's prior needs far fewer than 3 per pair


def _scored_campaign(store, make_campaign, make_user, n_labelled: int = 45, n_open: int = 40):
    c = make_campaign(overlap=2, gold_rate=0.0)
    ids = add_tagged_items(store, c, n_labelled + n_open)
    rng = random.Random(0)
    with store.write() as conn:
        rows = conn.execute(select(items.c.id, items.c.response_ids).where(items.c.id.in_(ids))).all()
        for item_id, response_ids in rows:
            # A model that prefers the 'correct' answer (listed second when the item id is odd), noisily.
            good = 1 if item_id % 2 else 0
            margin = rng.gauss(2.0, 1.5)
            rewards = [margin, 0.0] if good == 0 else [0.0, margin]
            conn.execute(
                insert(item_prelabels).values(
                    item_id=item_id,
                    rewards=rewards,
                    preferred_response_id=response_ids[int(np.argmax(rewards))],
                    confidence=1 / (1 + math.exp(-abs(margin))),
                    uncertainty=0.0,
                    created_at=0.0,
                )
            )
    raters = [make_user(), make_user()]
    for rater in raters:
        for _ in range(n_labelled):
            answer(store, rater, c, right=rng.random() < 0.95)
    return c, raters


def test_auto_labels_and_their_audit(store, make_campaign, make_user):
    c, raters = _scored_campaign(store, make_campaign, make_user)
    with pytest.raises(InvalidInput, match="does not auto-label"):
        apply_auto_labels(store, c)
    c = set_rules(store, c.name, auto_label_threshold=0.8, audit_share=0.3)
    report = apply_auto_labels(store, c, seed=1)
    assert report.calibration.n >= 30 and report.considered == 40
    assert report.labelled > 0 and report.audited > 0
    with store.read() as conn:
        labels = conn.execute(select(auto_labels)).all()
        auto_rows = conn.execute(select(judgments.c.item_id).where(judgments.c.source == "auto")).scalars().all()
        statuses = dict(conn.execute(select(items.c.id, items.c.status)).all())
    assert sorted(auto_rows) == sorted(r.item_id for r in labels if not r.audit)
    assert all(statuses[r.item_id] == ("open" if r.audit else "done") for r in labels)
    assert all(r.calibrated >= 0.8 for r in labels)
    assert apply_auto_labels(store, c, seed=1).labelled == 0  # labelled once: a rerun adds nothing
    # Humans judge what is left, audits included; the audit's agreement is then reported.
    for rater in raters:
        while answer(store, rater, c, right=True) is not None:
            pass
    audit = audit_report(store, c)
    assert audit.auto_labelled == report.labelled and audit.audited == report.audited
    assert audit.agreement.total == report.audited and audit.agreement.rate > 0.6


def test_too_few_human_labels_refuse_and_write_nothing(store, make_campaign, make_user):
    c, _ = _scored_campaign(store, make_campaign, make_user, n_labelled=10, n_open=20)
    c = set_rules(store, c.name, auto_label_threshold=0.8)
    with pytest.raises(InvalidInput, match="needs 30 items"):
        apply_auto_labels(store, c)
    with store.read() as conn:
        assert conn.execute(select(auto_labels.c.item_id)).first() is None


def test_thresholds_outside_zero_one_are_refused():
    assert parse_thresholds("0.8, 0.9") == [0.8, 0.9]
    for bad, message in (("1.5", r"outside \[0, 1\]"), ("-0.1", "outside"), ("0.3", "below 0.5"), ("x", "number")):
        with pytest.raises(InvalidInput, match=message):
            parse_thresholds(bad)
    with pytest.raises(ValueError, match="between 0.5 and 1"):
        routing_curve(_items(10), [1.2], CROWD, 0.8)


def test_the_stop_rule_posterior():
    assert posterior(0.5, [0, 0], 0.8) == pytest.approx(0.64 / 0.68)
    assert posterior(0.5, [0, 1], 0.8) == pytest.approx(0.5)
    assert posterior(0.9, [0], 0.8) == pytest.approx(0.72 / 0.74)  # a sure model and one agreeing judgment


def test_items_stop_before_the_overlap_once_their_label_is_sure(store, make_campaign, make_user):
    c = make_campaign(overlap=5, gold_rate=0.0)
    first, second = add_tagged_items(store, c, 2)
    c = set_rules(store, c.name, stop_at_confidence=0.9)  # no gold yet: raters assumed 75% right
    a, b, d = make_user(), make_user(), make_user()
    for rater in (a, b):
        answer(store, rater, c, right=True)  # both items get a vote from each: the first item is leased first
        answer(store, rater, c, right=True)
    with store.read() as conn:
        rows = dict(conn.execute(select(items.c.id, items.c.status)).all())
    assert rows == {first: "done", second: "done"}  # 0.75^2 / (0.75^2 + 0.25^2) = 0.9 after two agreeing
    assert answer(store, d, c) is None  # nothing left: two judgments each instead of five
    with pytest.raises(InvalidInput, match="below 0.5"):
        set_rules(store, c.name, stop_at_confidence=0.3)
