"""Logins for the web pages: the login form, the session cookie, logout, and the role guard of every page.

    hitl serve    # then open http://127.0.0.1:7860/login

Three layers, each on the server: (1) a page guard sends anonymous visitors to /login and refuses a page
the user's role may not open; (2) each mounted Gradio app has an `auth_dependency`, so every Gradio
route of a page (config, queue, upload, file) answers 401 to a caller without the page's role;
(3) every event handler resolves its caller from the session cookie again and the service checks the
role of each action. The cookie is HttpOnly and SameSite=Lax, so another site can neither read it nor
send it with a form POST; it is Secure when the request came over HTTPS (collection_ui.security.is_https).

The login and logout forms carry a CSRF token (a random value in a cookie and in a hidden field, which must
match: another site can post a form but cannot read or set our cookie). Logout is a POST: a link or an image
elsewhere cannot log anyone out. A good login also gives the browser a known-device cookie, so an attack on
the user's name never locks them out of that browser (hitl.service.throttle); a throttled try is answered 429
with Retry-After.
"""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from collection_ui.api import SESSION_COOKIE
from collection_ui.security import client_address, is_https
from hitl.errors import HitlError
from hitl.service import PAGE_ROLES, RateLimited, Service
from hitl.service.throttle import DEVICE_DAYS
from hitl.users import User

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hitl — log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f5f7; display: flex; justify-content: center; }}
form {{ background: white; margin-top: 10vh; padding: 2em 2.5em; border-radius: 10px; box-shadow: 0 1px 6px #0002;
       display: flex; flex-direction: column; gap: .7em; min-width: 18em; }}
input {{ font-size: 1em; padding: .45em; }} button {{ font-size: 1em; padding: .5em; cursor: pointer; }}
.error {{ color: #b00020; max-width: 18em; }}
</style></head>
<body><form method="post" action="/login">
<h2>hitl — log in</h2>
<p class="error" role="alert">{message}</p>
<label>User name <input id="username" name="username" autocomplete="username" required autofocus></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="csrf" value="{csrf}">
<button id="login" type="submit">Log in</button>
</form></body></html>
"""

FORBIDDEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hitl — not allowed</title></head>
<body style="font-family: system-ui, sans-serif"><h2>Not allowed</h2>
<p>{message}</p><p><a href="/">Back to your pages</a> · <a href="/logout">Log out</a></p></body></html>
"""

LOGOUT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hitl — log out</title></head>
<body style="font-family: system-ui, sans-serif"><form method="post" action="/logout">
<h2>Log out of hitl?</h2><input type="hidden" name="csrf" value="{csrf}">
<button id="logout" type="submit">Log out</button> · <a href="/">Back to your pages</a></form></body></html>
"""

CSRF_COOKIE = "hitl_csrf"
DEVICE_COOKIE = "hitl_device"


def safe_next(target: str | None) -> str:
    """A local path to go to after logging in; anything else (another host, a scheme) becomes '/'."""
    target = target or "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(c < " " for c in target):
        return "/"
    return target


def session_user(service: Service, cookies) -> User | None:
    return service.user_for_session(cookies.get(SESSION_COOKIE))


def page_of(path: str) -> str | None:
    """The page a request path opens ('/rate/' -> 'rate'), or None for anything else (assets, events, API)."""
    name = path.strip("/")
    return name if name in PAGE_ROLES else None


class PageGuard:
    """Pure ASGI middleware: GET of a page path needs a session with the page's role; everything else passes."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        page = page_of(scope.get("path", "")) if scope["type"] == "http" else None
        if page is None or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        user = session_user(self.service, HTTPConnection(scope).cookies)
        if user is None:
            response: Response = RedirectResponse(f"/login?next={quote('/' + page + '/')}", status_code=303)
        elif not user.has_role(PAGE_ROLES[page]):
            message = f"The {page} page needs the {PAGE_ROLES[page]} role; you are logged in as a {user.role}."
            response = HTMLResponse(FORBIDDEN_PAGE.format(message=html.escape(message)), status_code=403)
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def gradio_auth(service: Service, role: str) -> Callable[[Request], str | None]:
    """`auth_dependency` of a mounted page: the user name when the session has `role`, else None (401)."""

    def dependency(request: Request) -> str | None:
        user = session_user(service, request.cookies)
        return user.name if user is not None and user.has_role(role) else None

    return dependency


def _csrf_of(request: Request) -> str:
    """The browser's CSRF token (its cookie), or a new one to set with the form."""
    token = request.cookies.get(CSRF_COOKIE, "")
    return token if 20 <= len(token) <= 64 and token.isascii() else secrets.token_urlsafe(24)


def _csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and bool(sent) and sent.isascii() and hmac.compare_digest(cookie.encode(), sent.encode())


def _form_page(body: str, csrf: str, secure: bool, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure, path="/")
    return response


def add_login_routes(app: FastAPI, service: Service) -> None:
    cookie_age = int(service.settings.session_hours * 3600)
    proxies = service.settings.proxy_networks()

    def secure(request: Request) -> bool:
        return service.settings.secure_cookies or is_https(request.scope, proxies)

    def login_page(request: Request, message: str = "", next_path: str = "/", status: int = 200, headers=None):
        csrf = _csrf_of(request)
        body = LOGIN_PAGE.format(
            message=html.escape(message), next=html.escape(safe_next(next_path), quote=True), csrf=csrf
        )
        return _form_page(body, csrf, secure(request), status, headers)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter's name
        return login_page(request, next_path=next)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: str = Form(default="", max_length=64),
        password: str = Form(default="", max_length=1024),
        next: str = Form(default="/", max_length=512),  # noqa: A002
        csrf: str = Form(default="", max_length=64),
    ) -> Response:
        if not _csrf_ok(request, csrf):
            return login_page(request, "The form expired: log in again.", next, status=403)
        try:
            user, token = service.login(
                username, password, client_address(request.scope, proxies), request.cookies.get(DEVICE_COOKIE)
            )
        except RateLimited as exc:
            return login_page(request, str(exc), next, status=429, headers={"Retry-After": str(exc.retry_after)})
        except HitlError as exc:
            return login_page(request, str(exc), next, status=exc.status_code)
        response = RedirectResponse(safe_next(next), status_code=303)
        cookie = {"httponly": True, "samesite": "lax", "secure": secure(request), "path": "/"}
        response.set_cookie(SESSION_COOKIE, token, max_age=cookie_age, **cookie)
        response.set_cookie(DEVICE_COOKIE, service.device_cookie(user), max_age=DEVICE_DAYS * 86_400, **cookie)
        return response

    @app.get("/logout", include_in_schema=False)
    def logout_form(request: Request) -> HTMLResponse:
        csrf = _csrf_of(request)
        return _form_page(LOGOUT_PAGE.format(csrf=csrf), csrf, secure(request))

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form(default="", max_length=64)) -> Response:
        if not _csrf_ok(request, csrf):
            return logout_form(request)
        service.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        user = session_user(service, request.cookies)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        first = {"rater": "rate", "reviewer": "review", "admin": "dashboard"}[user.role]
        return RedirectResponse(f"/{first}/", status_code=303)
