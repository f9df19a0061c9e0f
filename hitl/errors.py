"""User-facing errors: each says what went wrong and what to do. The CLI prints them without a traceback.

Each has a stable machine-readable `code` (error_code: the class's own `code`, else its name in snake_case), which
the REST API sends beside the message, so scripts branch on the code and people read the message.
"""

import re


class HitlError(Exception):
    """Base of every error a user can fix. `str(err)` is the whole message."""

    status_code = 400


def error_code(exc: BaseException) -> str:
    """The stable code of an error: a `code` set on its class (or a parent, up to HitlError), else its class name
    in snake_case (RateLimited -> rate_limited)."""
    for cls in type(exc).__mro__:
        if cls is HitlError or cls is Exception:
            break
        if "code" in vars(cls):
            return vars(cls)["code"]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


class InvalidInput(HitlError):
    """Input that breaks a rule (empty text, unknown role, chosen == rejected, ...)."""


class UsageError(InvalidInput):
    """A command line that cannot run as written: an unknown flag, or a flag value of the wrong type. The CLI exits
    with status 2 for these (as argparse does), 1 for every other HitlError."""


class NotFound(HitlError):
    status_code = 404


class Conflict(HitlError):
    """The request clashes with stored state (a duplicate id, an idempotency key reused elsewhere)."""

    status_code = 409


class AuthError(HitlError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(HitlError):
    status_code = 403


class LeaseError(HitlError):
    """A submit, skip or release on a lease that is expired, already used, released or someone else's."""

    status_code = 409


class TrainingDiverged(HitlError):
    """A training run's loss or weights went non-finite: nothing was saved or registered."""

    status_code = 422


class NoPreferencePairs(InvalidInput):
    """Judgments exist (or not) but none prefers one response: every one is a tie or both bad."""
