"""Connections to the store: URL-selected SQLite or PostgreSQL, with the transaction rules each needs.

    python -c "from hitl.store import open_store; open_store('sqlite:///hitl.db')"

SQLite: WAL journal, a busy timeout, and every write in `BEGIN IMMEDIATE` so that two writers never
deadlock on a lock upgrade. Within one process all writes go through a single connection (a pool of
one): SQLite serialises writers anyway, and SQLite before 3.51.3 can corrupt the WAL when several
writer connections reset it concurrently. PostgreSQL: an ordinary pool; the queue uses
`FOR UPDATE SKIP LOCKED` to hand out leases.

A store too busy to answer in time (SQLite's write lock held by another process past the busy timeout,
PostgreSQL lock timeouts, deadlocks, serialization failures, an exhausted pool) raises `StoreBusy`: a
user-facing error the REST API answers with 503 and Retry-After, never a 500. Nothing of the transaction was
kept, so retrying is safe. A value PostgreSQL refuses that an edge check missed (NUL, int4 overflow) becomes
InvalidInput (400) rather than a 500; the edges refuse them first, naming the field, on both stores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool, StaticPool

from hitl.errors import HitlError, InvalidInput
from hitl.paths import default_store_path
from hitl.store.lease_cache import LeaseCache
from hitl.store.pg_errors import EXTRA_HINT, pg_errors, psycopg_installed
from hitl.store.ttl_cache import TtlCache

log = logging.getLogger(__name__)

SQLITE_SAFE_MULTI_WRITER = (3, 51, 3)


class StoreError(Exception):
    """A problem with the store the user can fix (bad URL, unreachable server, unmigrated database)."""


class StoreBusy(StoreError, HitlError):
    """The store could not take this request in time (locks held by others): retry in a moment."""

    status_code = 503
    retry_after = 1


# PostgreSQL's answers that mean "busy, try again": lock_not_available, deadlock_detected, serialization_failure,
# query_canceled (a statement or lock timeout).
_PG_BUSY = (
    "errors.LockNotAvailable",
    "errors.DeadlockDetected",
    "errors.SerializationFailure",
    "errors.QueryCanceled",
)


def _is_busy(exc: BaseException) -> bool:
    original = getattr(exc, "orig", None) or exc
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return "locked" in text or "busy" in text
    return isinstance(original, pg_errors(*_PG_BUSY)) or isinstance(exc, sa_exc.TimeoutError)


def _refused_value(exc: BaseException) -> str | None:
    """What a PostgreSQL data error says about a value no edge check caught (NUL in text, an int4 overflow)."""
    original = getattr(exc, "orig", None) or exc
    if isinstance(original, pg_errors("errors.NumericValueOutOfRange")):
        return "a number is out of range (ids and counts stop at 2147483647)"
    if isinstance(original, pg_errors("DataError")) and "NUL" in str(original):
        return "text contains a NUL character (\\u0000): remove it"
    return None


@contextlib.contextmanager
def busy_as_retry() -> Iterator[None]:
    """Turn a busy store's error raised inside into StoreBusy, and a value PostgreSQL refuses (that the edges
    should have refused first) into InvalidInput; every other error passes unchanged."""
    try:
        yield
    except Exception as exc:
        if not isinstance(
            exc, (sqlite3.OperationalError, sa_exc.DBAPIError, sa_exc.TimeoutError, *pg_errors("Error"))
        ):
            raise
        if _is_busy(exc):
            raise StoreBusy("the store is busy (another writer holds it): retry in a moment") from exc
        refused = _refused_value(exc)
        if refused:
            raise InvalidInput(refused) from exc
        raise


class FairTurns:
    """A first-come, first-served semaphore: at most `slots` holders, waiters served in arrival order.

    SQLite has one writer connection per process (slots=1); a PostgreSQL pool has a few. A plain lock,
    or SQLAlchemy's pool queue, lets the thread that just released take it straight back, so under
    load a few threads starve for hundreds of milliseconds; serving the longest waiter keeps the
    tail latency flat.
    """

    def __init__(self, slots: int = 1) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._free = slots

    def acquire(self) -> None:
        with self._mutex:
            if self._free and not self._waiters:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by a holder when it hands its slot over

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1

    def __enter__(self) -> FairTurns:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@dataclass
class Store:
    """A handle on one database: a writer engine for transactions that change data, a reader engine, the facts of
    the leases handed out through this handle (`lease_cache`, see hitl/store/lease_cache.py), and what the queue
    decided about each rater's routing in a campaign (`route_cache`, hitl/store/ttl_cache.py)."""

    url: str
    writer: Engine
    reader: Engine
    dialect: str
    lease_cache: LeaseCache = field(default_factory=LeaseCache, repr=False)
    route_cache: TtlCache = field(default_factory=TtlCache, repr=False)
    # Slow-changing campaign figures (a reward model's calibration, the crowd's gold accuracy): minutes, not seconds.
    figure_cache: TtlCache = field(default_factory=lambda: TtlCache(600.0, 1_000), repr=False)
    _closed: bool = field(default=False, repr=False)
    _write_turns: FairTurns | None = field(default=None, repr=False)
    _sqlite_writer_proxy: Any = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception.

        On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up front, and another process
        holding it is waited for up to the busy timeout.
        """
        if not self.is_sqlite:
            with busy_as_retry(), self.writer.begin() as conn:
                yield conn
            return
        with busy_as_retry(), self._write_turns, self.writer.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def raw_write(self) -> Iterator[Any]:
        """A write transaction on the bare DBAPI connection, for the queue's measured hot path.

        Same rules as `write()` (BEGIN IMMEDIATE and one writer at a time on SQLite), without the
        per-transaction bookkeeping of a SQLAlchemy Connection. See hitl/queue/sql.py. Callers take
        turns in arrival order (FairTurns), sized to the connections there are.
        """
        with busy_as_retry(), self._write_turns:
            proxy = None if self.is_sqlite else self.writer.raw_connection()
            dbapi = self._sqlite_writer_dbapi() if self.is_sqlite else proxy.driver_connection
            try:
                if self.is_sqlite:
                    dbapi.execute("BEGIN IMMEDIATE")
                try:
                    yield dbapi
                except BaseException:
                    dbapi.rollback()
                    raise
                dbapi.commit()
            finally:
                if proxy is not None:
                    proxy.close()

    @contextlib.contextmanager
    def sqlite_turn(self) -> Iterator[Any]:
        """SQLite: the writer's bare DBAPI connection, in this process's turn, with no transaction begun.

        For work that must not take the database's write lock while it runs, such as filling a TEMP table
        (hitl/io/staging.py): its own BEGIN ... COMMIT writes only the connection's temp database.
        """
        if not self.is_sqlite:
            raise StoreError("sqlite_turn is for SQLite")
        with busy_as_retry(), self._write_turns:
            yield self._sqlite_writer_dbapi()

    @contextlib.contextmanager
    def raw_autocommit(self) -> Iterator[Any]:
        """PostgreSQL: a bare DBAPI connection in autocommit mode, each statement its own transaction.

        For the queue's server-side functions (hitl/queue/sql.py), whose one call is the whole transaction:
        no BEGIN and COMMIT round trips around it. The connection goes back to the pool as it came.
        """
        if self.is_sqlite:
            raise StoreError("raw_autocommit is for PostgreSQL; SQLite writes go through raw_write")
        with busy_as_retry(), self._write_turns:
            proxy = self.writer.raw_connection()
            dbapi = proxy.driver_connection
            try:
                dbapi.autocommit = True
                yield dbapi
            finally:
                try:
                    dbapi.autocommit = False
                finally:
                    proxy.close()

    def _sqlite_writer_dbapi(self) -> Any:
        # The writer engine's StaticPool hands out its single connection to every checkout; holding
        # the proxy here keeps it from being "returned" (and rolled back) by garbage collection.
        if self._sqlite_writer_proxy is None:
            self._sqlite_writer_proxy = self.writer.raw_connection()
        return self._sqlite_writer_proxy.driver_connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot under WAL / MVCC)."""
        with busy_as_retry(), self.reader.begin() as conn:
            yield conn

    def close(self) -> None:
        if not self._closed:
            if self._sqlite_writer_proxy is not None:
                self._sqlite_writer_proxy.close()
            self.writer.dispose()
            if self.reader is not self.writer:
                self.reader.dispose()
            self._closed = True


