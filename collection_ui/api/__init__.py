"""The REST API under /api/v1: a FastAPI app with its OpenAPI spec at /api/v1/openapi.json.

curl http://127.0.0.1:7860/api/v1/openapi.json
"""

from fastapi import Depends, FastAPI

from collection_ui.api.admin_routes import admin_router
from collection_ui.api.deps import SESSION_COOKIE, caller_dependency, install_error_handlers, storable_parameters
from collection_ui.api.health_routes import health_router
from collection_ui.api.quality_routes import quality_router
from collection_ui.api.rating_routes import rating_router
from collection_ui.api.review_routes import review_router
from collection_ui.api.schemas import ErrorOut
from collection_ui.api.workforce_routes import workforce_router
from hitl import __version__
from hitl.service import Service

PREFIX = "/api/v1"
ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422, 429)}


DESCRIPTION = "Rate, review, import and export over HTTP. Authenticate with `Authorization: Bearer <token>`."


def new_app(**kwargs) -> FastAPI:
    """The FastAPI app that carries the API, its OpenAPI spec (PREFIX/openapi.json) and docs (PREFIX/docs)."""
    return FastAPI(
        title="hitl REST API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
        # Monitoring off: no traces, metrics or logs leave the app even if OpenTelemetry is configured around it.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        **kwargs,
    )


def install_api(app: FastAPI, service: Service) -> None:
    """Add the API routes under PREFIX and the JSON error handlers to `app`.

    Routes live in the top app rather than a mounted sub-app: one middleware stack less on every call.
    """
    caller = caller_dependency(service)
    for router in (rating_router, review_router, admin_router, workforce_router, quality_router):
        app.include_router(
            router(service, caller),
            prefix=PREFIX,
            responses={**ERRORS, 503: {"model": ErrorOut}},
            dependencies=[Depends(storable_parameters)],
        )
    # Unauthenticated: load balancers and uptime checks ask it; it names no campaign, user or data.
    app.include_router(health_router(service), prefix=PREFIX, dependencies=[Depends(storable_parameters)])
    install_error_handlers(app)


def build_api(service: Service) -> FastAPI:
    """The API alone (no pages): what the API tests and the schema check run against."""
    app = new_app()
    install_api(app, service)
    return app


__all__ = ["PREFIX", "SESSION_COOKIE", "build_api", "install_api", "new_app"]
