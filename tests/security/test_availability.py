"""No request can stall the service: cost parameters are bounded, heavy results are computed once per change of
their data, and at most one thread is ever busy computing them (the rest are answered at once).

pytest tests/security/test_availability.py -q

Speed itself is measured by scripts/bench_abuse.py; these tests check the rules that make it hold.
"""

from __future__ import annotations

import threading
import time

import pytest

from hitl.service import record_battle
from hitl.service.heavy import Busy, HeavyGate, ResultCache
from hitl.store.schema import responses
from tests.security.conftest import add_versus


def _battle(world, outcome: str = "a") -> None:
    with world.store.read() as conn:
        ids = conn.execute(responses.select().where(responses.c.model_version_id.is_not(None))).all()
    by_prompt: dict[int, list[int]] = {}
    for r in ids:
        by_prompt.setdefault(r.prompt_id, []).append(r.id)
    a, b = next(v for v in by_prompt.values() if len(v) >= 2)[:2]
    record_battle(world.store, a, b, outcome, judge="human")


def test_leaderboard_rounds_are_bounded(client, world):
    add_versus(world.store, 2)
    too_many = client.get("/api/v1/arena/leaderboard?rounds=2000", headers=world.headers("rater"))
    assert too_many.status_code == 422 and "rounds" in too_many.json()["error"]
    assert client.get("/api/v1/arena/leaderboard?rounds=1000", headers=world.headers("rater")).status_code == 200


def test_the_board_is_computed_once_per_change_of_the_battles(world):
    add_versus(world.store, 3)
    _battle(world)
    arena = world.service.arena
    boards = [arena.board(world.rater, "human", rounds=r) for r in (10, 200, 1000, 200, 50)]
    assert arena._boards.computed == 1  # every rounds value is served from one draw
    assert boards[1].ratings == boards[3].ratings and boards[0].n_battles == 1
    _battle(world, "b")
    assert arena.board(world.rater, "human").n_battles == 2 and arena._boards.computed == 2


def test_the_first_rounds_of_a_larger_draw_are_the_smaller_draw(world):
    from hitl.ratings import bootstrap_intervals, bootstrap_samples, intervals_from

    battles = [("a", "b", 1.0), ("b", "c", 0.5), ("a", "c", 1.0), ("c", "a", 1.0), ("b", "a", 0.0)] * 4
    models, samples = bootstrap_samples(battles, rounds=1000, seed=3)
    small = bootstrap_intervals(battles, rounds=100, seed=3)
    for m, (low, high) in intervals_from(models, samples[:100]).items():
        assert low == pytest.approx(small[m][0], abs=1e-3) and high == pytest.approx(small[m][1], abs=1e-3)


def test_a_busy_heavy_slot_answers_at_once_never_queues_a_thread(client, world):
    add_versus(world.store, 2)
    world.service.heavy._slots.acquire()  # another caller is computing something heavy right now
    try:
        start = time.monotonic()
        busy = client.get("/api/v1/stats?campaign=demo", headers=world.headers("reviewer"))
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
        assert client.get("/api/v1/arena/leaderboard", headers=world.headers("rater")).status_code == 503
        assert client.get("/api/v1/me", headers=world.headers("rater")).status_code == 200
        assert time.monotonic() - start < 30  # refused, not waited for (the bound is generous: slow machines)
    finally:
        world.service.heavy._slots.release()
    assert client.get("/api/v1/stats?campaign=demo", headers=world.headers("reviewer")).status_code == 200
    world.service.heavy._slots.acquire()
    try:  # with a result already computed, a busy slot serves it instead of refusing
        assert client.get("/api/v1/stats?campaign=demo", headers=world.headers("reviewer")).status_code == 200
    finally:
        world.service.heavy._slots.release()


def test_a_costly_result_is_served_stale_for_a_while_after_its_data_changed(monkeypatch):
    import hitl.service.heavy

    monkeypatch.setattr(hitl.service.heavy, "CHEAP_SECONDS", 0.02)  # the service's value (tests default to inf)
    cache = ResultCache(HeavyGate(burst=10.0), cost_ratio=1000.0)

    def costly(value: int) -> int:
        time.sleep(0.05)
        return value

    assert cache.get("board", 1, lambda: costly(1)) == 1
    # Version 2 arrives well within 1000x the 50 ms it cost: the last result is served, nothing is recomputed.
    assert cache.get("board", 2, lambda: costly(2)) == 1 and cache.computed == 1
    # Under CHEAP_SECONDS a result is always fresh (a large threshold, so that a pause of the machine cannot
    # make the quick compute count as costly).
    monkeypatch.setattr(hitl.service.heavy, "CHEAP_SECONDS", 10.0)
    assert cache.get("board", 3, lambda: costly(3)) == 3
    assert cache.get("board", 4, lambda: costly(4)) == 4 and cache.computed == 3


def test_many_callers_never_run_two_heavy_computations_at_once():
    gate = HeavyGate(1)
    cache = ResultCache(gate)
    running = peak = 0
    lock = threading.Lock()

    def slow(version: int):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return version

    results, refused = [], []

    def caller(k: int) -> None:
        for v in range(5):
            try:
                results.append(cache.get(("board", k % 2), v, lambda v=v: slow(v)))
            except Busy:
                refused.append(k)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1 and cache.computed >= 1
    assert len(results) + len(refused) == 40


@pytest.mark.parametrize("path", ["/api/v1/review", "/api/v1/stats?campaign=demo"])
def test_review_and_stats_are_served_from_the_cache_until_their_data_changes(client, world, path):
    h = world.headers("reviewer")
    first = client.get(path, headers=h)
    assert first.status_code == 200
    computed = world.service.review._rows.computed + world.service.dashboard._cache.computed
    for _ in range(5):
        assert client.get(path, headers=h).json() == first.json()
    assert world.service.review._rows.computed + world.service.dashboard._cache.computed == computed
