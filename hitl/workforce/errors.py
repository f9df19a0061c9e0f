"""Why the queue refuses a rater: paused pending review, not qualified, or on an enforced break.

    python -c "from hitl.workforce.errors import BreakDue; print(BreakDue('rest', retry_after=60).status_code)"

Each is a HitlError with its own status and stable code, so the page shows the message and the REST API answers
403 (paused, not_qualified) or 429 with Retry-After (break_due).
"""

from __future__ import annotations

from hitl.errors import Forbidden, HitlError


class Paused(Forbidden):
    """The rater is paused in this campaign until a reviewer reinstates them."""

    code = "paused"


class NotQualified(Forbidden):
    """The rater failed the campaign's qualification and has no attempt left (a reviewer can grant one)."""

    code = "not_qualified"


class BreakDue(HitlError):
    """The campaign's work limits call a break: no items here for `retry_after` seconds (other campaigns may have
    work: `rotate_to`)."""

    status_code = 429
    code = "break_due"

    def __init__(self, message: str, retry_after: float = 60.0, rotate_to: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.rotate_to = tuple(rotate_to)
