"""`--json` for scripts: one JSON document on stdout instead of tables, the same numbers the tables show.

    hitl stats --campaign demo --json | jq .summary.alpha_ordinal

NaN and infinities (undefined statistics) are written as null, dataclasses as objects, times as they are stored
(epoch seconds): what `jq` and `json.loads` read without surprises.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="Print one JSON document (for scripts) instead of tables.")


def plain(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses to dicts, tuples and sets to lists, NaN / inf to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return plain(value.tolist())
    return value


def emit_json(data: Any) -> None:
    """Write `data` to stdout as one JSON document (allow_nan off: a NaN that slipped through is a bug here)."""
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, allow_nan=False, indent=2) + "\n")
    sys.stdout.flush()