def default_url() -> str:
    """`HITL_DB` if set, else the SQLite file `hitl_home()/hitl.db` (`$HITL_HOME`, default the user data dir; a
    store found in the old default, the user cache dir, is moved there once: hitl.paths.default_store_path)."""
    if os.environ.get("HITL_DB"):
        return os.environ["HITL_DB"]
    return f"sqlite:///{default_store_path()}"


def _sqlite_engines(url: str, busy_timeout_ms: int, synchronous: str) -> tuple[Engine, Engine]:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if tuple(int(p) for p in sqlite3.sqlite_version.split(".")) < SQLITE_SAFE_MULTI_WRITER:
        log.info(
            "SQLite %s < 3.51.3 (WAL-reset bug with several writer connections): this process writes "
            "through one connection.",
            sqlite3.sqlite_version,
        )

    def configure(dbapi_conn, _record) -> None:
        # Let SQLAlchemy's begin() decide when transactions start, not the sqlite3 module.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA synchronous = {synchronous}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    args = {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
    # One connection for all writes, shared under the store's FairLock (see Store.write).
    writer = create_engine(url, connect_args=args, poolclass=StaticPool)
    reader = create_engine(url, connect_args=args, poolclass=QueuePool, pool_size=4, max_overflow=28, pool_timeout=60)
    for engine, begin_sql in ((writer, "BEGIN IMMEDIATE"), (reader, "BEGIN")):
        event.listen(engine, "connect", configure)
        event.listen(engine, "begin", lambda conn, sql=begin_sql: conn.exec_driver_sql(sql))
    return writer, reader


