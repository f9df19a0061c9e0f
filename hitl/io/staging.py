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

from sqlalchemy import Connection, insert, select, text

from hitl.errors import Conflict, InvalidInput
from hitl.io.records import PromptValue
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import prompts

BATCH = 5000


class PromptStage:
    """Collects checked prompts (`add`), stores them in batches, and makes them visible at once (`publish`).

    The ids seen so far live in the store (the stage table on SQLite, a temp table of the import's transaction
    on PostgreSQL), not in memory: a file of millions of prompts costs one batch of memory. Errors name the
    line ('line 7: ...'); the caller adds the file.
    """

    def __init__(self, store: Store, source: str, conn: Connection | None = None) -> None:
        self.store, self.source, self.conn = store, source, conn
        self.pending: list[tuple] = []
        self.batch_ids: dict[str, int] = {}
        self.count = 0
        self.name = f"hitl_stage_{uuid.uuid4().hex[:16]}"
        if store.is_sqlite:
            with store.sqlite_turn() as db:
                db.execute(
                    f"CREATE TEMP TABLE {self.name} (line INTEGER PRIMARY KEY, external_id TEXT UNIQUE, text TEXT, "
                    "messages TEXT, tags TEXT NOT NULL)"
                )
        elif conn is None:
            raise ValueError("a PostgreSQL stage writes inside the import's transaction: pass its connection")
        else:
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {self.name} (external_id TEXT PRIMARY KEY, line INTEGER) ON COMMIT DROP"
            )

    def add(self, line: int, value: PromptValue, external_id: str | None, tags: Sequence[str]) -> None:
        if external_id is not None:
            if external_id in self.batch_ids:
                raise _reused(external_id, line, self.batch_ids[external_id])
            self.batch_ids[external_id] = line
        self.pending.append((line, external_id, value.text, value.messages, [str(t) for t in tags]))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Store the pending rows (refusing ids used earlier in the file or already stored, naming the line)."""
        if not self.pending:
            return
        batch, self.pending, line_of, self.batch_ids = self.pending, [], self.batch_ids, {}
        self._refuse_reused_ids(line_of)
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
            if line_of:
                self.conn.execute(
                    text(f"INSERT INTO {self.name} (external_id, line) VALUES (:e, :n)"),
                    [{"e": e, "n": n} for e, n in line_of.items()],
                )
            self.conn.execute(
                insert(prompts),
                [
                    {
                        "external_id": eid,
                        "text": text_,
                        "messages": messages,
                        "tags": tags,
                        "source": self.source,
                        "created_at": now,
                    }
                    for _line, eid, text_, messages, tags in batch
                ],
            )
        self.count += len(batch)

    def _refuse_reused_ids(self, line_of: dict[str, int]) -> None:
        """An id of this batch that an earlier batch of the file used already."""
        for chunk in in_chunks(sorted(line_of)):
            marks = ",".join("?" if self.store.is_sqlite else f":p{i}" for i in range(len(chunk)))
            sql = f"SELECT external_id, line FROM {self.name} WHERE external_id IN ({marks})"
            if self.store.is_sqlite:
                with self.store.sqlite_turn() as db:
                    earlier = db.execute(sql, chunk).fetchall()
            else:
                earlier = self.conn.execute(text(sql), {f"p{i}": v for i, v in enumerate(chunk)}).all()
            if earlier:
                eid, first = min(earlier, key=lambda row: line_of[row[0]])
                raise _reused(eid, line_of[eid], first)

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


def _reused(external_id: str, line: int, first: int) -> InvalidInput:
    return InvalidInput(f"line {line}: id {external_id!r} is also used at line {first}: ids must be unique")


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)
