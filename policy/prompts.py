"""Prompts to generate for: a prompt file (checked now, stored with the responses) or stored prompts by tag.

    hitl generate --model default --prompts hitl/data/demo_prompts.jsonl --n 2 --campaign demo   # a file
    hitl generate --model default --prompts advice --n 2 --campaign demo                          # a tag, or `all`

A file is read and checked before anything is generated, but stored only together with the responses (one
transaction): a refused run leaves no prompts behind. Prompts already stored (same id or same content) are reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, select

from hitl.catalog import add_prompt, find_prompt_by_external_id
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import InvalidInput
from hitl.io.imports import at, load_records
from hitl.io.records import PromptValue, optional, parse_prompt, parse_tags, prompt_field
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import prompts as prompts_table


@dataclass(frozen=True)
class PromptRecord:
    """A prompt to answer: stored already (`prompt_id`) or read from a file and stored with the responses."""

    text: str | None
    messages: list[dict[str, str]] | None
    external_id: str | None = None
    tags: tuple[str, ...] = ()
    prompt_id: int | None = None
    key: tuple = field(default=(), compare=False)

    @property
    def prompt(self) -> str | list[dict[str, str]]:
        return self.text if self.text is not None else self.messages


def _record(value: PromptValue, **kw) -> PromptRecord:
    return PromptRecord(value.text, value.messages, key=value.key(), **kw)


def read_prompt_file(path: str | Path, max_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> list[PromptRecord]:
    """Every prompt of a file (JSONL, CSV, Parquet, ... as `hitl import prompts` reads), checked, nothing stored."""
    records, seen = [], set()
    for number, raw in load_records(path):
        with at(path, number):
            value = parse_prompt(prompt_field(raw), max_bytes)
            external = optional(raw, "id")
            external = None if external is None else str(external)
            if external is not None and external in seen:
                raise InvalidInput(f"id {external!r} is used twice in the file: ids must be unique")
            seen.add(external)
            records.append(_record(value, external_id=external, tags=tuple(parse_tags(optional(raw, "tags")))))
    return records


def stored_prompts(store: Store, tag: str) -> list[PromptRecord]:
    """Stored prompts with `tag` (or every prompt for `all`), oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            select(prompts_table.c.id, prompts_table.c.text, prompts_table.c.messages, prompts_table.c.tags).order_by(
                prompts_table.c.id
            )
        ).all()
    # Tags are a JSON list: filtered here, as JSON containment differs between SQLite and PostgreSQL.
    chosen = [r for r in rows if tag == "all" or tag in (r.tags or [])]
    return [_record(PromptValue(r.text, r.messages), prompt_id=r.id, tags=tuple(r.tags or [])) for r in chosen]


def load_prompts(store: Store, source: str, limit: int | None = None, offset: int = 0) -> list[PromptRecord]:
    """The prompts `source` names (a file, a tag, or `all`), at most `limit` of them starting at `offset` (wrapping
    around the end, so rounds can walk through a prompt set); refuses an empty selection."""
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    if Path(source).expanduser().is_file():
        records = read_prompt_file(Path(source).expanduser())
    else:
        records = stored_prompts(store, source)
        if not records:
            what = "no prompts are stored" if source == "all" else f"no file {source!r} and no stored prompt tagged it"
            raise InvalidInput(
                f"{what}: pass a prompt file (JSONL with `prompt` or `messages`), a tag, or `all` "
                "(import prompts with `hitl import prompts FILE`)"
            )
    if offset:
        start = offset % len(records)
        records = records[start:] + records[:start]
    return records[:limit] if limit else records


def match_prompts(conn: Connection, records: Sequence[PromptRecord]) -> list[int | None]:
    """The stored prompt id of each record (same id, else same content), or None where it is new. Read only."""
    by_key: dict[tuple, int] = {}
    wanted_texts = sorted({r.text for r in records if r.prompt_id is None and r.text is not None})
    for chunk in in_chunks(wanted_texts):
        for pid, text in conn.execute(
            select(prompts_table.c.id, prompts_table.c.text)
            .where(prompts_table.c.text.in_(chunk))
            .order_by(prompts_table.c.id.desc())
        ):
            by_key[("text", text)] = pid  # descending, so the oldest equal prompt wins
    if any(r.prompt_id is None and r.messages is not None for r in records):
        for pid, messages in conn.execute(
            select(prompts_table.c.id, prompts_table.c.messages)
            .where(prompts_table.c.text.is_(None))
            .order_by(prompts_table.c.id.desc())
        ):
            by_key[PromptValue(None, messages).key()] = pid
    ids: list[int | None] = []
    for r in records:
        pid = r.prompt_id
        if pid is None and r.external_id is not None:
            pid = find_prompt_by_external_id(conn, r.external_id)
        ids.append(pid if pid is not None else by_key.get(r.key))
    return ids


def save_prompts(conn: Connection, records: Sequence[PromptRecord], source: str) -> list[int]:
    """Prompt ids for the records, storing the new ones (a prompt repeated in the file is stored once)."""
    ids = match_prompts(conn, records)
    created: dict[tuple, int] = {}
    for i, r in enumerate(records):
        if ids[i] is not None:
            continue
        if r.key not in created:
            created[r.key] = add_prompt(
                conn, text=r.text, messages=r.messages, tags=r.tags, source=source, external_id=r.external_id
            )
        ids[i] = created[r.key]
    return ids
