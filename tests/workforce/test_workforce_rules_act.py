"""The workforce rules act on simulated crowds judging through the real queue, on both stores: warn then pause,
reinstatement, qualification, guidelines versions, and a rater refused mid-lease."""

import pytest
from sqlalchemy import select
from workforce_helpers import add_tagged_items, answer

from hitl.campaigns import get_campaign, update_campaign
from hitl.errors import InvalidInput
from hitl.queue import JudgmentInput, next_item, submit
from hitl.simulate import RaterBehaviour, default_crowd, load_oracle, simulate
from hitl.store.schema import items, judgments, leases, rater_events
from hitl.users import get_user
from hitl.workforce.errors import NotQualified, Paused
from hitl.workforce.manage import reinstate, roster, set_rules, training_feedback
from hitl.workforce.standing import record_event

ORACLE = load_oracle("rule:contains=correct")


def _events(store, user):
    with store.read() as conn:
        return [
            (r.kind, r.reason)
            for r in conn.execute(
                select(rater_events.c.kind, rater_events.c.reason)
                .where(rater_events.c.user_id == user.id)
                .order_by(rater_events.c.id)
            )
        ]


def test_a_spammer_is_warned_then_paused_and_a_reviewer_reinstates(store, make_campaign, make_user):
    c = make_campaign(overlap=3, gold_rate=0.2)
    add_tagged_items(store, c, 150, gold=20)
    c = set_rules(store, c.name, min_seconds=4, fast_window=10, fast_warn=2, fast_pause=4)
    report = simulate(store, c, default_crowd(6), ORACLE, 300, seed=3)
    spammer = get_user(store, "sim-spammer")
    events = _events(store, spammer)
    assert [k for k, _ in events] == ["warned", "paused"], events
    assert events[1][1].startswith("answers under 4 s: 4 of the last")
    assert "paused" in report.stopped["sim-spammer"]
    with pytest.raises(Paused, match="pending review"):
        next_item(store, spammer, c)
    # Nobody honest was warned, let alone paused.
    for name in ("sim-honest-1", "sim-honest-2", "sim-honest-3", "sim-position"):
        assert _events(store, get_user(store, name)) == []
    reviewer = make_user("reviewer")
    assert "pause ended" in reinstate(store, c, "sim-spammer", reviewer.id, "talked to them")
    assert next_item(store, spammer, c) is not None  # back at work, counts start over
    paused = {r.rater: r.paused for r in roster(store, c)}
    assert paused["sim-spammer"] is None


def test_missed_attention_checks_pause(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=1.0)
    add_tagged_items(store, c, 0, gold=12)
    c = set_rules(store, c.name, attention_window=5, attention_warn_misses=1, attention_pause_misses=3)
    careless = make_user()
    for _ in range(2):
        answer(store, careless, c, right=False)
    assert [k for k, _ in _events(store, careless)] == ["warned"]
    answer(store, careless, c, right=False)
    assert [k for k, _ in _events(store, careless)] == ["warned", "paused"]
    with pytest.raises(Paused):
        answer(store, careless, c)


def test_raters_in_training_get_only_training_items_until_they_pass(store, make_campaign, make_user):
    c = make_campaign(overlap=2, gold_rate=0.0)
    add_tagged_items(store, c, 30, gold=8)
    c = set_rules(store, c.name, qualification_items=4, qualification_pass=0.75, qualification_retries=1)
    simulate(store, c, [RaterBehaviour("sim-good", flip=0.0)], ORACLE, 100, seed=5)
    bad = make_user(name="always-wrong")
    with pytest.raises(NotQualified, match="no attempt left"):
        for _ in range(20):  # two attempts of 4 wrong answers (8 gold items), then refused
            answer(store, bad, c, right=False)
    with store.read() as conn:
        rows = conn.execute(
            select(judgments.c.user_id, items.c.is_gold)
            .join(items, items.c.id == judgments.c.item_id)
            .order_by(judgments.c.id)
        ).all()
    good = get_user(store, "sim-good")
    good_rows = [gold for uid, gold in rows if uid == good.id]
    bad_rows = [gold for uid, gold in rows if uid == bad.id]
    assert good_rows[:4] == [True] * 4 and len(good_rows) == 34 and not any(good_rows[4:])  # training, then work
    assert bad_rows == [True] * 8  # never a regular item
    standing = {r.rater: r for r in roster(store, c)}
    assert standing["sim-good"].qualification == "passed"
    assert (standing["always-wrong"].qualification, standing["always-wrong"].attempt) == ("failed", 2)
    reviewer = make_user("reviewer")
    assert "attempts granted again" in reinstate(store, c, "always-wrong", reviewer.id)
    with pytest.raises(NotQualified, match="no training item left"):  # every gold item is used up
        next_item(store, bad, c)


