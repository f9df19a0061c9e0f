"""Pieces every subcommand shares: opening the store, flags from config dataclasses, printing tables."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

from hitl.errors import InvalidInput
from hitl.paths import DEFAULT_HITL_HOME
from hitl.store import Store, open_store

console = Console(width=None if sys.stdout.isatty() else 140)


def add_db_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help="Store URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB "
        f"(default: $HITL_DB, else $HITL_HOME/hitl.db with HITL_HOME defaulting to {DEFAULT_HITL_HOME}).",
    )


def add_trainer_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """Let a subcommand take every trainer option as a flag under its TRL name, handed to TRL's TrlParser
    (hitl.trainer_config) by hitl.cli.main; `--trainer-help` prints them all."""
    parser.set_defaults(takes_trainer_flags=True, trainer_args=[])
    parser.add_argument(
        "--trainer-help",
        action="store_true",
        help=f"List every {what} option (TRL's names, types, defaults and help) and exit. Any of them can be given "
        "as a flag, e.g. --learning_rate 1e-4, or in the --config YAML.",
    )


# Libraries under the training commands warn about their own future changes; a user can do nothing about them.
THIRD_PARTY = r"(transformers|trl|peft|accelerate|datasets|torch|huggingface_hub)(\.|$)"


@contextlib.contextmanager
def third_party_warnings_hidden() -> Iterator[None]:
    """FutureWarnings and DeprecationWarnings raised inside the ML libraries are not shown (`-v` shows them)."""
    with warnings.catch_warnings():
        if not logging.getLogger().isEnabledFor(logging.INFO):
            for category in (FutureWarning, DeprecationWarning):
                warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY)
        yield


def store_from(args: argparse.Namespace) -> Store:
    return open_store(args.db)


def add_dataclass_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One `--flag` per dataclass field, its help from the field's metadata; booleans get --x/--no-x."""
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.type in (bool, "bool"):
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=f"{help_text} [{default}]"
            )
        else:
            kind = {"int": int, "float": float}.get(f.type if isinstance(f.type, str) else f.type.__name__, str)
            parser.add_argument(flag, type=kind, default=None, help=f"{help_text} [{default}]")


def dataclass_flag_values(args: argparse.Namespace, cls) -> dict[str, Any]:
    return {f.name: getattr(args, f.name, None) for f in dataclasses.fields(cls)}


def read_password(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    """From --password-stdin, $HITL_PASSWORD, or an interactive prompt (asked twice)."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("HITL_PASSWORD"):
        return os.environ["HITL_PASSWORD"]
    if not sys.stdin.isatty():
        raise InvalidInput("no password given: pass --password-stdin and pipe it in, or set HITL_PASSWORD")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[fmt(v) for v in row])
    console.print(table)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
