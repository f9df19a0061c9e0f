"""GET /api/v1/arena/leaderboard with style control, rank intervals, verdicts, the planner and categories; the
report drawn once per change of the battle set."""

from __future__ import annotations

from tests.arena_helpers import seed_length_battles as _seed


def test_leaderboard_shows_raw_and_style_controlled_side_by_side(client, world):
    _seed(world.store)
    body = client.get("/api/v1/arena/leaderboard?view=style&rounds=300", headers=world.headers("rater")).json()
    assert body["view"] == "style" and body["n_battles"] == 80 and body["message"] == "80 battles"
    rows = {r["model"]: r for r in body["rows"]}
    assert rows["idle"]["rank"] == "unrated" and rows["idle"]["rating"] is None
    wordy = rows["wordy"]
    assert wordy["rating"] > rows["brief"]["rating"] + 60  # raw: length wins
    assert wordy["low"] < wordy["rating"] < wordy["high"] and wordy["style_low"] is not None
    # Only length matters: with it held equal the two are not separated, and length carries the wins.
    assert body["verdicts"][0]["separated"] is False and "not separated" in body["verdicts"][0]["text"]
    assert body["plans"][0]["a"] in ("wordy", "brief") and body["plans"][0]["n"] == 80
    assert [c["feature"] for c in body["coefficients"]] == ["length"] and body["coefficients"][0]["low"] > 0
    assert body["skipped_features"] == ["lists", "headers", "bold", "code_blocks"]
    assert {c["tag"] for c in body["categories"]} == {"chat", "code"}
    assert all(c["n_battles"] == 40 for c in body["categories"])
    raw = client.get("/api/v1/arena/leaderboard", headers=world.headers("rater")).json()
    assert raw["view"] == "raw" and raw["verdicts"][0]["text"] == "wordy above brief with 95% confidence"
    assert raw["ratings"] and raw["counts"]  # the plain board is still there


def test_the_report_is_drawn_once_per_battle_set(world):
    _seed(world.store, n=30)
    arena = world.service.arena
    for rounds, view in ((100, "raw"), (300, "style"), (100, "raw"), (1000, "style")):
        arena.report(world.rater, "human", rounds=rounds, view=view)
    assert arena._boards.computed == 1
    assert arena.report(world.rater, "oracle").message == "no battles yet"


def test_bad_view_is_refused(client, world):
    assert client.get("/api/v1/arena/leaderboard?view=fancy", headers=world.headers("rater")).status_code == 422


def test_new_battles_go_to_the_pair_the_ranking_has_not_told_apart(world):
    """After 80 votes between `wordy` and `brief`, the pairs with `idle` (never voted on, unrated) are where the next
    votes decide most; a uniform arena would give `wordy` vs `brief` one battle in three."""
    import random
    from collections import Counter

    from hitl.arena_pairing import PairingConfig
    from hitl.service.arena import ArenaService

    _seed(world.store)
    adaptive = ArenaService(world.store, rng=random.Random(0), pairing=PairingConfig(floor=0.0))
    shown = Counter()
    for _ in range(12):
        battle = adaptive.new_battle(world.rater)
        reveal = adaptive.reveal(world.rater, battle.id)
        shown[frozenset((reveal.model_a, reveal.model_b))] += 1
    assert shown[frozenset(("wordy", "brief"))] == 0 and sum(shown.values()) == 12
    uniform = ArenaService(world.store, rng=random.Random(0), pairing=PairingConfig(method="uniform"))
    assert uniform.pairing.method == "uniform" and uniform.new_battle(world.rater).id


def test_integrity_rules_report_what_they_removed(client, world):
    from sqlalchemy import select

    from hitl.catalog import add_prompt, add_response
    from hitl.service.arena import record_battle
    from hitl.store.schema import model_versions

    _seed(world.store)
    with world.store.write() as conn:
        ids = dict(conn.execute(select(model_versions.c.name, model_versions.c.id)).all())
        pid = add_prompt(conn, text="Who are you?", tags=["chat"])
        a = add_response(conn, prompt_id=pid, text="As ChatGPT, I can help.", model_version_id=ids["wordy"])
        b = add_response(conn, prompt_id=pid, text="Hello.", model_version_id=ids["brief"])
    for _ in range(3):  # the same prompt, three times: void by the identity rule before repeats are weighed
        record_battle(world.store, a, b, "a", judge="human", user_id=world.rater.id)
    body = client.get("/api/v1/arena/leaderboard", headers=world.headers("rater")).json()
    lines = {line.split(":")[0]: line for line in body["integrity"]}
    assert set(lines) == {"identity", "caps", "outliers", "repeats"}
    assert "3 votes void" in lines["identity"] and "answer A (wordy) names a model" in lines["identity"]
    assert lines["caps"] == "caps: nothing removed" and body["message"] == "80 battles"
    assert body["n_battles"] == 80 and body["flagged_voters"] == []
