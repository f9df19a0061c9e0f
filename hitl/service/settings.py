"""Settings of the web app and REST API (`hitl serve`): sessions, login throttling, uploads, break reminders.

hitl serve --session-hours 12 --max-upload-mb 20 --break-after-minutes 50
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hitl.errors import InvalidInput


@dataclass
class WebSettings:
    """How the web app treats logins, uploads and raters' working time."""

    session_hours: float = field(default=12.0, metadata={"help": "A login lasts this long (hours)."})
    max_failed_logins: int = field(
        default=5, metadata={"help": "Failed logins per user name (or per client) before logins are paused."}
    )
    login_window_minutes: float = field(
        default=15.0, metadata={"help": "Failed logins are counted over this window (minutes)."}
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
        default=False, metadata={"help": "Send the session cookie over HTTPS only (set behind a TLS proxy)."}
    )

    def validate(self) -> None:
        if not 0 < self.session_hours <= 24 * 30:
            raise InvalidInput("session_hours must be between 0 and 720")
        if self.max_failed_logins < 1:
            raise InvalidInput("max_failed_logins must be at least 1")
        if self.login_window_minutes <= 0:
            raise InvalidInput("login_window_minutes must be positive")
        if not 0 < self.max_upload_mb <= 1024:
            raise InvalidInput("max_upload_mb must be between 0 and 1024")
        if not 1 <= self.threads <= 64:
            raise InvalidInput("threads must be between 1 and 64")
        if self.break_after_minutes <= 0 or self.break_gap_minutes <= 0:
            raise InvalidInput("break_after_minutes and break_gap_minutes must be positive")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
