"""Shared fixtures: a fresh store per test (SQLite file, or PostgreSQL when HITL_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from hitl.campaigns import create_campaign
from hitl.config import CampaignSettings
from hitl.store import open_store
from hitl.users import create_user

PG_URL = os.environ.get("HITL_TEST_POSTGRES_URL")
# Tests never reach a model hub: everything they load is built in the test or embedded.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def heavy_results_fresh_after_a_change(monkeypatch):
    """Every cached heavy result (hitl.service.heavy) is recomputed as soon as its data changes. In service, one
    that took over CHEAP_SECONDS is served stale for a while after a change; on a busy CI machine a test's first
    compute can take that long, and a test that reads, changes the data and reads again got the stale result
    (a dashboard test failed CI that way). tests/security/test_availability.py tests the stale window itself."""
    import hitl.service.heavy

    monkeypatch.setattr(hitl.service.heavy, "CHEAP_SECONDS", float("inf"))


def _pg_admin(sql: str, tries: int = 5) -> None:
    """Run one admin statement. A DROP SCHEMA can deadlock with a connection a test's server thread has not
    closed yet (it still reads the schema's tables); PostgreSQL then aborts one side, so try again a few times."""
    import time

    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        for attempt in range(tries):
            try:
                with admin.begin() as conn:
                    conn.execute(text(sql))
                return
            except OperationalError as exc:
                if "deadlock detected" not in str(exc) or attempt == tries - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        admin.dispose()


def _fresh_pg_schema() -> tuple[str, str]:
    """A new empty schema in the test database, so PostgreSQL tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    schema = None
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set HITL_TEST_POSTGRES_URL to run the PostgreSQL store tests")
        schema, url = _fresh_pg_schema()
    else:
        url = f"sqlite:///{tmp_path / 'hitl.db'}"
    s = open_store(url)
    yield s
    s.close()
    if schema:
        _pg_admin(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'hitl.db'}")
    yield s
    s.close()


@pytest.fixture
def make_user(store):
    counter = iter(range(10_000))

    def make(role: str = "rater", name: str | None = None):
        return create_user(store, name or f"{role}{next(counter)}", role, "correct-horse-battery")

    return make


@pytest.fixture
def make_campaign(store):
    def make(**settings):
        settings.setdefault("name", f"c{uuid.uuid4().hex[:8]}")
        return create_campaign(store, CampaignSettings(**settings))

    return make


@pytest.fixture
def home_with_default_models(tmp_path, monkeypatch):
    """A fresh HITL_HOME whose models/ is the machine's shared cache: the default models are fetched once per
    machine, while every test's trained versions land in its own folder."""
    from hitl import embedded

    shared = embedded.models_home()
    shared.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(shared, target_is_directory=True)
    monkeypatch.setenv("HITL_HOME", str(home))
    return home
