"""The admin page: users (add, disable, reset password, role, API tokens), campaigns (settings), uploads of
prompts and responses, and export downloads through the authenticated API route.

    hitl serve    # then log in as an admin: http://127.0.0.1:7860/admin/

One builder per tab; each returns what the page load fills in it. Every choice list comes from the core's
tuples (roles, item kinds, pairings, layouts, formats, aggregates), so the page offers what the core accepts.
Exports are never put in Gradio's file cache: the page shows a link to GET /api/v1/export, which checks
the admin's session cookie and streams a freshly written file.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import gradio as gr
from gradio.events import Dependency

from collection_ui.api import PREFIX
from collection_ui.common import caller, nav_markdown, page_blocks, safe_markdown, shown_errors
from hitl.config import CampaignSettings
from hitl.errors import HitlError
from hitl.io import LAYOUTS
from hitl.io.imports import PAIRINGS
from hitl.preferences import AGGREGATES
from hitl.service import Service
from hitl.service.admin import DOWNLOAD_FORMATS, UPLOAD_SUFFIXES
from hitl.store.schema import ITEM_KINDS
from hitl.users import ROLES, User

USER_HEADERS = ["user", "role", "active", "API tokens"]
COUNT_COLUMNS = ["open", "done", "gold"]
CAMPAIGN_COLUMNS = [f.name for f in dataclasses.fields(CampaignSettings) if f.name != "guidelines"] + COUNT_COLUMNS
# The campaigns table's headers as people read them (the settings' own names stay the keys).
CAMPAIGN_HEADERS = {
    "item_kind": "kind",
    "gold_rate": "gold rate",
    "lease_ttl_seconds": "lease (s)",
    "allow_tie": "tie allowed",
    "allow_both_bad": "both bad allowed",
    "require_rationale": "rationale required",
    "show_prelabel": "shows hint",
    "open": "open items",
    "done": "done items",
    "gold": "gold items",
}


def _cell(value):
    return ("yes" if value else "no") if isinstance(value, bool) else value


NEW_CAMPAIGN = dataclasses.asdict(CampaignSettings(name=""))  # the form of a new campaign: the core's defaults
NEW_CHOICE = ("new campaign", "")


@dataclass(frozen=True)
class TabView:
    """What the page load fills in a tab: the components, and their updates for the calling admin."""

    outputs: list
    fill: Callable[[User], dict]


def _users_tab(service: Service) -> TabView:
    admin = service.admin
    users = gr.Dataframe(headers=USER_HEADERS, interactive=False, label="Users")
    with gr.Row():
        new_name = gr.Textbox(label="New user name", max_lines=1, max_length=64)
        new_role = gr.Dropdown(label="Role", choices=list(ROLES), value=ROLES[0])
        new_password = gr.Textbox(label="Password (8+ characters)", type="password", max_length=1024)
        add = gr.Button("Add user", variant="primary")
    with gr.Row():
        who = gr.Dropdown(label="User", choices=[], interactive=True)
        role = gr.Dropdown(label="Set role", choices=list(ROLES), value=ROLES[0])
        set_role = gr.Button("Set role")
        disable = gr.Button("Disable")
        enable = gr.Button("Enable")
    with gr.Row():
        password = gr.Textbox(label="New password", type="password", max_length=1024)
        reset = gr.Button("Reset password")
        token = gr.Button("Create API token")
        revoke = gr.Button("Revoke API tokens")
    token_out = gr.Textbox(label="New API token (shown once)", interactive=False, buttons=["copy"])
    status = safe_markdown()

    def fill(user: User) -> dict:
        rows = admin.users(user)
        return {
            users: [[u.name, u.role, "yes" if u.active else "no", u.api_tokens] for u in rows],
            who: gr.update(choices=[u.name for u in rows]),
        }

    def run(user: User, action: str, name: str, new_role: str, new_pw: str) -> tuple[str, str]:
        """(the API token to show, the message) after one user action."""
        if action == "role":
            return "", f"{name} is now a {admin.set_role(user, name, new_role).role}."
        if action in ("disable", "enable"):
            admin.set_active(user, name, action == "enable")
            return "", f"{name} is {action}d."
        if action == "password":
            admin.reset_password(user, name, new_pw)
            return "", f"The password of {name} was reset; their sessions were ended."
        if action == "token":
            made = admin.create_token(user, name, "web")
            return made, f"New API token for {name}: copy it now, it is not shown again."
        return "", f"Revoked {admin.revoke_tokens(user, name)} API token(s) of {name}."

    def act(action: str):
        def handler(name, chosen_role, new_pw, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                if not name:
                    raise gr.Error("Pick a user first.")
                shown_token, message = run(user, action, name, chosen_role, new_pw)
                return {**fill(user), token_out: shown_token, status: message, password: ""}

        return handler

    def add_user(name, chosen_role, new_pw, request: gr.Request):
        with shown_errors():
            user = caller(service, request, "admin")
            made = admin.add_user(user, name, chosen_role, new_pw)
            return {**fill(user), status: f"Added {made.name} ({made.role}).", new_name: "", new_password: ""}

    refreshed = [users, who]
    add.click(
        add_user,
        [new_name, new_role, new_password],
        [*refreshed, status, new_name, new_password],
        api_visibility="private",
    )
    buttons = {
        "role": set_role,
        "disable": disable,
        "enable": enable,
        "password": reset,
        "token": token,
        "revoke": revoke,
    }
    for action, button in buttons.items():
        button.click(
            act(action), [who, role, password], [*refreshed, token_out, status, password], api_visibility="private"
        )
    return TabView(refreshed, fill)


def _campaign_form() -> dict:
    """The settings form, one component per CampaignSettings field (by name, so values never shift places),
    showing a new campaign's defaults until a campaign is picked."""
    new = NEW_CAMPAIGN
    with gr.Row():
        name = gr.Textbox(label="Campaign name (new)", max_lines=1, max_length=128, elem_id="hitl-campaign-name")
        kind = gr.Dropdown(
            label="Item kind", choices=list(ITEM_KINDS), value=new["item_kind"], elem_id="hitl-campaign-kind"
        )
        overlap = gr.Number(
            label="Overlap", value=new["overlap"], precision=0, minimum=1, maximum=100, elem_id="hitl-campaign-overlap"
        )
        gold = gr.Number(label="Gold rate", value=new["gold_rate"], minimum=0, maximum=1)
        ttl = gr.Number(label="Lease TTL (s)", value=new["lease_ttl_seconds"], minimum=1)
    with gr.Row():
        tie = gr.Checkbox(label="Allow tie", value=new["allow_tie"])
        bad = gr.Checkbox(label="Allow both bad", value=new["allow_both_bad"])
        why = gr.Checkbox(label="Rationale required for tie / both bad", value=new["require_rationale"])
        hint = gr.Checkbox(label="Show reward-model hint", value=new["show_prelabel"])
    guidelines = gr.Textbox(
        label="Guidelines (Markdown)",
        value=new["guidelines"],
        lines=6,
        max_length=100_000,
        elem_id="hitl-campaign-guidelines",
    )
    aspects = gr.Textbox(
        label="Aspects scored 0-4 per response, comma-separated (optional; e.g. helpfulness,correctness,verbosity)",
        value=new["aspects"],
        max_lines=1,
        max_length=300,
        elem_id="hitl-campaign-aspects",
    )
    return {
        "name": name,
        "guidelines": guidelines,
        "item_kind": kind,
        "overlap": overlap,
        "gold_rate": gold,
        "lease_ttl_seconds": ttl,
        "allow_tie": tie,
        "allow_both_bad": bad,
        "require_rationale": why,
        "show_prelabel": hint,
        "aspects": aspects,
    }


