"""Password hashing with scrypt (a standard memory-hard KDF from the standard library), and the one token hash.

    hitl users passwd alice --password-stdin    # stores hash_password(<stdin>); `hitl users token alice`: token_hash

Stored form: `scrypt$N$r$p$salt_b64$hash_b64`, so the cost can be raised later without breaking old hashes.
API tokens and session cookies are stored as `token_hash(token)` (hex sha256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1
_MIN_LENGTH = 8


def check_password_rules(password: str) -> None:
    from hitl.errors import InvalidInput

    if len(password) < _MIN_LENGTH:
        raise InvalidInput(f"password too short: use at least {_MIN_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidInput("password too long: use at most 1024 characters")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    got = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(got, expected)


def token_hash(token: str) -> str:
    """The stored form of an API token or a session token: its hex sha256 (64 characters).

    Unsalted and fast on purpose: the tokens are 256 random bits, so no dictionary reaches them, and a
    deterministic hash lets a request find its row with one indexed lookup. Changing this breaks every
    stored token and session.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def dummy_verify(password: str) -> None:
    """Spend the same time as a real check, so an unknown user name is not revealed by timing."""
    verify_password(password, _DUMMY)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


_DUMMY = hash_password("not-a-real-password")
