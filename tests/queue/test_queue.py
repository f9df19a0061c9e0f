"""Assignment queue: leases, resume, gold rate, overlap, exactly-once submit, skip, release, expiry."""

import random
import threading
import time

import pytest
from factories import add_items
from sqlalchemy import func, select, update

from hitl.errors import Conflict, InvalidInput, LeaseError
from hitl.queue import JudgmentInput, SubmitResult, expire_leases, next_item, release, skip, submit
from hitl.store import open_store
from hitl.store.schema import items, judgments, leases


def pick_first(a, strength=2):
    return JudgmentInput(ranking=[r.response_id for r in a.responses], strength=strength)


def test_refresh_resumes_the_same_lease(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0)
    add_items(store, c, 3)
    u = make_user()
    a = next_item(store, u, c)
    b = next_item(store, u, c)
    assert b.lease_token == a.lease_token and b.resumed and not a.resumed
    assert [r.response_id for r in b.responses] == [r.response_id for r in a.responses]


def test_highest_priority_first(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, overlap=1)
    ids = add_items(store, c, 5, priority=lambda i: [0.1, 0.9, 0.5, 0.7, 0.3][i])
    u = make_user()
    order = []
    while (a := next_item(store, u, c)) is not None:
        order.append(a.item_id)
        submit(store, a.lease_token, f"k{a.item_id}", pick_first(a), user=u)
    assert order == [ids[1], ids[3], ids[2], ids[4], ids[0]]


def test_display_order_is_randomised_and_recorded(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, overlap=1)
    add_items(store, c, 40)
    u = make_user()
    firsts = []
    for i in range(40):
        a = next_item(store, u, c, rng=random.Random(i))
        canonical = store_response_ids(store, a.item_id)
        firsts.append([r.response_id for r in a.responses] == canonical)
        res = submit(store, a.lease_token, f"k{i}", pick_first(a), user=u)
        with store.read() as conn:
            shown = conn.execute(select(judgments.c.display_order).where(judgments.c.id == res.judgment_id)).scalar()
        assert shown == [r.response_id for r in a.responses]
    assert 10 < sum(firsts) < 30


def store_response_ids(store, item_id):
    with store.read() as conn:
        return conn.execute(select(items.c.response_ids).where(items.c.id == item_id)).scalar()


def test_overlap_distinct_raters_and_done(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, overlap=2)
    (item_id,) = add_items(store, c, 1)
    u1, u2, u3 = make_user(), make_user(), make_user()
    a1 = next_item(store, u1, c)
    a2 = next_item(store, u2, c)
    assert a1.item_id == a2.item_id == item_id
    assert next_item(store, u3, c) is None  # two live leases fill the overlap
    submit(store, a1.lease_token, "x", pick_first(a1), user=u1)
    assert next_item(store, u1, c) is None  # u1 judged it already
    submit(store, a2.lease_token, "y", pick_first(a2), user=u2)
    with store.read() as conn:
        row = conn.execute(select(items.c.status, items.c.judgment_count).where(items.c.id == item_id)).one()
    assert tuple(row) == ("done", 2)
    assert next_item(store, u3, c) is None


def test_repeat_submit_returns_first_result(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0)
    add_items(store, c, 2)
    u = make_user()
    a = next_item(store, u, c)
    first = submit(store, a.lease_token, "key-1", pick_first(a), user=u)
    again = submit(store, a.lease_token, "key-1", pick_first(a, strength=3), user=u)
    assert again.judgment_id == first.judgment_id and again.duplicate and not first.duplicate
    with pytest.raises(LeaseError, match="already submitted"):
        submit(store, a.lease_token, "key-2", pick_first(a), user=u)
    b = next_item(store, u, c)
    with pytest.raises(Conflict, match="another item"):
        submit(store, b.lease_token, "key-1", pick_first(b), user=u)
    assert count(store, judgments) == 1


