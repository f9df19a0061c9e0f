"""`hitl serve`: the web app (rate, review, arena, leaderboard, dashboard, admin) and the REST API, one process;
with `--loop-campaign`, the loop (hitl/loop) runs beside it in a worker process.

hitl serve --host 127.0.0.1 --port 7860 --db sqlite:///hitl.db
hitl serve --loop-campaign demo --loop-config configs/cpu.yaml
"""

from __future__ import annotations

import argparse

from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, store_from
from hitl.config import build_config
from hitl.loop.worker import LoopWorkerSettings
from hitl.service.settings import WebSettings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="Serve the web app and the REST API (/api/v1, docs at /api/v1/docs).")
    p.add_argument("--host", default="127.0.0.1", help="Address to listen on [127.0.0.1].")
    p.add_argument("--port", type=int, default=7860, help="Port [7860].")
    p.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"), help="[warning]")
    add_dataclass_flags(p, WebSettings)
    add_dataclass_flags(p, LoopWorkerSettings)
    add_db_flag(p)
    p.set_defaults(func=_serve)


def _serve(args) -> None:
    # Imported here: `hitl users ...` should not pay for importing Gradio.
    from collection_ui.app import serve

    settings = build_config(WebSettings, {}, dataclass_flag_values(args, WebSettings))
    settings.validate()
    store = store_from(args)
    worker = _loop_worker(args, store)
    console.print(f"hitl: serving on http://{args.host}:{args.port}/ (log in at /login; API at /api/v1/docs)")
    try:
        serve(store, args.host, args.port, settings=settings, log_level=args.log_level)
    finally:
        if worker is not None:
            worker.stop()
        store.close()


def _loop_worker(args, store):
    """The background loop, when a campaign is named: checked here so a typo fails before the server starts."""
    from hitl.campaigns import get_campaign
    from hitl.errors import InvalidInput
    from hitl.loop.worker import LoopWorker

    values = {k: v for k, v in dataclass_flag_values(args, LoopWorkerSettings).items() if v is not None}
    loop = LoopWorkerSettings(**values)
    if not loop.loop_campaign:
        return None
    get_campaign(store, loop.loop_campaign)
    if loop.loop_min_new_judgments < 1 or loop.loop_check_seconds <= 0:
        raise InvalidInput("--loop-min-new-judgments must be at least 1 and --loop-check-seconds positive")
    worker = LoopWorker(loop, store.url)
    worker.start()
    console.print(f"loop worker: `hitl loop` on campaign {loop.loop_campaign} (rounds on the dashboard)")
    return worker
