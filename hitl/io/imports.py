"""Importing prompts and model responses from files, all or nothing per file.

    python -c "from hitl.store import open_store; from hitl.io import import_prompts; \
print(import_prompts(open_store(), 'hitl/data/demo_prompts.jsonl').summary())"

Prompts are read and checked one record at a time and stored in bounded batches that let raters in between,
then published at once (hitl.io.staging): memory stays flat and the write lock is held only briefly. Responses
are read and checked first, outside any transaction, then stored in ONE write transaction. A bad record is
refused with an error naming the file and line and saying what to fix, and nothing from that file is stored.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from hitl.campaigns import Campaign, get_campaign
from hitl.catalog import add_item, add_prompt, add_response, check_text, find_prompt_by_external_id
from hitl.catalog import register_model_version as register_model
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import HitlError, InvalidInput, NotFound
from hitl.io.readers import position, read_records
from hitl.io.records import PromptValue, optional, parse_prompt, parse_tags, prompt_field
from hitl.io.staging import PromptStage
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import prompts

PAIRINGS = ("all-pairs", "consecutive", "none")
MAX_RANKING_SIZE = 8  # what hitl.catalog.add_item accepts for a ranking item


@dataclass
class ImportReport:
    """What one import stored: `counts` maps a noun ('prompts', 'items', ...) to how many."""

    file: str
    kind: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # why each left-out record was refused (skip_invalid)

    def summary(self) -> str:
        parts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in self.counts.items())
        text = f"imported {self.kind} from {self.file}: {parts}"
        if self.skipped:
            text += f"\nskipped {len(self.skipped)} invalid record(s), e.g. {self.skipped[0]}"
        return text


@contextlib.contextmanager
def at(path: str | Path, number: int) -> Iterator[None]:
    """Prefix any user-facing error raised inside with the file and line (or row) it concerns."""
    try:
        yield
    except HitlError as exc:
        raise type(exc)(f"{position(path, number)}: {exc}") from None


def load_records(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """Every record of the file, refusing an empty one (an empty import is almost always the wrong file)."""
    records = list(read_records(path))
    if not records:
        raise InvalidInput(f"{path} holds no records")
    return records


def source_name(path: str | Path, source: str | None) -> str:
    return (source if source is not None else Path(str(path)).name or str(path))[:255]


def resolve_campaign(store: Store, campaign: Campaign | str | int | None) -> Campaign | None:
    if campaign is None or isinstance(campaign, Campaign):
        return campaign
    return get_campaign(store, campaign)


class PromptIndex:
    """Finds stored prompts equal to the ones in a file (reusing them) and creates the rest, inside one transaction."""

    def __init__(self, conn: Connection, values: Sequence[PromptValue], source: str, max_bytes: int):
        self.conn, self.source, self.max_bytes = conn, source, max_bytes
        self.ids: dict[tuple, int] = {}
        self.created = 0
        texts = sorted({v.text for v in values if v.text is not None})
        # Fetched in chunks, once per import: a query per prompt would scan the table once per prompt.
        for chunk in in_chunks(texts):
            rows = conn.execute(
                select(prompts.c.id, prompts.c.text).where(prompts.c.text.in_(chunk)).order_by(prompts.c.id)
            )
            for pid, text in rows:
                self.ids.setdefault(("text", text), pid)
        wanted = {v.key() for v in values if v.messages is not None}
        if wanted:
            rows = conn.execute(select(prompts.c.id, prompts.c.messages).where(prompts.c.text.is_(None)))
            for pid, messages in sorted(rows, key=lambda r: r[0]):
                key = PromptValue(None, messages).key()
                if key in wanted:
                    self.ids.setdefault(key, pid)

    def get_or_create(self, value: PromptValue) -> int:
        key = value.key()
        if key in self.ids:
            return self.ids[key]
        pid = add_prompt(
            self.conn, text=value.text, messages=value.messages, source=self.source, max_bytes=self.max_bytes
        )
        self.ids[key] = pid
        self.created += 1
        return pid


def import_prompts(
    store: Store,
    path: str | Path,
    *,
    tags: Sequence[str] = (),
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> ImportReport:
    """Store the prompts of a file: records with `prompt` (text) or `messages` (a chat), optional `id` and `tags`.

    `tags` are added to every prompt. An `id` used twice in the file, or already stored, is refused. The file is
    read one record at a time and stored in batches that let raters in between (hitl.io.staging); nothing of it
    is visible, or kept, unless every record is good.
    """
    src = source_name(path, source)
    if store.is_sqlite:
        return _stream_prompts(store, None, path, tags, src, max_text_bytes)
    with store.write() as conn:
        return _stream_prompts(store, conn, path, tags, src, max_text_bytes)


def _stream_prompts(store, conn, path, tags, src, max_text_bytes) -> ImportReport:
    stage = PromptStage(store, src, conn)
    try:
        for number, record in read_records(path):
            with at(path, number):
                value = parse_prompt(prompt_field(record), max_text_bytes)
                external_id = optional(record, "id")
                if external_id is not None:
                    external_id = str(external_id)
                    if len(external_id) > 128:
                        raise InvalidInput(f"id {external_id[:20]!r}... is longer than 128 characters")
                record_tags = list(dict.fromkeys([*map(str, tags), *parse_tags(optional(record, "tags"))]))
            try:
                stage.add(number, value, external_id, record_tags)
            except HitlError as exc:  # the stage names the line; the file is ours to add
                raise type(exc)(f"{path}, {exc}") from None
        if not stage.count and not stage.pending:
            raise InvalidInput(f"{path} holds no records")
        try:
            stored = stage.publish()
        except HitlError as exc:
            raise type(exc)(f"{path}, {exc}") from None
    finally:
        stage.drop()
    return ImportReport(str(path), "prompts", {"prompts": stored})


@dataclass(frozen=True)
class _PlannedResponse:
    number: int
    external_prompt_id: str | None
    prompt: PromptValue | None
    text: str
    model: str | None
    sampling: dict


def import_responses(
    store: Store,
    path: str | Path,
    *,
    campaign: Campaign | str | int | None = None,
    model: str | None = None,
    pairing: str = "all-pairs",
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> ImportReport:
    """Store model responses: records with `prompt_id` (a stored prompt's id) or `prompt` (text or chat, created
    when new), `response`, optional `model` (a policy model version; `model` here is the default) and `sampling`.

    With a campaign, the new responses become items, per prompt and never comparing identical texts. Pairwise
    campaigns: `pairing="all-pairs"` compares every two responses of a prompt, `"consecutive"` chains them
    (1-2, 2-3, ...: fewer items, still all connected for ranking), `"none"` makes no items. Ranking campaigns get
    one K-way item per prompt (prompts with more than 8 responses are split into near-equal groups).
    """
    if pairing not in PAIRINGS:
        raise InvalidInput(f"pairing must be one of {', '.join(PAIRINGS)}, not {pairing!r}")
    target = resolve_campaign(store, campaign)
    planned = []
    for number, record in load_records(path):
        with at(path, number):
            external = optional(record, "prompt_id")
            given = optional(record, "prompt") is not None or optional(record, "messages") is not None
            if external is not None and given:
                raise InvalidInput("give exactly one of 'prompt_id' (a stored prompt's id) or 'prompt' (its text)")
            prompt = None if external is not None else parse_prompt(prompt_field(record), max_text_bytes)
            text = check_text(record.get("response"), "response", max_text_bytes)
            sampling = optional(record, "sampling") or {}
            if not isinstance(sampling, dict):
                raise InvalidInput("'sampling' must be a mapping such as {\"temperature\": 0.7}")
            record_model = optional(record, "model") or model
            planned.append(
                _PlannedResponse(
                    number, None if external is None else str(external), prompt, text, record_model, sampling
                )
            )
    src = source_name(path, source)
    counts = {"responses": 0, "prompts_created": 0, "model_versions": 0, "items": 0}
    by_prompt: dict[int, list[tuple[int, str]]] = {}
    with store.write() as conn:
        index = PromptIndex(conn, [p.prompt for p in planned if p.prompt is not None], src, max_text_bytes)
        models: dict[str, int] = {}
        for p in planned:
            with at(path, p.number):
                if p.external_prompt_id is not None:
                    pid = find_prompt_by_external_id(conn, p.external_prompt_id)
                    if pid is None:
                        raise NotFound(
                            f"no stored prompt has id {p.external_prompt_id!r}: import the prompts first "
                            "(hitl import prompts) or give the prompt text in 'prompt'"
                        )
                else:
                    pid = index.get_or_create(p.prompt)
                model_id = None
                if p.model is not None:
                    if str(p.model) not in models:
                        models[str(p.model)] = register_model(conn, kind="policy", name=str(p.model))
                    model_id = models[str(p.model)]
                rid = add_response(
                    conn,
                    prompt_id=pid,
                    text=p.text,
                    model_version_id=model_id,
                    sampling=p.sampling,
                    source=src,
                    max_bytes=max_text_bytes,
                )
            by_prompt.setdefault(pid, []).append((rid, p.text))
        counts["responses"] = len(planned)
        counts["prompts_created"] = index.created
        counts["model_versions"] = len(models)
        if target is not None and pairing != "none":
            kind = target.settings.item_kind
            for pid, answers in by_prompt.items():
                for group in item_groups(answers, kind, pairing):
                    add_item(conn, campaign_id=target.id, prompt_id=pid, response_ids=group, item_kind=kind)
                    counts["items"] += 1
    return ImportReport(str(path), "responses", counts)


def item_groups(answers: Sequence[tuple[int, str]], item_kind: str, pairing: str) -> list[list[int]]:
    """Response-id groups to compare for one prompt, never two identical texts (the first of equal texts is kept)."""
    distinct: dict[str, int] = {}
    for rid, text in answers:
        distinct.setdefault(text.strip(), rid)
    ids = list(distinct.values())
    if len(ids) < 2:
        return []
    if item_kind == "ranking":
        n_groups = -(-len(ids) // MAX_RANKING_SIZE)
        size, extra = divmod(len(ids), n_groups)
        groups, start = [], 0
        for g in range(n_groups):
            end = start + size + (g < extra)
            groups.append(ids[start:end])
            start = end
        return groups
    if pairing == "consecutive":
        return [[a, b] for a, b in itertools.pairwise(ids)]
    return [[a, b] for a, b in itertools.combinations(ids, 2)]
