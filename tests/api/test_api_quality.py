"""Gold that grows and quality by prompt tag over HTTP, on both stores: proposals for reviewers only, a
confirmation and its refusal when repeated, parameters out of range answered 422, and the by-tag tables with n and
intervals."""

from sqlalchemy import select

from hitl.campaigns import create_campaign
from hitl.catalog import add_item, add_prompt, add_response
from hitl.config import CampaignSettings
from hitl.simulate import RaterBehaviour, load_oracle, simulate
from hitl.store.schema import items

API = "/api/v1"


def _grown(store) -> None:
    """Campaign 'grow': 40 pairs tagged code or chat, judged by four careful simulated raters (overlap 3)."""
    c = create_campaign(store, CampaignSettings(name="grow", overlap=3, gold_rate=0.0))
    with store.write() as conn:
        for i in range(40):
            pid = add_prompt(conn, text=f"question {i}", tags=["code" if i % 2 else "chat"])
            good = add_response(conn, prompt_id=pid, text=f"The correct answer {i}.")
            bad = add_response(conn, prompt_id=pid, text=f"A wrong answer {i}.")
            add_item(conn, campaign_id=c.id, prompt_id=pid, response_ids=[good, bad], item_kind="pairwise")
    crowd = [RaterBehaviour(f"sim-{i}", flip=0.03, allow_tie=False) for i in range(4)]
    simulate(store, c, crowd, load_oracle("rule:contains=correct"), 120, seed=2)


def test_gold_proposals_and_a_reviewer_s_confirmation(client, world):
    _grown(world.store)
    url = f"{API}/campaigns/grow/gold/proposals"
    assert client.get(url, headers=world.headers("rater")).status_code == 403
    bad = client.get(f"{url}?min_competence=1.5", headers=world.headers("reviewer"))
    assert bad.status_code == 422 and "min_competence" in bad.json()["error"]
    got = client.get(url, headers=world.headers("reviewer"))
    assert got.status_code == 200, got.text
    found = got.json()
    assert len(found) >= 10 and all(p["answer"] == 1 and len(p["raters"]) == 3 for p in found)
    first = found[0]["item_id"]
    done = client.post(f"{API}/review/items/{first}/gold", json={"accept": True}, headers=world.headers("reviewer"))
    assert done.status_code == 200 and done.json()["accepted"] is True
    assert "gold item now" in done.json()["message"]
    with world.store.read() as conn:
        assert conn.execute(select(items.c.is_gold, items.c.gold_answer).where(items.c.id == first)).one() == (
            True,
            0,
        )
    again = client.post(f"{API}/review/items/{first}/gold", json={"accept": False}, headers=world.headers("reviewer"))
    assert again.status_code == 400 and "gold item already" in again.json()["error"]
    assert first not in {p["item_id"] for p in client.get(url, headers=world.headers("reviewer")).json()}
    typo = client.post(f"{API}/review/items/{first}/gold", json={"acept": True}, headers=world.headers("reviewer"))
    assert typo.status_code == 422


def test_quality_by_prompt_tag(client, world):
    _grown(world.store)
    assert client.get(f"{API}/stats/tags?campaign=grow", headers=world.headers("rater")).status_code == 403
    got = client.get(f"{API}/stats/tags?campaign=grow", headers=world.headers("reviewer"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert [t["tag"] for t in body["tags"]] == ["chat", "code"]
    chat = body["tags"][0]
    assert chat["judgments"] == 60 and chat["items"] == 20 and chat["rater"] is None
    assert chat["agreement n"] > 0 and chat["agreement low"] <= chat["agreement"] <= chat["agreement high"]
    assert chat["gold n"] == 0 and chat["gold"] is None  # no gold items: nothing to count, not NaN
    assert {(r["tag"], r["rater"]) for r in body["rater_tags"]} >= {("chat", "sim-0"), ("code", "sim-0")}
    assert client.get(f"{API}/stats/tags?campaign=nope", headers=world.headers("reviewer")).status_code == 404
