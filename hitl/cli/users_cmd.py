"""`hitl users add|list|disable|enable|passwd|role|token`: manage logins and roles."""

from __future__ import annotations

import argparse

from hitl import users
from hitl.cli.common import add_db_flag, console, print_table, read_password, store_from
from hitl.store.schema import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="Add, list, disable users; reset passwords; change roles; API tokens.")
    actions = p.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="Add a user.")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="rater", help="rater, reviewer or admin [rater]")
    add.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")
    add.set_defaults(func=_add)

    ls = actions.add_parser("list", help="List users.")
    ls.set_defaults(func=_list)

    for name, active in (("disable", False), ("enable", True)):
        a = actions.add_parser(name, help=f"{name.capitalize()} a user (disabled users cannot log in).")
        a.add_argument("name")
        a.set_defaults(func=lambda args, active=active: _set_active(args, active))

    pw = actions.add_parser("passwd", help="Reset a user's password.")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")
    pw.set_defaults(func=_passwd)

    role = actions.add_parser("role", help="Change a user's role.")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(func=_role)

    tok = actions.add_parser("token", help="Create (or --revoke all) API tokens for a user.")
    tok.add_argument("name")
    tok.add_argument("--label", default="", help="What the token is for.")
    tok.add_argument("--revoke", action="store_true", help="Revoke every live token of the user instead.")
    tok.set_defaults(func=_token)

    for parser in (add, ls, pw, role, tok, *[actions.choices[n] for n in ("disable", "enable")]):
        add_db_flag(parser)


def _add(args) -> None:
    user = users.create_user(store_from(args), args.name, args.role, read_password(args))
    console.print(f"added {user.role} [bold]{user.name}[/bold] (id {user.id})")


def _list(args) -> None:
    rows = [[u.id, u.name, u.role, u.active] for u in users.list_users(store_from(args))]
    print_table("Users", ["id", "name", "role", "active"], rows)


def _set_active(args, active: bool) -> None:
    from hitl.workforce.skills import unheld_warning, user_skill_names

    store = store_from(args)
    user = users.set_active(store, args.name, active)
    given_back = "" if user.active else " (items they held went back to the pool)"
    console.print(f"{user.name} is now {'active' if user.active else 'disabled'}{given_back}")
    warning = None if active else unheld_warning(store, user_skill_names(store, user.name))
    if warning:
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)


def _passwd(args) -> None:
    users.set_password(store_from(args), args.name, read_password(args, "New password: "))
    console.print(f"password of {args.name} changed")


def _role(args) -> None:
    user = users.set_role(store_from(args), args.name, args.role)
    console.print(f"{user.name} is now a {user.role}")


def _token(args) -> None:
    store = store_from(args)
    if args.revoke:
        console.print(f"revoked {users.revoke_api_tokens(store, args.name)} token(s) of {args.name}")
        return
    token = users.create_api_token(store, args.name, args.label)
    console.print("New API token (shown once; only its hash is stored):")
    print(token)
