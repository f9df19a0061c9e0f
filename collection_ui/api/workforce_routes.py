"""REST routes for running a rater workforce: campaign rules, the roster, reinstatement, skills, gold rationales
and the expert queue.

curl -H "Authorization: Bearer $HITL_TOKEN" "http://127.0.0.1:7860/api/v1/campaigns/demo/workforce/roster"
"""

import dataclasses

from fastapi import APIRouter, Depends, Path, Query

from collection_ui.api.review_routes import _id
from collection_ui.api.schemas import CountOut, ItemReviewOut, JudgmentOut
from collection_ui.api.workforce_schemas import (
    AnswerBody,
    EscalateBody,
    EscalationOut,
    RationaleBody,
    ReinstateBody,
    RosterOut,
    RulesBody,
    RulesOut,
    SkillsBody,
    SkillsOut,
)
from hitl.service import Service
from hitl.users import User

CampaignName = Path(min_length=1, max_length=128)
UserName = Path(min_length=1, max_length=64)


def _escalation_out(e) -> EscalationOut:
    return EscalationOut(
        item_id=e.item_id,
        campaign=e.campaign,
        reason=e.reason,
        detail=e.detail,
        skill=e.skill,
        created_at=e.created_at,
        waited_seconds=e.waited(),
    )


def _item_out(r) -> ItemReviewOut:
    return ItemReviewOut(
        **{**vars(r), "judgments": [JudgmentOut(**{**vars(j), "flags": list(j.flags)}) for j in r.judgments]}
    )


def workforce_router(service: Service, caller) -> APIRouter:
    router = APIRouter(tags=["workforce"])
    wf = service.workforce

    @router.get("/campaigns/{campaign}/workforce/rules", response_model=RulesOut)
    def rules(campaign: str = CampaignName, user: User = Depends(caller)) -> RulesOut:
        """The campaign's workforce rules (every one off by default)."""
        return RulesOut(**dataclasses.asdict(wf.rules(user, campaign)))

    @router.patch("/campaigns/{campaign}/workforce/rules", response_model=RulesOut)
    def set_rules(body: RulesBody, campaign: str = CampaignName, user: User = Depends(caller)) -> RulesOut:
        """Change some rules; refused whole (400, naming the fix) when one is out of range, a qualification has
        too few gold items, or a skill is held by nobody."""
        return RulesOut(**dataclasses.asdict(wf.set_rules(user, campaign, body.model_dump(exclude_none=True))))

    @router.get("/campaigns/{campaign}/workforce/roster", response_model=list[RosterOut])
    def roster(campaign: str = CampaignName, user: User = Depends(caller)) -> list[RosterOut]:
        """Who is in training, passed, failed, paused or warned."""
        return [RosterOut(**vars(r)) for r in wf.roster(user, campaign)]

    @router.post("/campaigns/{campaign}/workforce/reinstate", response_model=CountOut)
    def reinstate(body: ReinstateBody, campaign: str = CampaignName, user: User = Depends(caller)) -> CountOut:
        """End a rater's pause (or grant a failed rater the qualification's attempts again)."""
        wf.reinstate(user, campaign, body.rater, body.note)
        return CountOut(count=1)

    @router.get("/users/{name}/skills", response_model=SkillsOut)
    def skills(name: str = UserName, user: User = Depends(caller)) -> SkillsOut:
        return SkillsOut(name=name, skills=wf.skills(user, name))

    @router.post("/users/{name}/skills", response_model=SkillsOut)
    def set_skills(body: SkillsBody, name: str = UserName, user: User = Depends(caller)) -> SkillsOut:
        return SkillsOut(name=name, skills=wf.set_skills(user, name, body.add, body.remove))

    @router.put("/review/items/{item_id}/rationale", response_model=CountOut)
    def rationale(body: RationaleBody, item_id: int = _id(), user: User = Depends(caller)) -> CountOut:
        """Why a gold item's answer is right, shown to raters in training after they answer it."""
        wf.set_rationale(user, item_id, body.rationale)
        return CountOut(count=1)

    @router.post("/review/items/{item_id}/escalation", response_model=CountOut, status_code=201)
    def escalate(body: EscalateBody, item_id: int = _id(), user: User = Depends(caller)) -> CountOut:
        """Send an item to the expert queue (409 if it waits there already); returns the escalation id."""
        return CountOut(count=wf.escalate(user, item_id, body.note))

    @router.get("/escalations", response_model=list[EscalationOut])
    def escalations(
        campaign: str | None = Query(default=None, max_length=128),
        every: bool = False,
        user: User = Depends(caller),
    ) -> list[EscalationOut]:
        """Items waiting in the expert queue that the caller may answer, the longest waiting first (reviewers:
        `every=true` lists all of them)."""
        return [_escalation_out(e) for e in wf.escalations(user, campaign, every)]

    @router.get("/escalations/{item_id}", response_model=ItemReviewOut)
    def escalated_item(item_id: int = _id(), user: User = Depends(caller)) -> ItemReviewOut:
        """An escalated item with every judgment, for an expert who may answer it."""
        return _item_out(wf.escalated_item(user, item_id))

    @router.post("/escalations/{item_id}/answer", response_model=CountOut)
    def answer(body: AnswerBody, item_id: int = _id(), user: User = Depends(caller)) -> CountOut:
        """The expert's answer, which becomes the item's label; returns the adjudication id."""
        return CountOut(count=wf.answer(user, item_id, **body.model_dump()))

    return router