def count(store, table):
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_foreign_released_skipped_and_expired_leases_are_refused(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, overlap=3)
    add_items(store, c, 3)
    u, other = make_user(), make_user()
    a = next_item(store, u, c)
    with pytest.raises(LeaseError, match="another user"):
        submit(store, a.lease_token, "k", pick_first(a), user=other)
    release(store, a.lease_token, u)
    with pytest.raises(LeaseError, match="released"):
        submit(store, a.lease_token, "k", pick_first(a), user=u)
    b = next_item(store, u, c)
    skip(store, b.lease_token, u)
    with pytest.raises(LeaseError, match="skipped"):
        submit(store, b.lease_token, "k", pick_first(b), user=u)
    d = next_item(store, u, c)
    assert d.item_id != b.item_id  # a skipped item is not offered again
    with store.write() as conn:
        conn.execute(update(leases).values(expires_at=time.time() - 1).where(leases.c.token == d.lease_token))
    with pytest.raises(LeaseError, match="expired"):
        submit(store, d.lease_token, "k", pick_first(d), user=u)
    with pytest.raises(LeaseError, match="unknown lease"):
        submit(store, "nope", "k", pick_first(d), user=u)
    assert count(store, judgments) == 0


def test_expired_lease_returns_item_to_pool(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, overlap=1, lease_ttl_seconds=5)
    (item_id,) = add_items(store, c, 1)
    u1, u2 = make_user(), make_user()
    a = next_item(store, u1, c)
    assert next_item(store, u2, c) is None
    with store.write() as conn:
        conn.execute(update(leases).values(expires_at=time.time() - 1).where(leases.c.token == a.lease_token))
    b = next_item(store, u2, c)
    assert b is not None and b.item_id == item_id
    assert expire_leases(store) == 1
    submit(store, b.lease_token, "k", pick_first(b), user=u2)
    with pytest.raises(LeaseError):
        submit(store, a.lease_token, "k", pick_first(a), user=u1)


def test_gold_items_at_the_campaign_rate_and_never_twice(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.3, overlap=1)
    add_items(store, c, 60, gold=10)
    u = make_user()
    gold_seen = []
    rng = random.Random(7)
    for i in range(40):
        a = next_item(store, u, c, rng=rng)
        with store.read() as conn:
            gold_seen.append(conn.execute(select(items.c.is_gold).where(items.c.id == a.item_id)).scalar())
        submit(store, a.lease_token, f"k{i}", pick_first(a), user=u)
    assert 6 <= sum(gold_seen) <= 10  # about 30% of 40, capped by the 10 gold items
    # every gold item at most once for this user, but gold has no overlap limit for others
    other = make_user()
    c.settings.gold_rate = 1.0
    a = next_item(store, other, c, rng=rng)
    with store.read() as conn:
        assert conn.execute(select(items.c.is_gold).where(items.c.id == a.item_id)).scalar()


def test_invalid_judgments_are_refused(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, allow_tie=False, require_rationale=True)
    add_items(store, c, 1)
    u = make_user()
    a = next_item(store, u, c)
    ids = [r.response_id for r in a.responses]
    bad = [
        (JudgmentInput(ranking=ids, tie=True, strength=0), "does not allow ties"),
        (JudgmentInput(ranking=ids[:1], strength=2), "each of the item's responses"),
        (JudgmentInput(ranking=ids, strength=5), "strength"),
        (JudgmentInput(ranking=ids, strength=2, flags=["weird"]), "unknown flag"),
        (JudgmentInput(ranking=ids, both_bad=True, strength=1), "rationale"),
        (JudgmentInput(ranking=ids, strength=0), "tie"),
    ]
    for judgment, message in bad:
        with pytest.raises(InvalidInput, match=message):
            submit(store, a.lease_token, "k", judgment, user=u)
    assert count(store, judgments) == 0
    ok = submit(store, a.lease_token, "k", JudgmentInput(ranking=ids, strength=1, flags=["unsure"]), user=u)
    assert not ok.duplicate


def test_ranking_items(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0, item_kind="ranking")
    add_items(store, c, 1, k=4)
    u = make_user()
    a = next_item(store, u, c)
    assert len(a.responses) == 4
    ranking = [r.response_id for r in reversed(a.responses)]
    res = submit(store, a.lease_token, "k", JudgmentInput(ranking=ranking, strength=2), user=u)
    with store.read() as conn:
        assert conn.execute(select(judgments.c.ranking).where(judgments.c.id == res.judgment_id)).scalar() == ranking


