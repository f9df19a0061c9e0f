"""Signing webhook deliveries the Standard Webhooks way (https://www.standardwebhooks.com), so receivers can use
any of its libraries, or these few lines, to check that a delivery came from this hitl and was not replayed.

    python -c "from hitl.webhooks.signing import new_secret, sign; s = new_secret(); print(s, sign(s, 'e1', 0, '{}'))"

Each delivery carries `webhook-id` (the event id, the same on every retry: receivers drop duplicates by it),
`webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`: `v1,` + base64 of
HMAC-SHA256(key = the secret's bytes, message = "{id}.{timestamp}.{body}"). A secret is `whsec_` + base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from hitl.errors import InvalidInput

PREFIX = "whsec_"
TOLERANCE_S = 300  # a receiver should refuse timestamps further than this from its clock (replays)


def new_secret() -> str:
    """A fresh signing secret (24 random bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise InvalidInput(f"a webhook secret starts with {PREFIX!r}")
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError:
        raise InvalidInput("a webhook secret is whsec_ followed by base64") from None


def sign(secret: str, event_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value for one attempt."""
    digest = hmac.new(_key(secret), f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, event_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, event_id, ts, body),
    }


def verify(secret: str, received: dict[str, str], body: str, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (header names case-insensitive)."""
    h = {k.lower(): v for k, v in received.items()}
    try:
        ts = int(h["webhook-timestamp"])
        event_id, signatures = h["webhook-id"], h["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_S:
        return False
    expected = sign(secret, event_id, ts, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
