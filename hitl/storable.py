"""What text every store can hold: no NUL character, no lone surrogate. Checked at every edge (REST API, pages,
imports), so SQLite and PostgreSQL refuse the same input with the same message naming the field.

    python -c "from hitl.storable import check_storable; check_storable('a\\x00b', 'rationale')"

PostgreSQL refuses NUL in text outright and a lone surrogate (U+D800..U+DFFF, which JSON can spell as
"\\ud800") cannot be encoded as UTF-8 at all; SQLite would store the first and fail on the second. One rule for
both: such text is refused before it reaches a store. Ids are bounded by INT4_MAX for the same reason: it is
the largest id PostgreSQL's integer columns hold.
"""

from __future__ import annotations

import re
from typing import Any

from hitl.errors import InvalidInput

INT4_MAX = 2**31 - 1
_BAD = re.compile("[\x00\ud800-\udfff]")
# Records nest prompts in chats in messages; nothing legitimate goes deeper than this.
MAX_DEPTH = 32


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored ('a NUL character', 'a lone surrogate U+D800'), or None when it can."""
    bad = _BAD.search(text)
    if bad is None:
        return None
    return "a NUL character (\\u0000)" if bad.group() == "\x00" else f"a lone surrogate (U+{ord(bad.group()):04X})"


def check_storable(value: Any, what: str, depth: int = 0) -> Any:
    """`value` unchanged when every string in it (keys too, at any depth) is storable; InvalidInput naming `what`
    (and the key path) otherwise, or when it nests deeper than MAX_DEPTH."""
    if isinstance(value, str):
        reason = unstorable(value)
        if reason:
            raise InvalidInput(f"{what} contains {reason}: remove it")
        return value
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        raise InvalidInput(f"{what} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, f"{what} (a key)", depth + 1)
            check_storable(item, f"{what}.{key}" if isinstance(key, str) else what, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable(item, what, depth + 1)
    return value
