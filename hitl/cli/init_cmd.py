"""`hitl init`: create (or migrate) the store and its first admin."""

from __future__ import annotations

import argparse

from hitl import users
from hitl.cli.common import add_db_flag, console, read_password, store_from
from hitl.errors import NotFound


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="Create or migrate the database and add the first admin.")
    add_db_flag(p)
    p.add_argument("--admin", default="admin", help="Name of the first admin [admin].")
    p.add_argument("--password-stdin", action="store_true", help="Read the admin password from standard input.")
    p.set_defaults(func=_init)


def _init(args) -> None:
    store = store_from(args)  # opening migrates
    console.print(f"store ready at {store.url}")
    try:
        existing = users.get_user(store, args.admin)
        console.print(f"user {existing.name} already exists ({existing.role}); nothing else to do")
    except NotFound:
        user = users.create_user(store, args.admin, "admin", read_password(args, "Admin password: "))
        console.print(f"added admin [bold]{user.name}[/bold]")
