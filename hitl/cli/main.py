"""Entry point of the `hitl` command: `hitl --help` lists the subcommands.

User errors (HitlError, StoreError) print one clear line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys

from hitl import __version__
from hitl.errors import HitlError
from hitl.store import StoreError

# Subcommand modules, each with register(subparsers). Imported lazily per name, so `hitl users`
# never pays for the model stacks a training command needs.
COMMANDS = ("init_cmd", "users_cmd", "campaign_cmd", "io_cmd", "stats_cmd", "demo_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl",
        description="Human-in-the-loop RLHF: collect preference judgments, train reward models and policies.",
    )
    parser.add_argument("--version", action="version", version=f"hitl {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log what happens (INFO level).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    import importlib

    for name in COMMANDS:
        importlib.import_module(f"hitl.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        result = args.func(args)
    except (HitlError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
