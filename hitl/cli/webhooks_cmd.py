"""`hitl webhooks add|list|pause|resume|log|run`: signed event deliveries to other tools (see hitl/webhooks).

hitl webhooks add https://example.org/hook --campaign demo --event judgment.recorded
hitl webhooks run                 # the dispatcher: its own process, one per deployment is enough
hitl webhooks log --status failed --json
"""

from __future__ import annotations

import argparse
import time

from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.webhooks import (
    EVENTS,
    WebhookSettings,
    add_webhook,
    deliver,
    delivery_log,
    enqueue,
    list_webhooks,
    run_dispatcher,
    set_active,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "webhooks",
        help="POST signed events (judgment recorded, item done, round finished, version registered) to URLs.",
        description="POST signed events (judgment recorded, item done, round finished, version registered) to URLs, "
        "with retries and a delivery log. Signatures follow Standard Webhooks (webhook-id, webhook-timestamp, "
        "webhook-signature).",
    )
    actions = p.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="Subscribe a URL; prints the signing secret once.")
    add.add_argument("url")
    add.add_argument("--campaign", help="Only this campaign's events (default: every campaign).")
    add.add_argument("--event", action="append", choices=EVENTS, help="An event to send (repeatable; default: all).")
    add.set_defaults(func=_add)
    ls = actions.add_parser("list", help="The webhooks and what they receive.")
    ls.set_defaults(func=_list)
    pause = actions.add_parser("pause", help="Stop sending to a webhook (its deliveries wait).")
    resume = actions.add_parser("resume", help="Send to a paused webhook again.")
    for parser, active in ((pause, False), (resume, True)):
        parser.add_argument("id", type=int)
        parser.set_defaults(func=_set_active, active=active)
    history = actions.add_parser("log", help="The delivery log, newest first.")
    history.add_argument("--webhook", type=int, help="Only this webhook's deliveries.")
    history.add_argument("--status", choices=("pending", "delivered", "failed"), help="Only deliveries in this state.")
    history.add_argument("--limit", type=int, default=50, help="How many rows [50].")
    history.set_defaults(func=_log)
    run = actions.add_parser("run", help="Scan for events and send deliveries until stopped (Ctrl-C).")
    run.add_argument("--once", action="store_true", help="One scan and one round of sends, then exit.")
    add_dataclass_flags(run, WebhookSettings)
    run.set_defaults(func=_run)
    for parser in (add, ls, pause, resume, history, run):
        add_db_flag(parser)
        add_json_flag(parser)


def _add(args) -> None:
    hook, secret = add_webhook(store_from(args), args.url, campaign=args.campaign, events=args.event)
    if args.json:
        emit_json({**hook.__dict__, "secret": secret})
        return
    console.print(f"webhook {hook.id} -> {hook.url} ({', '.join(hook.events)}, {hook.campaign or 'every campaign'})")
    console.print(f"signing secret (shown once): {secret}", soft_wrap=True)


def _list(args) -> None:
    hooks = list_webhooks(store_from(args))
    if args.json:
        emit_json(hooks)
        return
    rows = [[h.id, h.url, h.campaign or "all", ", ".join(h.events), h.active] for h in hooks]
    print_table("Webhooks", ["id", "url", "campaign", "events", "active"], rows)


def _set_active(args) -> None:
    set_active(store_from(args), args.id, args.active)
    if args.json:
        emit_json({"id": args.id, "active": args.active})
    else:
        console.print(f"webhook {args.id} {'resumed' if args.active else 'paused'}")


def _log(args) -> None:
    rows = delivery_log(store_from(args), args.webhook, args.status, args.limit)
    if args.json:
        emit_json(rows)
        return
    table = [
        [
            r["id"],
            r["webhook_id"],
            r["event_id"],
            r["status"],
            r["attempts"],
            r["last_status"],
            r["last_error"][:60],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["delivered_at"] or r["created_at"])),
        ]
        for r in rows
    ]
    columns = ["id", "webhook", "event", "status", "attempts", "last answer", "last error", "when"]
    print_table("Webhook deliveries", columns, table)


def _run(args) -> None:
    settings = WebhookSettings(
        **{k: v for k, v in dataclass_flag_values(args, WebhookSettings).items() if v is not None}
    )
    store = store_from(args)
    if args.once:
        queued = enqueue(store)
        counts = deliver(store, settings)
        if args.json:
            emit_json({"queued": queued, **counts})
        else:
            console.print(f"queued {queued} new deliveries; sent: {counts}")
        return
    console.print(f"sending webhook deliveries every {settings.poll_s:g} s (Ctrl-C stops)")
    run_dispatcher(store, settings)
