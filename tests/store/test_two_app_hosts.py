"""Two `hitl serve` processes on one PostgreSQL database, 32 scripted raters split across them: leases taken on one
host are submitted on the other, retries go to either, a browser session made on one host is valid on the other;
afterwards every acknowledged judgment is stored exactly once and no item or lease breaks a rule.

    HITL_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test pytest -q tests/store/test_two_app_hosts.py
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from hitl.campaigns import create_campaign
from hitl.catalog import add_item, add_prompt, add_response
from hitl.config import CampaignSettings
from hitl.store import open_store
from hitl.store.schema import items, judgments, leases
from hitl.users import create_api_token, create_user

PG_URL = os.environ.get("HITL_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="set HITL_TEST_POSTGRES_URL to run two app hosts on one PostgreSQL"),
]
RATERS, ITEMS, OVERLAP = 32, 48, 3
PASSWORD = "correct-horse-battery"


def _admin(sql: str) -> None:
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database():
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    _admin(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def hosts(database, tmp_path):
    """Two app processes (`python -m hitl serve`) on the one database; their base URLs once both are healthy."""
    import httpx

    store = open_store(database)  # migrated once here; both hosts find it current
    store.close()
    env = {**os.environ, "HITL_THREADS": "1", "HITL_HOME": str(tmp_path / "home")}
    procs, urls = [], []
    for n in range(2):
        port = _free_port()
        log = open(tmp_path / f"host{n}.log", "w")  # noqa: SIM115 - closed with the process below
        cmd = [sys.executable, "-m", "hitl", "serve", "--db", database, "--port", str(port)]
        procs.append((subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.time() + 180
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.time() < deadline, (tmp_path / "host0.log").read_text()[-3000:]
                time.sleep(0.5)
        yield urls
    finally:
        for proc, log in procs:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()


def _world(database):
    store = open_store(database)
    campaign = create_campaign(store, CampaignSettings(name="shared", overlap=OVERLAP, gold_rate=0.0))
    with store.write() as conn:
        for i in range(ITEMS):
            pid = add_prompt(conn, text=f"prompt {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"answer {j} to {i}" + "!" * j) for j in range(2)]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    tokens = []
    for i in range(RATERS):
        create_user(store, f"r{i}", "rater", PASSWORD)
        tokens.append(create_api_token(store, f"r{i}", "two hosts"))
    return store, tokens


def test_two_hosts_share_leases_sessions_and_tokens(database, hosts):
    import httpx

    store, tokens = _world(database)
    acknowledged: dict[str, int] = {}  # idempotency key -> judgment id the API answered
    errors: list[str] = []
    lock = threading.Lock()

    def rater(i: int) -> None:
        rng = random.Random(i)
        head = {"Authorization": f"Bearer {tokens[i]}"}
        here, there = hosts[i % 2], hosts[1 - i % 2]
        with httpx.Client(timeout=30, headers=head) as http:
            while True:
                got = http.post(f"{here}/api/v1/campaigns/shared/next")
                if got.status_code == 204:
                    return
                if got.status_code != 200:
                    errors.append(f"next {got.status_code} {got.text}")
                    return
                item = got.json()
                ranking = [r["response_id"] for r in item["responses"]]
                rng.shuffle(ranking)
                key = uuid.uuid4().hex
                body = {"ranking": ranking, "idempotency_key": key, "strength": rng.randint(1, 3)}
                url = f"/api/v1/leases/{item['lease_token']}/judgment"
                first = http.post(f"{there}{url}", json=body)  # the lease came from the other host
                if first.status_code != 200:
                    errors.append(f"submit {first.status_code} {first.text}")
                    return
                if rng.random() < 0.3:  # a retry, to either host, with the key in the header this time
                    retry = http.post(
                        f"{rng.choice(hosts)}{url}",
                        json={k: v for k, v in body.items() if k != "idempotency_key"},
                        headers={"Idempotency-Key": key},
                    )
                    if retry.json() != {**first.json(), "duplicate": True}:
                        errors.append(f"retry {retry.status_code} {retry.text}")
                with lock:
                    acknowledged[key] = first.json()["judgment_id"]

    threads = [threading.Thread(target=rater, args=(i,)) for i in range(RATERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]

    with store.read() as conn:
        stored = conn.execute(select(judgments.c.id, judgments.c.idempotency_key)).all()
        counts = conn.execute(
            select(items.c.id, items.c.status, items.c.judgment_count, func.count(judgments.c.id))
            .outerjoin(judgments, judgments.c.item_id == items.c.id)
            .group_by(items.c.id)
        ).all()
        live = conn.execute(select(func.count()).select_from(leases).where(leases.c.state == "active")).scalar_one()
    # Every acknowledged judgment stored once, nothing stored that was not acknowledged.
    assert sorted(stored) == sorted((jid, key) for key, jid in acknowledged.items())
    assert len(stored) == ITEMS * OVERLAP
    # 0 integrity violations: counts match the rows, nothing past the overlap, every item done, no lease left open.
    assert all(count == n == OVERLAP and status == "done" for _, status, count, n in counts)
    assert live == 0

    # A browser session made on one host is a login on the other.
    with httpx.Client(base_url=hosts[0]) as browser:
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        logged_in = browser.post("/login", data={"username": "r0", "password": PASSWORD, "csrf": csrf})
        assert logged_in.status_code in (200, 303), logged_in.text[:500]
        session = browser.cookies.get("hitl_session")
    assert session
    me = httpx.get(f"{hosts[1]}/api/v1/me", cookies={"hitl_session": session})
    assert me.status_code == 200 and me.json()["name"] == "r0"
    store.close()
