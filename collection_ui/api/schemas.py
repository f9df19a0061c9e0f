"""Request and response bodies of the REST API (pydantic): their limits are the API's first line of checks.

python -c "from collection_ui.api.schemas import JudgmentBody; print(JudgmentBody.model_json_schema())"
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hitl.config import FLAGS
from hitl.errors import InvalidInput
from hitl.service.rating import CHOICE_LABELS
from hitl.storable import INT4_MAX, check_storable
from hitl.store.schema import ITEM_KINDS, ROLES

# The allowed values come from the core's tuples (a Literal of a tuple lists its members), never retyped here.
Flag = Literal[FLAGS]  # type: ignore[valid-type]
Choice = Literal[tuple(CHOICE_LABELS)]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]
ItemKind = Literal[ITEM_KINDS]  # type: ignore[valid-type]
Text = Field(default="", max_length=5000)
# Ids as every store holds them (PostgreSQL's integer columns stop at INT4_MAX).
Id = Annotated[int, Field(ge=1, le=INT4_MAX)]


class Body(BaseModel):
    # Unknown fields are refused, so a misspelt option is an error instead of being silently ignored.
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """Text no store can hold (NUL, lone surrogates) is refused here, naming the field, on every store."""
        if isinstance(data, dict):
            for key, value in data.items():
                try:
                    check_storable(value, str(key))
                except InvalidInput as exc:
                    raise ValueError(str(exc)) from None
        return data


class Message(BaseModel):
    role: str
    content: str


class CampaignOut(BaseModel):
    name: str
    guidelines: str
    item_kind: str
    allow_tie: bool
    allow_both_bad: bool
    require_rationale: bool
    show_prelabel: bool
    aspects: list[str] = Field(
        default_factory=list, description="Aspects each response may be scored on, 0-4 (JudgmentBody.aspects)."
    )


class ResponseOut(BaseModel):
    response_id: int
    label: str
    text: str


class ItemOut(BaseModel):
    lease_token: str
    item_id: int
    campaign: str
    prompt: str | None
    messages: list[Message] | None
    responses: list[ResponseOut] = Field(description="In the order to show them; rank them by response_id.")
    expires_at: float
    resumed: bool


class JudgmentBody(Body):
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Fresh per judgment; a retry reuses it. Or send it as the Idempotency-Key header.",
    )
    ranking: list[Id] = Field(default_factory=list, max_length=8, description="Response ids, best first.")
    strength: int = Field(default=2, ge=0, le=3, description="1 slightly .. 3 much better; 0 with tie.")
    tie: bool = False
    both_bad: bool = False
    flags: list[Flag] = Field(default_factory=list, max_length=len(FLAGS))
    rationale: str = Text
    correction: str | None = Field(default=None, max_length=200_000)
    seconds_on_item: float | None = Field(default=None, ge=0, lt=10**7)
    aspects: dict[Id, dict[Annotated[str, Field(min_length=1, max_length=32)], Annotated[int, Field(ge=0, le=4)]]] = (
        Field(
            default_factory=dict,
            max_length=8,
            description="Scores of responses on the campaign's aspects: {response id: {aspect: 0-4}} (any subset).",
        )
    )


class SubmitOut(BaseModel):
    judgment_id: int
    item_id: int
    duplicate: bool


class Ok(BaseModel):
    ok: bool = True
    message: str = ""


class ProgressOut(BaseModel):
    judged_today: int
    left: int
    stretch_minutes: float
    take_break: bool


class UserOut(BaseModel):
    name: str
    role: str
    active: bool
    api_tokens: int = 0


class MeOut(BaseModel):
    name: str
    role: str
    pages: list[str]


class NewUserBody(Body):
    name: str = Field(min_length=1, max_length=64)
    role: Role = ROLES[0]
    password: str = Field(min_length=8, max_length=1024)


class UserChangeBody(Body):
    active: bool | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class TokenBody(Body):
    label: str = Field(default="", max_length=128)


class TokenOut(BaseModel):
    token: str = Field(description="Shown once; send it as `Authorization: Bearer <token>`.")


class CountOut(BaseModel):
    count: int


class CampaignBody(Body):
    name: str = Field(min_length=1, max_length=128)
    guidelines: str | None = Field(default=None, max_length=100_000)
    item_kind: ItemKind | None = None
    overlap: int | None = Field(default=None, ge=1, le=100)
    gold_rate: float | None = Field(default=None, ge=0, le=1)
    lease_ttl_seconds: float | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    allow_tie: bool | None = None
    allow_both_bad: bool | None = None
    require_rationale: bool | None = None
    show_prelabel: bool | None = None
    aspects: str | None = Field(default=None, max_length=300, description="Comma-separated aspect names, 0-4 each.")


class ImportOut(BaseModel):
    kind: str
    counts: dict[str, int]
    summary: str


class AdjudicationBody(Body):
    ranking: list[Annotated[int, Field(ge=1, le=8)]] = Field(
        default_factory=list, max_length=8, description="Response numbers (1-based), best first."
    )
    tie: bool = False
    both_bad: bool = False
    strength: int = Field(default=2, ge=0, le=3)
    note: str = Text
    accept_correction: int | None = Field(default=None, ge=1, le=INT4_MAX)


class JudgmentOut(BaseModel):
    id: int
    rater: str
    answer: str
    flags: list[str]
    rationale: str
    correction: str | None
    seconds: float | None
    first_shown: int
    aspects: str = Field(default="", description="The rater's aspect scores, e.g. '1: helpfulness 3 · 2: ...'.")


class ItemReviewOut(BaseModel):
    item_id: int
    campaign: str
    item_kind: str
    prompt_text: str | None
    prompt_messages: list[Message] | None
    responses: list[str]
    gold_answer: int | None
    judgments: list[JudgmentOut]
    adjudications: list[str]


class BattleBody(Body):
    model_a: str | None = Field(default=None, max_length=255)
    model_b: str | None = Field(default=None, max_length=255)
    prompt_set: str = Field(default="all", max_length=255)


class BattleOut(BaseModel):
    battle_id: int
    prompt: str | None
    messages: list[Message] | None
    response_a: str
    response_b: str


class VoteBody(Body):
    choice: Choice


class RevealOut(BaseModel):
    battle_id: int
    model_a: str
    model_b: str
    outcome: str | None
    counted: bool
    message: str


class RatingOut(BaseModel):
    model: str
    rating: float
    low: float | None
    high: float | None
    battles: int
    wins: int
    losses: int
    ties: int


class BoardOut(BaseModel):
    judge: str
    n_battles: int
    ratings: list[RatingOut]
    models: list[str]
    win_rates: list[list[float | None]]
    counts: list[list[int]]


class ReviewRowOut(BaseModel):
    item_id: int
    campaign: str
    reasons: list[str]
    n_judgments: int
    raters: list[str]
    flags: list[str]
    adjudicated: bool
    escalation: str = Field(default="", description="Why it waits in the expert queue ('' when it does not).")
    waiting_seconds: float | None = Field(default=None, description="How long it has waited there.")


class StatsOut(BaseModel):
    campaign: str
    summary: dict[str, float | int | None]
    depth: dict[str, int]
    throughput: list[list[float]] = Field(description="[bucket start (epoch seconds), judgments] per hour.")
    raters: list[dict[str, str | int | float | None]]
    rounds: list[dict[str, str | int | float | None]] = Field(
        default_factory=list, description="The loop's rounds (hitl loop), newest first, with their metrics."
    )


class ErrorOut(BaseModel):
    error: str = Field(description="What went wrong and what to do about it.")
    code: str = Field(
        description="Stable machine-readable kind: invalid_input, not_found, conflict, unauthenticated, forbidden, "
        "lease_error, rate_limited, store_busy, busy, validation_error, store_unavailable, http_<status>, ..."
    )
