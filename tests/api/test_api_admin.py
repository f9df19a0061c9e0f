"""Admin and reviewer routes: roles enforced on the server, users and tokens, uploads, exports, review, arena."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.api.conftest import add_versus

ADMIN_ONLY = [
    ("get", "/api/v1/users", None),
    ("post", "/api/v1/users", {"name": "eve", "role": "admin", "password": "12345678"}),
    ("patch", "/api/v1/users/rita", {"role": "admin"}),
    ("post", "/api/v1/users/rita/tokens", {}),
    ("delete", "/api/v1/users/rob/tokens", None),
    ("post", "/api/v1/campaigns", {"name": "mine"}),
    ("get", "/api/v1/export", None),
]
REVIEWER_ONLY = [("get", "/api/v1/stats?campaign=demo", None), ("get", "/api/v1/review", None)]


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ONLY + REVIEWER_ONLY)
def test_a_rater_gets_no_more_than_in_the_page(client, world, method, url, body):
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(url, headers=world.headers("rater"), **kwargs)
    assert response.status_code == 403 and "role" in response.json()["error"]


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_ONLY)
def test_a_reviewer_cannot_administer(client, world, method, url, body):
    kwargs = {"json": body} if body is not None else {}
    assert getattr(client, method)(url, headers=world.headers("reviewer"), **kwargs).status_code == 403


def test_users_tokens_and_revocation_apply_at_once(client, world):
    admin = world.headers("admin")
    made = client.post(
        "/api/v1/users", json={"name": "eve", "role": "rater", "password": "long-enough"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["role"] == "rater"
    token = client.post("/api/v1/users/eve/tokens", json={"label": "crowd"}, headers=admin).json()["token"]
    eve = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=eve).json()["name"] == "eve"
    assert client.delete("/api/v1/users/eve/tokens", headers=admin).json() == {"count": 1}
    assert client.get("/api/v1/me", headers=eve).status_code == 401
    listed = {u["name"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert listed["eve"]["api_tokens"] == 0 and listed["rita"]["api_tokens"] == 1
    disabled = client.patch("/api/v1/users/rita", json={"active": False}, headers=admin)
    assert disabled.json()["active"] is False
    assert client.get("/api/v1/me", headers=world.headers("rater")).status_code == 401
    own = client.patch("/api/v1/users/ada", json={"active": False}, headers=admin)
    assert own.status_code == 403 and "your own account" in own.json()["error"]


def test_campaign_create_and_change(client, world):
    admin = world.headers("admin")
    made = client.post("/api/v1/campaigns", json={"name": "fresh", "overlap": 5, "allow_tie": False}, headers=admin)
    assert made.json()["allow_tie"] is False
    changed = client.post("/api/v1/campaigns", json={"name": "fresh", "guidelines": "Read twice."}, headers=admin)
    assert changed.json()["guidelines"] == "Read twice." and changed.json()["allow_tie"] is False
    names = [c["name"] for c in client.get("/api/v1/campaigns", headers=world.headers("rater")).json()]
    assert names == ["demo", "fresh"]


def test_upload_errors_name_the_line_and_store_nothing(client, world):
    admin = world.headers("admin")
    good = b'{"prompt": "one"}\n{"prompt": "two"}\n'
    bad = b'{"prompt": "one"}\n{"nope": 1}\n'
    ok = client.post("/api/v1/import/prompts", files={"file": ("p.jsonl", good)}, data={"tags": "a, b"}, headers=admin)
    assert ok.status_code == 200 and ok.json()["counts"] == {"prompts": 2}
    refused = client.post("/api/v1/import/prompts", files={"file": ("p.jsonl", bad)}, headers=admin)
    assert refused.status_code == 400
    message = refused.json()["error"]
    assert message.startswith("p.jsonl, line 2") and "/tmp" not in message
    too_big = client.post("/api/v1/import/prompts", files={"file": ("big.jsonl", b"x" * 20_000)}, headers=admin)
    assert too_big.status_code == 400 and "upload limit" in too_big.json()["error"]
    gz = client.post("/api/v1/import/prompts", files={"file": ("p.jsonl.gz", b"\x1f\x8b")}, headers=admin)
    assert gz.status_code == 400


def test_responses_upload_makes_items(client, world):
    data = b"".join(
        json.dumps({"prompt": f"q{i}", "response": f"answer {j}", "model": f"m{j}"}).encode() + b"\n"
        for i in range(2)
        for j in range(2)
    )
    made = client.post(
        "/api/v1/import/responses",
        files={"file": ("r.jsonl", io.BytesIO(data))},
        data={"campaign": "demo"},
        headers=world.headers("admin"),
    )
    assert made.status_code == 200 and made.json()["counts"]["items"] == 2


def _judge_all(client, world, who: str, pick_first: bool = True) -> None:
    while (r := client.post("/api/v1/campaigns/demo/next", headers=world.headers(who))).status_code == 200:
        item = r.json()
        ids = sorted(x["response_id"] for x in item["responses"])  # canonical order, whatever was shown
        body = {"idempotency_key": item["lease_token"], "ranking": ids if pick_first else ids[::-1]}
        client.post(f"/api/v1/leases/{item['lease_token']}/judgment", json=body, headers=world.headers(who))


def test_export_download_is_authenticated_and_leaves_nothing_behind(client, world, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _judge_all(client, world, "rater")
    response = client.get("/api/v1/export?campaign=demo&layout=raw", headers=world.headers("admin"))
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert len(rows) == 4 and 'filename="demo-raw.jsonl"' in response.headers["content-disposition"]
    assert len(response.headers["x-content-sha256"]) == 64
    assert not list(Path(tmp_path).glob("hitl-export-*"))  # the temporary export was removed after sending
    empty = client.get("/api/v1/export?campaign=demo&layout=pairs&aggregate=majority", headers=world.headers("admin"))
    assert empty.status_code in (200, 400)


def test_review_queue_adjudication_and_stats(client, world):
    _judge_all(client, world, "rater", pick_first=True)
    _judge_all(client, world, "rater2", pick_first=False)  # the opposite answer on every item
    rows = client.get("/api/v1/review?campaign=demo&reason=disagreement", headers=world.headers("reviewer")).json()
    assert len(rows) == 4 and all("disagreement" in r["reasons"] for r in rows)
    item_id = rows[0]["item_id"]
    detail = client.get(f"/api/v1/review/items/{item_id}", headers=world.headers("reviewer")).json()
    assert sorted(j["rater"] for j in detail["judgments"]) == ["rita", "rob"]
    saved = client.post(
        f"/api/v1/review/items/{item_id}/adjudication",
        json={"ranking": [2], "strength": 3, "note": "clear"},
        headers=world.headers("reviewer"),
    )
    assert saved.status_code == 200
    after = client.get("/api/v1/review?campaign=demo", headers=world.headers("reviewer")).json()
    assert any(r["item_id"] == item_id and r["adjudicated"] for r in after)
    stats = client.get("/api/v1/stats?campaign=demo", headers=world.headers("reviewer")).json()
    assert stats["summary"]["n_judgments"] == 8 and {r["rater"] for r in stats["raters"]} == {"rita", "rob"}


def test_arena_vote_counts_once_and_only_before_the_reveal(client, world):
    add_versus(world.store, 3)
    battle = client.post("/api/v1/arena/battles", json={"prompt_set": "arena"}, headers=world.headers("rater")).json()
    assert "m-small" not in json.dumps(battle) and "m-large" not in json.dumps(battle)  # blind
    url = f"/api/v1/arena/battles/{battle['battle_id']}/vote"
    first = client.post(url, json={"choice": "a"}, headers=world.headers("rater")).json()
    second = client.post(url, json={"choice": "b"}, headers=world.headers("rater")).json()
    assert first["counted"] is True and second["counted"] is False and second["outcome"] == "a"
    assert {first["model_a"], first["model_b"]} == {"m-small", "m-large"}
    other = client.post(url, json={"choice": "b"}, headers=world.headers("rater2"))
    assert other.status_code == 404  # someone else's battle
    board = client.get("/api/v1/arena/leaderboard?rounds=20", headers=world.headers("rater")).json()
    assert board["n_battles"] == 1 and board["ratings"][0]["model"] == first["model_a"]
    assert (
        client.get("/api/v1/arena/leaderboard?judge=reward", headers=world.headers("rater")).json()["n_battles"] == 0
    )


def test_campaign_lists_follow_the_roles(world):
    """Review and dashboard pages list campaign names for reviewers; the settings table is the admin's."""
    from hitl.errors import Forbidden

    svc = world.service
    for listing in (svc.review.campaigns, svc.dashboard.campaigns):
        with pytest.raises(Forbidden):
            listing(world.rater)
        assert listing(world.reviewer) == ["demo"] and listing(world.admin) == ["demo"]
    with pytest.raises(Forbidden):
        svc.admin.campaigns(world.reviewer)
    assert [c["name"] for c in svc.admin.campaigns(world.admin)] == ["demo"]
