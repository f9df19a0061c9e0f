"""Storing a big file of prompts in bounded batches that let raters in between, all or nothing per file.

    python -c "from hitl.store import open_store; from hitl.io import import_prompts; \
print(import_prompts(open_store(), 'hitl/data/demo_prompts.jsonl').summary())"    # imports go through PromptStage

SQLite has one writer: a file stored in one transaction holds every rater's next and submit until it is done
(400k prompts: 38 s). So on SQLite the checked rows go, a few thousand at a time, into a TEMP table of the
writer connection: those writes touch only the connection's temp database, never the store's write lock, and
raters' transactions run between the batches. `publish` then copies the whole file into `prompts` with one
INSERT ... SELECT (400k rows: well under a second) and the stage is dropped. A failure, or a crash, before the
publish leaves nothing: the temp table dies with the connection. PostgreSQL writers do not block each other,
so there the batches go straight into `prompts` inside the import's one transaction.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, insert, select

from hitl.errors import Conflict
from hitl.io.records import PromptValue
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import prompts

BATCH = 5000


class PromptStage:
    """Collects checked prompts (`add`), stores them in batches, and makes them visible at once (`publish`)."""

    def __init__(self, store: Store, source: str, conn: Connection | None = None) -> None:
        self.store, self.source, self.conn = store, source, conn
        self.pending: list[tuple] = []
        self.count = 0
        self.name = f"hitl_stage_{uuid.uuid4().hex[:16]}"
        if store.is_sqlite:
            with store.sqlite_turn() as db:
                db.execute(
                    f"CREATE TEMP TABLE {self.name} (line INTEGER PRIMARY KEY, external_id TEXT, text TEXT, "
                    "messages TEXT, tags TEXT NOT NULL)"
                )
        elif conn is None:
            raise ValueError("a PostgreSQL stage writes inside the import's transaction: pass its connection")

    def add(self, line: int, value: PromptValue, external_id: str | None, tags: Sequence[str]) -> None:
        self.pending.append((line, external_id, value.text, value.messages, [str(t) for t in tags]))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Store the pending rows (refusing ids already stored, naming the line)."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self._refuse_stored_ids(batch)
        if self.store.is_sqlite:
            rows = [(line, eid, text, _json(messages), json.dumps(tags)) for line, eid, text, messages, tags in batch]
            with self.store.sqlite_turn() as db:
                db.execute("BEGIN")
                try:
                    db.executemany(f"INSERT INTO temp.{self.name} VALUES (?, ?, ?, ?, ?)", rows)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        else:
            now = time.time()
            self.conn.execute(
                insert(prompts),
                [
                    {
                        "external_id": eid,
                        "text": text,
                        "messages": messages,
                        "tags": tags,
                        "source": self.source,
                        "created_at": now,
                    }
                    for _line, eid, text, messages, tags in batch
                ],
            )
        self.count += len(batch)

    def _refuse_stored_ids(self, batch: list[tuple]) -> None:
        line_of = {eid: line for line, eid, *_ in batch if eid is not None}
        if not line_of:
            return
        query_conn = self.conn
        for chunk in in_chunks(sorted(line_of)):
            statement = select(prompts.c.external_id).where(prompts.c.external_id.in_(chunk))
            if query_conn is not None:
                taken = list(query_conn.execute(statement).scalars())
            else:
                with self.store.read() as conn:
                    taken = list(conn.execute(statement).scalars())
            if taken:
                first = min(taken, key=line_of.__getitem__)
                raise Conflict(
                    f"line {line_of[first]}: a prompt with id {first!r} already exists: give this prompt a new id "
                    "or drop the record"
                )

    def publish(self) -> int:
        """Make every staged prompt visible in one short transaction; returns how many."""
        self.flush()
        if self.store.is_sqlite:
            try:
                with self.store.raw_write() as db:
                    db.execute(
                        "INSERT INTO prompts (external_id, text, messages, tags, source, created_at) "
                        f"SELECT external_id, text, messages, tags, ?, ? FROM temp.{self.name} ORDER BY line",
                        (self.source, time.time()),
                    )
            except Exception as exc:  # sqlite3.IntegrityError: an id stored by another import meanwhile
                if "UNIQUE" in str(exc):
                    raise Conflict(
                        "another import stored one of these prompt ids meanwhile: nothing was stored"
                    ) from None
                raise
        return self.count

    def drop(self) -> None:
        if self.store.is_sqlite:
            with self.store.sqlite_turn() as db:
                db.execute(f"DROP TABLE IF EXISTS temp.{self.name}")


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)
