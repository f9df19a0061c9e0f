"""Sending webhook deliveries: signed POSTs, retried with exponential back-off, every attempt in the delivery log.

    hitl webhooks run                 # its own process beside `hitl serve`, like the loop worker
    hitl webhooks log --json          # what was sent, to where, how often, the last answer

A delivery is delivered on any 2xx answer. Anything else (another status, a refused connection, a timeout) is
retried after `base_delay_s * 3^(attempt-1)`, at most `max_delay_s`, until `max_attempts`; then it is failed and
stays in the log. Before sending, a dispatcher claims a delivery by moving its next attempt past the request's
timeout in a conditional UPDATE, so two dispatchers never send one delivery at the same time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

import hitl
from hitl.store import Store
from hitl.store.schema import webhook_deliveries, webhooks
from hitl.webhooks.events import enqueue
from hitl.webhooks.signing import headers

log = logging.getLogger(__name__)

# (url, body, headers, timeout) -> (HTTP status or None, error text)
Sender = Callable[[str, bytes, dict[str, str], float], tuple[int | None, str]]


@dataclass(frozen=True)
class WebhookSettings:
    max_attempts: int = field(default=8, metadata={"help": "Attempts before a delivery is marked failed."})
    base_delay_s: float = field(default=10.0, metadata={"help": "Wait after the first failed attempt (x3 each)."})
    max_delay_s: float = field(default=6 * 3600.0, metadata={"help": "Longest wait between two attempts."})
    timeout_s: float = field(default=10.0, metadata={"help": "Seconds a receiver has to answer one attempt."})
    poll_s: float = field(default=2.0, metadata={"help": "Seconds between two scans for new events."})
    batch: int = field(default=100, metadata={"help": "Deliveries sent per scan at most."})


def retry_delay(attempts: int, settings: WebhookSettings) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return min(settings.max_delay_s, settings.base_delay_s * 3 ** max(0, attempts - 1))


def http_post(url: str, body: bytes, head: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """POST with the standard library (no extra dependency); redirects are not followed, as webhook senders do."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, data=body, headers=head, method="POST")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=timeout) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def _body(delivery) -> str:
    event = {"id": delivery.event_id, "type": delivery.event, "created_at": delivery.created_at}
    return json.dumps({**event, "data": delivery.payload}, ensure_ascii=False, sort_keys=True)


def deliver(store: Store, settings: WebhookSettings, *, now: float | None = None, send: Sender = http_post) -> dict:
    """Send every due delivery once (claimed first); returns counts of delivered / retried / failed attempts."""
    now = time.time() if now is None else now
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    with store.read() as conn:
        due = conn.execute(
            select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .where(
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at <= now,
                webhooks.c.active.is_(True),
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(settings.batch)
        ).all()
    for d in due:
        claim = now + settings.timeout_s + 30
        with store.write() as conn:
            claimed = conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == d.id, webhook_deliveries.c.next_attempt_at == d.next_attempt_at)
                .values(next_attempt_at=claim)
            ).rowcount
        if claimed != 1:
            continue  # another dispatcher has it
        body = _body(d)
        head = {
            "content-type": "application/json",
            "user-agent": f"hitl/{hitl.__version__}",
            "webhook-event": d.event,
            **headers(d.secret, d.event_id, body, int(time.time())),
        }
        status, error = send(d.url, body.encode(), head, settings.timeout_s)
        attempts = d.attempts + 1
        done = status is not None and 200 <= status < 300
        if done:
            values = {"status": "delivered", "delivered_at": time.time(), "last_error": ""}
        elif attempts >= settings.max_attempts:
            values = {"status": "failed", "last_error": error or f"HTTP {status}"}
        else:
            values = {
                "next_attempt_at": now + retry_delay(attempts, settings),
                "last_error": error or f"HTTP {status}",
            }
        with store.write() as conn:
            conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == d.id)
                .values(attempts=attempts, last_status=status, **values)
            )
        counts["delivered" if done else values.get("status", "retry")] += 1
        if not done:
            log.warning(
                "webhook delivery %s to %s: %s (attempt %d)", d.event_id, d.url, values["last_error"], attempts
            )
    return counts


def run_dispatcher(store: Store, settings: WebhookSettings, stop: threading.Event | None = None) -> None:
    """Scan for new events and send what is due every `poll_s` seconds, until `stop` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            enqueue(store)
            deliver(store, settings)
        except Exception:  # a dispatcher outlives a bad moment of the store; the next scan tries again
            log.exception("webhook dispatcher: scan failed")
        stop.wait(settings.poll_s)
