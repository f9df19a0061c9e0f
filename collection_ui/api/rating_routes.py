"""REST routes for raters and scripted raters: campaigns, next item, submit, skip, release, progress.

curl -X POST -H "Authorization: Bearer $HITL_TOKEN" http://127.0.0.1:7860/api/v1/campaigns/demo/next
"""

import orjson
from fastapi import APIRouter, Depends, Header, Path, Request, Response

from collection_ui.api.paging import Page, page_headers, page_params
from collection_ui.api.schemas import (
    CampaignOut,
    ItemOut,
    JudgmentBody,
    MeOut,
    Ok,
    ProgressOut,
    SubmitOut,
)
from hitl.errors import InvalidInput
from hitl.queue import JudgmentInput
from hitl.service import Service
from hitl.service.rating import LABELS
from hitl.users import User


def _json(payload: dict) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


# One Path() per parameter name: FastAPI records the parameter's name on the object it is given.
Name = Path(min_length=1, max_length=128)  # every use is named `campaign`
Token = Path(min_length=1, max_length=128)  # every use is named `lease_token`


def _idempotency_key(in_body: str | None, in_header: str | None) -> str:
    if in_body and in_header and in_body != in_header:
        raise InvalidInput("the Idempotency-Key header and the body's idempotency_key differ: send one of them")
    key = in_body or in_header
    if not key:
        raise InvalidInput("send an idempotency key: the Idempotency-Key header or the body's idempotency_key")
    return key


def rating_router(service: Service, caller) -> APIRouter:
    router = APIRouter(tags=["rating"])

    @router.get("/me", response_model=MeOut)
    def me(user: User = Depends(caller)) -> MeOut:
        """Who the token belongs to, and which pages that user may open."""
        return MeOut(name=user.name, role=user.role, pages=service.pages_for(user))

    @router.get("/campaigns", response_model=list[CampaignOut])
    def campaigns(
        request: Request, response: Response, page: Page = Depends(page_params), user: User = Depends(caller)
    ) -> list[CampaignOut]:
        """The campaigns you can rate in; paged (X-Total-Count, Link)."""
        names = service.rating.campaigns(user)
        page_headers(request, response, page, len(names))
        return [CampaignOut(**vars(service.rating.campaign(user, n))) for n in page.slice(names)]

    @router.post(
        "/campaigns/{campaign}/next",
        response_model=ItemOut,
        responses={204: {"description": "Nothing left for you in this campaign."}},
    )
    def next_(campaign: str = Name, user: User = Depends(caller)):
        """Lease the next item (your live lease in this campaign if you hold one)."""
        a = service.rating.lease(user, campaign)
        if a is None:
            return Response(status_code=204)
        # The hot path of scripted raters: a plain dict sent as is (the model above documents it) saves
        # FastAPI a validation pass per call.
        return _json(
            {
                "lease_token": a.lease_token,
                "item_id": a.item_id,
                "campaign": campaign,
                "prompt": a.prompt_text,
                "messages": a.prompt_messages,
                "responses": [
                    {"response_id": r.response_id, "label": LABELS[i], "text": r.text}
                    for i, r in enumerate(a.responses)
                ],
                "expires_at": a.expires_at,
                "resumed": a.resumed,
            }
        )

    @router.post("/leases/{lease_token}/judgment", response_model=SubmitOut)
    def judge(
        body: JudgmentBody,
        lease_token: str = Token,
        idempotency_key: str | None = Header(
            default=None, min_length=1, max_length=128, description="The judgment's key, instead of the body field."
        ),
        user: User = Depends(caller),
    ) -> SubmitOut:
        """Record a judgment exactly once per idempotency key (a retry returns the first result); the key comes in
        the body (`idempotency_key`) or as the `Idempotency-Key` header."""
        key = _idempotency_key(body.idempotency_key, idempotency_key)
        judgment = JudgmentInput(**body.model_dump(exclude={"idempotency_key"}))
        result = service.rating.submit(user, lease_token, key, judgment)
        return _json({"judgment_id": result.judgment_id, "item_id": result.item_id, "duplicate": result.duplicate})

    @router.post("/leases/{lease_token}/skip", response_model=Ok)
    def skip_(lease_token: str = Token, user: User = Depends(caller)) -> Ok:
        """Give the item back; it is not offered to you again."""
        service.rating.skip(user, lease_token)
        return Ok(message="skipped")

    @router.post("/leases/{lease_token}/release", response_model=Ok)
    def release_(lease_token: str = Token, user: User = Depends(caller)) -> Ok:
        """Give the item back to the pool (it may come back to you)."""
        service.rating.release(user, lease_token)
        return Ok(message="released")

    @router.get("/campaigns/{campaign}/progress", response_model=ProgressOut)
    def progress(campaign: str = Name, user: User = Depends(caller)) -> ProgressOut:
        return ProgressOut(**vars(service.rating.progress(user, campaign)))

    return router
