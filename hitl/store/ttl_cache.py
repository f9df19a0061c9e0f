"""A bounded, thread-safe map whose entries expire after a few seconds: `Store.route_cache`.

    python -c "from hitl.store.ttl_cache import TtlCache; c = TtlCache(5.0); c.put('k', 1); print(c.get('k'))"

What the queue decides once per rater and campaign (hitl.workforce.route: qualification, pause, skills, work
limits) is kept here, so a rater's next item costs one store call however many rules the campaign has. Changes made
in this process (a pause, a passed qualification, a reinstatement) drop the entry at once; a change made by another
app host applies within the time to live. Like the lease cache it belongs to the Store, which owns what it caches.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    """Key -> value for `ttl` seconds, at most `size` entries (the oldest go first)."""

    def __init__(self, ttl: float = 5.0, size: int = 20_000) -> None:
        self.ttl = ttl
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget_prefix(self, prefix: tuple) -> None:
        """Drop every entry whose (tuple) key starts with `prefix`."""
        with self._lock:
            for key in [k for k in self._entries if isinstance(k, tuple) and k[: len(prefix)] == prefix]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
