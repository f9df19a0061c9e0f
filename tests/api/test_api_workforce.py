"""The workforce routes over HTTP, on both stores: rules with clear refusals that change nothing, the roster, a
pause answered 403 and reinstated, a break answered 429 with Retry-After, skills, and the expert queue."""

from sqlalchemy import select, update

from hitl.campaigns import get_campaign
from hitl.store.schema import gold_rationales, items

API = "/api/v1"


def _next(client, world, who="rater"):
    return client.post(f"{API}/campaigns/demo/next", headers=world.headers(who))


def _judge(client, world, who="rater", flags=(), seconds=20.0):
    got = _next(client, world, who)
    assert got.status_code == 200, got.text
    body = got.json()
    ranking = [r["response_id"] for r in body["responses"]]
    sent = client.post(
        f"{API}/leases/{body['lease_token']}/judgment",
        json={
            "idempotency_key": f"k-{body['lease_token'][:12]}",
            "ranking": ranking,
            "strength": 2,
            "flags": list(flags),
            "seconds_on_item": seconds,
        },
        headers=world.headers(who),
    )
    assert sent.status_code in (200, 201), sent.text
    return body["item_id"]


def test_rules_are_read_changed_and_refused_whole(client, world):
    got = client.get(f"{API}/campaigns/demo/workforce/rules", headers=world.headers("reviewer"))
    assert got.status_code == 200 and got.json()["qualification_items"] == 0
    refused = client.patch(
        f"{API}/campaigns/demo/workforce/rules",
        json={"qualification_items": 3, "min_seconds": 2},
        headers=world.headers("admin"),
    )
    assert refused.status_code == 400 and "no gold items to qualify" in refused.json()["error"]
    out_of_range = client.patch(
        f"{API}/campaigns/demo/workforce/rules", json={"audit_share": 1.5}, headers=world.headers("admin")
    )
    assert out_of_range.status_code == 422 and "audit_share" in out_of_range.text
    nobody = client.patch(
        f"{API}/campaigns/demo/workforce/rules", json={"skills": {"med": "medical"}}, headers=world.headers("admin")
    )
    assert nobody.status_code == 400 and "no active user has the skill 'medical'" in nobody.json()["error"]
    assert get_campaign(world.store, "demo").rules.min_seconds == 0  # nothing changed half-way
    forbidden = client.patch(
        f"{API}/campaigns/demo/workforce/rules", json={"min_seconds": 2}, headers=world.headers("reviewer")
    )
    assert forbidden.status_code == 403
    ok = client.patch(
        f"{API}/campaigns/demo/workforce/rules",
        json={"min_seconds": 2, "fast_pause": 3},
        headers=world.headers("admin"),
    )
    assert ok.status_code == 200 and ok.json()["fast_pause"] == 3


def test_a_paused_rater_gets_403_and_a_reviewer_reinstates(client, world):
    client.patch(
        f"{API}/campaigns/demo/workforce/rules",
        json={"min_seconds": 2, "fast_pause": 2},
        headers=world.headers("admin"),
    )
    _judge(client, world, seconds=0.5)
    _judge(client, world, seconds=0.5)
    refused = _next(client, world)
    assert refused.status_code == 403 and refused.json()["code"] == "paused"
    assert "pending review" in refused.json()["error"]
    roster = client.get(f"{API}/campaigns/demo/workforce/roster", headers=world.headers("reviewer")).json()
    assert [r["paused"] is not None for r in roster if r["rater"] == "rita"] == [True]
    back = client.post(
        f"{API}/campaigns/demo/workforce/reinstate",
        json={"rater": "rita", "note": "ok"},
        headers=world.headers("reviewer"),
    )
    assert back.status_code == 200
    assert _next(client, world).status_code == 200


def test_a_break_is_429_with_retry_after(client, world):
    client.patch(
        f"{API}/campaigns/demo/workforce/rules", json={"max_daily_minutes": 0.5}, headers=world.headers("admin")
    )
    _judge(client, world, seconds=40)
    refused = _next(client, world)
    assert refused.status_code == 429 and refused.json()["code"] == "break_due"
    assert int(refused.headers["Retry-After"]) > 0


def test_skills_and_the_expert_queue(client, world):
    assert client.post(f"{API}/users/vera/skills", json={"add": ["law"]}, headers=world.headers("admin")).json() == {
        "name": "vera",
        "skills": ["law"],
    }
    assert (
        client.post(f"{API}/users/vera/skills", json={"add": ["x"]}, headers=world.headers("rater")).status_code == 403
    )
    ok = client.patch(
        f"{API}/campaigns/demo/workforce/rules",
        json={"escalate_unsure": True, "escalation_skill": "law"},
        headers=world.headers("admin"),
    )
    assert ok.status_code == 200, ok.text
    item_id = _judge(client, world, flags=["unsure"])
    waiting = client.get(f"{API}/escalations", headers=world.headers("reviewer")).json()
    assert [(e["item_id"], e["reason"], e["skill"]) for e in waiting] == [(item_id, "unsure", "law")]
    assert client.get(f"{API}/escalations", headers=world.headers("rater")).json() == []
    queue = client.get(f"{API}/review?reason=escalated", headers=world.headers("reviewer")).json()
    assert queue[0]["item_id"] == item_id and "unsure" in queue[0]["escalation"] and queue[0]["waiting_seconds"] >= 0
    assert client.get(f"{API}/escalations/{item_id}", headers=world.headers("rater")).status_code == 403
    answered = client.post(
        f"{API}/escalations/{item_id}/answer", json={"winner": "1", "strength": 3}, headers=world.headers("reviewer")
    )
    assert answered.status_code == 200, answered.text
    assert client.get(f"{API}/escalations", headers=world.headers("reviewer")).json() == []


def test_gold_rationale(client, world):
    with world.store.write() as conn:
        item_id = conn.execute(select(items.c.id).limit(1)).scalar()
    url = f"{API}/review/items/{item_id}/rationale"
    not_gold = client.put(url, json={"rationale": "why"}, headers=world.headers("reviewer"))
    assert not_gold.status_code == 400 and "not a gold item" in not_gold.json()["error"]
    with world.store.write() as conn:
        conn.execute(update(items).where(items.c.id == item_id).values(is_gold=True, gold_answer=0))
    assert (
        client.put(url, json={"rationale": "A cites its source."}, headers=world.headers("rater")).status_code == 403
    )
    assert (
        client.put(url, json={"rationale": "A cites its source."}, headers=world.headers("reviewer")).status_code
        == 200
    )
    with world.store.read() as conn:
        assert conn.execute(select(gold_rationales.c.rationale)).scalar() == "A cites its source."


def test_a_rater_removed_mid_lease_is_refused_and_nothing_is_recorded(client, world):
    from hitl.store.schema import judgments, leases

    got = _next(client, world)
    assert got.status_code == 200, got.text
    lease = got.json()
    off = client.patch(f"{API}/users/rita", json={"active": False}, headers=world.headers("admin"))
    assert off.status_code == 200 and off.json()["active"] is False
    sent = client.post(
        f"{API}/leases/{lease['lease_token']}/judgment",
        json={"idempotency_key": "k-removed", "ranking": [r["response_id"] for r in lease["responses"]]},
        headers=world.headers("rater"),
    )
    assert sent.status_code == 401 and sent.json()["code"] == "unauthenticated", sent.text
    with world.store.read() as conn:
        assert conn.execute(select(judgments.c.id)).first() is None
        state = conn.execute(select(leases.c.state).where(leases.c.token == lease["lease_token"])).scalar()
    assert state == "released"  # the item is back in the pool at once, not at the lease's expiry
