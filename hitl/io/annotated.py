"""Items judged by several named raters, in and out of annotation tools (Label Studio, Argilla).

    python -c "from hitl.store import open_store; from hitl.io.annotated import campaign_items as c; \
print(c(open_store(), 'demo')[:1])"

Both tools hand over the same thing: a prompt, its responses, and each annotator's answer. `campaign_items` reads a
campaign in that shape (for the exporters); `store_annotated` writes parsed items into a campaign, one item per
task and one judgment per annotator, through the queue's one judgment write (hitl.queue.record), as a preference
import does. Each annotator becomes an inactive system user named `rater_prefix + name` (account_name): it can
never log in, and an active account of that name is refused, so imported votes are never credited to a person;
`rater_prefix=""` keeps the names as they are, which is what a round trip through a fresh store wants. A judgment's
idempotency key is derived from the campaign, the task and the annotator, so the same file imported twice is
refused, not doubled.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from hitl.campaigns import Campaign
from hitl.catalog import add_item, add_response
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import Conflict, InvalidInput
from hitl.io.imports import ImportReport, PromptIndex, at, resolve_campaign, source_name
from hitl.io.records import PromptValue
from hitl.preferences import load_items
from hitl.queue import JudgmentInput
from hitl.queue.record import judgment_row, record_judgment
from hitl.queue.types import JudgmentRules
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import items, judgments, users
from hitl.users import ensure_system_user

STRENGTH_LABELS = {1: "slightly better", 2: "clearly better", 3: "much better"}
TIE_LABEL = "tie"


@dataclass(frozen=True)
class RatedAnswer:
    """One annotator's answer: `ranking` indexes the item's responses, best first (empty for a tie)."""

    rater: str
    ranking: list[int]
    strength: int = 2
    tie: bool = False
    seconds_on_item: float | None = None


@dataclass(frozen=True)
class AnnotatedItem:
    """A task of an annotation tool: the prompt, its responses in display order, and the answers given."""

    prompt: PromptValue
    responses: list[str]
    answers: list[RatedAnswer] = field(default_factory=list)
    task_id: str = ""  # the tool's id of the task, part of each judgment's idempotency key


def strength_label(strength: int, tie: bool) -> str:
    return TIE_LABEL if tie else STRENGTH_LABELS.get(strength, STRENGTH_LABELS[2])


def parse_strength_label(label: str | None) -> tuple[int, bool]:
    """(strength, tie) of a strength choice; no choice (or an unknown one) is 'clearly better'."""
    if label == TIE_LABEL:
        return 0, True
    for strength, text in STRENGTH_LABELS.items():
        if label == text:
            return strength, False
    return 2, False


def campaign_items(store: Store, campaign: Campaign | str | int) -> tuple[Campaign, list[tuple[int, AnnotatedItem]]]:
    """(item id, item) for every item of `campaign`, with every judgment as a named rater's answer, oldest first."""
    target = resolve_campaign(store, campaign)
    by_id = {it.id: it for it in load_items(store, target)}
    query = (
        select(judgments, users.c.name.label("rater"))
        .join(users, users.c.id == judgments.c.user_id)
        .join(items, items.c.id == judgments.c.item_id)
        .where(items.c.campaign_id == target.id)
        .order_by(judgments.c.id)
    )
    answers: dict[int, list[RatedAnswer]] = defaultdict(list)
    with store.read() as conn:
        for j in conn.execute(query):
            order = by_id[j.item_id].response_ids
            ranking = [] if j.tie else [order.index(r) for r in j.ranking]
            answers[j.item_id].append(RatedAnswer(j.rater, ranking, int(j.strength), bool(j.tie), j.seconds_on_item))
    out = []
    for it in by_id.values():
        item = AnnotatedItem(PromptValue(it.prompt, it.messages), [it.texts[r] for r in it.response_ids])
        out.append((it.id, AnnotatedItem(item.prompt, item.responses, answers[it.id], str(it.id))))
    return target, out


def account_name(prefix: str, rater: str) -> str:
    """The hitl user name of an annotator: prefixed, with what user names cannot hold (':', spaces) as '_'."""
    name = re.sub(r"[^A-Za-z0-9_.@-]", "_", prefix + rater)[:64]
    return name if name[:1].isalnum() else ("r" + name)[:64]


