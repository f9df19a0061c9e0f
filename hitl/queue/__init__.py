"""The assignment queue: leases with owners and expiry, exactly-once submits, skip and release."""

from hitl.queue.assign import expire_leases, next_item, release, skip
from hitl.queue.submit import submit, validate_judgment
from hitl.queue.types import Assignment, JudgmentInput, ShownResponse, SubmitResult

__all__ = [
    "Assignment",
    "JudgmentInput",
    "ShownResponse",
    "SubmitResult",
    "expire_leases",
    "next_item",
    "release",
    "skip",
    "submit",
    "validate_judgment",
]
