"""Multi-attribute ratings over HTTP, on both stores: an admin sets a campaign's aspects, raters see them and send
scores with the judgment; scores out of range are a 422, aspects the campaign does not score a 400, both with
nothing recorded; the review item shows them."""

from sqlalchemy import func, select

from hitl.store.schema import judgments

API = "/api/v1"


def test_aspect_scores_travel_with_the_judgment(client, world):
    made = client.post(
        f"{API}/campaigns", json={"name": "demo", "aspects": "helpfulness, verbosity"}, headers=world.headers("admin")
    )
    assert made.status_code == 200 and made.json()["aspects"] == ["helpfulness", "verbosity"], made.text
    bad = client.post(f"{API}/campaigns", json={"name": "demo", "aspects": "Help!"}, headers=world.headers("admin"))
    assert bad.status_code == 400 and "lowercase" in bad.json()["error"]
    listed = client.get(f"{API}/campaigns", headers=world.headers("rater")).json()
    assert [c["aspects"] for c in listed if c["name"] == "demo"] == [["helpfulness", "verbosity"]]

    item = client.post(f"{API}/campaigns/demo/next", headers=world.headers("rater")).json()
    ids = [r["response_id"] for r in item["responses"]]
    url = f"{API}/leases/{item['lease_token']}/judgment"
    body = {"idempotency_key": "k-a", "ranking": ids, "strength": 2}
    out_of_range = client.post(
        url, json={**body, "aspects": {ids[0]: {"helpfulness": 7}}}, headers=world.headers("rater")
    )
    assert out_of_range.status_code == 422 and "aspects" in out_of_range.json()["error"]
    unknown = client.post(url, json={**body, "aspects": {ids[0]: {"humour": 2}}}, headers=world.headers("rater"))
    assert unknown.status_code == 400 and "unknown aspect(s) humour" in unknown.json()["error"]
    with world.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(judgments)).scalar() == 0
    sent = client.post(
        url, json={**body, "aspects": {ids[0]: {"verbosity": 4, "helpfulness": 2}}}, headers=world.headers("rater")
    )
    assert sent.status_code == 200, sent.text
    review = client.get(f"{API}/review/items/{item['item_id']}", headers=world.headers("reviewer")).json()
    assert "helpfulness 2, verbosity 4" in review["judgments"][0]["aspects"]
