"""What a PostgreSQL submit needs to know about a lease this process handed out, kept by next_item, so that the
submit is one round trip (hitl_record_judgment) instead of a read and a call.

    python -c "from hitl.queue.lease_cache import leases_handed_out; print(len(leases_handed_out))"

The kept facts do not change during a lease's life: its id, owner and item, the item's responses and the display
order, whether it is gold, and the campaign's rules the judgment is checked against (as they were when the item
was leased). What does change (the lease's state and expiry, the item's count) is checked by the function under
its row locks. A miss (another app host leased it, the entry was evicted, a repeat of a recorded submit) takes
the path that reads the lease first, so the cache only ever saves time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import SimpleNamespace

MAX_LEASES = 20_000  # about the leases a busy server hands out in a minute; abandoned ones age out


class LeaseCache:
    """A bounded, thread-safe map from lease token to its facts; an entry is used once."""

    def __init__(self, size: int = MAX_LEASES) -> None:
        self._size = size
        self._entries: OrderedDict[str, SimpleNamespace] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, token: str, lease: SimpleNamespace) -> None:
        with self._lock:
            self._entries[token] = lease
            self._entries.move_to_end(token)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def take(self, token: str) -> SimpleNamespace | None:
        with self._lock:
            return self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)


leases_handed_out = LeaseCache()
