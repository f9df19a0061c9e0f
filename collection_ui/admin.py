"""The admin page: users (add, disable, reset password, role, API tokens), campaigns (settings), uploads of
prompts and responses, and export downloads through the authenticated API route.

    hitl serve    # then log in as an admin: http://127.0.0.1:7860/admin/

Exports are never put in Gradio's file cache: the page shows a link to GET /api/v1/export, which checks
the admin's session cookie and streams a freshly written file.
"""

from urllib.parse import urlencode

import gradio as gr

from collection_ui.api import PREFIX
from collection_ui.common import caller, nav_markdown, page_blocks, safe_markdown, shown_errors
from hitl.errors import HitlError
from hitl.service import Service

USER_HEADERS = ["user", "role", "active", "API tokens"]
CAMPAIGN_COLUMNS = [
    "name",
    "item_kind",
    "overlap",
    "gold_rate",
    "lease_ttl_seconds",
    "allow_tie",
    "allow_both_bad",
    "require_rationale",
    "show_prelabel",
    "open",
    "done",
    "gold",
]
ROLES = ["rater", "reviewer", "admin"]


def _users(rows) -> list[list]:
    return [[u.name, u.role, "yes" if u.active else "no", u.api_tokens] for u in rows]


def _campaigns(rows) -> list[list]:
    return [[c[k] for k in CAMPAIGN_COLUMNS] for c in rows]


