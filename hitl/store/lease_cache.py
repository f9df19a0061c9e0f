"""A bounded, thread-safe map from lease token to what the queue knows about that lease: `Store.lease_cache`.

    python -m pytest -q tests/store/test_store_lease_cache.py

On PostgreSQL, next_item keeps the facts of each lease it hands out here (hitl.queue.types.LeaseFacts), so that
the submit is one round trip (hitl_record_judgment) instead of a read and a call. Each store has its own: what
one store handed out says nothing about another database, or another schema of the same one. A miss (another app
host leased it, the entry was evicted or already used) takes the path that reads the lease first, so the cache
only ever saves time. It lives in hitl.store, which knows nothing of the queue, because the Store owns it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

MAX_LEASES = 20_000  # about the leases a busy server hands out in a minute; abandoned ones age out

T = TypeVar("T")


class LeaseCache(Generic[T]):
    """Lease token -> facts, at most `size` entries (the oldest go first); an entry is used once."""

    def __init__(self, size: int = MAX_LEASES) -> None:
        self._size = size
        self._entries: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, token: str, facts: T) -> None:
        with self._lock:
            self._entries[token] = facts
            self._entries.move_to_end(token)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def take(self, token: str) -> T | None:
        with self._lock:
            return self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)