def _campaigns_tab(service: Service) -> tuple[TabView, Dependency]:
    """The Campaigns tab and its save event (after which the page refreshes the other tabs' pickers)."""
    admin = service.admin
    table = gr.Dataframe(
        headers=[CAMPAIGN_HEADERS.get(c, c) for c in CAMPAIGN_COLUMNS],
        interactive=False,
        label="Campaigns",
        elem_classes=["hitl-table"],
    )
    pick = gr.Dropdown(
        label="Campaign to edit", choices=[NEW_CHOICE], value="", interactive=True, elem_id="hitl-campaign-pick"
    )
    form = _campaign_form()
    save = gr.Button("Save campaign", variant="primary", elem_id="hitl-campaign-save")
    status = safe_markdown(elem_id="hitl-campaign-status")

    def filled(values: dict, existing: bool) -> dict:
        # An existing campaign keeps its name (it is its key); a new one is named here.
        named = gr.update(value=values["name"], interactive=not existing)
        return {**{form[k]: v for k, v in values.items()}, form["name"]: named}

    def fill(user: User, picked: str | None = None) -> dict:
        rows = admin.campaigns(user)
        choices = [NEW_CHOICE, *[(c["name"], c["name"]) for c in rows]]
        return {
            table: [[_cell(c[k]) for k in CAMPAIGN_COLUMNS] for c in rows],
            pick: gr.update(choices=choices) if picked is None else gr.update(choices=choices, value=picked),
        }

    def choose(name: str, request: gr.Request):
        with shown_errors():
            user = caller(service, request, "admin")
            if not name:
                return {**filled(NEW_CAMPAIGN, False), status: ""}
            return {**filled(dataclasses.asdict(admin.campaign(user, name)), True), status: ""}

    def save_campaign(data: dict, request: gr.Request):
        with shown_errors():
            user = caller(service, request, "admin")
            values = {k: data[c] for k, c in form.items()}
            existing = bool(data[pick])
            if existing:
                values["name"] = data[pick]  # the picked campaign, whatever the (locked) name box says
            saved, changed = admin.save_campaign_form(user, values, new=not existing)
            if not existing:
                message = f"Created campaign {saved.name}."
            elif changed:
                message = f"Saved campaign {saved.name}: {', '.join(changed)} changed."
            else:
                message = f"Nothing to save: campaign {saved.name} already has these settings."
            shown = filled(dataclasses.asdict(saved), True)
            return {**fill(user, saved.name), **shown, status: message}

    form_outputs = list(form.values())
    pick.input(choose, pick, [*form_outputs, status], api_visibility="private")
    saved = save.click(
        save_campaign, {pick, *form_outputs}, [table, pick, *form_outputs, status], api_visibility="private"
    )
    view = TabView([table, pick], fill)
    return view, saved


