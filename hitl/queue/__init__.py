"""The assignment queue: leases with owners and expiry, exactly-once submits, skip and release.

    python -m pytest -q tests/queue   # both stores with HITL_TEST_POSTGRES_URL set

assign (next_item, skip, release, expiry), submit (exactly once per key), record (the one judgment write, which
imports use too), validate (a judgment against its item and campaign), types, sql (the hot path's statements).
"""

from hitl.queue.assign import expire_leases, next_item, release, skip
from hitl.queue.submit import submit
from hitl.queue.types import Assignment, JudgmentInput, ShownResponse, SubmitResult
from hitl.queue.validate import validate_judgment

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
