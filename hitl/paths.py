"""Where hitl keeps its files: `HITL_HOME` (default `~/.cache/hitl`) holds the store, models, versions and exports.

    HITL_HOME=/data/hitl hitl demo    # the demo's store, logins and exports go under /data/hitl

Every default path (the SQLite store, `models/`, `rewards/`, `policies/`, `exports/`) is built from `hitl_home()`,
so one environment variable moves all of them.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HITL_HOME = "~/.cache/hitl"  # named in help texts; hitl_home() is the one place that resolves it


def hitl_home() -> Path:
    """`$HITL_HOME` (`~` expanded), or `~/.cache/hitl` when it is unset or empty; not created here."""
    return Path(os.environ.get("HITL_HOME") or DEFAULT_HITL_HOME).expanduser()