def test_training_feedback_shows_the_reference_answer_and_rationale(store, make_campaign, make_user):
    from hitl.workforce.manage import set_rationale

    c = make_campaign(overlap=1, gold_rate=0.0)
    gold = add_tagged_items(store, c, 2, gold=2)[2:]
    for item_id in gold:
        set_rationale(store, item_id, "It is the correct one.")
    c = set_rules(store, c.name, qualification_items=1, qualification_pass=1.0, qualification_retries=1)
    trainee = make_user()
    a = answer(store, trainee, c, right=False)
    text = training_feedback(store, trainee.id, c, a.item_id)
    assert "reference answer is **" in text and "did not" in text and "It is the correct one." in text
    assert "Attempt 1 not passed: 0/1 right" in text
    a = answer(store, trainee, c, right=True)
    assert "matched it" in training_feedback(store, trainee.id, c, a.item_id)
    a = answer(store, trainee, c)  # qualified: a regular item, no training feedback
    assert a is not None and training_feedback(store, trainee.id, c, a.item_id) is None


def test_guidelines_versions_are_recorded_and_can_require_requalification(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0, guidelines="v1")
    add_tagged_items(store, c, 6, gold=4)
    set_rules(store, c.name, qualification_items=1, qualification_retries=0, requalify_on_new_guidelines=True)
    rater = make_user()
    answer(store, rater, get_campaign(store, c.name))  # training (gold)
    answer(store, rater, get_campaign(store, c.name))  # regular
    c2 = update_campaign(store, c.name, guidelines="v2: read this first")
    assert c2.guidelines_version == 2
    a = answer(store, rater, get_campaign(store, c.name))
    with store.read() as conn:
        rows = conn.execute(
            select(judgments.c.guidelines_version, items.c.is_gold)
            .join(items, items.c.id == judgments.c.item_id)
            .order_by(judgments.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [(1, True), (1, False), (2, True)]  # back to training under v2
    assert a is not None


def test_a_rater_paused_while_holding_a_lease_records_nothing(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0)
    add_tagged_items(store, c, 3)
    c = set_rules(store, c.name, min_seconds=2, fast_pause=5)
    rater = make_user()
    a = next_item(store, rater, c)
    with store.write() as conn:
        record_event(conn, rater.id, c.id, "paused", "a reviewer looked at their work")
    store.route_cache.clear()  # as on another app host once its cached route expires
    ranking = [r.response_id for r in a.responses]
    with pytest.raises(Paused, match="not recorded"):
        submit(store, a.lease_token, "k1", JudgmentInput(ranking=ranking, strength=2), user=rater)
    with store.read() as conn:
        assert conn.execute(select(judgments.c.id)).first() is None
        assert conn.execute(select(leases.c.state).where(leases.c.token == a.lease_token)).scalar() == "released"


def test_bad_rules_are_refused_and_change_nothing(store, make_campaign, make_user):
    c = make_campaign()
    add_tagged_items(store, c, 3)
    with pytest.raises(InvalidInput, match="no gold items to qualify"):
        set_rules(store, c.name, qualification_items=3)
    with pytest.raises(InvalidInput, match="no active user has the skill 'medical'"):
        set_rules(store, c.name, skills={"med": "medical"})
    for bad in ({"qualification_pass": 1.5}, {"audit_share": -0.1}, {"auto_label_threshold": 2.0}):
        with pytest.raises(InvalidInput, match="between 0 and 1"):
            set_rules(store, c.name, **bad)
    with pytest.raises(InvalidInput, match="unknown workforce rule"):
        set_rules(store, c.name, qualification=3)
    assert get_campaign(store, c.name).rules == type(c.rules)()
    add_tagged_items(store, c, 0, gold=3, start=10)
    with pytest.raises(InvalidInput, match="needs 6 gold items"):
        set_rules(store, c.name, qualification_items=3, qualification_retries=1)
    assert get_campaign(store, c.name).rules.qualification_items == 0