def build(service: Service) -> gr.Blocks:
    admin = service.admin

    with page_blocks("admin") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Tab("Users"):
            users = gr.Dataframe(headers=USER_HEADERS, interactive=False, label="Users")
            with gr.Row():
                new_name = gr.Textbox(label="New user name", max_lines=1, max_length=64)
                new_role = gr.Dropdown(label="Role", choices=ROLES, value="rater")
                new_password = gr.Textbox(label="Password (8+ characters)", type="password", max_length=1024)
                add = gr.Button("Add user", variant="primary")
            with gr.Row():
                who = gr.Dropdown(label="User", choices=[], interactive=True)
                role = gr.Dropdown(label="Set role", choices=ROLES, value="rater")
                set_role = gr.Button("Set role")
                disable = gr.Button("Disable")
                enable = gr.Button("Enable")
            with gr.Row():
                password = gr.Textbox(label="New password", type="password", max_length=1024)
                reset = gr.Button("Reset password")
                token = gr.Button("Create API token")
                revoke = gr.Button("Revoke API tokens")
            token_out = gr.Textbox(label="New API token (shown once)", interactive=False, buttons=["copy"])
            user_status = safe_markdown()
        with gr.Tab("Campaigns"):
            campaigns = gr.Dataframe(headers=CAMPAIGN_COLUMNS, interactive=False, label="Campaigns")
            with gr.Row():
                c_name = gr.Textbox(label="Campaign name (new or existing)", max_lines=1, max_length=128)
                c_kind = gr.Dropdown(label="Item kind", choices=["pairwise", "ranking"], value="pairwise")
                c_overlap = gr.Number(label="Overlap", value=3, precision=0, minimum=1, maximum=100)
                c_gold = gr.Number(label="Gold rate", value=0.1, minimum=0, maximum=1)
                c_ttl = gr.Number(label="Lease TTL (s)", value=600, minimum=1)
            with gr.Row():
                c_tie = gr.Checkbox(label="Allow tie", value=True)
                c_bad = gr.Checkbox(label="Allow both bad", value=True)
                c_why = gr.Checkbox(label="Rationale required for tie / both bad")
                c_hint = gr.Checkbox(label="Show reward-model hint")
            c_guidelines = gr.Textbox(label="Guidelines (Markdown)", lines=6, max_length=100_000)
            save = gr.Button("Save campaign", variant="primary")
            campaign_status = safe_markdown()
        with gr.Tab("Uploads"):
            gr.Markdown(
                f"JSONL, CSV or Parquet, up to {service.settings.max_upload_mb:g} MB. A bad record stores "
                "nothing and names its line."
            )
            with gr.Row():
                with gr.Column():
                    prompts_file = gr.File(
                        label="Prompts", file_types=[".jsonl", ".json", ".ndjson", ".csv", ".parquet"]
                    )
                    tags = gr.Textbox(label="Tags for every prompt (comma-separated)", max_lines=1, max_length=1000)
                    load_prompts = gr.Button("Import prompts")
                with gr.Column():
                    responses_file = gr.File(
                        label="Responses", file_types=[".jsonl", ".json", ".ndjson", ".csv", ".parquet"]
                    )
                    r_campaign = gr.Dropdown(label="Make items in campaign", choices=[], interactive=True)
                    r_model = gr.Textbox(label="Model version (for records without `model`)", max_lines=1)
                    r_pairing = gr.Dropdown(
                        label="Pairing", choices=["all-pairs", "consecutive", "none"], value="all-pairs"
                    )
                    load_responses = gr.Button("Import responses")
            upload_status = safe_markdown(elem_id="hitl-upload-status")
        with gr.Tab("Export"):
            with gr.Row():
                e_campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True)
                e_layout = gr.Dropdown(label="Layout", choices=["pairs", "unpaired", "raw"], value="pairs")
                e_format = gr.Dropdown(label="Format", choices=["jsonl", "parquet"], value="jsonl")
                e_aggregate = gr.Dropdown(
                    label="Aggregate (pairs)", choices=["all", "majority", "dawid_skene"], value="all"
                )
            link = gr.Button("Make download link")
            download = safe_markdown(elem_id="hitl-export-link")

        def lists(user) -> list:
            names = [c["name"] for c in admin.campaigns(user)]
            people = [u.name for u in admin.users(user)]
            return [
                _users(admin.users(user)),
                gr.update(choices=people),
                _campaigns(admin.campaigns(user)),
                gr.update(choices=names),
                gr.update(choices=names),
            ]

        refreshed = [users, who, campaigns, r_campaign, e_campaign]

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                return [nav_markdown(user, "admin"), *lists(user)]

        def user_action(action):
            def handler(name, chosen_role, new_pw, request: gr.Request):
                with shown_errors():
                    user = caller(service, request, "admin")
                    if not name:
                        raise gr.Error("Pick a user first.")
                    shown_token, message = "", ""
                    if action == "role":
                        message = f"{name} is now a {admin.set_role(user, name, chosen_role).role}."
                    elif action in ("disable", "enable"):
                        admin.set_active(user, name, action == "enable")
                        message = f"{name} is {action}d."
                    elif action == "password":
                        admin.reset_password(user, name, new_pw)
                        message = f"The password of {name} was reset; their sessions were ended."
                    elif action == "token":
                        shown_token = admin.create_token(user, name, "web")
                        message = f"New API token for {name}: copy it now, it is not shown again."
                    else:
                        message = f"Revoked {admin.revoke_tokens(user, name)} API token(s) of {name}."
                    return [*lists(user), shown_token, message, ""]

            return handler

        def add_user(name, chosen_role, new_pw, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                made = admin.add_user(user, name, chosen_role, new_pw)
                return [*lists(user), f"Added {made.name} ({made.role}).", "", ""]

        def save_campaign(name, kind, overlap, gold, ttl, tie, bad, why, hint, guide, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                values = {
                    "name": (name or "").strip(),
                    "item_kind": kind,
                    "overlap": int(overlap or 0),
                    "gold_rate": float(gold or 0),
                    "lease_ttl_seconds": float(ttl or 0),
                    "allow_tie": tie,
                    "allow_both_bad": bad,
                    "require_rationale": why,
                    "show_prelabel": hint,
                    "guidelines": guide or "",
                }
                saved = admin.save_campaign(user, values)
                return [*lists(user), f"Saved campaign {saved.name}."]

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
                return imported(
                    user, "prompts", path, tags=[t.strip() for t in (tag_text or "").split(",") if t.strip()]
                )

        def import_responses(path, name, model, pairing, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "admin")
                return imported(user, "responses", path, campaign=name or None, model=model or None, pairing=pairing)

        def make_link(name, layout, fmt, aggregate, request: gr.Request):
            with shown_errors():
                caller(service, request, "admin")
                query = {"layout": layout, "format": fmt}
                if name:
                    query["campaign"] = name
                if layout == "pairs":
                    query["aggregate"] = aggregate
                url = f"{PREFIX}/export?{urlencode(query)}"
                return f"[Download {name or 'all campaigns'} ({layout}, {fmt})]({url})"

        page.load(load, None, [nav, *refreshed], api_visibility="private")
        new_user = [new_name, new_role, new_password]
        add.click(add_user, new_user, [*refreshed, user_status, new_name, new_password], api_visibility="private")
        picked = [who, role, password]
        after_action = [*refreshed, token_out, user_status, password]
        for button, action in (
            (set_role, "role"),
            (disable, "disable"),
            (enable, "enable"),
            (reset, "password"),
            (token, "token"),
            (revoke, "revoke"),
        ):
            button.click(user_action(action), picked, after_action, api_visibility="private")
        save.click(
            save_campaign,
            [c_name, c_kind, c_overlap, c_gold, c_ttl, c_tie, c_bad, c_why, c_hint, c_guidelines],
            [*refreshed, campaign_status],
            api_visibility="private",
        )
        load_prompts.click(import_prompts, [prompts_file, tags], upload_status, api_visibility="private")
        load_responses.click(
            import_responses,
            [responses_file, r_campaign, r_model, r_pairing],
            upload_status,
            api_visibility="private",
        )
        link.click(make_link, [e_campaign, e_layout, e_format, e_aggregate], download, api_visibility="private")
    return page
