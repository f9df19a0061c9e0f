"""The web app: one ASGI app with the REST API under /api/v1, the login routes, and one Gradio app per page.

    hitl serve --host 127.0.0.1 --port 7860            # or: python -m collection_ui.app

`build_app(service)` returns the FastAPI app; `serve(store, host, port)` runs it with uvicorn (one
worker), which is what `hitl serve` and `hitl demo` call. Every page is mounted with SSR off,
monitoring off, errors hidden (show_error=False), no allowed paths and its own role check; every response
passes collection_ui.security.WebGuard (headers, origin checks, upload isolation). uvicorn's own
proxy-header handling is off (`server_config`): which forwarded headers to believe is the app's decision
(WebSettings.trusted_proxies), and believing them from any local client would let a guesser pose as anyone.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import AsyncIterator

import anyio
import gradio as gr
from fastapi import FastAPI

from collection_ui.api import PREFIX, install_api, new_app
from collection_ui.auth import PageGuard, add_login_routes, gradio_auth
from collection_ui.common import CSS
from collection_ui.security import WebGuard
from collection_ui.shortcuts import SHORTCUTS_HEAD
from hitl.service import PAGE_ROLES, Service, WebSettings
from hitl.store import Store

log = logging.getLogger(__name__)

# Pages with keyboard shortcuts get the shortcut script in their <head>.
KEYBOARD_PAGES = ("rate", "arena")
# Events are short store calls: a few may run at once (the default of one would queue every rater behind one).
EVENT_CONCURRENCY = 8


def _lifespan(threads: int):
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and Gradio events share anyio's thread pool (40 threads by default). Requests are short
        # store calls and the store has one writer: a few threads keep both cores busy, while 40 only add
        # switching and churn the SQLite reader pool (connections opened and closed past its size).
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def _calm_queue(blocks: gr.Blocks) -> None:
    """Let an idle page queue poll every 10 ms instead of every 1 ms.

    Gradio's queue loop polls for work every millisecond (and progress every 10 ms) even when nothing is
    queued; with six pages mounted that is thousands of event-loop wake-ups a second, which on two cores
    visibly slows the REST API. Ten milliseconds of extra delay on a page event is not noticeable.
    The attributes are Gradio internals (6.x): if they move, this silently does nothing.
    """
    queue = getattr(blocks, "_queue", None)
    if queue is not None and hasattr(queue, "sleep_when_free"):
        queue.sleep_when_free = max(queue.sleep_when_free, 0.01)
        queue.progress_update_sleep_when_free = max(getattr(queue, "progress_update_sleep_when_free", 0), 0.1)


def build_app(service: Service, pages: tuple[str, ...] | None = None) -> FastAPI:
    """The whole app. `pages` limits which pages are mounted (tests); all of them by default."""
    # No telemetry leaves the machine, whatever the environment says.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    app = new_app(lifespan=_lifespan(service.settings.threads))
    install_api(app, service)
    add_login_routes(app, service)
    for name in tuple(PAGE_ROLES) if pages is None else pages:
        module = importlib.import_module(f"collection_ui.{name}")
        blocks = module.build(service).queue(default_concurrency_limit=EVENT_CONCURRENCY)
        _calm_queue(blocks)
        gr.mount_gradio_app(
            app,
            blocks,
            path=f"/{name}",
            auth_dependency=gradio_auth(service, PAGE_ROLES[name]),
            ssr_mode=False,
            enable_monitoring=False,
            show_error=False,
            allowed_paths=[],
            footer_links=[],
            run_history=False,
            mcp_server=False,
            pwa=False,
            max_file_size=service.settings.max_upload_bytes,
            css=CSS,
            head=SHORTCUTS_HEAD if name in KEYBOARD_PAGES else None,
        )
    app.add_middleware(PageGuard, service=service)
    app.add_middleware(WebGuard)  # outermost: its headers reach every response, the guards' own included
    return app


def server_config(app: FastAPI, host: str = "127.0.0.1", port: int = 7860, log_level: str = "warning"):
    """The uvicorn settings `serve` runs with: one worker, no access log, forwarded headers left to the app."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=1,
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def serve(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 7860,
    settings: WebSettings | None = None,
    log_level: str = "warning",
) -> None:
    """Run the app until interrupted: one uvicorn worker (raters share one process and its store)."""
    import uvicorn

    app = build_app(Service(store, settings or WebSettings()))
    # A thread busy computing (a board, an export) hands the GIL over within 1 ms instead of 5: the raters'
    # short requests, which give it up at every socket and store call, then wait far less for it.
    sys.setswitchinterval(0.001)
    log.info("serving on http://%s:%d (API docs at %s/docs)", host, port, PREFIX)
    uvicorn.Server(server_config(app, host, port, log_level)).run()


if __name__ == "__main__":
    from hitl.store import open_store

    serve(open_store())
