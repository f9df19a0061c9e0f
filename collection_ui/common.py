"""Pieces every page shares: who is calling, errors shown to the user, the menu, safe text components.

    python -c "import collection_ui.common"

Model output and anything a user typed is untrusted: it is shown only through `gr.Markdown` and
`gr.Chatbot` with HTML sanitising on (never gr.HTML), built by the helpers here.
"""

import contextlib
from collections.abc import Iterator

import gradio as gr

from collection_ui.auth import session_user
from hitl.errors import HitlError
from hitl.service import Service, require
from hitl.service.access import pages_for
from hitl.users import User

PAGE_TITLES = {
    "rate": "Rate",
    "arena": "Arena",
    "leaderboard": "Leaderboard",
    "review": "Review",
    "dashboard": "Dashboard",
    "admin": "Admin",
}

CSS = """
.hitl-response { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0 .8em; }
.hitl-nav p { margin: 0; }
#hitl-clock { font-variant-numeric: tabular-nums; }
"""


def caller(service: Service, request: gr.Request, role: str) -> User:
    """The user of this event's session, checked for `role` on the server (never trusting page state)."""
    cookies = getattr(request, "cookies", None) or {}
    return require(session_user(service, cookies), role)


@contextlib.contextmanager
def shown_errors() -> Iterator[None]:
    """A user-fixable error becomes a message in the page instead of a generic failure."""
    try:
        yield
    except HitlError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def nav_markdown(user: User, current: str) -> str:
    links = [f"**{PAGE_TITLES[p]}**" if p == current else f"[{PAGE_TITLES[p]}](/{p}/)" for p in pages_for(user)]
    return " · ".join(links) + f" — logged in as **{user.name}** ({user.role}) · [Log out](/logout)"


def safe_markdown(value: str = "", **kwargs) -> gr.Markdown:
    """Markdown for untrusted text: HTML sanitised, no header anchors."""
    return gr.Markdown(value, sanitize_html=True, header_links=False, **kwargs)


def safe_chatbot(**kwargs) -> gr.Chatbot:
    """A read-only chat view for prompts; custom tags are not let through the sanitiser."""
    return gr.Chatbot(
        sanitize_html=True,
        allow_tags=False,
        render_markdown=True,
        feedback_options=None,
        buttons=[],
        allow_file_downloads=False,
        **kwargs,
    )


def chat_messages(text: str | None, messages: list[dict] | None) -> list[dict]:
    """A prompt as chat turns: the plain text as one user turn, or the stored chat as it is."""
    if messages:
        return [{"role": m["role"], "content": m["content"]} for m in messages]
    return [{"role": "user", "content": text or ""}]


def page_blocks(title: str) -> gr.Blocks:
    return gr.Blocks(title=f"hitl — {title}", analytics_enabled=False)
