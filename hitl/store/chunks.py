"""Chunks of an id (or text) list for `IN (...)` queries: one list of 100k values would exceed the drivers'
parameter limits (SQLite's 32,766, PostgreSQL's 65,535), and one query per value would scan once per value.

    for chunk in in_chunks(ids):
        conn.execute(select(responses).where(responses.c.id.in_(chunk)))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

CHUNK_SIZE = 500


def in_chunks(values: Sequence[T], size: int = CHUNK_SIZE) -> Iterator[list[T]]:
    """Consecutive slices of `values`, each at most `size` long (none for an empty sequence)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    for start in range(0, len(values), size):
        yield list(values[start : start + size])
