"""One live lease per rater and campaign on both stores, however many `next` calls one token sends at once.

pytest tests/security/test_leases.py -q     # HITL_TEST_POSTGRES_URL=... for the PostgreSQL half
"""

from __future__ import annotations

import threading

from hitl.queue import next_item
from tests.factories import add_items


def test_concurrent_next_calls_of_one_rater_share_one_lease(store, make_user, make_campaign):
    campaign = make_campaign(overlap=3, gold_rate=0.0)
    add_items(store, campaign, 40)
    rater = make_user("rater")
    tokens: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(32)

    def call() -> None:
        try:
            start.wait()
            lease = next_item(store, rater, campaign)
            tokens.append(lease.lease_token)
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(tokens) == 32
    assert len(set(tokens)) == 1, f"{len(set(tokens))} distinct live leases for one rater"
    other = next_item(store, make_user("rater"), campaign)  # another rater is not held up by the lock
    assert other is not None and other.lease_token not in tokens
