"""REST routes for admins: users, API tokens, campaigns, imports and the export download.

curl -H "Authorization: Bearer $ADMIN_TOKEN" -o pairs.jsonl "http://127.0.0.1:7860/api/v1/export?campaign=demo"
"""

from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from collection_ui.api.paging import Page, page_headers, page_params
from collection_ui.api.schemas import (
    CampaignBody,
    CampaignOut,
    CountOut,
    ImportOut,
    NewUserBody,
    TokenBody,
    TokenOut,
    UserChangeBody,
    UserOut,
)
from hitl.errors import InvalidInput
from hitl.io import LAYOUTS
from hitl.io.imports import PAIRINGS
from hitl.preferences import AGGREGATES, BOTH_BAD, TIES
from hitl.service import Service
from hitl.service.admin import DOWNLOAD_FORMATS
from hitl.storable import check_storable
from hitl.users import User

UserName = Path(min_length=1, max_length=64)  # every use is named `name` (see review_routes._id)


def _import_out(report) -> ImportOut:
    return ImportOut(kind=report.kind, counts=report.counts, summary=report.summary())


def admin_router(service: Service, caller) -> APIRouter:
    router = APIRouter(tags=["admin"])
    admin = service.admin

    @router.get("/users", response_model=list[UserOut])
    def users(
        request: Request, response: Response, page: Page = Depends(page_params), user: User = Depends(caller)
    ) -> list[UserOut]:
        """Every account; paged (X-Total-Count, Link)."""
        rows = admin.users(user)
        page_headers(request, response, page, len(rows))
        return [UserOut(**vars(row)) for row in page.slice(rows)]

    @router.post("/users", response_model=UserOut, status_code=201)
    def add_user(body: NewUserBody, user: User = Depends(caller)) -> UserOut:
        made = admin.add_user(user, body.name, body.role, body.password)
        return UserOut(name=made.name, role=made.role, active=made.active)

    @router.patch("/users/{name}", response_model=UserOut)
    def change_user(body: UserChangeBody, name: str = UserName, user: User = Depends(caller)) -> UserOut:
        """Disable or enable, change the role, or reset the password (the user is logged out everywhere)."""
        if body.active is None and body.role is None and body.password is None:
            raise InvalidInput("give at least one of active, role or password")
        changed = None
        if body.password is not None:
            changed = admin.reset_password(user, name, body.password)
        if body.role is not None:
            changed = admin.set_role(user, name, body.role)
        if body.active is not None:
            changed = admin.set_active(user, name, body.active)
        row = next((r for r in admin.users(user) if r.name == changed.name), None)
        return UserOut(
            name=changed.name, role=changed.role, active=changed.active, api_tokens=row.api_tokens if row else 0
        )

    @router.post("/users/{name}/tokens", response_model=TokenOut, status_code=201)
    def create_token(body: TokenBody, name: str = UserName, user: User = Depends(caller)) -> TokenOut:
        """A new API token for this user: shown once, only its hash is kept."""
        return TokenOut(token=admin.create_token(user, name, body.label))

    @router.delete("/users/{name}/tokens", response_model=CountOut)
    def revoke_tokens(name: str = UserName, user: User = Depends(caller)) -> CountOut:
        return CountOut(count=admin.revoke_tokens(user, name))

    @router.post("/campaigns", response_model=CampaignOut)
    def save_campaign(body: CampaignBody, user: User = Depends(caller)) -> CampaignOut:
        """Create a campaign, or change the given settings of an existing one."""
        settings = admin.save_campaign(user, body.model_dump(exclude_none=True))
        values = {k: getattr(settings, k) for k in CampaignOut.model_fields if k != "aspects"}
        return CampaignOut(**values, aspects=settings.aspect_names())

    @router.post("/import/prompts", response_model=ImportOut)
    def import_prompts(
        file: UploadFile = File(description="JSONL, CSV or Parquet with `prompt` or `messages` per record."),
        tags: str = Form(default="", max_length=1000, description="Comma-separated tags added to every prompt."),
        user: User = Depends(caller),
    ) -> ImportOut:
        check_storable(tags, "tags")
        tag_list = [t.strip() for t in tags.split(",") if t.strip()]
        return _import_out(admin.import_upload(user, "prompts", file.file, file.filename or "", tags=tag_list))

    @router.post("/import/responses", response_model=ImportOut)
    def import_responses(
        file: UploadFile = File(description="Records with `prompt_id` or `prompt`, `response`, optional `model`."),
        campaign: str = Form(default="", max_length=128),
        model: str = Form(default="", max_length=255),
        pairing: Literal[PAIRINGS] = Form(default=PAIRINGS[0]),  # type: ignore[valid-type]
        user: User = Depends(caller),
    ) -> ImportOut:
        check_storable({"campaign": campaign, "model": model}, "form")
        report = admin.import_upload(
            user, "responses", file.file, file.filename or "", campaign=campaign, model=model, pairing=pairing
        )
        return _import_out(report)

    @router.get("/export", response_class=FileResponse, responses={200: {"content": {"application/octet-stream": {}}}})
    def export(
        campaign: str | None = Query(default=None, max_length=128),
        layout: Literal[LAYOUTS] = LAYOUTS[0],  # type: ignore[valid-type]
        format: Literal[DOWNLOAD_FORMATS] = DOWNLOAD_FORMATS[0],  # type: ignore[valid-type]
        aggregate: Literal[AGGREGATES] = AGGREGATES[0],  # type: ignore[valid-type]
        ties: Literal[TIES] = TIES[0],  # type: ignore[valid-type]
        both_bad: Literal[BOTH_BAD] = BOTH_BAD[0],  # type: ignore[valid-type]
        user: User = Depends(caller),
    ) -> FileResponse:
        """Download judgments as training data (admin; token, or the admin page's session)."""
        out = admin.export(
            user, campaign=campaign, layout=layout, fmt=format, aggregate=aggregate, ties=ties, both_bad=both_bad
        )
        return FileResponse(
            out.path,
            filename=out.download_name,
            media_type="application/octet-stream",
            headers={"X-Content-SHA256": out.sha256},
            background=BackgroundTask(out.cleanup),
        )

    return router
