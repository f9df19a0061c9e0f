"""Settings of the web app and REST API (`hitl serve`): sessions, login throttling, proxies, uploads, breaks.

hitl serve --session-hours 12 --max-upload-mb 20 --trusted-proxies 10.0.0.5 --break-after-minutes 50
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from hitl.errors import InvalidInput


@dataclass
class WebSettings:
    """How the web app treats logins, uploads and raters' working time."""

    session_hours: float = field(default=12.0, metadata={"help": "A login lasts this long (hours)."})
    max_failed_logins: int = field(
        default=5,
        metadata={
            "help": "Wrong passwords for one user name before each further try waits (1 s, 2 s, 4 s, ...); "
            "a browser the user logged in from before is exempt."
        },
    )
    max_backoff_minutes: float = field(
        default=15.0, metadata={"help": "The longest wait between tries for one user name (minutes)."}
    )
    client_failed_logins: int = field(
        default=10, metadata={"help": "Wrong passwords from one client address per window before it must wait."}
    )
    login_window_minutes: float = field(
        default=15.0, metadata={"help": "Failed logins of a client address are counted over this window (minutes)."}
    )
    trusted_proxies: str = field(
        default="",
        metadata={
            "help": "Comma-separated addresses or networks of reverse proxies in front of the app: only their "
            "X-Forwarded-For / X-Forwarded-Proto headers are believed (none by default)."
        },
    )
    max_upload_mb: float = field(default=20.0, metadata={"help": "Largest prompt/response upload (MB)."})
    break_after_minutes: float = field(
        default=50.0, metadata={"help": "Suggest a break after this much continuous rating (minutes)."}
    )
    break_gap_minutes: float = field(
        default=10.0, metadata={"help": "A pause at least this long counts as a break (minutes)."}
    )
    threads: int = field(
        default=4,
        metadata={"help": "Threads that run requests and page events (the store allows one writer at a time)."},
    )
    secure_cookies: bool = field(
        default=False,
        metadata={
            "help": "Send cookies over HTTPS only. They are anyway when the request came over HTTPS (directly, or "
            "as a trusted proxy's X-Forwarded-Proto says)."
        },
    )

    def validate(self) -> None:
        if not 0 < self.session_hours <= 24 * 30:
            raise InvalidInput("session_hours must be between 0 and 720")
        if self.max_failed_logins < 1:
            raise InvalidInput("max_failed_logins must be at least 1")
        if self.login_window_minutes <= 0 or self.max_backoff_minutes <= 0:
            raise InvalidInput("login_window_minutes and max_backoff_minutes must be positive")
        if self.client_failed_logins < 1:
            raise InvalidInput("client_failed_logins must be at least 1")
        self.proxy_networks()  # refuses a malformed address now rather than at the first request
        if not 0 < self.max_upload_mb <= 1024:
            raise InvalidInput("max_upload_mb must be between 0 and 1024")
        if not 1 <= self.threads <= 64:
            raise InvalidInput("threads must be between 1 and 64")
        if self.break_after_minutes <= 0 or self.break_gap_minutes <= 0:
            raise InvalidInput("break_after_minutes and break_gap_minutes must be positive")

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The trusted proxies as networks (a bare address is a network of one)."""
        try:
            return tuple(
                ipaddress.ip_network(part.strip(), strict=False)
                for part in str(self.trusted_proxies or "").split(",")
                if part.strip()
            )
        except ValueError as exc:
            raise InvalidInput(f"trusted_proxies: {exc}") from None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
