"""Login throttling: per-account exponential back-off, per-client limits, and known-device cookies.

    python -c "from hitl.service.throttle import backoff_seconds as b; print([b(f, 5, 900) for f in range(9)])"

Three rules, checked before any password is hashed (a refused try costs the server one indexed count):

- per client (the real peer address, see collection_ui.auth.client_address): at most `client_failed_logins`
  wrong passwords per window, whatever names they tried. A success does not reset this count, so an
  attacker's own account cannot buy more guesses.
- per account: after `max_failed_logins` wrong passwords since the account's last success, each further try
  waits twice as long as the one before (1 s, 2 s, 4 s, ... up to `max_backoff_minutes`). Nobody is locked
  out for longer than that, and a guesser gets a few dozen tries a day.
- known devices: a browser the user logged in from before holds a device cookie (an HMAC of the user name
  keyed with the stored password hash, so a password change voids them all). With it the account back-off is
  skipped, so an attack on a name never locks its owner out of their own browser; the device's own failures
  are limited like a client's.

Attempts are rows of `login_attempts` (shared by every app host); a refused try is not recorded, so guessing
faster never pushes the wait further out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from sqlalchemy import func, select

from hitl.service.access import RateLimited
from hitl.service.settings import WebSettings
from hitl.store.schema import login_attempts

DEVICE_DAYS = 180
_DEVICE_PREFIX = "device:"


def backoff_seconds(failures: int, free: int, cap_seconds: float) -> float:
    """The wait before the next try after `failures` wrong passwords: none for the first `free`, then doubling."""
    if failures < free:
        return 0.0
    return float(min(cap_seconds, 2.0 ** (failures - free)))


def _mac(password_hash: str, name: str, issued: int) -> str:
    digest = hmac.new(password_hash.encode(), f"{name}:{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def device_token(password_hash: str, name: str, now: float | None = None) -> str:
    """The value of a known-device cookie for `name` (issued now, valid DEVICE_DAYS)."""
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_mac(password_hash, name, issued)}"


def device_key(token: str | None, password_hash: str | None, name: str, now: float | None = None) -> str | None:
    """The throttling key of a valid device cookie for `name` ('device:...'), or None for a missing or forged one."""
    if not token or not password_hash or len(token) > 128 or "." not in token:
        return None
    issued_text, _, mac = token.partition(".")
    if not issued_text.isdigit():
        return None
    issued = int(issued_text)
    now = time.time() if now is None else now
    if not now - DEVICE_DAYS * 86_400 <= issued <= now + 60:
        return None
    if not hmac.compare_digest(mac, _mac(password_hash, name, issued)):
        return None
    return _DEVICE_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:40]


def _failures(conn, where, since: float) -> tuple[int, float | None]:
    """How many failed attempts match `where` after `since`, and when the latest was."""
    count, latest = conn.execute(
        select(func.count(), func.max(login_attempts.c.created_at)).where(
            *where, login_attempts.c.succeeded.is_(False), login_attempts.c.created_at > since
        )
    ).one()
    return int(count or 0), latest


def _refuse(wait: float, what: str) -> RateLimited:
    seconds = max(1, int(wait + 0.999))
    return RateLimited(f"too many failed logins {what}: try again in {seconds} s", retry_after=seconds)


def check(conn, settings: WebSettings, name: str, client: str, device: str | None, now: float) -> None:
    """RateLimited (with the seconds to wait) when this try must not even be checked; otherwise nothing."""
    window = settings.login_window_minutes * 60
    if device is not None:
        count, latest = _failures(conn, [login_attempts.c.client == device], now - window)
        if count >= settings.max_failed_logins:
            raise _refuse(latest + window - now, "from this browser")
        return
    count, latest = _failures(conn, [login_attempts.c.client == client], now - window)
    if count >= settings.client_failed_logins:
        raise _refuse(latest + window - now, "from your address")
    last_ok = conn.execute(
        select(func.max(login_attempts.c.created_at)).where(
            login_attempts.c.user_name == name, login_attempts.c.succeeded.is_(True)
        )
    ).scalar()
    cap = settings.max_backoff_minutes * 60
    # Failures from known devices are the owner's typos: they never slow the account down for others.
    count, latest = _failures(
        conn,
        [login_attempts.c.user_name == name, login_attempts.c.client.not_like(_DEVICE_PREFIX + "%")],
        max(last_ok or 0.0, now - 86_400),
    )
    wait = backoff_seconds(count, settings.max_failed_logins, cap)
    if wait and latest is not None and now < latest + wait:
        raise _refuse(latest + wait - now, "for this user name")
