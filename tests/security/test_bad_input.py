"""Bad input gives a 4xx (or a one-line CLI error) that names the field or the file and line, the same on both
stores, and stores nothing: NUL bytes, lone surrogates, ids past int4, deep nesting, broken CSV, bad export paths.

pytest tests/security/test_bad_input.py -q     # HITL_TEST_POSTGRES_URL=... runs the PostgreSQL half too
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from hitl.cli.main import main
from hitl.store.schema import adjudications, api_tokens, campaigns, judgments, prompts

NUL = "bad\u0000text"
SURROGATE_JSON = '"bad \\ud800 text"'  # JSON that decodes to a lone surrogate


def _count(store, table) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _lease(client, world) -> str:
    return client.post("/api/v1/campaigns/demo/next", headers=world.headers("rater")).json()["lease_token"]


@pytest.mark.parametrize("field", ["rationale", "correction", "idempotency_key"])
def test_nul_in_a_judgment_is_a_422_naming_the_field(client, world, field):
    token = _lease(client, world)
    body = {"idempotency_key": "k1", "ranking": [], "tie": True, "strength": 0, field: NUL}
    response = client.post(f"/api/v1/leases/{token}/judgment", json=body, headers=world.headers("rater"))
    assert response.status_code == 422 and field in response.json()["error"] and "NUL" in response.json()["error"]
    assert _count(world.store, judgments) == 0


def test_a_lone_surrogate_in_a_json_body_is_a_422(client, world):
    token = _lease(client, world)
    raw = '{"idempotency_key": "k2", "tie": true, "strength": 0, "rationale": ' + SURROGATE_JSON + "}"
    response = client.post(
        f"/api/v1/leases/{token}/judgment",
        content=raw,
        headers={**world.headers("rater"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and _count(world.store, judgments) == 0


def test_nul_in_admin_and_review_bodies_is_a_422(client, world):
    admin, reviewer = world.headers("admin"), world.headers("reviewer")
    r = client.post("/api/v1/users/rob/tokens", json={"label": NUL}, headers=admin)
    assert r.status_code == 422 and "label" in r.json()["error"]
    r = client.post("/api/v1/campaigns", json={"name": "demo", "guidelines": NUL}, headers=admin)
    assert r.status_code == 422 and "guidelines" in r.json()["error"]
    r = client.post("/api/v1/campaigns", json={"name": NUL}, headers=admin)
    assert r.status_code == 422 and _count(world.store, campaigns) == 1
    r = client.post("/api/v1/review/items/1/adjudication", json={"tie": True, "note": NUL}, headers=reviewer)
    assert r.status_code == 422 and "note" in r.json()["error"]
    assert _count(world.store, adjudications) == 0 and _count(world.store, api_tokens) == 4


@pytest.mark.parametrize(
    ("method", "path", "who"),
    [
        ("post", "/api/v1/campaigns/de%00mo/next", "rater"),
        ("get", "/api/v1/campaigns/de%00mo/progress", "rater"),
        ("get", "/api/v1/stats?campaign=de%00mo", "reviewer"),
        ("get", "/api/v1/review?campaign=de%00mo", "reviewer"),
        ("get", "/api/v1/export?campaign=de%00mo", "admin"),
        ("post", "/api/v1/leases/to%00ken/skip", "rater"),
        ("delete", "/api/v1/users/ro%00b/tokens", "admin"),
    ],
)
def test_nul_in_a_path_or_query_parameter_is_a_422(client, world, method, path, who):
    response = getattr(client, method)(path, headers=world.headers(who))
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/review/items/3000000000", None),
        ("post", "/api/v1/review/items/3000000000/adjudication", {"tie": True}),
        ("post", "/api/v1/arena/battles/3000000000/vote", {"choice": "a"}),
    ],
)
def test_ids_past_int4_are_a_422(client, world, method, path, body):
    who = "rater" if "arena" in path else "reviewer"
    kwargs = {"json": body} if body is not None else {}
    response = getattr(client, method)(path, headers=world.headers(who), **kwargs)
    assert response.status_code == 422 and "item_id" in response.text or "battle_id" in response.text


def test_response_ids_past_int4_in_a_ranking_are_a_422(client, world):
    token = _lease(client, world)
    body = {"idempotency_key": "k3", "ranking": [3_000_000_000, 1]}
    response = client.post(f"/api/v1/leases/{token}/judgment", json=body, headers=world.headers("rater"))
    assert response.status_code == 422


def test_patch_users_reports_the_live_api_tokens(client, world):
    response = client.patch("/api/v1/users/rob", json={"active": True}, headers=world.headers("admin"))
    assert response.status_code == 200 and response.json()["api_tokens"] == 1


def test_the_stats_schema_describes_throughput_as_pairs_of_numbers(client, world):
    spec = client.get("/api/v1/openapi.json").json()
    throughput = spec["components"]["schemas"]["StatsOut"]["properties"]["throughput"]
    assert throughput["type"] == "array" and throughput["items"]["items"]["type"] == "number"
    assert "prefixItems" not in json.dumps(throughput)
    stats = client.get("/api/v1/stats?campaign=demo", headers=world.headers("reviewer"))
    assert stats.status_code == 200 and all(len(pair) == 2 for pair in stats.json()["throughput"])


# --- uploads and CLI imports ---

BAD_FILES = {
    "nul.jsonl": (b'{"prompt": "fine"}\n{"prompt": "has \\u0000 a NUL"}\n', "line 2"),
    "surrogate.jsonl": (b'{"prompt": "fine"}\n{"prompt": "lone \\ud800 half"}\n', "line 2"),
    "deep.jsonl": (b'{"prompt": "fine"}\n{"prompt": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n", "line 2"),
    "deep.json": (b"[" * 50_000 + b"]" * 50_000, "deep.json"),
    "quote.csv": (b'prompt,tags\n"fine",a\n"never closed,b\nmore text\n', "line 3"),
    "raw-nul.csv": (b"prompt\nfine\nhas \x00 a NUL\n", "line 3"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_upload_is_a_400_naming_file_and_line_and_stores_nothing(client, world, name, monkeypatch):
    content, where = BAD_FILES[name]
    monkeypatch.setattr(world.service.settings, "max_upload_mb", 1.0)  # the fixture's 10 kB would refuse deep.*
    before = _count(world.store, prompts)
    response = client.post(
        "/api/v1/import/prompts",
        files={"file": (name, io.BytesIO(content))},
        headers=world.headers("admin"),
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert name in error and where in error and "\n" not in error
    assert _count(world.store, prompts) == before


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_cli_import_is_one_line_naming_file_and_line(name, tmp_path, capsys):
    content, where = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    db = f"sqlite:///{tmp_path / 'hitl.db'}"
    code = main(["import", "prompts", str(path), "--db", db])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert name in err and where in err


def _store_with_a_judgment(tmp_path) -> str:
    from hitl.campaigns import create_campaign
    from hitl.config import CampaignSettings
    from hitl.queue import JudgmentInput, next_item, submit
    from hitl.store import open_store
    from hitl.users import create_user
    from tests.factories import add_items

    url = f"sqlite:///{tmp_path / 'hitl.db'}"
    store = open_store(url)
    campaign = create_campaign(store, CampaignSettings(name="c", overlap=1, gold_rate=0.0))
    add_items(store, campaign, 1)
    user = create_user(store, "rita", "rater", "correct-horse-battery")
    lease = next_item(store, user, campaign)
    ranking = [r.response_id for r in lease.responses]
    submit(store, lease.lease_token, "k", JudgmentInput(ranking=ranking), user=user)
    store.close()
    return url


@pytest.mark.parametrize("target", ["/proc/out.jsonl", "{file}/under/out.jsonl", "{dir}/nul\x00name.jsonl"])
def test_an_export_to_an_unwritable_path_is_one_line_naming_it(target, tmp_path, capsys):
    db = _store_with_a_judgment(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    out = target.format(file=a_file, dir=tmp_path)
    assert main(["export", str(tmp_path / "fine.jsonl"), "--layout", "raw", "--db", db]) == 0
    capsys.readouterr()
    code = main(["export", out, "--layout", "raw", "--db", db])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "cannot write the export" in err


def test_the_pages_refuse_nul_like_the_api(world):
    """Gradio events reach the service without pydantic: the service refuses the same text, naming the field."""
    from hitl.errors import InvalidInput as Refused

    svc = world.service
    item = svc.rating.next_item(world.rater, "demo")
    with pytest.raises(Refused, match="rationale contains a NUL"):
        svc.rating.submit_choice(world.rater, item.lease_token, "a", rationale=NUL)
    with pytest.raises(Refused, match="correction contains a lone surrogate"):
        svc.rating.submit_choice(world.rater, item.lease_token, "a", correction="x\ud800")
    with pytest.raises(Refused, match="guidelines contains a NUL"):
        svc.admin.save_campaign(world.admin, {"name": "demo", "guidelines": NUL})
    with pytest.raises(Refused, match="label contains a NUL"):
        svc.admin.create_token(world.admin, "rob", NUL)
    svc.rating.submit_choice(world.rater, item.lease_token, "a", rationale="fine")
    with pytest.raises(Refused, match="note contains a NUL"):
        svc.review.adjudicate(world.reviewer, item.item_id, tie=True, note=NUL)
    assert _count(world.store, judgments) == 1 and _count(world.store, adjudications) == 0
