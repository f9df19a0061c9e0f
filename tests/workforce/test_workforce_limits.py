"""Work limits: the stretch and the day's minutes (pure, with known answers), and the page's enforced break with
rotation to another campaign and the fatigue signal (through the queue, both stores)."""

import pytest
from workforce_helpers import add_tagged_items, answer

from hitl.queue import next_item
from hitl.workforce.errors import BreakDue
from hitl.workforce.limits import Worked, is_tired, limits, stretch
from hitl.workforce.manage import set_rules
from hitl.workforce.rules import WorkforceRules

T0 = 1_700_000_000.0


def test_a_stretch_is_continuous_work_and_starts_when_its_first_lease_did():
    worked = [Worked(T0 + 60 * i, 30.0) for i in range(5)] + [Worked(T0 + 3600 + 60 * i, 30.0) for i in range(3)]
    now = T0 + 3600 + 150
    run = stretch(worked, now, break_minutes=10)
    assert [w.at for w in run] == [T0 + 3600, T0 + 3660, T0 + 3720]
    lim = limits(worked, WorkforceRules(max_stretch_minutes=2.5, break_minutes=10), now, midnight=T0 - 1)
    assert lim.stretch_start == T0 + 3600 - 30  # the first lease began 30 s before its judgment
    assert lim.break_until == T0 + 3720 + 600 and "rated here for 2 minutes" in lim.reason  # 150 s of work
    assert stretch(worked, T0 + 3720 + 600, break_minutes=10) == []  # ten minutes off: the stretch is over
    assert limits(worked, WorkforceRules(max_stretch_minutes=5), now, T0 - 1).break_until is None


def test_the_day_limit_counts_minutes_on_items_until_midnight():
    worked = [Worked(T0 + 100 * i, 60.0) for i in range(10)]  # ten minutes on items
    lim = limits(worked, WorkforceRules(max_daily_minutes=10), T0 + 1000, midnight=T0 - 5)
    assert lim.day_seconds == 600 and lim.break_until == T0 - 5 + 24 * 3600
    assert limits(worked, WorkforceRules(max_daily_minutes=11), T0 + 1000, T0 - 5).break_until is None


def test_fatigue_needs_both_speed_and_agreement_to_fall():
    early = [Worked(T0 + i, 30.0, True) for i in range(10)]
    tired = early + [Worked(T0 + 100 + i, 8.0, i % 2 == 0) for i in range(10)]
    fast_but_right = early + [Worked(T0 + 100 + i, 8.0, True) for i in range(10)]
    slow_and_wrong = early + [Worked(T0 + 100 + i, 30.0, i % 2 == 0) for i in range(10)]
    assert is_tired(tired)
    assert not is_tired(fast_but_right) and not is_tired(slow_and_wrong) and not is_tired(tired[:15])


def test_the_page_enforces_a_break_and_points_to_another_campaign(store, make_campaign, make_user):
    a = make_campaign(overlap=1, gold_rate=0.0)
    b = make_campaign(overlap=1, gold_rate=0.0)
    add_tagged_items(store, a, 10)
    add_tagged_items(store, b, 10, start=50)
    a = set_rules(store, a.name, max_daily_minutes=1.0)
    rater = make_user()
    answer(store, rater, b)  # the rater works in b too
    answer(store, rater, a, seconds=40)
    answer(store, rater, a, seconds=30)  # 70 s on items here today: over the minute
    with pytest.raises(BreakDue, match="today's limit of 1 minutes") as refused:
        next_item(store, rater, a)
    assert refused.value.rotate_to == (b.name,) and f"switch to {b.name}" in str(refused.value)
    assert refused.value.retry_after > 0 and refused.value.status_code == 429
    assert next_item(store, rater, b) is not None  # b has no limit


def test_a_tiring_rater_is_sent_on_a_break(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=1.0)
    add_tagged_items(store, c, 0, gold=30)
    c = set_rules(store, c.name, fatigue_breaks=True, break_minutes=10)
    rater = make_user()
    for _ in range(10):
        answer(store, rater, c, right=True, seconds=30)
    for i in range(10):  # then faster and mostly wrong
        answer(store, rater, c, right=i % 3 == 0, seconds=5)
    with pytest.raises(BreakDue, match="much faster"):
        next_item(store, rater, c)
