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


def _fresh_pg_url() -> str:
    """A new empty schema in the test database, so PostgreSQL tests never see each other's rows."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set HITL_TEST_POSTGRES_URL to run the PostgreSQL store tests")
        url = _fresh_pg_url()
    else:
        url = f"sqlite:///{tmp_path / 'hitl.db'}"
    s = open_store(url)
    yield s
    s.close()


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
