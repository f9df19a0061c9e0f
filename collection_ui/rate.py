"""The rate page (raters): guidelines, the prompt, K responses side by side, the answer, flags, rationale,
a better response, skip; progress, time on item and break reminders.

    hitl serve    # then log in as a rater: http://127.0.0.1:7860/rate/

The page state holds only the lease token and the campaign name. Every handler asks the service, which
checks the caller's session and role and reads everything else back from the store.
"""

from dataclasses import dataclass

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
from collection_ui.shortcuts import KEY_HELP, KEY_OF_CHOICE
from hitl.config import FLAGS
from hitl.service import Service
from hitl.service.rating import LABELS, Progress, RateItem

MAX_RESPONSES = len(LABELS)
FLAG_CHOICES = [(f.replace("_", " "), f) for f in FLAGS]


@dataclass(frozen=True)
class RateView:
    """The rate page's components; `outputs` are the ones every handler updates (see render)."""

    nav: gr.Markdown
    campaign: gr.Dropdown
    lease: gr.State
    prompt: gr.Chatbot
    responses: tuple[gr.Markdown, ...]
    columns: tuple[gr.Column, ...]
    choice: gr.Radio
    ranking: gr.Textbox
    flags: gr.CheckboxGroup
    rationale: gr.Textbox
    correction: gr.Textbox
    prelabel: gr.Markdown
    progress: gr.Markdown
    started: gr.Number
    guidelines: gr.Markdown
    submit: gr.Button
    skip: gr.Button

    @property
    def outputs(self) -> list:
        return [
            self.lease,
            self.prompt,
            *self.responses,
            *self.columns,
            self.choice,
            self.ranking,
            self.flags,
            self.rationale,
            self.correction,
            self.prelabel,
            self.progress,
            self.started,
            self.guidelines,
            self.submit,
        ]


def _progress_text(p: Progress) -> str:
    text = f"Judged today: **{p.judged_today}** · left for you in this campaign: **{p.left}**"
    if p.take_break:
        text += f"\n\n☕ **Time for a break** — you have been rating for {p.stretch_minutes:.0f} minutes."
    return text


def _choices(item: RateItem) -> list[tuple[str, str]]:
    if item.campaign.item_kind == "ranking":
        return [(f"All bad [{KEY_OF_CHOICE['both_bad']}]", "both_bad")] if item.campaign.allow_both_bad else []
    return [(f"{label} [{KEY_OF_CHOICE[key]}]", key) for label, key in item.campaign.choices()]


def render(view: RateView, item: RateItem | None, progress: Progress | None, guidelines: str) -> dict:
    """An update of every component in view.outputs from the service's view of the current item (None: none left)."""
    progress_md = _progress_text(progress) if progress else ""
    # A new item starts with a blank answer, whatever the rater had picked or typed for the previous one.
    blank_answer = {
        view.flags: gr.update(value=[]),
        view.rationale: gr.update(value=""),
        view.correction: gr.update(value=""),
    }
    if item is None:
        return {
            view.lease: None,
            view.prompt: gr.update(value=[], visible=False),
            **dict.fromkeys(view.responses, ""),
            **{column: gr.update(visible=False) for column in view.columns},
            view.choice: gr.update(choices=[], value=None),
            view.ranking: gr.update(visible=False, value=""),
            **blank_answer,
            view.prelabel: gr.update(visible=False),
            view.progress: "🎉 Nothing left for you in this campaign right now. " + progress_md,
            view.started: 0.0,
            view.guidelines: guidelines,
            view.submit: gr.update(interactive=False),
        }
    n = len(item.responses)
    hint = "No reward-model pre-label is stored for this item yet." if item.prelabel is None else item.prelabel
    return {
        view.lease: item.lease_token,
        view.prompt: gr.update(value=chat_messages(item.prompt_text, item.prompt_messages), visible=True),
        **{box: item.responses[i] if i < n else "" for i, box in enumerate(view.responses)},
        **{column: gr.update(visible=i < n) for i, column in enumerate(view.columns)},
        view.choice: gr.update(choices=_choices(item), value=None),
        view.ranking: gr.update(visible=item.campaign.item_kind == "ranking", value=""),
        **blank_answer,
        view.prelabel: gr.update(visible=item.campaign.show_prelabel, value=f"**Reward model hint:** {hint}"),
        view.progress: progress_md,
        view.started: item.started_at,
        view.guidelines: item.campaign.guidelines or "_This campaign has no guidelines._",
        view.submit: gr.update(interactive=True),
    }


def layout() -> RateView:
    """The rate page's components, laid out in the current Blocks."""
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
    ranking = gr.Textbox(label="Ranking, best first (e.g. CAB)", visible=False, max_lines=1, elem_id="hitl-ranking")
    flags = gr.CheckboxGroup(label="Flags", choices=FLAG_CHOICES, elem_id="hitl-flags")
    rationale = gr.Textbox(label="Rationale (why?)", lines=2, max_length=5000, elem_id="hitl-rationale")
    with gr.Accordion("Write a better response (stored as a correction)", open=False):
        correction = gr.Textbox(label="Better response", lines=5, max_length=200_000, elem_id="hitl-correction")
    with gr.Row():
        submit = gr.Button("Submit [Enter]", variant="primary", elem_id="hitl-submit")
        skip = gr.Button("Skip [s]", elem_id="hitl-skip")
    safe_markdown(KEY_HELP)
    started = gr.Number(visible="hidden", elem_id="hitl-started", precision=3)
    return RateView(
        nav=nav,
        campaign=campaign,
        lease=gr.State(None),
        prompt=prompt,
        responses=tuple(responses),
        columns=tuple(columns),
        choice=choice,
        ranking=ranking,
        flags=flags,
        rationale=rationale,
        correction=correction,
        prelabel=prelabel,
        progress=progress,
        started=started,
        guidelines=guidelines,
        submit=submit,
        skip=skip,
    )


def build(service: Service) -> gr.Blocks:
    rating = service.rating

    with page_blocks("rate") as page:
        view = layout()
        outputs = view.outputs

        def current(user, campaign: str) -> dict:
            item = rating.next_item(user, campaign)
            guidelines = item.campaign.guidelines if item else rating.campaign(user, campaign).guidelines
            return render(view, item, rating.progress(user, campaign), guidelines)

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                names = rating.campaigns(user)
                wanted = dict(request.query_params).get("campaign")
                selected = wanted if wanted in names else (names[0] if names else None)
                shown = current(user, selected) if selected else render(view, None, None, "")
                return {
                    view.nav: nav_markdown(user, "rate"),
                    view.campaign: gr.update(choices=names, value=selected),
                    **shown,
                }

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
                    return gr.skip()
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

        page.load(load, None, [view.nav, view.campaign, *outputs], api_visibility="private")
        view.campaign.input(change_campaign, view.campaign, outputs, api_visibility="private")
        view.submit.click(
            send,
            [view.lease, view.campaign, view.choice, view.ranking, view.flags, view.rationale, view.correction],
            outputs,
            trigger_mode="once",
            api_visibility="private",
        )
        view.skip.click(give_back, [view.lease, view.campaign], outputs, trigger_mode="once", api_visibility="private")
    return page
