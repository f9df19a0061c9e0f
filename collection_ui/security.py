"""What every request passes before a page or route sees it: security headers, origin checks, upload isolation,
and the caller's real address.

    curl -sI http://127.0.0.1:7860/login    # Content-Security-Policy, X-Frame-Options: DENY, ...

`WebGuard` is pure ASGI middleware around the whole app:

- every response carries a Content-Security-Policy (frame-ancestors 'none', no plugins, no foreign origins),
  X-Frame-Options: DENY, Referrer-Policy, X-Content-Type-Options: nosniff;
- a state-changing browser request (POST, PUT, PATCH, DELETE without an API token) whose Origin, or
  Sec-Fetch-Site, names another site is refused: the login form, logout and every page's Gradio queue;
- only the pages in UPLOAD_PAGES take uploads or serve uploaded files (Gradio keeps every page's uploads in
  one folder and would serve an admin's upload through a rater page), and Gradio's direct-call routes
  (`gradio_api/run/...`, `call/...`) are closed on every page: the pages' events go through the queue only.

`client_address` and `is_https` believe X-Forwarded-For / X-Forwarded-Proto only from a configured proxy.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hitl.service import PAGE_ROLES

# Gradio's front end runs inline scripts (its config) and inline styles; everything else comes from this origin.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
UPLOAD_PAGES = ("admin",)
_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
_UPLOAD_ROUTES = ("upload", "upload_progress", "file=", "file/")
_DIRECT_CALL_ROUTES = ("run/", "api/", "call/")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(scope: Scope, proxies: Sequence[Network]) -> str:
    """The caller's address: the TCP peer, or, when the peer is a trusted proxy, the nearest untrusted
    address in X-Forwarded-For (the proxies append, so the right end is the one they saw)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not proxies or not _in(peer, proxies):
        return peer
    forwarded = Headers(scope=scope).get("x-forwarded-for", "")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _in(hop, proxies):
            return hop[:64]
    return peer


def is_https(scope: Scope, proxies: Sequence[Network]) -> bool:
    """True when the browser reached us over HTTPS (directly, or through a trusted proxy that says so)."""
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if client and proxies and _in(client[0], proxies):
        return Headers(scope=scope).get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    return False


def _own_host(headers: Headers) -> str:
    return headers.get("host", "").lower()


def foreign_origin(scope: Scope) -> bool:
    """True for a browser request sent by another site (its Origin names another host, or Sec-Fetch-Site does)."""
    headers = Headers(scope=scope)
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    host = origin.split("://", 1)[-1].lower()
    return host != _own_host(headers)


def _page_route(path: str) -> tuple[str | None, str]:
    """('rate', 'upload') for '/rate/gradio_api/upload'; (None, '') outside the pages."""
    parts = path.lstrip("/").split("/", 1)
    if parts[0] not in PAGE_ROLES:
        return None, ""
    rest = parts[1] if len(parts) > 1 else ""
    return parts[0], rest.removeprefix("gradio_api/")


class WebGuard:
    """Pure ASGI middleware: security headers on every response, origin checks and page route isolation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _send_json(send, *refusal)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    def _refusal(scope: Scope) -> tuple[int, str] | None:
        method = scope.get("method", "GET")
        page, route = _page_route(scope.get("path", ""))
        if page is not None:
            if route.startswith(_DIRECT_CALL_ROUTES):
                return 404, "the page's events are served through its queue only"
            if page not in UPLOAD_PAGES and route.startswith(_UPLOAD_ROUTES):
                return 403, f"the {page} page takes no uploads and serves no files"
        if method in _UNSAFE and b"authorization" not in dict(scope.get("headers", [])) and foreign_origin(scope):
            return 403, "refused: this request came from another site"
        return None


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*headers, *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
