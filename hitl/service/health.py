"""The health of one app host as a load balancer or an operator asks for it: is the store reachable, is its schema
the one this code expects, what is the loop doing, are webhook deliveries failing.

    curl http://127.0.0.1:7860/api/v1/health

`ok` is false (and the REST API answers 503) when the store cannot be read or its schema is not this code's head
revision: such a host must not take raters. The loop worker runs as its own process (possibly on another host),
so its state is read where it leaves it, the store: the newest round, its stage and status, and how long ago it
last moved. Nothing here names campaigns, users or data: the endpoint needs no login.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, text

from hitl.store import Store
from hitl.store.schema import loop_rounds, webhook_deliveries

FINISHED = ("done", "stopped")


def health(store: Store, now: float | None = None) -> dict[str, Any]:
    """{ok, store: {reachable, dialect, error?}, migrations: {current, head, ok}, loop: {...}, webhooks: {...}}."""
    from hitl.store.migrate import current_revision, head_revision

    now = time.time() if now is None else now
    report: dict[str, Any] = {"store": {"reachable": False, "dialect": store.dialect}}
    try:
        with store.read() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(store)
    except Exception as exc:  # any failure to read is the answer, not an error of the health check
        report["store"]["error"] = type(exc).__name__
        report["migrations"] = {"current": None, "head": head_revision(), "ok": False}
        report["ok"] = False
        return report
    report["store"]["reachable"] = True
    head = head_revision()
    report["migrations"] = {"current": current, "head": head, "ok": current == head}
    report["loop"] = _loop(store, now)
    report["webhooks"] = _webhooks(store)
    report["ok"] = report["migrations"]["ok"]
    return report


def _loop(store: Store, now: float) -> dict[str, Any]:
    with store.read() as conn:
        newest = conn.execute(select(loop_rounds).order_by(loop_rounds.c.updated_at.desc()).limit(1)).first()
        running = conn.execute(
            select(func.count()).select_from(loop_rounds).where(loop_rounds.c.status.not_in(FINISHED))
        ).scalar_one()
    if newest is None:
        return {"state": "no rounds yet", "rounds_in_progress": 0}
    return {
        "state": "idle" if running == 0 else ("waiting" if newest.status == "waiting" else "working"),
        "rounds_in_progress": running,
        "newest_round": {"stage": newest.stage, "status": newest.status, "updated_at": newest.updated_at},
        "seconds_since_update": round(now - newest.updated_at, 1),
    }


def _webhooks(store: Store) -> dict[str, int]:
    with store.read() as conn:
        counts = dict(
            conn.execute(
                select(webhook_deliveries.c.status, func.count())
                .where(webhook_deliveries.c.status.in_(("pending", "failed")))
                .group_by(webhook_deliveries.c.status)
            ).all()
        )
    return {"pending": counts.get("pending", 0), "failed": counts.get("failed", 0)}