def answer_key(tool: str, campaign_id: int, item: AnnotatedItem, rater: str, occurrence: int) -> str:
    """The idempotency key of an imported answer: the same task's answer by the same rater is caught twice."""
    text = "\n".join(
        [str(campaign_id), item.task_id, repr(item.prompt.key()), *item.responses, rater, str(occurrence)]
    )
    return f"{tool}:{hashlib.sha256(text.encode()).hexdigest()}"


def store_annotated(
    store: Store,
    path: str | Path,
    planned: list[tuple[int, AnnotatedItem]],
    *,
    campaign: Campaign | str | int,
    tool: str,
    skipped: list[str],
    rater_prefix: str,
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> ImportReport:
    """Write `planned` (file position, item) into `campaign` in one transaction: all or nothing."""
    target = resolve_campaign(store, campaign)
    if target is None:
        raise InvalidInput(f"a {tool} import needs a campaign to put the items in")
    if not planned:
        first = f"; the first: {skipped[0]}" if skipped else ""
        raise InvalidInput(f"{path}: no task to import{first}")
    raters = sorted({account_name(rater_prefix, a.rater) for _, it in planned for a in it.answers})
    accounts = {name: ensure_system_user(store, name) for name in raters}
    active = [name for name, user in accounts.items() if user.active]
    if active:
        raise Conflict(
            f"{', '.join(active[:3])}: active account(s), not import users; pass another rater prefix "
            "(--rater-prefix) so imported answers are not credited to a person"
        )
    rules = JudgmentRules.of(target.settings)
    src = source_name(path, source)
    seen: Counter[tuple[str, str]] = Counter()
    keyed = []
    for number, item in planned:
        keys = []
        for a in item.answers:
            identity = (item.task_id, a.rater)
            keys.append(answer_key(tool, target.id, item, a.rater, seen[identity]))
            seen[identity] += 1
        keyed.append((number, item, keys))
    counts = {"tasks": len(planned) + len(skipped), "skipped": len(skipped), "prompts_created": 0, "items": 0}
    counts.update(judgments=0, raters=len(raters))
    now = time.time()
    with store.write() as conn:
        _refuse_reimport(conn, path, keyed)
        index = PromptIndex(conn, [it.prompt for _, it in planned], src, max_text_bytes)
        for number, item, keys in keyed:
            with at(path, number):
                pid = index.get_or_create(item.prompt)
                rids = [
                    add_response(conn, prompt_id=pid, text=text, source=src, max_bytes=max_text_bytes)
                    for text in item.responses
                ]
                item_id = add_item(
                    conn, campaign_id=target.id, prompt_id=pid, response_ids=rids, item_kind=target.settings.item_kind
                )
                # An item judged by more annotators than the campaign's overlap keeps them all.
                overlap = max(target.settings.overlap, len(item.answers))
                for a, key in zip(item.answers, keys, strict=True):
                    judgment = JudgmentInput(
                        ranking=[rids[i] for i in a.ranking],
                        strength=0 if a.tie else a.strength,
                        tie=a.tie,
                        seconds_on_item=a.seconds_on_item,
                    )
                    row = judgment_row(
                        judgment,
                        rules,
                        response_ids=rids,
                        item_id=item_id,
                        user_id=accounts[account_name(rater_prefix, a.rater)].id,
                        lease_id=None,
                        display_order=rids,
                        overlap=overlap,
                        key=key,
                        source="import",
                        now=now,
                    )
                    record_judgment(conn.connection.driver_connection, store.dialect, row)
                    counts["judgments"] += 1
                counts["items"] += 1
        counts["prompts_created"] = index.created
    return ImportReport(str(path), tool, counts, skipped)


def _refuse_reimport(conn, path, keyed) -> None:
    wanted = [key for _, _, keys in keyed for key in keys]
    done: set[str] = set()
    for chunk in in_chunks(wanted):
        done.update(
            conn.execute(select(judgments.c.idempotency_key).where(judgments.c.idempotency_key.in_(chunk))).scalars()
        )
    for number, _, keys in keyed:
        if done.intersection(keys):
            with at(path, number):
                raise Conflict("this task's answers were already imported into this campaign: import into another one")
