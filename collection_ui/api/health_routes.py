"""`GET /api/v1/health`: store reachable, migrations current, the loop's state, webhook backlog (hitl.service.health).

curl -fsS http://127.0.0.1:7860/api/v1/health    # exit status 0 only while the host can take raters
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hitl.service import Service
from hitl.service.health import health


def health_router(service: Service) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/health",
        responses={503: {"description": "The store is unreachable or its schema is not current."}},
    )
    def check() -> JSONResponse:
        """Whether this host can serve: 200 with the details, 503 when the store cannot be read or is not migrated.
        No login: a load balancer asks it."""
        report = health(service.store)
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    return router
