"""Where hitl keeps its files: judgments and trained versions in the user data dir, re-downloadable models in the
user cache dir, both under `HITL_HOME` when it is set.

    HITL_HOME=/data/hitl hitl demo    # the demo's store, logins, versions, exports and models go under /data/hitl

Without `HITL_HOME`, `hitl_home()` (the SQLite store, `rewards/`, `policies/`, `exports/`) is the platform's user
data dir (platformdirs: `~/.local/share/hitl` on Linux), which systems keep, and `cache_home()` (`models/`, the
embedded default models) is the user cache dir (`~/.cache/hitl`), which they may wipe. Releases before this one
kept the store in the cache dir: `default_store_path()` moves such a database once, with a notice.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

APP = "hitl"
# Named in help texts; hitl_home() is the one place that resolves it.
DEFAULT_HITL_HOME = "the user data dir (~/.local/share/hitl on Linux)"
STORE_NAME = "hitl.db"
MOVED_SUFFIX = ".moved-to-data-dir"


def _home_override() -> Path | None:
    value = os.environ.get("HITL_HOME")
    return Path(value).expanduser() if value else None  # an empty HITL_HOME= means unset, not the current dir


def hitl_home() -> Path:
    """`$HITL_HOME` (`~` expanded), or the user data dir when it is unset or empty; not created here."""
    return _home_override() or Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_home() -> Path:
    """`$HITL_HOME` when set (everything in one place), else the user cache dir: files hitl can fetch again."""
    return _home_override() or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def legacy_store_path() -> Path:
    """Where releases before the data dir kept the default store: the user cache dir."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False)) / STORE_NAME


def default_store_path() -> Path:
    """The default SQLite store, `hitl_home()/hitl.db` (its folder created); a store left in the old cache location
    is moved here first, once (see move_legacy_store)."""
    home = hitl_home()
    home.mkdir(parents=True, exist_ok=True)
    target = home / STORE_NAME
    if _home_override() is None:
        move_legacy_store(legacy_store_path(), target)
    return target


def move_legacy_store(old: Path, new: Path) -> bool:
    """Move the SQLite database `old` to `new` when `new` does not exist yet; True when it did, with a notice.

    The write-ahead log is folded into the database first, the copy is fsynced and published with a hard link
    (which fails when `new` appeared meanwhile: another process moved it, and that copy wins), and the old file is
    renamed `hitl.db.moved-to-data-dir` rather than deleted, so nothing opens it by mistake and nothing is lost.
    """
    if not old.is_file() or new.exists() or old.resolve() == new.resolve():
        return False
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    temp = new.with_name(f".{new.name}.moving-{os.getpid()}")
    shutil.copy2(old, temp)
    with open(temp, "rb") as f:
        os.fsync(f.fileno())
    try:
        os.link(temp, new)
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    old.rename(old.with_name(old.name + MOVED_SUFFIX))
    for side in ("-wal", "-shm"):
        old.with_name(old.name + side).unlink(missing_ok=True)
    log.warning(
        "moved the hitl store from %s (a cache folder, which the system may wipe) to %s; the old file is kept as "
        "%s%s. Trained models and exports under %s stay there (the store records their paths).",
        old,
        new,
        old.name,
        MOVED_SUFFIX,
        old.parent,
    )
    return True
