"""Webhooks against a local receiver: signed events for judgments, finished items, rounds and versions; retries with
back-off until delivered or out of attempts; a delivery log; nothing sent twice, nothing sent from before."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from io_helpers import make_item, rate
from sqlalchemy import insert

from hitl.catalog import register_model_version
from hitl.errors import InvalidInput
from hitl.store.schema import loop_rounds
from hitl.webhooks import WebhookSettings, add_webhook, deliver, delivery_log, enqueue, set_active, verify
from hitl.webhooks.dispatch import retry_delay

FAST = WebhookSettings(base_delay_s=0.0, max_attempts=3, timeout_s=2.0)


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next planned status (then 204)."""

    def __init__(self, statuses=()):
        self.received, self.statuses = [], list(statuses)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        return [json.loads(body) for _, body in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def settle(store):
    """Enqueue without the settle wait (rows just written here are committed)."""
    return enqueue(store, settle_s=0.0)


def test_signed_events_reach_the_receiver_once(store, make_user, make_campaign, receiver):
    c = make_campaign(overlap=2, gold_rate=0.0)
    old, (p, q) = make_item(store, c, ["Old.", "Older."])
    rate(store, c, make_user(), old, [p, q])  # before the webhook: never sent
    hook, secret = add_webhook(store, receiver.url, campaign=c.name)
    alice, bob = make_user(), make_user()
    item, (a, b) = make_item(store, c, ["Apple.", "A car."], prompt="Name a fruit.")
    rate(store, c, alice, old, [q, p], strength=3)  # completes the old item
    rate(store, c, bob, item, [a, b], strength=1)
    assert settle(store) == 3 and settle(store) == 0  # two judgments, one finished item; a rescan adds nothing
    assert deliver(store, FAST) == {"delivered": 3, "retry": 0, "failed": 0}
    assert deliver(store, FAST) == {"delivered": 0, "retry": 0, "failed": 0}
    events = receiver.events()
    assert [e["type"] for e in events] == ["judgment.recorded", "item.done", "judgment.recorded"]
    assert events[0]["data"]["rater"] == alice.name and events[0]["data"]["campaign"] == c.name
    assert events[1]["data"] == {"item_id": old, "campaign": c.name, "judgments": 2}
    assert events[2]["data"]["ranking"] == [a, b] and events[2]["data"]["strength"] == 1
    for head, body in receiver.received:
        assert verify(secret, head, body)
        # What any Standard Webhooks receiver computes:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{head['webhook-id']}.{head['webhook-timestamp']}.{body}".encode()
        assert (
            head["webhook-signature"]
            == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        )
        assert head["webhook-id"] == json.loads(body)["id"] and head["content-type"] == "application/json"
    head, body = receiver.received[0]
    assert not verify(secret, head, body.replace('"strength": 3', '"strength": 1'))  # a changed body fails
    assert not verify(secret, head, body, now=time.time() + 3600)  # an old delivery (a replay) fails
    assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), head, body)


def test_retries_with_back_off_then_delivered_or_failed(store, make_user, make_campaign):
    receiver = Receiver(statuses=[500, 503])
    try:
        c = make_campaign(overlap=1, gold_rate=0.0)
        add_webhook(store, receiver.url, campaign=c.name, events=["judgment.recorded"])
        dead, _ = add_webhook(store, "http://127.0.0.1:9/nothing-listens", events=["judgment.recorded"])
        item, (a, b) = make_item(store, c, ["Yes.", "No."])
        rate(store, c, make_user(), item, [a, b])
        now = time.time()
        assert enqueue(store, now=now, settle_s=0.0) == 2
        settings = WebhookSettings(base_delay_s=5.0, max_attempts=3, timeout_s=2.0)
        assert deliver(store, settings, now=now) == {"delivered": 0, "retry": 2, "failed": 0}
        assert deliver(store, settings, now=now + 1) == {"delivered": 0, "retry": 0, "failed": 0}  # waiting 5 s
        assert deliver(store, settings, now=now + 6) == {"delivered": 0, "retry": 2, "failed": 0}  # then 15 s
        assert deliver(store, settings, now=now + 22) == {"delivered": 1, "retry": 0, "failed": 1}
        log = {r["url"]: r for r in delivery_log(store)}
        ok, bad = log[receiver.url], log[dead.url]
        assert (ok["status"], ok["attempts"], ok["last_status"], ok["last_error"]) == ("delivered", 3, 204, "")
        assert (bad["status"], bad["attempts"], bad["last_status"]) == ("failed", 3, None) and bad["last_error"]
        # The same event id on every attempt: receivers drop duplicates by it.
        assert len({h["webhook-id"] for h, _ in receiver.received}) == 1 and len(receiver.received) == 3
        assert delivery_log(store, status="failed") == [bad]
    finally:
        receiver.close()


def test_rounds_versions_and_paused_hooks(store, make_campaign, receiver):
    c = make_campaign()
    hook, _ = add_webhook(store, receiver.url, campaign=c.name, events=["round.finished", "version.registered"])
    everything, _ = add_webhook(store, receiver.url, events=["version.registered"])
    now = time.time()
    with store.write() as conn:
        mine = register_model_version(conn, kind="reward", name="rm-1", metadata={"campaign": c.name})
        register_model_version(conn, kind="reward", name="elsewhere", metadata={"campaign": "other"})
        conn.execute(
            insert(loop_rounds).values(
                campaign_id=c.id, number=1, stage="done", status="done", judgments_at_start=0,
                reward_version_id=mine, metrics={"reward_accuracy": 0.7}, message="", created_at=now, updated_at=now,
            )
        )  # fmt: skip
    set_active(store, everything.id, False)
    assert settle(store) == 2  # the campaign's round and its version; the paused hook gets nothing
    deliver(store, FAST)
    by_type = {e["type"]: e["data"] for e in receiver.events()}
    assert by_type["version.registered"]["name"] == "rm-1"
    assert by_type["round.finished"]["reward_version"] == "rm-1" and by_type["round.finished"]["status"] == "done"
    set_active(store, everything.id, True)
    assert settle(store) == 2  # both versions, to the store-wide hook


def test_bad_webhooks_are_refused(store):
    with pytest.raises(InvalidInput, match="http:// or https://"):
        add_webhook(store, "file:///etc/passwd")
    with pytest.raises(InvalidInput, match="unknown webhook event"):
        add_webhook(store, "https://example.org", events=["everything"])
    assert [retry_delay(n, WebhookSettings(base_delay_s=10, max_delay_s=100)) for n in (1, 2, 3, 4)] == [
        10,
        30,
        90,
        100,
    ]


def test_webhooks_from_the_command_line(tmp_path, capsys, receiver):
    from hitl.cli.main import main

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["campaign", "create", "c", "--overlap", "1", "--db", db]) == 0
    capsys.readouterr()
    assert (
        main(["webhooks", "add", receiver.url, "--campaign", "c", "--event", "item.done", "--db", db, "--json"]) == 0
    )
    added = json.loads(capsys.readouterr().out)
    assert added["events"] == ["item.done"] and added["secret"].startswith("whsec_")
    assert main(["webhooks", "list", "--db", db, "--json"]) == 0
    assert [h["url"] for h in json.loads(capsys.readouterr().out)] == [receiver.url]
    assert main(["webhooks", "pause", str(added["id"]), "--db", db]) == 0
    assert main(["webhooks", "pause", "999", "--db", db]) == 1  # no such webhook
    capsys.readouterr()
    assert main(["webhooks", "run", "--once", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queued": 0, "delivered": 0, "retry": 0, "failed": 0}
    assert main(["webhooks", "log", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
