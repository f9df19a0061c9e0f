"""What the queue hands out and takes back: assignments (an item under a lease), judgments, and the facts of a
lease that a judgment is checked against.

    python -c "from hitl.queue.types import JudgmentInput; print(JudgmentInput(ranking=[2, 1], strength=3))"
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hitl.config import CampaignSettings
from hitl.workforce.rules import WorkforceRules


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
    # Scores of the responses on the campaign's aspects: {response id: {aspect: 0-4}} (optional; any subset).
    aspects: dict[int, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmitResult:
    judgment_id: int
    item_id: int
    duplicate: bool  # True when this key was already recorded: the first result is returned, nothing new stored


@dataclass(frozen=True, slots=True)
class JudgmentRules:
    """The campaign's rules a judgment is validated against (`hitl.queue.submit.validate_judgment`)."""

    item_kind: str
    allow_tie: bool
    allow_both_bad: bool
    require_rationale: bool
    aspects: tuple[str, ...] = ()  # the campaign's aspects (hitl.config.CampaignSettings.aspects)

    @classmethod
    def of(cls, settings: CampaignSettings) -> JudgmentRules:
        """The rules of a campaign's `CampaignSettings`."""
        return cls(
            settings.item_kind,
            settings.allow_tie,
            settings.allow_both_bad,
            settings.require_rationale,
            tuple(settings.aspect_names()),
        )


@dataclass(frozen=True, slots=True)
class LeaseFacts:
    """One lease as a submit sees it: the lease, its item, and the campaign's overlap and rules.

    Read from the store in the submit's transaction, or kept by next_item in `Store.lease_cache` (PostgreSQL),
    where `state`, `expires_at` and `judgment_count` are as they were at lease time: hitl_record_judgment checks
    their current values under its row locks, so a kept copy only ever saves the read.
    """

    id: int
    user_id: int
    state: str
    expires_at: float
    display_order: list[int]
    item_id: int
    response_ids: list[int]
    is_gold: bool
    judgment_count: int
    overlap: int
    rules: JudgmentRules
    campaign_id: int = 0
    # The campaign's workforce rules when they route raters or watch their judgments (hitl.workforce), else None:
    # a submit in a campaign without them does nothing more than before.
    workforce: WorkforceRules | None = None
    guidelines_version: int = 1
