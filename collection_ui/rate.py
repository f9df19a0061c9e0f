"""The rate page (raters): guidelines, the prompt, K responses side by side, the answer, flags, rationale,
a better response, skip; progress, time on item and break reminders.

    hitl serve    # then log in as a rater: http://127.0.0.1:7860/rate/

The page state holds only the lease token and the campaign name. Every handler asks the service, which
checks the caller's session and role and reads everything else back from the store.
"""

import gradio as gr

from collection_ui.common import (
    caller,
    chat_messages,
    nav_markdown,
    page_blocks,
    safe_chatbot,
    safe_markdown,
    shown_errors,
)
from collection_ui.shortcuts import KEY_HELP
from hitl.config import FLAGS
from hitl.service import Service
from hitl.service.rating import LABELS, Progress, RateItem

MAX_RESPONSES = len(LABELS)
FLAG_CHOICES = [(f.replace("_", " "), f) for f in FLAGS]
SHORTCUT_OF = {"a_much": "1", "a": "2", "tie": "3", "b": "4", "b_much": "5", "both_bad": "0"}


def _progress_text(p: Progress) -> str:
    text = f"Judged today: **{p.judged_today}** · left for you in this campaign: **{p.left}**"
    if p.take_break:
        text += f"\n\n☕ **Time for a break** — you have been rating for {p.stretch_minutes:.0f} minutes."
    return text


def _choices(item: RateItem) -> list[tuple[str, str]]:
    if item.campaign.item_kind == "ranking":
        return [("All bad [0]", "both_bad")] if item.campaign.allow_both_bad else []
    return [(f"{label} [{SHORTCUT_OF[key]}]", key) for label, key in item.campaign.choices()]


def render(item: RateItem | None, progress: Progress | None, guidelines: str) -> list:
    """Updates for OUTPUTS (see build) from the service's view of the current item."""
    progress_md = _progress_text(progress) if progress else ""
    if item is None:
        return [
            None,
            gr.update(value=[], visible=False),
            *[""] * MAX_RESPONSES,
            *[gr.update(visible=False)] * MAX_RESPONSES,
            gr.update(choices=[], value=None),
            gr.update(visible=False, value=""),
            gr.update(value=[]),
            gr.update(value=""),
            gr.update(value=""),
            gr.update(visible=False),
            "🎉 Nothing left for you in this campaign right now. " + progress_md,
            0.0,
            guidelines,
            gr.update(interactive=False),
        ]
    ranking = item.campaign.item_kind == "ranking"
    n = len(item.responses)
    shown = [*item.responses, *[""] * (MAX_RESPONSES - n)]
    visible = [gr.update(visible=i < n) for i in range(MAX_RESPONSES)]
    hint = "No reward-model pre-label is stored for this item yet." if item.prelabel is None else item.prelabel
    return [
        item.lease_token,
        gr.update(value=chat_messages(item.prompt_text, item.prompt_messages), visible=True),
        *shown,
        *visible,
        gr.update(choices=_choices(item), value=None),
        gr.update(visible=ranking, value=""),
        gr.update(value=[]),
        gr.update(value=""),
        gr.update(value=""),
        gr.update(visible=item.campaign.show_prelabel, value=f"**Reward model hint:** {hint}"),
        progress_md,
        item.started_at,
        item.campaign.guidelines or "_This campaign has no guidelines._",
        gr.update(interactive=True),
    ]


def build(service: Service) -> gr.Blocks:
    rating = service.rating

    def current(user, campaign: str) -> list:
        item = rating.next_item(user, campaign)
        guidelines = item.campaign.guidelines if item else rating.campaign(user, campaign).guidelines
        return render(item, rating.progress(user, campaign), guidelines)

    with page_blocks("rate") as page:
        lease = gr.State(None)
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Row():
            campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True, scale=1)
            progress = safe_markdown(elem_id="hitl-progress")
        with gr.Accordion("Guidelines", open=False):
            guidelines = safe_markdown()
        prompt = safe_chatbot(label="Prompt", height="auto", max_height=360, elem_id="hitl-prompt")
        columns, responses = [], []
        with gr.Row(equal_height=False):
            for i in range(MAX_RESPONSES):
                with gr.Column(visible=False, min_width=300, elem_classes=["hitl-response"]) as column:
                    gr.Markdown(f"#### Response {LABELS[i]}")
                    responses.append(safe_markdown(elem_id=f"hitl-response-{LABELS[i].lower()}"))
                columns.append(column)
        prelabel = safe_markdown(visible=False)
        choice = gr.Radio(label="Your answer", choices=[], elem_id="hitl-choice")
        ranking = gr.Textbox(
            label="Ranking, best first (e.g. CAB)", visible=False, max_lines=1, elem_id="hitl-ranking"
        )
        flags = gr.CheckboxGroup(label="Flags", choices=FLAG_CHOICES, elem_id="hitl-flags")
        rationale = gr.Textbox(label="Rationale (why?)", lines=2, max_length=5000, elem_id="hitl-rationale")
        with gr.Accordion("Write a better response (stored as a correction)", open=False):
            correction = gr.Textbox(label="Better response", lines=5, max_length=200_000, elem_id="hitl-correction")
        with gr.Row():
            submit = gr.Button("Submit [Enter]", variant="primary", elem_id="hitl-submit")
            skip = gr.Button("Skip [s]", elem_id="hitl-skip")
        safe_markdown(KEY_HELP)
        started = gr.Number(visible="hidden", elem_id="hitl-started", precision=3)

        outputs = [
            lease,
            prompt,
            *responses,
            *columns,
            choice,
            ranking,
            flags,
            rationale,
            correction,
            prelabel,
            progress,
            started,
            guidelines,
            submit,
        ]

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                names = rating.campaigns(user)
                wanted = dict(request.query_params).get("campaign")
                selected = wanted if wanted in names else (names[0] if names else None)
                view = current(user, selected) if selected else render(None, None, "")
                return [nav_markdown(user, "rate"), gr.update(choices=names, value=selected), *view]

        def change_campaign(name: str, request: gr.Request):
            with shown_errors():
                return current(caller(service, request, "rater"), name)

        def send(token, name, answer, order, marked, why, better, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                if not token:
                    raise gr.Error("Nothing to submit: there is no item on screen.")
                if not answer and not (order or "").strip():
                    # Also the second click of a double click that arrives after the first was recorded:
                    # a gentle note, and the page stays as it is.
                    gr.Warning("Pick an answer first (keys 1-5, or 0 for both bad).")
                    return [gr.skip()] * len(outputs)
                rating.submit_choice(
                    user,
                    token,
                    answer,
                    ranking=order or "",
                    flags=marked or [],
                    rationale=why or "",
                    correction=better or "",
                )
                return current(user, name)

        def give_back(token, name, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                if token:
                    rating.skip(user, token)
                return current(user, name)

        page.load(load, None, [nav, campaign, *outputs], api_visibility="private")
        campaign.input(change_campaign, campaign, outputs, api_visibility="private")
        submit.click(
            send,
            [lease, campaign, choice, ranking, flags, rationale, correction],
            outputs,
            trigger_mode="once",
            api_visibility="private",
        )
        skip.click(give_back, [lease, campaign], outputs, trigger_mode="once", api_visibility="private")
    return page
