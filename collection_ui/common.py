"""Pieces every page shares: who is calling, errors shown to the user, the menu, safe text components.

    python -c "import collection_ui.common"

Model output and anything a user typed is untrusted: it is shown only through `gr.Markdown` with HTML
sanitising on (never gr.HTML), built by the helpers here.
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
.hitl-response, .hitl-box { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0 .8em; }
.hitl-nav p { margin: 0; }
/* Model output wraps: a long code line must not push the page sideways (390 px phones included). */
.hitl-response pre, .hitl-box pre, .hitl-response code, .hitl-box code {
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.hitl-cut { color: #9a3412; }
#hitl-clock, #hitl-keyhint { font-variant-numeric: tabular-nums; min-height: 1.4em; }
#hitl-status { font-weight: 600; }
/* Tables people read: headers on one line, numbers aligned. */
.hitl-table th, .hitl-table th * { white-space: nowrap; }
.hitl-table td { font-variant-numeric: tabular-nums; }
/* ...except a table of many columns: one-line headers and a monospace font would push its last columns off a
   laptop screen, so its headers wrap and it is set in the page's font (numbers stay aligned: tabular figures). */
.hitl-table.hitl-wide th, .hitl-table.hitl-wide th * { white-space: normal; }
.hitl-table.hitl-wide { --font-mono: var(--font); }
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


def result_table(headers: list[str], label: str, elem_id: str, wide: bool = False, **kwargs) -> gr.Dataframe:
    """A read-only table of computed figures, styled as the pages' tables (`hitl-table`); `wide`: so many columns
    that its headers wrap."""
    classes = ["hitl-table", "hitl-wide"] if wide else ["hitl-table"]
    return gr.Dataframe(
        headers=headers, interactive=False, label=label, elem_id=elem_id, elem_classes=classes, **kwargs
    )


ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}


def prompt_markdown(text: str | None, messages: list[dict] | None) -> str:
    """A prompt as Markdown for safe_markdown: the plain text, or each stored chat turn under its role's name
    (a plain box, not a chat widget: nothing to click, clear or copy by accident)."""
    if not messages:
        return text or ""
    return "\n\n".join(f"**{ROLE_NAMES.get(m.get('role'), 'Message')}:** {m.get('content', '')}" for m in messages)


def page_blocks(title: str) -> gr.Blocks:
    return gr.Blocks(title=f"hitl — {title}", analytics_enabled=False)
