"""Fixtures of the hardening tests: the API tests' world (users of each role, a campaign, tokens) and a web app
with pages, plus a browser-like client that logs in through the form (CSRF token included).

pytest tests/security -q
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.api.conftest import PASSWORD, World, add_pairs, add_versus, client, world  # noqa: F401 - fixtures

__all__ = ["PASSWORD", "World", "add_pairs", "add_versus", "form_login"]


def form_login(http: TestClient, name: str, password: str = PASSWORD, **kwargs):
    """Log in as a browser does: fetch the form (it sets the CSRF cookie), post it back with the token."""
    page = http.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return http.post(
        "/login", data={"username": name, "password": password, "csrf": csrf}, follow_redirects=False, **kwargs
    )


@pytest.fixture
def web(world):  # noqa: F811 - the imported fixture
    """The whole app with two pages (a rater's and the admin's), served to a TestClient."""
    from collection_ui.app import build_app

    with TestClient(build_app(world.service, pages=("rate", "admin"))) as http:
        yield http
