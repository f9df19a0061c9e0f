"""psycopg's error classes for code that must recognise them, without importing psycopg on a SQLite-only install.

    python -c "from hitl.store.pg_errors import pg_errors; print(pg_errors('IntegrityError'))"

psycopg is the `[postgres]` extra (pip install 'hitl-rlhf[postgres]') and only the PostgreSQL store loads it (through
SQLAlchemy's psycopg dialect). An exception of psycopg can only exist once psycopg is imported, so looking the
classes up in `sys.modules` at the moment of an error is exact: before that, there are none to match.
"""

from __future__ import annotations

import sys

EXTRA_HINT = "pip install 'hitl-rlhf[postgres]'"


def pg_errors(*names: str) -> tuple[type[BaseException], ...]:
    """The psycopg exception classes named (`"IntegrityError"`, `"errors.LockNotAvailable"`), or () when psycopg
    has not been loaded by this process."""
    module = sys.modules.get("psycopg")
    if module is None:
        return ()
    found = []
    for name in names:
        obj = module
        for part in name.split("."):
            obj = getattr(obj, part)
        found.append(obj)
    return tuple(found)


def psycopg_installed() -> bool:
    """Whether psycopg can be imported; asked only when a PostgreSQL store is opened, which imports it anyway."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True
