"""Password hashing with Argon2id (argon2-cffi, OWASP's parameters), the password policy, and the one token hash.

    hitl users passwd alice --password-stdin    # stores hash_password(<stdin>); `hitl users token alice`: token_hash

New hashes are Argon2id in PHC form (`$argon2id$v=19$m=19456,t=2,p=1$...`). Hashes of older versions
(`scrypt$N$r$p$salt_b64$hash_b64`, or Argon2 at other parameters) still verify, and `needs_rehash` tells the
login to store a fresh hash once it has the right password in hand. API tokens and session cookies are
stored as `token_hash(token)` (hex sha256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's Password Storage Cheat Sheet, first Argon2id setting: 19 MiB of memory, 2 iterations, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
_MIN_LENGTH = 8
_MAX_LENGTH = 1024


def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_COMMON = _common_passwords()


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short or long, blank, one repeated character, or among the commonest ones."""
    from hitl.errors import InvalidInput

    if len(password) < _MIN_LENGTH:
        raise InvalidInput(f"password too short: use at least {_MIN_LENGTH} characters")
    if len(password) > _MAX_LENGTH:
        raise InvalidInput(f"password too long: use at most {_MAX_LENGTH} characters")
    if "\x00" in password or any("\ud800" <= c <= "\udfff" for c in password):
        raise InvalidInput("password contains a NUL character or a lone surrogate: use printable characters")
    if not password.strip() or len(set(password)) == 1:
        raise InvalidInput("password is one character repeated (or blank): choose a passphrase of several words")
    if password.lower() in _COMMON or password.strip().lower() in _COMMON:
        raise InvalidInput(
            "password is one of the most common passwords and would be guessed first: choose a passphrase of "
            "several unrelated words"
        )


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (Argon2id, or a scrypt hash of an older version)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the stored hash is not Argon2id at today's parameters (re-hash it at the next good login)."""
    if stored.startswith("scrypt$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8", "surrogatepass"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def token_hash(token: str) -> str:
    """The stored form of an API token or a session token: its hex sha256 (64 characters).

    Unsalted and fast on purpose: the tokens are 256 random bits, so no dictionary reaches them, and a
    deterministic hash lets a request find its row with one indexed lookup. Changing this breaks every
    stored token and session.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def dummy_verify(password: str) -> None:
    """Spend the same time as a real check, so an unknown user name is not revealed by timing."""
    verify_password(password, _DUMMY)


_DUMMY = hash_password("not-a-real-password")
