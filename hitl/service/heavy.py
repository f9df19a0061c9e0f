"""Heavy results computed once per change of their data, and never more than one heavy computation at a time.

    python -c "from hitl.service.heavy import ResultCache; help(ResultCache.get)"

The leaderboard's bootstrap, the dashboard's quality report, the review queue's scan of every judgment and the
arena's index of stored answers cost far more than a rater's next or submit. Two rules keep them from
occupying the threads that serve raters:

- `ResultCache.get(key, version, compute)`: a result is kept with the version of the data it was computed
  from (a cheap query such as the newest battle id); the same version is answered from memory. A changed
  version is recomputed only once the last result is older than `cost_ratio` times what computing it took
  (until then the last result is served): a cheap result (under CHEAP_SECONDS) is always fresh, and one that
  takes a second to compute costs at most a tenth of a core however often raters change its data.
- `HeavyGate`: one shared slot for computing. A request that needs a computation while the slot is taken does
  not wait for it (a waiting thread is a thread raters lack): it gets the last result if there is one, else
  `Busy` (503 with Retry-After) at once. The slot also keeps a budget of computing time (a token bucket:
  `burst` seconds, refilled at `share` seconds per second): a page that needs two boards at once gets both,
  but however many callers keep asking, heavy work gets at most `share` of one core over time, and the
  raters' requests the rest.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from hitl.errors import HitlError

# A result computed faster than this is recomputed at every change of its data: it costs nothing to keep fresh.
CHEAP_SECONDS = 0.02


class Busy(HitlError):
    """A heavy computation is already running: retry in a moment (the REST API answers 503 with Retry-After)."""

    status_code = 503
    retry_after = 2


class HeavyGate:
    """At most `slots` heavy computations at once, within a budget of computing time; `run` never waits."""

    def __init__(self, slots: int = 1, share: float = 0.25, burst: float = 2.0) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.share, self.burst = share, burst
        self._budget, self._at = burst, time.monotonic()

    def run(self, compute: Callable[[], Any], what: str) -> Any:
        now = time.monotonic()
        self._budget = min(self.burst, self._budget + (now - self._at) * self.share)
        self._at = now
        if self._budget <= 0 or not self._slots.acquire(blocking=False):
            raise Busy(f"the server is busy computing another {what}: retry in a few seconds")
        start = time.monotonic()
        try:
            return compute()
        finally:
            self._budget -= time.monotonic() - start
            self._slots.release()


class ResultCache:
    """Results by key, each with the data version it was computed from; bounded, least recently used out first."""

    def __init__(self, gate: HeavyGate, size: int = 64, max_age: float = 300.0, cost_ratio: float = 10.0) -> None:
        self.gate = gate
        self.size, self.max_age, self.cost_ratio = size, max_age, cost_ratio
        # key -> (version, computed at, seconds it took, value)
        self._entries: OrderedDict[Hashable, tuple[Hashable, float, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times compute ran (tests and benchmarks read it)

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], Any], what: str = "result") -> Any:
        """The result for `key` at `version`, computed only when missing, older than max_age, or of an older
        version and older than cost_ratio times its cost; while another thread computes, the last result is
        served."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
        if hit is not None:
            hit_version, at, cost, value = hit
            age = now - at
            fresh_enough = cost >= CHEAP_SECONDS and age < self.cost_ratio * cost
            if (hit_version == version and age < self.max_age) or fresh_enough:
                return value
        start = time.monotonic()
        try:
            value = self.gate.run(compute, what)
        except Busy:
            if hit is not None:
                return hit[3]
            raise
        done = time.monotonic()
        with self._lock:
            self.computed += 1
            self._entries[key] = (version, done, done - start, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
