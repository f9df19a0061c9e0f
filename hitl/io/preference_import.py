"""Importing preference pairs (TRL or HH-RLHF format) as gold items or as prior judgments, all or nothing per file.

    python -c "from hitl.store import open_store; from hitl.io import import_preferences; \
print(import_preferences(open_store(), 'hitl/data/demo_gold.jsonl', campaign='demo', as_='gold').summary())"

Records: `prompt` (text or chat) + `chosen` + `rejected` (strings, or chat lists ending with the assistant's
answer), optional `strength` / `margin` / `score_chosen` + `score_rejected`; HH-RLHF records holding only the two
full dialogues; UltraFeedback-binarized and HelpSteer2 rows (hitl.io.layouts; their scores and aspects are kept
in each response's `sampling["scores"]`). Each record
becomes one item of the campaign over two new responses, in a seeded random order so that position gives
nothing away. `as_="gold"` makes it a gold item; `as_="judgments"` records the preference as a judgment by the
inactive system user "import" (source "import"), so exports and reward data include it like any rating. Such a
judgment is validated and written by the queue's one judgment write (hitl.queue.record), as a submit's is, only
without a lease; on PostgreSQL that is hitl_record_judgment, called inside the import's transaction.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from hitl.campaigns import Campaign
from hitl.catalog import add_item, add_response
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import Conflict, InvalidInput
from hitl.io.imports import ImportReport, PromptIndex, at, load_records, resolve_campaign, source_name
from hitl.io.layouts import normalize_layout
from hitl.io.records import PreferenceValue, parse_preference
from hitl.queue import JudgmentInput
from hitl.queue.record import judgment_row, record_judgment
from hitl.queue.types import JudgmentRules
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import judgments
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

    Strength of an imported judgment: `strength` (1-3), else `margin` rounded and clipped to 1..3, else the gap of
    `score_chosen` and `score_rejected` (hitl.io.records.parse_strength), else 2; a tie is refused.
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
    for number, record in normalize_layout(load_records(path), path):
        try:
            with at(path, number):
                value = parse_preference(record, max_text_bytes)
                if value.strength == 0:
                    raise InvalidInput(
                        "the two answers are rated equal (a tie): it is no preference; --skip-invalid leaves ties out"
                    )
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
    rules = JudgmentRules.of(target.settings)
    with store.write() as conn:
        if user is not None:
            _refuse_reimport(conn, path, planned, user)
        index = PromptIndex(conn, [v.prompt for _, v, _ in planned], src, max_text_bytes)
        for number, value, key in planned:
            with at(path, number):
                pid = index.get_or_create(value.prompt)
                chosen, rejected = (
                    add_response(
                        conn, prompt_id=pid, text=text, sampling=_scored(scores), source=src, max_bytes=max_text_bytes
                    )
                    for text, scores in ((value.chosen, value.chosen_scores), (value.rejected, value.rejected_scores))
                )
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
                    row = judgment_row(
                        JudgmentInput(ranking=[chosen, rejected], strength=value.strength),
                        rules,
                        response_ids=order,
                        item_id=item_id,
                        user_id=user.id,
                        lease_id=None,
                        display_order=order,  # nobody was shown this pair here: the item's own order
                        overlap=target.settings.overlap,
                        key=key,
                        source="import",
                        now=now,
                    )
                    # The DBAPI connection under this transaction: the write joins it (all or nothing per file).
                    record_judgment(conn.connection.driver_connection, store.dialect, row)
                    counts["judgments"] += 1
                else:
                    counts["gold_items"] += 1
            counts["responses"] += 2
            counts["items"] += 1
        counts["prompts_created"] = index.created
    return ImportReport(str(path), "preferences", counts, skipped)


def _scored(scores: dict[str, float] | None) -> dict | None:
    return {"scores": scores} if scores else None


def _refuse_reimport(conn, path, planned: list[tuple[int, PreferenceValue, str]], user: User) -> None:
    keys = [key for _, _, key in planned]
    done: set[str] = set()
    for chunk in in_chunks(keys):
        query = select(judgments.c.idempotency_key).where(
            judgments.c.user_id == user.id, judgments.c.idempotency_key.in_(chunk)
        )
        done.update(conn.execute(query).scalars())
    for number, _, key in planned:
        if key in done:
            with at(path, number):
                raise Conflict(
                    "this record was already imported into this campaign as a judgment: drop it from the file or "
                    "import into another campaign"
                )
