"""The REST API's rating routes: authentication, next / submit (exactly once) / skip / release, JSON errors."""

from __future__ import annotations

from sqlalchemy import func, select

from hitl.store.schema import judgments


def _next(client, world, who="rater", campaign="demo"):
    return client.post(f"/api/v1/campaigns/{campaign}/next", headers=world.headers(who))


def _count(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(judgments)).scalar()


def test_anonymous_and_bad_tokens_are_refused_with_json(client, world):
    for response in (
        client.post("/api/v1/campaigns/demo/next"),
        client.post("/api/v1/campaigns/demo/next", headers={"Authorization": "Bearer hitl_nope"}),
        client.get("/api/v1/me", headers={"Authorization": "Basic abc"}),
    ):
        assert response.status_code == 401
        assert "token" in response.json()["error"]


def test_me_names_the_user_and_pages(client, world):
    body = client.get("/api/v1/me", headers=world.headers("reviewer")).json()
    assert body == {
        "name": "vera",
        "role": "reviewer",
        "pages": ["rate", "arena", "leaderboard", "review", "dashboard"],
    }


def test_next_submit_is_exactly_once_and_a_retry_returns_the_first_result(client, world):
    item = _next(client, world).json()
    assert [r["label"] for r in item["responses"]] == ["A", "B"]
    ranking = [r["response_id"] for r in item["responses"]][::-1]
    body = {
        "idempotency_key": "k-1",
        "ranking": ranking,
        "strength": 3,
        "flags": ["unsure"],
        "rationale": "B is clear",
    }
    first = client.post(f"/api/v1/leases/{item['lease_token']}/judgment", json=body, headers=world.headers("rater"))
    again = client.post(f"/api/v1/leases/{item['lease_token']}/judgment", json=body, headers=world.headers("rater"))
    assert first.status_code == again.status_code == 200
    assert first.json()["duplicate"] is False and again.json() == {**first.json(), "duplicate": True}
    assert _count(world.store) == 1
    with world.store.read() as conn:
        row = conn.execute(select(judgments)).one()
    assert list(row.ranking) == ranking and row.strength == 3 and list(row.flags) == ["unsure"]


def test_refresh_returns_the_same_lease(client, world):
    assert _next(client, world).json()["lease_token"] == _next(client, world).json()["lease_token"]


def test_someone_elses_lease_is_refused(client, world):
    item = _next(client, world).json()
    body = {"idempotency_key": "k", "ranking": [r["response_id"] for r in item["responses"]]}
    response = client.post(
        f"/api/v1/leases/{item['lease_token']}/judgment", json=body, headers=world.headers("rater2")
    )
    assert response.status_code == 409 and "another user" in response.json()["error"]
    assert (
        client.post(f"/api/v1/leases/{item['lease_token']}/skip", headers=world.headers("rater2")).status_code == 409
    )
    assert _count(world.store) == 0


def test_bad_bodies_say_what_to_fix(client, world):
    item = _next(client, world).json()
    url = f"/api/v1/leases/{item['lease_token']}/judgment"
    wrong = client.post(
        url, json={"idempotency_key": "k", "ranking": [1, 2], "strength": 9}, headers=world.headers("rater")
    )
    assert wrong.status_code == 422 and "strength" in wrong.json()["error"]
    unknown = client.post(url, json={"idempotency_key": "k", "colour": 1}, headers=world.headers("rater"))
    assert unknown.status_code == 422 and "colour" in unknown.json()["error"]
    bad_ranking = client.post(
        url, json={"idempotency_key": "k", "ranking": [998, 999]}, headers=world.headers("rater")
    )
    assert bad_ranking.status_code == 400 and "ranking must list" in bad_ranking.json()["error"]
    missing = client.post("/api/v1/campaigns/nope/next", headers=world.headers("rater"))
    assert missing.status_code == 404 and "campaign" in missing.json()["error"]


def test_skip_release_and_nothing_left(client, world):
    seen = set()
    for _ in range(4):
        item = _next(client, world).json()
        seen.add(item["item_id"])
        assert client.post(f"/api/v1/leases/{item['lease_token']}/skip", headers=world.headers("rater")).json()["ok"]
    assert len(seen) == 4
    assert _next(client, world).status_code == 204  # every item skipped: nothing left for this rater
    item = _next(client, world, "rater2").json()
    assert (
        client.post(f"/api/v1/leases/{item['lease_token']}/release", headers=world.headers("rater2")).status_code
        == 200
    )
    again = client.post(f"/api/v1/leases/{item['lease_token']}/release", headers=world.headers("rater2"))
    assert again.status_code == 409 and "already released" in again.json()["error"]


def test_progress(client, world):
    item = _next(client, world).json()
    body = {"idempotency_key": "p", "ranking": [r["response_id"] for r in item["responses"]]}
    client.post(f"/api/v1/leases/{item['lease_token']}/judgment", json=body, headers=world.headers("rater"))
    progress = client.get("/api/v1/campaigns/demo/progress", headers=world.headers("rater")).json()
    assert progress["judged_today"] == 1 and progress["left"] == 3 and progress["take_break"] is False


def test_session_cookie_works_for_downloads_but_never_for_changes(client, world):
    _, token = world.service.login("ada", "correct-horse-battery", "testclient")
    client.cookies.set("hitl_session", token)
    assert client.get("/api/v1/me").json()["name"] == "ada"
    # A cookie is sent by the browser on its own: it must not be enough to change anything.
    assert client.post("/api/v1/campaigns/demo/next").status_code == 401
    assert client.post("/api/v1/users", json={"name": "eve", "password": "12345678"}).status_code == 401
