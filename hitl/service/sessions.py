"""Browser logins: password check with throttling, server-side sessions, logout.

    python -c "from hitl.service.sessions import login; help(login)"

The cookie carries a random 256-bit token; the store keeps only its `token_hash` with the user, expiry and
revocation time, so a session survives page refreshes and server restarts, and ends on logout, on
expiry, or when the user is disabled. Failed logins are counted per user name and per client address
in the store (shared by every app host); past the limit no password is even checked until the window
has passed, so guessing is slow and costs the server nothing.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import delete, func, insert, select, update

from hitl.errors import AuthError
from hitl.passwords import token_hash
from hitl.service.access import RateLimited
from hitl.service.settings import WebSettings
from hitl.store import Store
from hitl.store.schema import login_attempts, users, web_sessions
from hitl.users import User, authenticate

# Many people can share one address (an office NAT), so the per-client limit is looser than the per-name one.
CLIENT_LIMIT_FACTOR = 4


def _failures_since_success(conn, column, value: str, since: float) -> int:
    last_ok = conn.execute(
        select(func.max(login_attempts.c.created_at)).where(column == value, login_attempts.c.succeeded.is_(True))
    ).scalar()
    start = max(since, last_ok or 0.0)
    return conn.execute(
        select(func.count()).where(
            column == value, login_attempts.c.succeeded.is_(False), login_attempts.c.created_at > start
        )
    ).scalar()


def check_throttle(store: Store, settings: WebSettings, name: str, client: str, now: float | None = None) -> None:
    """RateLimited when this name or this client has failed too often within the window."""
    now = time.time() if now is None else now
    since = now - settings.login_window_minutes * 60
    with store.read() as conn:
        by_name = _failures_since_success(conn, login_attempts.c.user_name, name, since)
        by_client = _failures_since_success(conn, login_attempts.c.client, client, since)
    if by_name >= settings.max_failed_logins or by_client >= settings.max_failed_logins * CLIENT_LIMIT_FACTOR:
        raise RateLimited(
            f"too many failed logins: wait {settings.login_window_minutes:g} minutes, or ask an admin to reset "
            "the password"
        )


def _record_attempt(store: Store, name: str, client: str, succeeded: bool, now: float) -> None:
    with store.write() as conn:
        conn.execute(insert(login_attempts).values(user_name=name, client=client, succeeded=succeeded, created_at=now))
        # Old attempts only ever matter inside the window: keep the table small.
        conn.execute(delete(login_attempts).where(login_attempts.c.created_at < now - 86_400))


def login(store: Store, settings: WebSettings, name: str, password: str, client: str) -> tuple[User, str]:
    """Check the password (throttled) and open a session; returns the user and the cookie token."""
    name = (name or "").strip()[:64]
    client = (client or "unknown")[:64]
    now = time.time()
    check_throttle(store, settings, name, client, now)
    try:
        user = authenticate(store, name, password or "")
    except AuthError:
        _record_attempt(store, name, client, False, now)
        raise
    _record_attempt(store, name, client, True, now)
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user.id, web_sessions.c.expires_at < now))
        conn.execute(
            insert(web_sessions).values(
                token_hash=token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + settings.session_hours * 3600,
            )
        )
    return user, token


def user_for_session(store: Store, token: str | None) -> User | None:
    """The active user of a live session, or None (no cookie, unknown, expired, logged out or disabled)."""
    if not token or len(token) > 256:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(users.c.id, users.c.name, users.c.role, users.c.active)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(
                web_sessions.c.token_hash == token_hash(token),
                web_sessions.c.revoked_at.is_(None),
                web_sessions.c.expires_at > time.time(),
            )
        ).first()
    if row is None or not row.active:
        return None
    return User(id=row.id, name=row.name, role=row.role, active=True)


def logout(store: Store, token: str | None) -> None:
    """End the session of this token (nothing happens for an unknown one)."""
    if not token or len(token) > 256:
        return
    with store.write() as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.token_hash == token_hash(token), web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )


def end_sessions_of(store: Store, user_id: int) -> int:
    """Log a user out everywhere (after a password reset or a role change)."""
    with store.write() as conn:
        return conn.execute(
            update(web_sessions)
            .where(web_sessions.c.user_id == user_id, web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        ).rowcount
