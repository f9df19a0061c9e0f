"""`hitl demo`: set up the demo under HITL_HOME and run the calibration round (see hitl/demo.py)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hitl import demo, io
from hitl.campaigns import get_campaign
from hitl.cli.common import add_db_flag, console, store_from
from hitl.cli.stats_cmd import show_stats


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="The demo on embedded data: logins, campaigns, prompts, a calibration round.")
    add_db_flag(p)
    p.add_argument("--seed", type=int, default=0, help="Seed of the scripted raters [0].")
    p.set_defaults(func=_demo)


def _demo(args) -> None:
    home = Path(os.environ.get("HITL_HOME", Path.home() / ".cache" / "hitl"))
    home.mkdir(parents=True, exist_ok=True)
    store = store_from(args)
    console.rule("hitl demo")
    console.print(f"store: {store.url}")
    creds = demo.set_up(store, home)
    calibration = get_campaign(store, "calibration")
    n = demo.run_calibration(store, calibration, seed=args.seed)
    console.print(f"scripted raters recorded {n} new judgments on the calibration campaign's gold pairs")
    show_stats(store, calibration, hours=1)
    manifest = io.export(store, home / "exports" / "calibration-raw.jsonl", layout="raw", campaign=calibration)
    console.print(f"exported {manifest.counts} to {manifest.data_path} (manifest: {manifest.path})")
    console.rule("logins")
    for name, password in creds.items():
        console.print(f"  {name:6s} {password}")
    console.print(
        "Next: `hitl campaign show demo`, `hitl stats --campaign calibration`, "
        f"`hitl export out.jsonl --campaign calibration` (with HITL_HOME={home})."
    )