def _uploads_tab(service: Service) -> TabView:
    admin = service.admin
    gr.Markdown(
        f"JSONL, CSV or Parquet, up to {service.settings.max_upload_mb:g} MB. A bad record stores "
        "nothing and names its line."
    )
    with gr.Row():
        with gr.Column():
            prompts_file = gr.File(label="Prompts", file_types=list(UPLOAD_SUFFIXES))
            tags = gr.Textbox(label="Tags for every prompt (comma-separated)", max_lines=1, max_length=1000)
            load_prompts = gr.Button("Import prompts")
        with gr.Column():
            responses_file = gr.File(label="Responses", file_types=list(UPLOAD_SUFFIXES))
            campaign = gr.Dropdown(label="Make items in campaign", choices=[], interactive=True)
            model = gr.Textbox(label="Model version (for records without `model`)", max_lines=1)
            pairing = gr.Dropdown(label="Pairing", choices=list(PAIRINGS), value=PAIRINGS[0])
            load_responses = gr.Button("Import responses")
    status = safe_markdown(elem_id="hitl-upload-status")

    def fill(user: User) -> dict:
        return {campaign: gr.update(choices=admin.campaign_names(user))}

    def imported(user, kind: str, path, **options) -> str:
        if not path:
            return "Choose a file first."
        try:
            return admin.import_path(user, kind, path, **options).summary()
        except HitlError as exc:
            return f"**Nothing was imported.** {exc}"

    def import_prompts(path, tag_text, request: gr.Request):
        with shown_errors():
            user = caller(service, request, "admin")
            return imported(user, "prompts", path, tags=[t.strip() for t in (tag_text or "").split(",") if t.strip()])

    def import_responses(path, name, version, how, request: gr.Request):
        with shown_errors():
            user = caller(service, request, "admin")
            return imported(user, "responses", path, campaign=name or None, model=version or None, pairing=how)

    load_prompts.click(import_prompts, [prompts_file, tags], status, api_visibility="private")
    load_responses.click(
        import_responses, [responses_file, campaign, model, pairing], status, api_visibility="private"
    )
    return TabView([campaign], fill)


def _export_tab(service: Service) -> TabView:
    with gr.Row():
        campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True)
        layout = gr.Dropdown(label="Layout", choices=list(LAYOUTS), value=LAYOUTS[0])
        fmt = gr.Dropdown(label="Format", choices=list(DOWNLOAD_FORMATS), value=DOWNLOAD_FORMATS[0])
        aggregate = gr.Dropdown(label="Aggregate (pairs)", choices=list(AGGREGATES), value=AGGREGATES[0])
    link = gr.Button("Make download link")
    download = safe_markdown(elem_id="hitl-export-link")

    def fill(user: User) -> dict:
        return {campaign: gr.update(choices=service.admin.campaign_names(user))}

    def make_link(name, shape, kind, how, request: gr.Request):
        with shown_errors():
            caller(service, request, "admin")
            query = {"layout": shape, "format": kind}
            if name:
                query["campaign"] = name
            if shape == "pairs":
                query["aggregate"] = how
            return f"[Download {name or 'all campaigns'} ({shape}, {kind})]({PREFIX}/export?{urlencode(query)})"

    link.click(make_link, [campaign, layout, fmt, aggregate], download, api_visibility="private")
    return TabView([campaign], fill)


def build(service: Service) -> gr.Blocks:
    with page_blocks("admin") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Tab("Users"):
            users = _users_tab(service)
        with gr.Tab("Campaigns"):
            campaigns, saved = _campaigns_tab(service)
        with gr.Tab("Uploads"):
            uploads = _uploads_tab(service)
        with gr.Tab("Export"):
            export = _export_tab(service)
        tabs = (users, campaigns, uploads, export)

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                return {nav: nav_markdown(user, "admin"), **{k: v for tab in tabs for k, v in tab.fill(user).items()}}

        def pickers(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                return {**uploads.fill(user), **export.fill(user)}

        page.load(load, None, [nav, *[c for tab in tabs for c in tab.outputs]], api_visibility="private")
        # A new campaign shows up in the other tabs' campaign pickers at once.
        saved.success(pickers, None, [*uploads.outputs, *export.outputs], api_visibility="private")
    return page
