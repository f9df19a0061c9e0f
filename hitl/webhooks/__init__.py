"""Webhooks: a campaign POSTs signed events (judgment recorded, item done, round finished, version registered) to
configured URLs, with retries and a delivery log.

    hitl webhooks add https://example.org/hook --campaign demo && hitl webhooks run

hooks: the subscriptions; events: the store's new rows as pending deliveries; dispatch: signed sends with
back-off; signing: Standard Webhooks signatures (what receivers check).
"""

from hitl.webhooks.dispatch import WebhookSettings, deliver, run_dispatcher
from hitl.webhooks.events import enqueue
from hitl.webhooks.hooks import EVENTS, Webhook, add_webhook, delivery_log, list_webhooks, set_active
from hitl.webhooks.signing import verify

__all__ = [
    "EVENTS",
    "Webhook",
    "WebhookSettings",
    "add_webhook",
    "deliver",
    "delivery_log",
    "enqueue",
    "list_webhooks",
    "run_dispatcher",
    "set_active",
    "verify",
]
