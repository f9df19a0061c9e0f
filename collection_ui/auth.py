"""Logins for the web pages: the login form, the session cookie, logout, and the role guard of every page.

    hitl serve    # then open http://127.0.0.1:7860/login

Three layers, each on the server: (1) a page guard sends anonymous visitors to /login and refuses a page
the user's role may not open; (2) each mounted Gradio app has an `auth_dependency`, so every Gradio
route of a page (config, queue, upload, file) answers 401 to a caller without the page's role;
(3) every event handler resolves its caller from the session cookie again and the service checks the
role of each action. The cookie is HttpOnly and SameSite=Lax, so another site can neither read it nor
send it with a form POST.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from collection_ui.api import SESSION_COOKIE
from hitl.errors import HitlError
from hitl.service import PAGE_ROLES, Service
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
<button id="login" type="submit">Log in</button>
</form></body></html>
"""

FORBIDDEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hitl — not allowed</title></head>
<body style="font-family: system-ui, sans-serif"><h2>Not allowed</h2>
<p>{message}</p><p><a href="/">Back to your pages</a> · <a href="/logout">Log out</a></p></body></html>
"""


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


def login_page(message: str = "", next_path: str = "/", status: int = 200) -> HTMLResponse:
    body = LOGIN_PAGE.format(message=html.escape(message), next=html.escape(safe_next(next_path), quote=True))
    # The login page must never be framed by another site (clickjacking of the password form).
    return HTMLResponse(body, status_code=status, headers={"X-Frame-Options": "DENY", "Cache-Control": "no-store"})


def add_login_routes(app: FastAPI, service: Service) -> None:
    cookie_age = int(service.settings.session_hours * 3600)

    @app.get("/login", include_in_schema=False)
    def login_form(next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter's name
        return login_page(next_path=next)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: str = Form(default="", max_length=64),
        password: str = Form(default="", max_length=1024),
        next: str = Form(default="/", max_length=512),  # noqa: A002
    ) -> Response:
        client = request.client.host if request.client else "unknown"
        try:
            _, token = service.login(username, password, client)
        except HitlError as exc:
            return login_page(str(exc), next, status=exc.status_code)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=cookie_age,
            httponly=True,
            samesite="lax",
            secure=service.settings.secure_cookies,
            path="/",
        )
        return response

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
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
