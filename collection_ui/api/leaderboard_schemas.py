"""Response bodies of the leaderboard route (collection_ui/api/review_routes.py): the board of hitl.ratings plus
the report of hitl.leaderboard_report (style control, rank intervals, verdicts, planner, categories).

python -c "from collection_ui.api.leaderboard_schemas import LeaderboardOut; print(LeaderboardOut.model_json_schema())"

Undefined numbers (no samples yet) and the open end of an interval (a model that won or lost every battle) are
null: JSON has no NaN or infinity.
"""

from pydantic import BaseModel, Field

from collection_ui.api.schemas import BoardOut


class ModelRowOut(BaseModel):
    model: str
    rank: str = Field(description="Rank interval holding for every model at once ('1', '2–3'), or 'unrated'.")
    rating: float | None = Field(description="Raw Bradley-Terry rating (Elo scale, mean 1000); null when unrated.")
    low: float | None = Field(description="95% interval of the raw rating; null when open-ended or undefined.")
    high: float | None
    style_rating: float | None = Field(description="Rating with length and markdown held equal (style control).")
    style_low: float | None
    style_high: float | None
    battles: int
    wins: int
    losses: int
    ties: int


class CoefficientOut(BaseModel):
    feature: str
    coefficient: float = Field(description="Log-odds of winning per standard deviation of the normalised difference.")
    low: float | None
    high: float | None
    elo: float = Field(description="The same in rating points.")
    sd: float = Field(description="One standard deviation of the normalised difference (a share of the pair's total).")
    n: int


class VerdictOut(BaseModel):
    higher: str
    lower: str
    gap: float
    low: float | None = Field(description="Band of the rating gap, corrected over every adjacent pair (95%).")
    high: float | None
    separated: bool
    text: str


class PlanOut(BaseModel):
    a: str
    b: str
    n: int = Field(description="Head-to-head battles so far.")
    rate: float | None = Field(description="A's win rate over B (ties half), observed or implied by the ratings.")
    low: float | None = Field(description="Wilson 95% interval of the observed rate.")
    high: float | None
    more: int | None = Field(
        description="More battles between them that would separate them; null: never at this rate."
    )
    text: str


class CategoryOut(BaseModel):
    tag: str
    n_battles: int
    rows: list[ModelRowOut]
    message: str


class FlaggedVoterOut(BaseModel):
    voter: str
    n: int
    z: float = Field(description="Agreement score with the other voters on the same pairs (very negative: against).")
    agreement: float | None = Field(description="Share of decisive votes siding with the other voters' majority.")
    excluded: bool


class LeaderboardOut(BoardOut):
    view: str = Field(description="What orders rows, ranks and verdicts: 'raw' or 'style'.")
    message: str
    rows: list[ModelRowOut]
    coefficients: list[CoefficientOut]
    skipped_features: list[str] = Field(description="Style features with no variation in these battles (not fitted).")
    verdicts: list[VerdictOut]
    plans: list[PlanOut]
    categories: list[CategoryOut]
    hidden_categories: int
    critical_value: float | None = Field(
        description="Multiplier of the 95% band over every pair's rating gap that sets the rank intervals "
        "(1.96 for two models)."
    )
    notes: list[str]
    integrity: list[str] = Field(description="One line per integrity rule on human votes: what it removed.")
    flagged_voters: list[FlaggedVoterOut]