def _configure_postgresql(dbapi_conn, _record) -> None:
    # psycopg prepares statements it sees repeatedly; PostgreSQL would still re-plan each execution
    # with a custom plan, which costs several times the queue queries' run time. Their plans do not
    # depend on parameter values, so the generic plan is always right for them.
    with dbapi_conn.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
    dbapi_conn.commit()


def open_store(
    url: str | None = None,
    *,
    migrate: bool = True,
    pool_size: int = 16,
    sqlite_busy_timeout_ms: int = 10_000,
    sqlite_synchronous: str = "NORMAL",
) -> Store:
    """Open (and by default migrate to the newest schema) the store at `url`.

    `sqlite_synchronous="NORMAL"` in WAL mode keeps every committed transaction across a process
    crash (SIGKILL); choose "FULL" to also survive a power cut, at the cost of an fsync per commit.
    """
    url = url or default_url()
    if url.startswith("sqlite"):
        if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise StoreError(f"sqlite_synchronous must be NORMAL, FULL or EXTRA, not {sqlite_synchronous!r}")
        writer, reader = _sqlite_engines(url, sqlite_busy_timeout_ms, sqlite_synchronous.upper())
        dialect = "sqlite"
    elif url.startswith("postgresql"):
        if not psycopg_installed():
            raise StoreError(f"a PostgreSQL store needs psycopg: {EXTRA_HINT}")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        writer = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
        event.listen(writer, "connect", _configure_postgresql)
        reader = writer
        dialect = "postgresql"
    else:
        raise StoreError(f"unsupported store URL {url!r}: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    store = Store(url=url, writer=writer, reader=reader, dialect=dialect)
    # SQLite: one writer connection. PostgreSQL: the hot path takes turns for the pool's connections.
    store._write_turns = FairTurns(1 if dialect == "sqlite" else pool_size)
    try:
        if migrate:
            from hitl.store.migrate import upgrade

            upgrade(store)
    except Exception as exc:
        store.close()
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot open the store at {_redact(url)}: {exc}") from exc
    return store


def _redact(url: str) -> str:
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        scheme, rest = url.split("//", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}//{creds.split(':', 1)[0]}:***@{host}"
    return url
