"""REST routes for reviewers and evaluators: statistics, the review queue, adjudications, arena and leaderboard.

curl -H "Authorization: Bearer $HITL_TOKEN" "http://127.0.0.1:7860/api/v1/stats?campaign=demo"
"""

import dataclasses
import math
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from collection_ui.api.leaderboard_schemas import LeaderboardOut
from collection_ui.api.paging import Page, page_headers, page_params
from collection_ui.api.schemas import (
    AdjudicationBody,
    BattleBody,
    BattleOut,
    CountOut,
    ItemReviewOut,
    JudgmentOut,
    RatingOut,
    RevealOut,
    ReviewRowOut,
    StatsOut,
    VoteBody,
)
from hitl.leaderboard_report import VIEWS
from hitl.ratings import MAX_ROUNDS
from hitl.service import Service
from hitl.service.review import REASONS
from hitl.storable import INT4_MAX
from hitl.store.schema import ARENA_JUDGES
from hitl.users import User


def _id():
    # A fresh Path() per parameter: FastAPI records the parameter's name on the object it is given. Ids stop at
    # INT4_MAX, the largest PostgreSQL's integer columns hold: a bigger one is a 422 on every store, not a 500.
    return Path(ge=1, le=INT4_MAX)


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _json_ready(value):
    """A report (dataclasses, floats) as plain data with NaN as null, for the response model."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float):
        return _finite(value)
    return value


def _battle_out(b) -> BattleOut:
    return BattleOut(
        battle_id=b.id,
        prompt=b.prompt_text,
        messages=b.prompt_messages,
        response_a=b.response_a,
        response_b=b.response_b,
    )


def review_router(service: Service, caller) -> APIRouter:
    router = APIRouter()

    @router.get("/stats", response_model=StatsOut, tags=["review"])
    def stats(campaign: str = Query(min_length=1, max_length=128), user: User = Depends(caller)) -> StatsOut:
        """Throughput, queue depth, agreement and the per-rater quality table of a campaign."""
        d = service.dashboard.dashboard(user, campaign)
        return StatsOut(
            campaign=d.campaign,
            summary=d.summary,
            depth=d.depth,
            throughput=[[float(start), int(n)] for start, n in d.throughput],
            raters=d.raters,
            rounds=d.rounds,
        )

    @router.get("/review", response_model=list[ReviewRowOut], tags=["review"])
    def review(
        campaign: str | None = Query(default=None, max_length=128),
        rater: str | None = Query(default=None, max_length=64),
        flag: str | None = Query(default=None, max_length=64),
        reason: Literal[REASONS] | None = None,  # type: ignore[valid-type]
        page: Page = Depends(page_params),
        user: User = Depends(caller),
        *,
        request: Request,
        response: Response,
    ) -> list[ReviewRowOut]:
        """Items with disagreement, flags or a missed gold answer, newest first; paged (X-Total-Count, Link)."""
        filters = {"rater": rater, "flag": flag, "reason": reason}
        rows = service.review.queue(user, campaign, **filters, offset=page.offset, limit=page.limit)
        page_headers(request, response, page, service.review.queue_size(user, campaign, **filters))
        return [
            ReviewRowOut(**{**vars(r), "reasons": list(r.reasons), "waiting_seconds": r.waiting_seconds()})
            for r in rows
        ]

    @router.get("/review/items/{item_id}", response_model=ItemReviewOut, tags=["review"])
    def review_item(item_id: int = _id(), user: User = Depends(caller)) -> ItemReviewOut:
        """One item with every judgment (rater, answer, flags, rationale, correction) and earlier adjudications."""
        r = service.review.item(user, item_id)
        return ItemReviewOut(
            **{**vars(r), "judgments": [JudgmentOut(**{**vars(j), "flags": list(j.flags)}) for j in r.judgments]}
        )

    @router.post("/review/items/{item_id}/adjudication", response_model=CountOut, tags=["review"])
    def adjudicate(body: AdjudicationBody, item_id: int = _id(), user: User = Depends(caller)) -> CountOut:
        """Store the item's final label; returns the adjudication id (as `count`)."""
        new_id = service.review.adjudicate(user, item_id, **body.model_dump())
        return CountOut(count=new_id)

    @router.post("/arena/battles", response_model=BattleOut, tags=["arena"])
    def new_battle(body: BattleBody, user: User = Depends(caller)) -> BattleOut:
        """A blind battle: two model versions' stored answers to one prompt, names hidden until the vote."""
        return _battle_out(service.arena.new_battle(user, body.model_a, body.model_b, body.prompt_set))

    @router.post("/arena/battles/{battle_id}/vote", response_model=RevealOut, tags=["arena"])
    def vote(body: VoteBody, battle_id: int = _id(), user: User = Depends(caller)) -> RevealOut:
        """Vote, then see the names; a vote after the reveal is not counted."""
        return RevealOut(**vars(service.arena.vote(user, battle_id, body.choice)))

    @router.get("/arena/leaderboard", response_model=LeaderboardOut, tags=["arena"])
    def leaderboard(
        judge: Literal[ARENA_JUDGES] = ARENA_JUDGES[0],  # type: ignore[valid-type]
        rounds: int = Query(default=200, ge=0, le=MAX_ROUNDS),
        view: Literal[VIEWS] = VIEWS[0],  # type: ignore[valid-type]
        user: User = Depends(caller),
    ) -> LeaderboardOut:
        """Bradley-Terry ratings with bootstrap 95% intervals, raw and style-controlled side by side (`view` orders
        the rows, rank intervals and verdicts), style coefficients, the planner and per-category boards; one judge."""
        b = service.arena.board(user, judge, rounds=rounds)
        r = _json_ready(service.arena.report(user, judge, rounds=rounds, view=view))
        return LeaderboardOut(
            judge=b.judge,
            n_battles=b.n_battles,
            ratings=[RatingOut(**{**vars(r), "low": _finite(r.low), "high": _finite(r.high)}) for r in b.ratings],
            models=b.models,
            win_rates=[[_finite(x) for x in row] for row in b.win_rates.tolist()],
            counts=b.counts.tolist(),
            **{k: v for k, v in r.items() if k not in ("n_battles", "rounds")},
        )

    return router
