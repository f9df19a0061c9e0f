"""Request and response bodies of the workforce routes (collection_ui/api/workforce_routes.py).

python -c "from collection_ui.api.workforce_schemas import RulesBody; print(RulesBody.model_json_schema())"

The bounds repeat hitl.workforce.rules.WorkforceRules.validate as the API's first line of checks; the service
checks again, and against the store (gold items to qualify with, skills somebody holds).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from collection_ui.api.schemas import Body, Text
from hitl.service.review import VERDICTS

Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0, le=10_000)]
Minutes = Annotated[float, Field(ge=0, le=1440)]
Skill = Annotated[str, Field(min_length=1, max_length=64)]
Verdict = Literal[tuple(VERDICTS)]  # type: ignore[valid-type]


class RulesBody(Body):
    """Rules to change; the ones left out keep their value."""

    qualification_items: Count | None = None
    qualification_pass: Share | None = None
    qualification_retries: Count | None = None
    requalify_on_new_guidelines: bool | None = None
    attention_window: Annotated[int, Field(ge=1, le=10_000)] | None = None
    attention_warn_misses: Count | None = None
    attention_pause_misses: Count | None = None
    min_seconds: Minutes | None = None
    fast_window: Annotated[int, Field(ge=1, le=10_000)] | None = None
    fast_warn: Count | None = None
    fast_pause: Count | None = None
    max_stretch_minutes: Minutes | None = None
    break_minutes: Annotated[float, Field(ge=1, le=1440)] | None = None
    max_daily_minutes: Minutes | None = None
    fatigue_breaks: bool | None = None
    skills: dict[Annotated[str, Field(min_length=1, max_length=128)], Skill] | None = Field(
        default=None, max_length=200, description="Prompt tag -> the skill its items require."
    )
    escalate_unsure: bool | None = None
    escalate_below_agreement: Share | None = None
    escalation_skill: Annotated[str, Field(max_length=64)] | None = None
    auto_label_threshold: Share | None = None
    audit_share: Share | None = None
    stop_at_confidence: Share | None = None


class RulesOut(BaseModel):
    qualification_items: int
    qualification_pass: float
    qualification_retries: int
    requalify_on_new_guidelines: bool
    attention_window: int
    attention_warn_misses: int
    attention_pause_misses: int
    min_seconds: float
    fast_window: int
    fast_warn: int
    fast_pause: int
    max_stretch_minutes: float
    break_minutes: float
    max_daily_minutes: float
    fatigue_breaks: bool
    skills: dict[str, str]
    escalate_unsure: bool
    escalate_below_agreement: float
    escalation_skill: str
    auto_label_threshold: float
    audit_share: float
    stop_at_confidence: float


class RosterOut(BaseModel):
    rater: str
    qualification: str = Field(description="not_required, training, passed or failed")
    attempt: int
    correct: int
    total: int
    paused: str | None
    warning: str | None
    judgments: int


class ReinstateBody(Body):
    rater: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)


class SkillsBody(Body):
    add: list[Skill] = Field(default_factory=list, max_length=50)
    remove: list[Skill] = Field(default_factory=list, max_length=50)


class SkillsOut(BaseModel):
    name: str
    skills: list[str]


class RationaleBody(Body):
    rationale: str = Field(min_length=1, max_length=5000)


class EscalateBody(Body):
    note: str = Text


class EscalationOut(BaseModel):
    item_id: int
    campaign: str
    reason: str
    detail: str
    skill: str | None
    created_at: float
    waited_seconds: float


class AnswerBody(Body):
    """The expert's answer: a verdict and strength for pairwise items, or a rank per response (1 = best)."""

    winner: Verdict | None = None
    strength: int = Field(default=2, ge=1, le=3)
    ranks: list[Annotated[int, Field(ge=1, le=8)]] = Field(default_factory=list, max_length=8)
    all_bad: bool = False
    note: str = Text


class GoldProposalOut(BaseModel):
    item_id: int
    campaign: str
    answer: int = Field(description="The response (1-based, stored order) every rater picked: the gold answer.")
    raters: list[str]
    min_competence: float = Field(description="The weakest Dawid-Skene competence among those raters.")
    posterior: float = Field(description="Dawid-Skene posterior of the answer.")


class GoldDecisionBody(Body):
    accept: bool = Field(
        description="true: the item becomes gold with its raters' answer; false: never proposed again."
    )
    note: str = Field(default="", max_length=2000)


class GoldDecisionOut(BaseModel):
    item_id: int
    accepted: bool
    message: str


class TagsOut(BaseModel):
    campaign: str
    tags: list[dict[str, str | int | float | None]] = Field(
        description="Per prompt tag: judgments, items, and each share (first_shown, stored_first, longer, agreement, "
        "gold) with its '<name> low', '<name> high' (95% Wilson interval) and '<name> n'; issues."
    )
    rater_tags: list[dict[str, str | int | float | None]] = Field(description="The same per rater x tag.")
