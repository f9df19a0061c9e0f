"""What the queue hands out and takes back: assignments (an item under a lease) and judgments."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ShownResponse:
    response_id: int
    text: str


@dataclass(frozen=True)
class Assignment:
    """An item leased to one user. `responses` are in the randomised order this user is shown."""

    lease_token: str
    item_id: int
    campaign_id: int
    prompt_text: str | None
    prompt_messages: list[dict] | None
    responses: list[ShownResponse]
    expires_at: float
    resumed: bool = False


@dataclass
class JudgmentInput:
    """A rater's answer to one item.

    Pairwise: `ranking` = [preferred response id, other id] and `strength` 1 (slightly) .. 3 (much
    better); a tie has `tie=True` and strength 0 (ranking optional). Ranking campaigns: all K ids best
    first. `both_bad` may come with a preference (which is less bad) or with `tie=True` (no preference).
    """

    ranking: list[int] = field(default_factory=list)
    strength: int = 2
    tie: bool = False
    both_bad: bool = False
    flags: list[str] = field(default_factory=list)
    rationale: str = ""
    correction: str | None = None
    seconds_on_item: float | None = None


@dataclass(frozen=True)
class SubmitResult:
    judgment_id: int
    item_id: int
    duplicate: bool  # True when this key was already recorded: the first result is returned, nothing new stored
