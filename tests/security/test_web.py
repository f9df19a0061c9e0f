"""The web app's own defences: security headers everywhere, CSRF on the login and logout forms, foreign origins
refused, Secure cookies over HTTPS, uploads isolated to the admin page, no 500 from Gradio's direct calls.

pytest tests/security/test_web.py -q
"""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from collection_ui.api import SESSION_COOKIE
from collection_ui.app import build_app
from hitl.service import Service, WebSettings
from tests.security.conftest import PASSWORD, form_login


def _headers_ok(response) -> None:
    h = response.headers
    assert "frame-ancestors 'none'" in h["content-security-policy"], response.request.url
    assert "default-src 'self'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "same-origin"


def test_every_response_carries_the_security_headers(world, web):
    for path in ("/login", "/logout", "/", "/rate/", "/api/v1/me", "/api/v1/openapi.json", "/nothing-here"):
        _headers_ok(web.get(path, follow_redirects=False))
    assert form_login(web, "rita").status_code == 303
    for path in ("/rate/", "/rate/config", "/admin/"):
        _headers_ok(web.get(path, follow_redirects=False))
    _headers_ok(web.get("/api/v1/me", headers=world.headers("rater")))


def test_the_login_form_needs_its_csrf_token(web):
    bare = web.post("/login", data={"username": "rita", "password": PASSWORD}, follow_redirects=False)
    assert bare.status_code == 403 and SESSION_COOKIE not in bare.cookies
    web.get("/login")
    forged = web.post(
        "/login", data={"username": "rita", "password": PASSWORD, "csrf": "x" * 32}, follow_redirects=False
    )
    assert forged.status_code == 403 and SESSION_COOKIE not in forged.cookies
    assert form_login(web, "rita").status_code == 303


def test_logout_is_a_post_with_a_csrf_token(world, web):
    form_login(web, "rita")
    assert web.get("/logout").status_code == 200  # a link or an image elsewhere only shows the question
    assert web.get("/rate/", follow_redirects=False).status_code == 200
    web.post("/logout", data={"csrf": "forged-token-forged-token"}, follow_redirects=False)
    assert web.get("/rate/", follow_redirects=False).status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/logout").text).group(1)
    done = web.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert web.get("/rate/", follow_redirects=False).status_code == 303


def test_a_foreign_origin_cannot_join_a_page_queue_or_post_the_login(web):
    form_login(web, "rita")
    evil = {"Origin": "https://evil.example"}
    body = {"data": [], "fn_index": 0, "session_hash": "abc", "event_data": None, "trigger_id": None}
    assert web.post("/rate/gradio_api/queue/join", json=body, headers=evil).status_code == 403
    assert (
        web.post("/rate/gradio_api/queue/join", json=body, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    )
    own = web.post("/rate/gradio_api/queue/join", json=body, headers={"Origin": "http://testserver"})
    assert own.status_code != 403
    assert web.post("/login", data={"username": "x"}, headers=evil).status_code == 403


def test_cookies_are_secure_over_https_and_behind_a_trusted_proxy(world):
    with TestClient(build_app(world.service, pages=()), base_url="https://testserver") as https:
        response = form_login(https, "rita")
    assert response.status_code == 303
    assert all("secure" in c.lower() for c in response.headers.get_list("set-cookie"))
    proxied = Service(world.store, WebSettings(secure_cookies=True))
    with TestClient(build_app(proxied, pages=())) as http:
        response = form_login(http, "rob")
    assert all("secure" in c.lower() for c in response.headers.get_list("set-cookie"))
    with TestClient(build_app(world.service, pages=())) as plain:
        response = form_login(plain, "vera")
    assert not any("secure" in c.lower() for c in response.headers.get_list("set-cookie"))


def test_forwarded_proto_from_a_trusted_proxy_makes_cookies_secure(world):
    proxied = Service(world.store, WebSettings(trusted_proxies="10.0.0.0/8"))
    with TestClient(build_app(proxied, pages=()), client=("10.0.0.5", 4000)) as http:
        response = form_login(http, "rita", headers={"X-Forwarded-Proto": "https"})
    assert all("secure" in c.lower() for c in response.headers.get_list("set-cookie"))


def test_a_rater_page_serves_no_admin_upload_and_takes_no_upload(world, web):
    form_login(web, "ada")
    uploaded = web.post("/admin/gradio_api/upload", files={"files": ("secret.jsonl", b'{"prompt": "secret"}\n')})
    assert uploaded.status_code == 200, uploaded.text
    path = uploaded.json()[0]
    assert web.get(f"/admin/gradio_api/file={path}").status_code == 200  # the admin page serves its own
    for route in (f"/rate/gradio_api/file={path}", f"/rate/file={path}", f"/rate/gradio_api/file/{path}"):
        assert web.get(route).status_code == 403, route
    refused = web.post("/rate/gradio_api/upload", files={"files": ("x.jsonl", b"{}\n")})
    assert refused.status_code == 403


def test_gradio_direct_calls_answer_404_not_500(web):
    form_login(web, "rita")
    for page in ("rate", "admin"):
        response = web.post(f"/{page}/gradio_api/run/predict", json={"data": []})
        assert response.status_code == 404, (page, response.status_code)
        assert web.post(f"/{page}/gradio_api/call/predict", json={"data": []}).status_code == 404
