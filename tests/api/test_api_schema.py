"""No input makes the REST API answer 500: schemathesis generates requests from the OpenAPI spec.

    pytest tests/api/test_api_schema.py -q

A bounded number of examples per operation keeps the run short; requests carry an admin's token so that
they get past authentication into the routes (and a token-less variant of each is checked separately). Both
stores: SQLite always, PostgreSQL when HITL_TEST_POSTGRES_URL is set (it refuses NUL bytes and int4 overflows
that SQLite would take, so it is where a missed check shows up as a 500).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from collection_ui.api import build_api
from hitl.campaigns import create_campaign
from hitl.config import CampaignSettings
from hitl.service import Service, WebSettings
from hitl.store import open_store
from hitl.users import create_api_token, create_user
from tests.api.conftest import add_pairs, add_versus
from tests.conftest import PG_URL, _fresh_pg_schema, _pg_admin

# A deeper run: HITL_SCHEMA_EXAMPLES=200 pytest tests/api/test_api_schema.py
EXAMPLES = int(os.environ.get("HITL_SCHEMA_EXAMPLES", "12"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_world(request, tmp_path_factory):
    schema = None
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set HITL_TEST_POSTGRES_URL to run the PostgreSQL store tests")
        schema, url = _fresh_pg_schema()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'hitl.db'}"
    store = open_store(url)
    create_user(store, "ada", "admin", "correct-horse-battery")
    create_user(store, "rita", "rater", "correct-horse-battery")
    token = create_api_token(store, "ada")
    campaign = create_campaign(store, CampaignSettings(name="demo", overlap=2, gold_rate=0.0))
    add_pairs(store, campaign, 6)
    add_versus(store, 3)
    yield build_api(Service(store, WebSettings(max_upload_mb=0.05))), token
    store.close()
    if schema:
        _pg_admin(f"DROP SCHEMA {schema} CASCADE")


def _operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_spec_lists_every_route(api_world):
    app, _ = api_world
    labels = {op.label for op in _operations(app)}
    assert {
        "POST /api/v1/campaigns/{campaign}/next",
        "POST /api/v1/leases/{lease_token}/judgment",
        "GET /api/v1/export",
        "POST /api/v1/import/prompts",
        "GET /api/v1/arena/leaderboard",
    } <= labels


def test_no_input_gives_a_server_error(api_world):
    # Driven by hand rather than by schemathesis' pytest plugin (which does not load under pytest 9).
    app, token = api_world
    failures = []
    for operation in _operations(app):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
            case.call_and_validate(checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # collect all, so one run shows every failing route
            failures.append(f"{operation.label}: {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
