"""Who is calling the REST API, and errors as JSON that say what to fix.

    curl -H "Authorization: Bearer $HITL_TOKEN" http://127.0.0.1:7860/api/v1/me

Programs send a per-user API token (`Authorization: Bearer hitl_...`). A browser's session cookie is
accepted for GET requests only (the export download link on the admin page): a cookie is sent by the
browser on its own, so it must never be enough to change anything from another site's form.
"""

from collections.abc import Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from hitl.errors import AuthError, HitlError, error_code
from hitl.service import Service
from hitl.storable import unstorable
from hitl.store import StoreBusy, StoreError
from hitl.users import User

SESSION_COOKIE = "hitl_session"
bearer = HTTPBearer(auto_error=False, description="A per-user API token made by an admin (hitl_...).")


def caller_dependency(service: Service) -> Callable[..., User]:
    def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> User:
        if credentials is not None and credentials.credentials:
            return service.user_for_api_token(credentials.credentials.strip())
        if request.method == "GET":
            user = service.user_for_session(request.cookies.get(SESSION_COOKIE))
            if user is not None:
                return user
        raise AuthError("send your API token as `Authorization: Bearer hitl_...` (an admin can create one)")

    return caller


def storable_parameters(request: Request) -> None:
    """Refuse path and query values no store can hold (NUL, lone surrogates) with a 422 naming the parameter."""
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            reason = unstorable(str(value))
            if reason:
                raise RequestValidationError([{"loc": (where, name), "msg": f"contains {reason}", "type": "value"}])


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path")) or "request"


def _headers_of(exc: HitlError) -> dict | None:
    """WWW-Authenticate for a missing login; Retry-After for an error that passes with time (429, 503)."""
    if isinstance(exc, AuthError):
        return {"WWW-Authenticate": "Bearer"}
    retry_after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(int(retry_after))} if retry_after else None


def _error(status: int, message: str, code: str, headers: dict | None = None) -> JSONResponse:
    if status == 429 and not (headers or {}).get("Retry-After"):
        headers = {**(headers or {}), "Retry-After": "1"}  # every 429 says when to come back
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


_HTTP_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    """Every error is `{"error": "...", "code": "..."}` with the status of its kind (hitl.errors.error_code); a bad
    request names the field to fix."""

    @app.exception_handler(HitlError)
    async def hitl_error(_request: Request, exc: HitlError) -> JSONResponse:
        return _error(exc.status_code, str(exc), error_code(exc), _headers_of(exc))

    @app.exception_handler(StoreError)
    async def store_error(_request: Request, exc: StoreError) -> JSONResponse:
        if isinstance(exc, StoreBusy):
            return _error(503, str(exc), "store_busy", _headers_of(exc))
        return _error(503, f"the store is unavailable: {exc}", "store_unavailable", {"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors()[:5]]
        return _error(422, "fix the request: " + "; ".join(parts), "validation_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return _error(exc.status_code, str(exc.detail), code, getattr(exc, "headers", None))
