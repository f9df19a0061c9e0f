"""`hitl campaign create|list|show|set`: rating campaigns and their settings."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from hitl import campaigns
from hitl.cli.common import (
    add_dataclass_flags,
    add_db_flag,
    console,
    dataclass_flag_values,
    print_table,
    store_from,
)
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.config import CampaignSettings, build_config, load_yaml_overrides
from hitl.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("campaign", help="Create, list, show and change rating campaigns.")
    actions = p.add_subparsers(dest="action", required=True)

    create = actions.add_parser("create", help="Create a campaign.")
    create.add_argument("name")
    create.add_argument("--config", help="YAML file of CampaignSettings overrides (flags override it).")
    create.add_argument("--guidelines-file", help="Markdown file with the rater guidelines.")
    add_dataclass_flags(create, CampaignSettings, skip=("name",))
    create.set_defaults(func=_create)

    ls = actions.add_parser("list", help="List campaigns with their item counts.")
    ls.set_defaults(func=_list)

    show = actions.add_parser("show", help="Show a campaign's settings and progress.")
    show.add_argument("name")
    show.set_defaults(func=_show)

    change = actions.add_parser("set", help="Change settings of a campaign.")
    change.add_argument("name")
    change.add_argument("--guidelines-file", help="Markdown file with the rater guidelines.")
    add_dataclass_flags(change, CampaignSettings, skip=("name", "item_kind"))
    change.set_defaults(func=_set)

    for parser in (create, ls, show, change):
        add_db_flag(parser)
    for parser in (ls, show):
        add_json_flag(parser)


def _guidelines(args) -> str | None:
    if not args.guidelines_file:
        return None
    path = Path(args.guidelines_file)
    if not path.is_file():
        raise InvalidInput(f"guidelines file {path} does not exist")
    return path.read_text()


def _create(args) -> None:
    flags = dataclass_flag_values(args, CampaignSettings)
    flags["name"] = args.name
    if (text := _guidelines(args)) is not None:
        flags["guidelines"] = text
    settings = build_config(CampaignSettings, load_yaml_overrides(args.config), flags)
    c = campaigns.create_campaign(store_from(args), settings)
    console.print(
        f"created campaign [bold]{c.name}[/bold] (id {c.id}): {c.settings.item_kind}, overlap {c.settings.overlap}"
    )


def _list(args) -> None:
    store = store_from(args)
    found = [(c, campaigns.item_counts(store, c)) for c in campaigns.list_campaigns(store)]
    if args.json:
        emit_json([{"id": c.id, "name": c.name, "settings": c.settings, "items": n} for c, n in found])
        return
    rows = [
        [c.id, c.name, c.settings.item_kind, c.settings.overlap, n["open"], n["done"], n["gold"]] for c, n in found
    ]
    print_table("Campaigns", ["id", "name", "kind", "overlap", "open", "done", "gold"], rows)


def _show(args) -> None:
    store = store_from(args)
    c = campaigns.get_campaign(store, args.name)
    if args.json:
        emit_json({"id": c.id, "name": c.name, "settings": c.settings, "items": campaigns.item_counts(store, c)})
        return
    rows = [[k, v] for k, v in dataclasses.asdict(c.settings).items() if k != "guidelines"]
    rows += [[f"items {k}", v] for k, v in campaigns.item_counts(store, c).items()]
    print_table(f"Campaign {c.name}", ["setting", "value"], rows)
    if c.settings.guidelines:
        console.print(c.settings.guidelines)


def _set(args) -> None:
    changes = {k: v for k, v in dataclass_flag_values(args, CampaignSettings).items() if v is not None and k != "name"}
    if (text := _guidelines(args)) is not None:
        changes["guidelines"] = text
    if not changes:
        raise InvalidInput("nothing to change: pass at least one setting flag (see --help)")
    c = campaigns.update_campaign(store_from(args), args.name, **changes)
    console.print(f"updated {c.name}: {', '.join(sorted(changes))}")
