"""Importing preference pairs (TRL or HH-RLHF format) as gold items or as prior judgments, all or nothing per file.

    python -c "from hitl.store import open_store; from hitl.io import import_preferences; \
print(import_preferences(open_store(), 'hitl/data/demo_gold.jsonl', campaign='demo', as_='gold').summary())"

Records: `prompt` (text or chat) + `chosen` + `rejected` (strings, or chat lists ending with the assistant's
answer), optional `margin` / `strength`; or HH-RLHF records holding only the two full dialogues. Each record
becomes one item of the campaign over two new responses, in a seeded random order so that position gives
nothing away. `as_="gold"` makes it a gold item; `as_="judgments"` records the preference as a judgment by the
inactive system user "import" (source "import"), so exports and reward data include it like any rating.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update

from hitl.campaigns import Campaign
from hitl.catalog import add_item, add_response
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import Conflict, InvalidInput
from hitl.io.imports import ImportReport, PromptIndex, at, load_records, resolve_campaign, source_name
from hitl.io.records import PreferenceValue, parse_preference
from hitl.store import Store
from hitl.store.schema import items, judgments
from hitl.users import User, ensure_system_user

IMPORT_MODES = ("gold", "judgments")
SYSTEM_USER = "import"


def canonical_record(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def record_key(campaign_id: int, canonical: str, occurrence: int) -> str:
    """The idempotency key of an imported judgment: the same record imported twice into a campaign is caught.

    `occurrence` counts earlier identical records in the same file, so a file may repeat a pair on purpose (an
    export with one row per rater does).
    """
    digest = hashlib.sha256(f"{campaign_id}\n{occurrence}\n{canonical}".encode()).hexdigest()
    return f"import:{digest}"


def _system_user(store: Store, name: str) -> User:
    user = ensure_system_user(store, name)
    if user.active:
        # ensure_system_user returns any user of that name; imported votes must not be credited to a person.
        raise Conflict(f"user {name!r} is an active account, not the import system user: pass another user_name")
    return user


def import_preferences(
    store: Store,
    path: str | Path,
    *,
    campaign: Campaign | str | int,
    as_: str = "gold",
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    seed: int = 0,
    user_name: str = SYSTEM_USER,
    skip_invalid: bool = False,
) -> ImportReport:
    """Store each preference record as an item of `campaign`: a gold item (`as_="gold"`, gold answer = the
    chosen response) or an item with one prior judgment by the system user `user_name` (`as_="judgments"`).

    Strength of an imported judgment: `strength` (1-3), else `margin` rounded and clipped to 1..3, else 2.
    A bad record refuses the whole file, unless `skip_invalid`: then bad records are left out and listed in the
    report's `skipped` (public sets such as HH-RLHF hold a few empty answers).
    """
    if as_ not in IMPORT_MODES:
        raise InvalidInput(f"as_ must be one of {', '.join(IMPORT_MODES)}, not {as_!r}")
    target = resolve_campaign(store, campaign)
    if target is None:
        raise InvalidInput("import_preferences needs a campaign to put the items in")
    planned: list[tuple[int, PreferenceValue, str]] = []
    seen: Counter[str] = Counter()
    skipped: list[str] = []
    for number, record in load_records(path):
        try:
            with at(path, number):
                value = parse_preference(record, max_text_bytes)
        except InvalidInput as exc:
            if not skip_invalid:
                raise
            skipped.append(str(exc))
            continue
        canonical = canonical_record(record)
        planned.append((number, value, record_key(target.id, canonical, seen[canonical])))
        seen[canonical] += 1

    user = _system_user(store, user_name) if as_ == "judgments" else None
    rng = random.Random(seed)
    src = source_name(path, source)
    if not planned:
        raise InvalidInput(f"{path}: every record was invalid, nothing to import; the first: {skipped[0]}")
    counts = {"records": len(planned) + len(skipped), "skipped": len(skipped), "prompts_created": 0}
    counts.update(responses=0, items=0)
    counts["gold_items" if as_ == "gold" else "judgments"] = 0
    now = time.time()
    with store.write() as conn:
        if user is not None:
            _refuse_reimport(conn, path, planned, user)
        index = PromptIndex(conn, [v.prompt for _, v, _ in planned], src, max_text_bytes)
        for number, value, key in planned:
            with at(path, number):
                pid = index.get_or_create(value.prompt)
                chosen = add_response(conn, prompt_id=pid, text=value.chosen, source=src, max_bytes=max_text_bytes)
                rejected = add_response(conn, prompt_id=pid, text=value.rejected, source=src, max_bytes=max_text_bytes)
                order = [chosen, rejected] if rng.random() < 0.5 else [rejected, chosen]
                item_id = add_item(
                    conn,
                    campaign_id=target.id,
                    prompt_id=pid,
                    response_ids=order,
                    item_kind=target.settings.item_kind,
                    gold_answer=order.index(chosen) if as_ == "gold" else None,
                )
                if user is not None:
                    _record_judgment(
                        conn,
                        item_id,
                        user,
                        [chosen, rejected],
                        order,
                        value.strength,
                        key,
                        now,
                        target.settings.overlap,
                    )
                    counts["judgments"] += 1
                else:
                    counts["gold_items"] += 1
            counts["responses"] += 2
            counts["items"] += 1
        counts["prompts_created"] = index.created
    return ImportReport(str(path), "preferences", counts, skipped)


def _refuse_reimport(conn, path, planned: list[tuple[int, PreferenceValue, str]], user: User) -> None:
    keys = [key for _, _, key in planned]
    done: set[str] = set()
    for start in range(0, len(keys), 500):
        done.update(
            conn.execute(
                select(judgments.c.idempotency_key).where(
                    judgments.c.user_id == user.id, judgments.c.idempotency_key.in_(keys[start : start + 500])
                )
            ).scalars()
        )
    for number, _, key in planned:
        if key in done:
            with at(path, number):
                raise Conflict(
                    "this record was already imported into this campaign as a judgment: drop it from the file or "
                    "import into another campaign"
                )


def _record_judgment(conn, item_id, user, ranking, display_order, strength, key, now, overlap) -> None:
    # Straight into the table, not through the lease queue: this preference was collected elsewhere. Values go
    # as parameters, not .values(...), so SQLAlchemy compiles the statement once for the whole file.
    row = {
        "item_id": item_id,
        "user_id": user.id,
        "lease_id": None,
        "ranking": ranking,
        "strength": strength,
        "tie": False,
        "both_bad": False,
        "flags": [],
        "rationale": "",
        "correction": None,
        "seconds_on_item": None,
        "display_order": display_order,
        "idempotency_key": key,
        "source": "import",
        "created_at": now,
    }
    conn.execute(insert(judgments), row)
    # The item is new, so this is its first judgment; it leaves the queue once the overlap is reached.
    conn.execute(
        update(items).where(items.c.id == bindparam("item")),
        {"item": item_id, "judgment_count": 1, "status": "done" if overlap <= 1 else "open"},
    )
