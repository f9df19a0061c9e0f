"""How a simulated rater reaches the queue: in-process through hitl.queue, or over HTTP against `hitl serve`.

    hitl simulate --campaign demo --url http://127.0.0.1:7860    # each simulated rater with its own API token

Both give the runner the same two calls, so the raters behave identically either way and everything downstream
(overlap, gold, quality control) sees ordinary judgments.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from hitl.campaigns import Campaign
from hitl.catalog import prompt_display_text
from hitl.errors import InvalidInput
from hitl.queue import JudgmentInput, next_item, submit
from hitl.store import Store
from hitl.users import User
from hitl.workforce.errors import BreakDue, NotQualified, Paused


@dataclass(frozen=True)
class LeasedItem:
    lease_token: str
    prompt: str  # display text (a chat is flattened), what the oracle reads
    response_ids: list[int]  # in the order shown
    texts: list[str]


class RaterClient(Protocol):
    def next(self) -> LeasedItem | None: ...
    def submit(self, item: LeasedItem, key: str, judgment: JudgmentInput) -> None: ...


class StoreClient:
    """In-process: the queue functions the web app's service layer calls."""

    def __init__(self, store: Store, user: User, campaign: Campaign, rng=None):
        self.store, self.user, self.campaign, self.rng = store, user, campaign, rng

    def next(self) -> LeasedItem | None:
        a = next_item(self.store, self.user, self.campaign, rng=self.rng)
        if a is None:
            return None
        return LeasedItem(
            a.lease_token,
            prompt_display_text(a.prompt_text, a.prompt_messages),
            [r.response_id for r in a.responses],
            [r.text for r in a.responses],
        )

    def submit(self, item: LeasedItem, key: str, judgment: JudgmentInput) -> None:
        submit(self.store, item.lease_token, key, judgment, user=self.user)


_WORKFORCE_CODES = {"paused": Paused, "not_qualified": NotQualified, "break_due": BreakDue}


def _error_code(body: str) -> str | None:
    try:
        return json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None


def _error_message(body: str) -> str:
    try:
        return str(json.loads(body).get("error") or body)
    except (ValueError, AttributeError):
        return body


class HttpClient:
    """Over the REST API of a running `hitl serve`, with one rater's API token (standard library only)."""

    def __init__(self, base_url: str, token: str, campaign: str, timeout: float = 30.0):
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput(f"--url {base_url!r}: give the server's address, e.g. http://127.0.0.1:7860")
        self.api = base_url.rstrip("/") + "/api/v1"
        self.token, self.campaign, self.timeout = token, campaign, timeout

    def _post(self, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        request = urllib.request.Request(
            self.api + path,
            data=json.dumps(body or {}).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            refused = _WORKFORCE_CODES.get(_error_code(detail))
            if refused is not None:  # the server's workforce rules stopped this rater, as they would in-process
                raise refused(_error_message(detail)) from exc
            raise InvalidInput(f"{self.api}{path}: HTTP {exc.code}: {detail}") from exc
        except urllib.error.URLError as exc:
            raise InvalidInput(f"cannot reach {self.api}: {exc.reason} (is `hitl serve` running?)") from exc

    def next(self) -> LeasedItem | None:
        status, body = self._post(f"/campaigns/{urllib.parse.quote(self.campaign, safe='')}/next")
        if status == 204 or body is None:
            return None
        prompt = prompt_display_text(body.get("prompt"), body.get("messages"))
        return LeasedItem(
            body["lease_token"],
            prompt,
            [r["response_id"] for r in body["responses"]],
            [r["text"] for r in body["responses"]],
        )

    def submit(self, item: LeasedItem, key: str, judgment: JudgmentInput) -> None:
        body = {
            "idempotency_key": key,
            "ranking": judgment.ranking,
            "strength": judgment.strength,
            "tie": judgment.tie,
            "seconds_on_item": judgment.seconds_on_item,
            "flags": list(judgment.flags),
        }
        self._post(f"/leases/{urllib.parse.quote(item.lease_token, safe='')}/judgment", body)
