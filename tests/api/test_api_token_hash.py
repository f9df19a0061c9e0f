"""One token hash: rows written as `token_hash(token)` (as every existing database holds them) are accepted by
the API-token lookup, the service's cached lookup, the REST API, the browser session lookup and logout.

HITL_THREADS=1 python -m pytest -q tests/api/test_api_token_hash.py
"""

from __future__ import annotations

import time

from sqlalchemy import insert, select

from hitl.passwords import token_hash
from hitl.service import sessions
from hitl.store.schema import api_tokens, web_sessions
from hitl.users import create_api_token, user_for_token
from tests.api.conftest import PASSWORD

API_TOKEN = "hitl_stored-before-this-change"
SESSION_TOKEN = "a-session-cookie"


def test_the_stored_form_is_the_hex_sha256_existing_databases_hold():
    # Known answers (sha256 of the UTF-8 bytes): a different hash would lock out every stored token and login.
    assert token_hash(API_TOKEN) == "1204695f3b6e6c91b44bc94267cf9bcd3dde8ad2f8658c41aea4930e639ad2ff"
    assert token_hash(SESSION_TOKEN) == "4a28cf1dfbc3c7e0a2d7f0dfd3dd7b7df68cf20785b12e359711a493c71fb18c"


def test_an_api_token_row_hashed_by_token_hash_is_accepted_everywhere(world, client):
    store = world.store
    with store.write() as conn:
        conn.execute(
            insert(api_tokens).values(
                user_id=world.reviewer.id, token_hash=token_hash(API_TOKEN), label="old", created_at=time.time()
            )
        )
    assert user_for_token(store, API_TOKEN) == world.reviewer
    assert world.service.user_for_api_token(API_TOKEN) == world.reviewer
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert me.status_code == 200 and me.json()["name"] == world.reviewer.name
    # And a token made now is stored in that same form.
    fresh = create_api_token(store, world.rater.name, "new")
    with store.read() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash).where(api_tokens.c.label == "new")).scalar_one()
    assert stored == token_hash(fresh)


def test_a_session_row_hashed_by_token_hash_logs_in_and_out(world):
    store, now = world.store, time.time()
    with store.write() as conn:
        conn.execute(
            insert(web_sessions).values(
                token_hash=token_hash(SESSION_TOKEN), user_id=world.rater.id, created_at=now, expires_at=now + 3600
            )
        )
    assert sessions.user_for_session(store, SESSION_TOKEN) == world.rater
    assert world.service.user_for_session(SESSION_TOKEN) == world.rater
    world.service.logout(SESSION_TOKEN)
    assert world.service.user_for_session(SESSION_TOKEN) is None
    # A login made now stores its cookie in that same form.
    _, cookie = world.service.login(world.rater2.name, PASSWORD, "10.0.0.2")
    with store.read() as conn:
        stored = conn.execute(
            select(web_sessions.c.token_hash).where(web_sessions.c.user_id == world.rater2.id)
        ).scalar_one()
    assert stored == token_hash(cookie)
