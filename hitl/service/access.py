"""Who may do what: the role each action needs, checked on the server for every call.

    python -c "from hitl.service.access import require; help(require)"

Roles are nested (rater < reviewer < admin, see hitl.users.User.has_role). The web pages and the REST
API both go through these checks, so a script gets no more than the same user gets in the page.
"""

from __future__ import annotations

from hitl.errors import AuthError, Forbidden, HitlError
from hitl.users import User

# The role each page (and its actions) needs. Arena votes are blind judgments like any other, so raters
# may cast them; the leaderboard shows only aggregate ratings.
PAGE_ROLES = {
    "rate": "rater",
    "arena": "rater",
    "leaderboard": "rater",
    "review": "reviewer",
    "dashboard": "reviewer",
    "admin": "admin",
}


class RateLimited(HitlError):
    """Too many tries (failed logins) or too much at once: wait `retry_after` seconds (the Retry-After header)."""

    status_code = 429

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


def require(user: User | None, role: str) -> User:
    """The user, if logged in, active and at least `role`; AuthError / Forbidden otherwise."""
    if user is None:
        raise AuthError("log in first (or send an API token: Authorization: Bearer hitl_...)")
    if not user.active:
        raise AuthError(f"user {user.name!r} is disabled: ask an admin")
    if not user.has_role(role):
        raise Forbidden(f"this needs the {role} role; {user.name!r} is a {user.role}")
    return user


def pages_for(user: User) -> list[str]:
    """The pages this user may open, in menu order."""
    return [page for page, role in PAGE_ROLES.items() if user.has_role(role)]
