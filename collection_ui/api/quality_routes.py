"""REST routes for gold that grows (items proposed as gold, a reviewer's decision) and quality by prompt tag.

curl -H "Authorization: Bearer $HITL_TOKEN" "http://127.0.0.1:7860/api/v1/campaigns/demo/gold/proposals"
curl -H "Authorization: Bearer $HITL_TOKEN" "http://127.0.0.1:7860/api/v1/stats/tags?campaign=demo"
"""

import dataclasses

from fastapi import APIRouter, Depends, Path, Query

from collection_ui.api.review_routes import _id
from collection_ui.api.workforce_schemas import GoldDecisionBody, GoldDecisionOut, GoldProposalOut, TagsOut
from hitl.quality.gold_growth import (
    DEFAULT_COMPETENCE_MIN_N,
    DEFAULT_MIN_COMPETENCE,
    DEFAULT_MIN_POSTERIOR,
    DEFAULT_MIN_RATERS,
)
from hitl.service import Service
from hitl.users import User
from hitl.workforce.gold import GoldParams


def gold_params(
    min_raters: int = Query(default=DEFAULT_MIN_RATERS, ge=2, le=1000, description="Raters who all agree."),
    min_competence: float = Query(default=DEFAULT_MIN_COMPETENCE, ge=0, le=1, description="Each one's competence."),
    competence_min_n: int = Query(default=DEFAULT_COMPETENCE_MIN_N, ge=1, le=100_000),
    min_posterior: float = Query(default=DEFAULT_MIN_POSTERIOR, ge=0, le=1),
) -> GoldParams:
    return GoldParams(min_raters, min_competence, competence_min_n, min_posterior)


def quality_router(service: Service, caller) -> APIRouter:
    router = APIRouter(tags=["review"])
    wf = service.workforce

    @router.get("/campaigns/{campaign}/gold/proposals", response_model=list[GoldProposalOut])
    def proposals(
        campaign: str = Path(min_length=1, max_length=128),
        params: GoldParams = Depends(gold_params),
        user: User = Depends(caller),
    ) -> list[GoldProposalOut]:
        """Items judged unanimously by raters of proven competence, surest first: candidates for gold."""
        found = wf.gold_proposals(user, campaign, params)
        return [GoldProposalOut(**{**dataclasses.asdict(p), "raters": list(p.raters)}) for p in found]

    @router.post("/review/items/{item_id}/gold", response_model=GoldDecisionOut)
    def decide(body: GoldDecisionBody, item_id: int = _id(), user: User = Depends(caller)) -> GoldDecisionOut:
        """Confirm an item proposed as gold (it becomes a gold item with its raters' answer) or decline it; 400
        saying why when it is not proposed, 409 when it changed since."""
        said = wf.decide_gold(user, item_id, body.accept, body.note)
        return GoldDecisionOut(item_id=item_id, accepted=body.accept, message=said)

    @router.get("/stats/tags", response_model=TagsOut)
    def tags(campaign: str = Query(min_length=1, max_length=128), user: User = Depends(caller)) -> TagsOut:
        """Preference shares, agreement and gold accuracy per prompt tag and per rater x tag, each with its 95%
        interval and n, and which tag (or rater on a tag) is lower than on the others."""
        d = service.dashboard.dashboard(user, campaign)
        return TagsOut(campaign=d.campaign, tags=d.tags, rater_tags=d.rater_tags)

    return router
