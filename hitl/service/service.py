"""The service layer the web pages and the REST API call: one object, one part per area, roles checked inside.

    python -c "from hitl.store import open_store; from hitl.service import Service; print(Service(open_store()))"

Every method takes the caller (a hitl.users.User resolved from a session cookie or an API token) and
checks its role itself, so no page or route can forget to.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from hitl.passwords import token_hash
from hitl.service import sessions
from hitl.service.access import pages_for
from hitl.service.admin import AdminService
from hitl.service.arena import ArenaService
from hitl.service.comparisons import ComparisonService
from hitl.service.dashboard import DashboardService
from hitl.service.heavy import HeavyGate
from hitl.service.rating import RatingService
from hitl.service.review import ReviewService
from hitl.service.settings import WebSettings
from hitl.service.workforce import WorkforceService
from hitl.store import Store
from hitl.users import User, user_for_token

# Programs call the API many times a second; an API token's owner is looked up once per this many seconds.
# Changes made through this service (revoking, disabling, new roles) clear the cache at once; a change
# made by another process (the `hitl users` CLI) applies within this time.
IDENTITY_TTL_SECONDS = 5.0
_CACHE_LIMIT = 10_000


@dataclass
class Service:
    store: Store
    settings: WebSettings = field(default_factory=WebSettings)

    def __post_init__(self) -> None:
        self.settings.validate()
        self._tokens: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()
        # One slot for every heavy computation (boards, dashboards, review scans, exports): at most one thread
        # is ever busy with them, however many callers ask at once (hitl.service.heavy).
        self.heavy = HeavyGate(1)
        self.rating = RatingService(self.store, self.settings)
        self.review = ReviewService(self.store, self.heavy)
        self.arena = ArenaService(self.store, gate=self.heavy)
        self.dashboard = DashboardService(self.store, self.heavy)
        self.comparisons = ComparisonService(self.store, self.heavy)
        self.admin = AdminService(self.store, self.settings, on_change=self.forget_cached, gate=self.heavy)
        self.workforce = WorkforceService(self.store, self.review, on_change=self.forget_cached, gate=self.heavy)

    def forget_cached(self) -> None:
        """Drop cached identities and campaign settings (after an admin changed users, tokens or campaigns)."""
        with self._lock:
            self._tokens.clear()
        self.rating.forget_cached()

    # --- identity ---

    def login(self, name: str, password: str, client: str, device: str | None = None) -> tuple[User, str]:
        """Password login (throttled); returns the user and the session token for the cookie.

        `client`: the caller's real address; `device`: its known-device cookie, if it sent one.
        """
        return sessions.login(self.store, self.settings, name, password, client, device)

    def device_cookie(self, user: User) -> str:
        """The known-device cookie to give a browser that just logged in as `user`."""
        return sessions.device_cookie(self.store, user)

    def logout(self, token: str | None) -> None:
        sessions.logout(self.store, token)

    def user_for_session(self, token: str | None) -> User | None:
        return sessions.user_for_session(self.store, token)

    def user_for_api_token(self, token: str) -> User:
        """The active owner of a live API token; AuthError otherwise (refusals are never cached)."""
        key = token_hash(token)  # the cache never holds a usable token
        now = time.monotonic()
        hit = self._tokens.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        user = user_for_token(self.store, token)
        with self._lock:
            if len(self._tokens) >= _CACHE_LIMIT:
                self._tokens.clear()
            self._tokens[key] = (user, now + IDENTITY_TTL_SECONDS)
        return user

    @staticmethod
    def pages_for(user: User) -> list[str]:
        return pages_for(user)
