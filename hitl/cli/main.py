"""Entry point of the `hitl` command (also `python -m hitl`): `hitl --help` lists the subcommands.

Exit status, for scripts: 0 done; 1 a domain error (HitlError, StoreError: a missing campaign, bad data in a file,
an unreachable store), printed as one `error: ...` line without a traceback; 2 a usage error (argparse's, or an
unknown or mistyped trainer flag: hitl.errors.UsageError); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from hitl import __version__
from hitl.distributed import end_process_group
from hitl.errors import HitlError, UsageError
from hitl.progress import quiet_third_party_bars
from hitl.store import StoreError

EXIT_ERROR, EXIT_USAGE = 1, 2

# Every `hitl/cli/*_cmd.py` module is a subcommand with register(subparsers). Modules import heavy
# stacks (torch, transformers, trl) inside their handlers, so `hitl users` never pays for them.
COMMANDS = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.endswith("_cmd"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl",
        description="Human-in-the-loop RLHF: collect preference judgments, train reward models and policies.",
    )
    parser.add_argument("--version", action="version", version=f"hitl {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log what happens (INFO level).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hitl.cli.{name}").register(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand without a description its one-line help as one, so `hitl X --help` opens with what
    X does (argparse shows `help` only in the parent's list)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                if not child.description and helps.get(name):
                    child.description = helps[name]
                _describe(child)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The parsed command line. Subcommands that train (hitl.cli.common.add_trainer_flags) keep the flags they do
    not know as `trainer_args` for TRL's parser; elsewhere an unknown flag is a usage error."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "takes_trainer_flags", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if rest:
        args.trainer_args = rest
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet_third_party_bars()  # off a terminal: plain progress lines, no redrawn bars full of escapes
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from hitl.cli.common import console

    # With --json, stdout carries the one JSON document; what a command says on the way goes to stderr.
    console.stderr = bool(getattr(args, "json", False))
    succeeded = False
    try:
        result = args.func(args)
        succeeded = True
    except (HitlError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        console.stderr = False
        end_process_group(succeeded)  # under accelerate launch: ranks leave together (hitl.distributed)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
