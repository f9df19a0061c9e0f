"""Browser logins: password check with throttling, server-side sessions, logout.

    python -c "from hitl.service.sessions import login; help(login)"

The cookie carries a random 256-bit token; the store keeps only its `token_hash` with the user, expiry and
revocation time, so a session survives page refreshes and server restarts, and ends on logout, on
expiry, or when the user is disabled. Every try is checked by hitl.service.throttle first (per client,
per account with back-off, known devices), so guessing is slow, costs the server nothing, and never locks
the real user out of a browser they logged in from before.
"""

from __future__ import annotations

import re
import secrets
import time

from sqlalchemy import delete, insert, select, update

from hitl.errors import AuthError
from hitl.passwords import token_hash
from hitl.service import throttle
from hitl.service.settings import WebSettings
from hitl.store import Store
from hitl.store.schema import login_attempts, users, web_sessions
from hitl.users import User, authenticate, password_hash_of

# What a stored user name can hold (hitl.users); anything else is kept as '?' so the row is storable everywhere.
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.@-]")


def _record_attempt(store: Store, name: str, client: str, succeeded: bool, now: float) -> None:
    with store.write() as conn:
        conn.execute(insert(login_attempts).values(user_name=name, client=client, succeeded=succeeded, created_at=now))
        # Attempts older than a day never matter (the longest back-off is far shorter): keep the table small.
        conn.execute(delete(login_attempts).where(login_attempts.c.created_at < now - 86_400))


def login(
    store: Store, settings: WebSettings, name: str, password: str, client: str, device: str | None = None
) -> tuple[User, str]:
    """Check the password (throttled) and open a session; returns the user and the cookie token.

    `client` is the caller's real address; `device` the value of its known-device cookie, if any.
    """
    name = _NOT_NAME.sub("?", (name or "").strip())[:64]
    client = _NOT_NAME.sub("?", client or "unknown")[:64]
    now = time.time()
    key = throttle.device_key(device, password_hash_of(store, name), name, now)
    with store.read() as conn:
        throttle.check(conn, settings, name, client, key, now)
    try:
        user = authenticate(store, name, password or "")
    except AuthError:
        _record_attempt(store, name, key or client, False, now)
        raise
    _record_attempt(store, name, key or client, True, now)
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


def device_cookie(store: Store, user: User) -> str:
    """A known-device cookie for a browser that just logged in as `user` (see hitl.service.throttle)."""
    return throttle.device_token(password_hash_of(store, user.name) or "", user.name)


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
