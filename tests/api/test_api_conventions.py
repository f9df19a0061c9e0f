"""REST API conventions: a stable `code` beside every error message, Retry-After on every 429, /api/v1/health,
pagination of the list endpoints (X-Total-Count, Link rel="next"), and the Idempotency-Key header."""

from __future__ import annotations

import uuid

from fastapi import HTTPException
from sqlalchemy import text
from starlette.testclient import TestClient

from collection_ui.api import build_api
from hitl.service.access import RateLimited


def _next(client, world, who="rater"):
    return client.post("/api/v1/campaigns/demo/next", headers=world.headers(who)).json()


def _submit(client, world, who, item, order, **headers):
    ids = sorted(r["response_id"] for r in item["responses"])  # canonical order, whatever order was shown
    ranking = [ids[i] for i in order]
    return client.post(
        f"/api/v1/leases/{item['lease_token']}/judgment",
        json={"ranking": ranking, **({} if headers else {"idempotency_key": uuid.uuid4().hex})},
        headers={**world.headers(who), **headers},
    )


def test_errors_carry_a_stable_code(client, world):
    cases = [
        (client.get("/api/v1/me"), 401, "unauthenticated"),
        (client.get("/api/v1/campaigns/nope/progress", headers=world.headers("rater")), 404, "not_found"),
        (client.get("/api/v1/users", headers=world.headers("rater")), 403, "forbidden"),
        (client.get("/api/v1/review?limit=0", headers=world.headers("reviewer")), 422, "validation_error"),
        (client.post("/api/v1/leases/nope/skip", headers=world.headers("rater")), 409, "lease_error"),
        (client.get("/api/v1/no-such-route"), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["code"] == code and body["error"], body
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ErrorOut"]
    assert schema["required"] == ["error", "code"]


def test_every_429_says_when_to_come_back(world):
    app = build_api(world.service)

    @app.get("/limited")
    def limited():
        raise RateLimited("too many at once", retry_after=7)

    @app.get("/limited-plain")
    def limited_plain():
        raise HTTPException(status_code=429, detail="slow down")

    with TestClient(app) as c:
        first, second = c.get("/limited"), c.get("/limited-plain")
    assert (first.status_code, first.headers["retry-after"], first.json()["code"]) == (429, "7", "rate_limited")
    assert (second.status_code, second.headers["retry-after"], second.json()["code"]) == (429, "1", "rate_limited")


def test_health_needs_no_login_and_fails_on_an_unmigrated_store(client, world):
    ok = client.get("/api/v1/health")
    body = ok.json()
    assert ok.status_code == 200 and body["ok"] is True
    assert body["store"]["reachable"] is True and body["migrations"]["ok"] is True
    assert body["loop"] == {"state": "no rounds yet", "rounds_in_progress": 0}
    assert body["webhooks"] == {"pending": 0, "failed": 0}
    with world.store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0008_pg_one_live_lease'"))
    behind = client.get("/api/v1/health")
    assert behind.status_code == 503 and behind.json()["migrations"]["current"] == "0008_pg_one_live_lease"


def test_review_and_lists_are_paged(client, world):
    for _ in range(4):  # the two raters disagree on every item: four rows to review
        a, b = _next(client, world, "rater"), _next(client, world, "rater2")
        assert _submit(client, world, "rater", a, [0, 1]).status_code == 200
        assert _submit(client, world, "rater2", b, [1, 0]).status_code == 200
    head = world.headers("reviewer")
    first = client.get("/api/v1/review?limit=3", headers=head)
    assert first.status_code == 200 and len(first.json()) == 3 and first.headers["x-total-count"] == "4"
    link = first.headers["link"]
    assert link.endswith('>; rel="next"') and "offset=3" in link and "limit=3" in link
    url = link[link.index("<") + 1 : link.index(">")]
    second = client.get(url, headers=head)
    assert len(second.json()) == 1 and "link" not in second.headers
    assert {r["item_id"] for r in first.json() + second.json()} == {
        r["item_id"] for r in client.get("/api/v1/review", headers=head).json()
    }
    users = client.get("/api/v1/users?limit=3", headers=world.headers("admin"))
    assert len(users.json()) == 3 and users.headers["x-total-count"] == "4" and "offset=3" in users.headers["link"]
    campaigns = client.get("/api/v1/campaigns", headers=world.headers("rater"))
    assert campaigns.headers["x-total-count"] == "1" and "link" not in campaigns.headers
    assert client.get("/api/v1/review?limit=501", headers=head).status_code == 422  # pages are bounded


def test_idempotency_key_header(client, world):
    item = _next(client, world)
    key = uuid.uuid4().hex
    first = _submit(client, world, "rater", item, [0, 1], **{"Idempotency-Key": key})
    again = _submit(client, world, "rater", item, [0, 1], **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    nothing = client.post(
        f"/api/v1/leases/{item['lease_token']}/judgment", json={"ranking": []}, headers=world.headers("rater")
    )
    assert nothing.status_code == 400 and "idempotency key" in nothing.json()["error"]
    ranking = [r["response_id"] for r in item["responses"]]
    clash = client.post(
        f"/api/v1/leases/{item['lease_token']}/judgment",
        json={"ranking": ranking, "idempotency_key": "a"},
        headers={**world.headers("rater"), "Idempotency-Key": "b"},
    )
    assert clash.status_code == 400 and clash.json()["code"] == "invalid_input"