def test_threads_racing_for_the_last_slots(store, make_user, make_campaign):
    """16 raters race for 5 items of overlap 2: 10 judgments, no item over its overlap, nobody twice."""
    c = make_campaign(gold_rate=0, overlap=2)
    add_items(store, c, 5)
    raters = [make_user() for _ in range(16)]
    errors = []
    start = threading.Barrier(len(raters))

    def work(u):
        try:
            start.wait()
            while (a := next_item(store, u, c)) is not None:
                submit(store, a.lease_token, f"{u.name}-{a.item_id}", pick_first(a), user=u)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(u,)) for u in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read() as conn:
        per_item = conn.execute(select(judgments.c.item_id, func.count()).group_by(judgments.c.item_id)).all()
        counts = conn.execute(select(items.c.judgment_count, items.c.status)).all()
    assert sorted(n for _, n in per_item) == [2] * 5
    assert all(tuple(r) == (2, "done") for r in counts)


def test_the_same_submit_sent_many_times_at_once_is_recorded_once(store, make_user, make_campaign):
    """A double click from several tabs: every copy gets the one judgment's id, exactly one is not a duplicate."""
    c = make_campaign(gold_rate=0, overlap=1)
    add_items(store, c, 1)
    u = make_user()
    a = next_item(store, u, c)
    copies = 8
    start = threading.Barrier(copies)
    results, errors = [], []

    def send():
        try:
            start.wait()
            results.append(submit(store, a.lease_token, "double-click", pick_first(a), user=u))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.judgment_id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1
    assert count(store, judgments) == 1


def test_a_lease_this_process_did_not_hand_out_is_judged_the_same(store, make_user, make_campaign):
    """PostgreSQL submits skip the lease read for leases this store handed out (`store.lease_cache`); one leased
    by another app host takes the read path and must behave identically (SQLite always reads)."""
    c = make_campaign(gold_rate=0, overlap=1)
    add_items(store, c, 2)
    u = make_user()
    a = next_item(store, u, c)
    store.lease_cache.take(a.lease_token)  # as if another app host had leased it
    first = submit(store, a.lease_token, "key-a", pick_first(a), user=u)
    again = submit(store, a.lease_token, "key-a", pick_first(a), user=u)
    assert again.duplicate and again.judgment_id == first.judgment_id and not first.duplicate
    with store.read() as conn:
        shown = conn.execute(select(judgments.c.display_order).where(judgments.c.id == first.judgment_id)).scalar()
    assert shown == [r.response_id for r in a.responses]
    b = next_item(store, u, c)
    store.lease_cache.take(b.lease_token)
    with pytest.raises(InvalidInput, match="ranking must list"):
        submit(store, b.lease_token, "key-b", JudgmentInput(ranking=[1, 2, 3], strength=1), user=u)
    assert count(store, judgments) == 1


def test_two_stores_on_one_database_keep_their_own_lease_caches(store, make_user, make_campaign):
    """Two app hosts (here two stores in one process): a lease one handed out is judged through the other by the
    read path, and the first one's now stale entry cannot record a second judgment."""
    c = make_campaign(gold_rate=0, overlap=2)
    add_items(store, c, 1)
    u = make_user()
    other = open_store(store.url)
    try:
        a = next_item(store, u, c)
        kept = 1 if store.dialect == "postgresql" else 0  # SQLite reads the lease in the submit's transaction
        assert (len(store.lease_cache), len(other.lease_cache)) == (kept, 0)
        first = submit(other, a.lease_token, "key-a", pick_first(a), user=u)
        assert not first.duplicate and len(store.lease_cache) == kept
        with pytest.raises(LeaseError, match="already submitted"):
            submit(store, a.lease_token, "key-b", pick_first(a), user=u)
        assert submit(store, a.lease_token, "key-a", pick_first(a), user=u) == SubmitResult(
            judgment_id=first.judgment_id, item_id=a.item_id, duplicate=True
        )
    finally:
        other.close()
    assert count(store, judgments) == 1
