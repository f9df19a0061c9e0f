"""Users, roles, logins and API tokens.

hitl users add alice --role rater --password-stdin
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from hitl.errors import AuthError, Conflict, InvalidInput, NotFound
from hitl.passwords import (
    check_password_rules,
    dummy_verify,
    hash_password,
    needs_rehash,
    token_hash,
    verify_password,
)
from hitl.store import Store
from hitl.store.schema import ROLES, api_tokens, leases, users

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
ROLE_RANK = {"rater": 0, "reviewer": 1, "admin": 2}


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    active: bool

    def has_role(self, role: str) -> bool:
        """Roles are nested: an admin can do what a reviewer can, a reviewer what a rater can."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def _row_to_user(row) -> User:
    return User(id=row.id, name=row.name, role=row.role, active=bool(row.active))


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


def create_user(store: Store, name: str, role: str, password: str) -> User:
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-', starting alphanumeric"
        )
    check_role(role)
    check_password_rules(password)
    pw_hash = hash_password(password)
    with store.write() as conn:
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise Conflict(f"user {name!r} already exists")
        uid = conn.execute(
            insert(users).values(name=name, role=role, password_hash=pw_hash, active=True, created_at=time.time())
        ).inserted_primary_key[0]
    return User(id=uid, name=name, role=role, active=True)


def get_user(store: Store, name: str) -> User:
    with store.read() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r} (see `hitl users list`)")
    return _row_to_user(row)


def get_user_by_id(store: Store, user_id: int) -> User:
    with store.read() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return _row_to_user(row)


def list_users(store: Store) -> list[User]:
    with store.read() as conn:
        return [_row_to_user(r) for r in conn.execute(select(users).order_by(users.c.id))]


def authenticate(store: Store, name: str, password: str) -> User:
    """The active user with this name and password; one message for every failure, so names don't leak."""
    with store.read() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        dummy_verify(password)
        raise AuthError("wrong user name or password")
    if not verify_password(password, row.password_hash) or not row.active:
        raise AuthError("wrong user name or password")
    if needs_rehash(row.password_hash):
        # Only now is the password in hand: move an older hash (scrypt, weaker Argon2) to today's Argon2id.
        # The WHERE on the old hash keeps a concurrent password reset from being overwritten.
        with store.write() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == row.id, users.c.password_hash == row.password_hash)
                .values(password_hash=hash_password(password))
            )
    return _row_to_user(row)


def password_hash_of(store: Store, name: str) -> str | None:
    """The stored password hash of a user (the key that signs its known-device cookies), or None."""
    with store.read() as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar()


def _update_user(store: Store, name: str, **values) -> User:
    with store.write() as conn:
        done = conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount
    if not done:
        raise NotFound(f"no user named {name!r} (see `hitl users list`)")
    return get_user(store, name)


def set_active(store: Store, name: str, active: bool) -> User:
    """Enable or disable a user. Disabling also gives back their live leases in the same transaction: the items go
    back to the pool at once instead of at expiry, and a submit from a tab left open is refused (nothing recorded)."""
    with store.write() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar()
        if uid is None:
            raise NotFound(f"no user named {name!r} (see `hitl users list`)")
        conn.execute(update(users).where(users.c.id == uid).values(active=active))
        if not active:
            conn.execute(
                update(leases)
                .where(leases.c.user_id == uid, leases.c.state == "active")
                .values(state="released", closed_at=time.time())
            )
    return get_user(store, name)


def set_password(store: Store, name: str, password: str) -> User:
    check_password_rules(password)
    return _update_user(store, name, password_hash=hash_password(password))


def set_role(store: Store, name: str, role: str) -> User:
    check_role(role)
    return _update_user(store, name, role=role)


def ensure_system_user(store: Store, name: str) -> User:
    """An inactive rater that owns imported judgments (it can never log in: its password is random)."""
    try:
        return get_user(store, name)
    except NotFound:
        user = create_user(store, name, "rater", secrets.token_urlsafe(24))
        return set_active(store, user.name, False)


def create_api_token(store: Store, name: str, label: str = "") -> str:
    """A new API token for the user; only its hash is stored, so this is the one time it is shown."""
    user = get_user(store, name)
    token = "hitl_" + secrets.token_urlsafe(32)
    with store.write() as conn:
        conn.execute(
            insert(api_tokens).values(
                user_id=user.id, token_hash=token_hash(token), label=label, created_at=time.time()
            )
        )
    return token


def user_for_token(store: Store, token: str) -> User:
    with store.read() as conn:
        row = conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None or not row.active:
        raise AuthError("invalid or revoked API token")
    return _row_to_user(row)


def revoke_api_tokens(store: Store, name: str) -> int:
    user = get_user(store, name)
    with store.write() as conn:
        return conn.execute(
            update(api_tokens)
            .where(api_tokens.c.user_id == user.id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        ).rowcount
