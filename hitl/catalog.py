"""Writes and checks the catalog raters judge: prompts, model versions, responses and comparison items.

    hitl import prompts hitl/data/demo_prompts.jsonl      # each prompt is checked and stored by add_prompt

The writers (`add_prompt`, `register_model_version`, `add_response`, `add_responses`, `add_item`) and
`find_prompt_by_external_id` take the caller's open connection, so an import or a generation run is one
transaction: every record of a file is stored or none is. `check_text` / `check_messages` are the size and
shape rules every text passes (imports check files with them before opening a transaction), and
`prompt_display_text` renders a chat prompt as one string. `set_priorities`, `gold_response_id` and
`campaign_prompts` take the Store and run their own transaction: queue priorities from reward scores, the
answer a gold item expects, and a campaign's prompts for policy training.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import Conflict, InvalidInput, NotFound
from hitl.store import Store
from hitl.store.schema import MODEL_KINDS, items, model_versions, prompts, responses

CHAT_ROLES = ("system", "user", "assistant")


def check_text(text: Any, what: str, max_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> str:
    """A non-empty string within the size limit, or an InvalidInput naming `what` and the limit."""
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be text, not {type(text).__name__}")
    if not text.strip():
        raise InvalidInput(f"{what} is empty")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise InvalidInput(f"{what} is {size:,} bytes, over the limit of {max_bytes:,} (raise --max-text-bytes)")
    return text


def check_messages(messages: Any, what: str, max_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> list[dict[str, str]]:
    if not isinstance(messages, list) or not messages:
        raise InvalidInput(f"{what}: messages must be a non-empty list of {{role, content}}")
    clean = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in CHAT_ROLES:
            raise InvalidInput(f"{what}: message {i} needs a role in {CHAT_ROLES} and a content")
        clean.append({"role": m["role"], "content": check_text(m.get("content"), f"{what} message {i}", max_bytes)})
    if clean[-1]["role"] != "user":
        raise InvalidInput(f"{what}: the last message must be the user's turn")
    return clean


def prompt_display_text(text: str | None, messages: list[dict] | None) -> str:
    """One string for a prompt: the text, or the chat rendered as 'role: content' turns."""
    if text is not None:
        return text
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages or [])


def add_prompt(
    conn: Connection,
    *,
    text: str | None = None,
    messages: list[dict] | None = None,
    tags: Sequence[str] = (),
    source: str = "",
    external_id: str | None = None,
    max_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> int:
    """Store one prompt and return its id. A repeated external id is refused (Conflict)."""
    if (text is None) == (messages is None):
        raise InvalidInput("a prompt needs exactly one of 'prompt' (text) or 'messages' (a chat)")
    if text is not None:
        check_text(text, "prompt", max_bytes)
    else:
        messages = check_messages(messages, "prompt", max_bytes)
    if external_id is not None:
        external_id = str(external_id)
        if conn.execute(select(prompts.c.id).where(prompts.c.external_id == external_id)).first():
            raise Conflict(f"a prompt with id {external_id!r} already exists")
    tags = [str(t) for t in (tags or [])]
    return conn.execute(
        insert(prompts).values(
            external_id=external_id, text=text, messages=messages, tags=tags, source=source, created_at=time.time()
        )
    ).inserted_primary_key[0]


def find_prompt_by_external_id(conn: Connection, external_id: str) -> int | None:
    row = conn.execute(select(prompts.c.id).where(prompts.c.external_id == str(external_id))).first()
    return row.id if row else None


def register_model_version(
    conn: Connection,
    *,
    kind: str,
    name: str,
    path: str = "",
    parent_id: int | None = None,
    metadata: dict | None = None,
) -> int:
    """The id of model version (kind, name), registering it if new: registering twice is harmless."""
    if kind not in MODEL_KINDS:
        raise InvalidInput(f"model kind must be one of {MODEL_KINDS}, not {kind!r}")
    if not name:
        raise InvalidInput("a model version needs a name")
    row = conn.execute(
        select(model_versions.c.id).where(model_versions.c.kind == kind, model_versions.c.name == name)
    ).first()
    if row:
        return row.id
    return conn.execute(
        insert(model_versions).values(
            kind=kind, name=name, path=path, parent_id=parent_id, metadata=metadata or {}, created_at=time.time()
        )
    ).inserted_primary_key[0]


def add_response(
    conn: Connection,
    *,
    prompt_id: int,
    text: str,
    model_version_id: int | None = None,
    sampling: dict | None = None,
    source: str = "",
    max_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> int:
    check_text(text, "response", max_bytes)
    return conn.execute(
        insert(responses).values(
            prompt_id=prompt_id,
            model_version_id=model_version_id,
            text=text,
            sampling=sampling or {},
            source=source,
            created_at=time.time(),
        )
    ).inserted_primary_key[0]


def add_item(
    conn: Connection,
    *,
    campaign_id: int,
    prompt_id: int,
    response_ids: Sequence[int],
    item_kind: str,
    priority: float = 0.0,
    gold_answer: int | None = None,
    selection: dict | None = None,
) -> int:
    """A comparison item over responses to one prompt (2 for pairwise, 2..8 for ranking campaigns); `selection`
    records how the loop chose it (hitl.pair_selection)."""
    response_ids = [int(r) for r in response_ids]
    if len(set(response_ids)) != len(response_ids):
        raise InvalidInput("an item cannot compare a response with itself")
    if item_kind == "pairwise" and len(response_ids) != 2:
        raise InvalidInput(f"a pairwise item compares exactly 2 responses, not {len(response_ids)}")
    if item_kind == "ranking" and not 2 <= len(response_ids) <= 8:
        raise InvalidInput(f"a ranking item compares 2 to 8 responses, not {len(response_ids)}")
    rows = conn.execute(
        select(responses.c.id, responses.c.prompt_id, responses.c.text).where(responses.c.id.in_(response_ids))
    ).all()
    if len(rows) != len(response_ids) or any(r.prompt_id != prompt_id for r in rows):
        raise InvalidInput("every response of an item must exist and answer the item's prompt")
    if len({r.text.strip() for r in rows}) != len(rows):
        raise InvalidInput("identical responses are not compared (chosen == rejected)")
    if gold_answer is not None and not 0 <= gold_answer < len(response_ids):
        raise InvalidInput(f"gold answer {gold_answer} is not an index into the {len(response_ids)} responses")
    return conn.execute(
        insert(items).values(
            campaign_id=campaign_id,
            prompt_id=prompt_id,
            response_ids=response_ids,
            priority=float(priority),
            status="open",
            is_gold=gold_answer is not None,
            gold_answer=gold_answer,
            judgment_count=0,
            created_at=time.time(),
            selection=selection,
        )
    ).inserted_primary_key[0]


def set_priorities(store: Store, priorities: dict[int, float]) -> int:
    """Set queue priorities (higher first), e.g. from reward-model uncertainty. Returns items changed."""
    changed = 0
    with store.write() as conn:
        for item_id, priority in priorities.items():
            changed += conn.execute(
                update(items).where(items.c.id == int(item_id)).values(priority=float(priority))
            ).rowcount
        if changed < len(priorities):
            # Raised inside the transaction, so nothing is changed.
            raise NotFound(f"{len(priorities) - changed} of the items given do not exist; no priority was changed")
    return changed


def gold_response_id(store: Store, item_id: int) -> int | None:
    """The response id a gold item expects, or None for a regular item (for reviewers and scripted raters)."""
    with store.read() as conn:
        row = conn.execute(select(items.c.response_ids, items.c.gold_answer).where(items.c.id == item_id)).first()
    if row is None:
        raise NotFound(f"no item {item_id}")
    return None if row.gold_answer is None else row.response_ids[row.gold_answer]


def add_responses(
    conn: Connection, rows: Sequence[dict[str, Any]], *, source: str = "", max_bytes: int = DEFAULT_MAX_TEXT_BYTES
) -> list[int]:
    """Store many responses in one statement; returns their ids in the order given.

    Each row has `prompt_id`, `text` and optionally `model_version_id` and `sampling` (as for add_response).
    One multi-row INSERT instead of a round trip per response: generation stores hundreds at a time.
    """
    if not rows:
        return []
    now = time.time()
    values = []
    for i, row in enumerate(rows):
        check_text(row.get("text"), f"response {i}", max_bytes)
        values.append(
            {
                "prompt_id": int(row["prompt_id"]),
                "model_version_id": row.get("model_version_id"),
                "text": row["text"],
                "sampling": row.get("sampling") or {},
                "source": row.get("source", source),
                "created_at": now,
            }
        )
    result = conn.execute(insert(responses).returning(responses.c.id, sort_by_parameter_order=True), values)
    return [r.id for r in result]


def campaign_prompts(store: Store, campaign) -> list[str | list[dict]]:
    """The distinct prompts (text, or chat messages) that have items in a campaign, in id order."""
    with store.read() as conn:
        rows = conn.execute(
            select(prompts.c.id, prompts.c.text, prompts.c.messages)
            .where(prompts.c.id.in_(select(items.c.prompt_id).where(items.c.campaign_id == campaign.id)))
            .order_by(prompts.c.id)
        ).all()
    return [r.messages if r.text is None else r.text for r in rows]
