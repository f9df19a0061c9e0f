"""The rate page (raters): guidelines, the prompt, K responses side by side, the answer (or a rank per response),
flags, rationale, a better response, skip; where the rater is, time on item and break reminders.

    hitl serve    # then log in as a rater: http://127.0.0.1:7860/rate/

The page state holds only the lease token. Every handler asks the service, which checks the caller's session
and role and reads everything else back from the store. Every answer from the server sets `#hitl-ack` (a fresh
number), which the keyboard script (collection_ui/shortcuts.py) waits for before it replays keys pressed
meanwhile, and `#hitl-status`, which says what the last action did (and so clears an older message).
"""

import time
from dataclasses import dataclass

import gradio as gr

from collection_ui.common import caller, nav_markdown, page_blocks, prompt_markdown, safe_markdown, shown_errors
from collection_ui.shortcuts import KEY_HELP, KEY_OF_CHOICE
from hitl.config import ASPECT_MAX, FLAGS, MAX_ASPECTS
from hitl.errors import HitlError
from hitl.service import Service
from hitl.service.outlook import Outlook
from hitl.service.rating import LABELS, Progress, RateItem
from hitl.workforce.errors import BreakDue, NotQualified, Paused

MAX_RESPONSES = len(LABELS)
FLAG_CHOICES = [(f.replace("_", " "), f) for f in FLAGS]
# A submit without an answer this soon after an item appeared is the tail of a double press on the last one.
DOUBLE_PRESS_SECONDS = 1.5


@dataclass(frozen=True)
class RateView:
    """The rate page's components; `outputs` are the ones every handler may update (see render)."""

    nav: gr.Markdown
    campaign: gr.Dropdown
    lease: gr.State
    status: gr.Markdown
    progress: gr.Markdown
    form: gr.Column
    empty: gr.Markdown
    prompt: gr.Markdown
    heads: tuple[gr.Markdown, ...]
    responses: tuple[gr.Markdown, ...]
    ranks: tuple[gr.Radio, ...]
    # Per response (A, B, ...) MAX_ASPECTS score pickers, shown for the campaign's aspects only: aspects[i][k].
    aspects: tuple[tuple[gr.Radio, ...], ...]
    columns: tuple[gr.Column, ...]
    choice: gr.Radio
    ranking: gr.Textbox
    flags: gr.CheckboxGroup
    rationale: gr.Textbox
    correction: gr.Textbox
    prelabel: gr.Markdown
    started: gr.Number
    ack: gr.Number
    guidelines: gr.Markdown
    submit: gr.Button
    skip: gr.Button

    @property
    def outputs(self) -> list:
        return [
            self.lease,
            self.status,
            self.progress,
            self.form,
            self.empty,
            self.prompt,
            *self.heads,
            *self.responses,
            *self.ranks,
            *self.aspect_pickers,
            *self.columns,
            self.choice,
            self.ranking,
            self.flags,
            self.rationale,
            self.correction,
            self.prelabel,
            self.started,
            self.ack,
            self.guidelines,
            self.submit,
            self.skip,
        ]

    @property
    def aspect_pickers(self) -> list[gr.Radio]:
        return [picker for per_response in self.aspects for picker in per_response]


ASPECT_CHOICES = [str(k) for k in range(ASPECT_MAX + 1)]


def _progress_text(p: Progress) -> str:
    text = f"Judged today: **{p.judged_today}** · left for you in this campaign: **{p.left}**"
    if p.notice:  # the campaign's workforce rules: a warning, or where the qualification stands
        text += f"\n\n**{p.notice}**"
    if p.take_break:
        text += f"\n\n**Time for a break** — you have been rating for {p.stretch_minutes:.0f} minutes."
    return text


def _choices(item: RateItem) -> list[tuple[str, str]]:
    if item.campaign.item_kind == "ranking":
        return [(f"All bad [{KEY_OF_CHOICE['both_bad']}]", "both_bad")] if item.campaign.allow_both_bad else []
    return [(f"{label} [{KEY_OF_CHOICE[key]}]", key) for label, key in item.campaign.choices()]


def _head(i: int, item: RateItem) -> str:
    limit = item.cut_off_at[i] if i < len(item.cut_off_at) else None
    if limit is None:
        return f"#### Response {LABELS[i]}"
    return f"#### Response {LABELS[i]} <span class='hitl-cut'>· ✂ cut off at the {limit}-token limit</span>"


def _empty_text(outlook: Outlook | None) -> str:
    if outlook is None:
        return "### No campaign to rate yet\nAn admin creates campaigns on the admin page."
    lines = [f"### Nothing left for you in **{outlook.campaign}** right now", outlook.when]
    if outlook.elsewhere:
        links = ", ".join(f"[{name}](/rate/?campaign={name}) ({n} left)" for name, n in outlook.elsewhere)
        lines.append(f"Campaigns with work for you: {links}")
    else:
        lines.append("No other campaign has items for you either.")
    return "\n\n".join(lines)


def render(
    view: RateView,
    item: RateItem | None,
    progress: Progress | None,
    guidelines: str,
    status: str = "",
    outlook: Outlook | None = None,
) -> dict:
    """An update of every component in view.outputs from the service's view of the current item (None: none
    left, then the form is hidden and `outlook` says what comes next)."""
    common = {
        view.status: status,
        view.progress: _progress_text(progress) if progress else "",
        view.ack: time.time(),
        # A new item starts with a blank answer, whatever the rater had picked or typed for the previous one.
        view.flags: gr.update(value=[]),
        view.rationale: gr.update(value=""),
        view.correction: gr.update(value=""),
        view.ranking: gr.update(value=""),
        **{rank: gr.update(value=None) for rank in view.ranks},
    }
    names = list(item.campaign.aspects) if item is not None else []
    n_shown = len(item.responses) if item is not None else 0
    common.update(
        {
            picker: gr.update(
                visible=i < n_shown and k < len(names),
                label=f"{names[k]} of {LABELS[i]} (0-{ASPECT_MAX})" if k < len(names) else "",
                value=None,
            )
            for i, per_response in enumerate(view.aspects)
            for k, picker in enumerate(per_response)
        }
    )
    if item is None:
        return {
            **common,
            view.lease: None,
            view.form: gr.update(visible=False),
            view.empty: gr.update(visible=True, value=_empty_text(outlook)),
            view.prompt: "",
            **dict.fromkeys(view.heads, ""),
            **dict.fromkeys(view.responses, ""),
            **{column: gr.update(visible=False) for column in view.columns},
            view.choice: gr.update(choices=[], value=None),
            view.prelabel: gr.update(visible=False),
            view.started: 0.0,
            view.guidelines: guidelines,
            view.submit: gr.update(interactive=False),
            view.skip: gr.update(interactive=False),
        }
    n = len(item.responses)
    ranked = item.campaign.item_kind == "ranking"
    rank_choices = [str(k) for k in range(1, n + 1)]
    hint = "No reward-model pre-label is stored for this item yet." if item.prelabel is None else item.prelabel
    return {
        **common,
        view.lease: item.lease_token,
        view.form: gr.update(visible=True),
        view.empty: gr.update(visible=False),
        view.prompt: prompt_markdown(item.prompt_text, item.prompt_messages),
        **{head: _head(i, item) if i < n else "" for i, head in enumerate(view.heads)},
        **{box: item.responses[i] if i < n else "" for i, box in enumerate(view.responses)},
        **{
            rank: gr.update(visible=ranked and i < n, choices=rank_choices, value=None)
            for i, rank in enumerate(view.ranks)
        },
        **{column: gr.update(visible=i < n) for i, column in enumerate(view.columns)},
        view.choice: gr.update(choices=_choices(item), value=None),
        view.ranking: gr.update(visible=ranked, value=""),
        view.prelabel: gr.update(visible=item.campaign.show_prelabel, value=f"**Reward model hint:** {hint}"),
        view.started: item.started_at,
        view.guidelines: item.campaign.guidelines or "_This campaign has no guidelines._",
        view.submit: gr.update(interactive=True),
        view.skip: gr.update(interactive=True),
    }


def aspect_scores(view: RateView, data: dict, names: tuple[str, ...]) -> list[dict[str, str | None]]:
    """Per shown response, the picked score of each of the campaign's aspects (None where none was picked)."""
    return [{name: data[per_response[k]] for k, name in enumerate(names)} for per_response in view.aspects]


def layout() -> RateView:
    """The rate page's components, laid out in the current Blocks."""
    nav = safe_markdown(elem_classes=["hitl-nav"])
    with gr.Row(equal_height=False):
        campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True, scale=1, min_width=180)
        with gr.Column(scale=2, min_width=200):
            status = safe_markdown(elem_id="hitl-status")
            progress = safe_markdown(elem_id="hitl-progress")
            safe_markdown("Time on this item: –", elem_id="hitl-clock")
    with gr.Accordion("Guidelines", open=False):
        guidelines = safe_markdown()
    empty = safe_markdown(visible=False, elem_id="hitl-empty")
    with gr.Column(visible=True) as form:
        with gr.Column(elem_classes=["hitl-box"]):
            gr.Markdown("#### Prompt")
            prompt = safe_markdown(elem_id="hitl-prompt")
        columns, heads, responses, ranks, aspects = [], [], [], [], []
        with gr.Row(equal_height=False):
            for i in range(MAX_RESPONSES):
                letter = LABELS[i].lower()
                with gr.Column(visible=False, min_width=300, elem_classes=["hitl-response"]) as column:
                    heads.append(safe_markdown(f"#### Response {LABELS[i]}", elem_id=f"hitl-head-{letter}"))
                    responses.append(safe_markdown(elem_id=f"hitl-response-{letter}"))
                    ranks.append(
                        gr.Radio(
                            label=f"Rank of {LABELS[i]} (1 = best)",
                            choices=[],
                            visible=False,
                            elem_id=f"hitl-rank-{letter}",
                        )
                    )
                    # Scores on the campaign's aspects (optional): hidden unless it has some.
                    aspects.append(
                        tuple(
                            gr.Radio(
                                choices=ASPECT_CHOICES,
                                visible=False,
                                elem_id=f"hitl-aspect-{letter}-{k}",
                                elem_classes=["hitl-aspect"],
                            )
                            for k in range(MAX_ASPECTS)
                        )
                    )
                columns.append(column)
        prelabel = safe_markdown(visible=False)
        choice = gr.Radio(label="Your answer", choices=[], elem_id="hitl-choice")
        ranking = gr.Textbox(
            label="…or type the ranking, best first (e.g. CAB)", visible=False, max_lines=1, elem_id="hitl-ranking"
        )
        flags = gr.CheckboxGroup(label="Flags", choices=FLAG_CHOICES, elem_id="hitl-flags")
        rationale = gr.Textbox(label="Rationale (why?) [r]", lines=2, max_length=5000, elem_id="hitl-rationale")
        with gr.Accordion("Write a better response (stored as a correction)", open=False):
            correction = gr.Textbox(label="Better response", lines=5, max_length=200_000, elem_id="hitl-correction")
        with gr.Row():
            submit = gr.Button("Submit [Enter]", variant="primary", elem_id="hitl-submit")
            skip = gr.Button("Skip [s]", elem_id="hitl-skip")
        safe_markdown(KEY_HELP, elem_id="hitl-keys")
    # Outside the form, so what a key did (or why it did nothing) shows even when there is no item.
    safe_markdown("", elem_id="hitl-keyhint")
    started = gr.Number(visible="hidden", elem_id="hitl-started", precision=3)
    ack = gr.Number(visible="hidden", elem_id="hitl-ack", precision=6)
    return RateView(
        nav=nav,
        campaign=campaign,
        lease=gr.State(None),
        status=status,
        progress=progress,
        form=form,
        empty=empty,
        prompt=prompt,
        heads=tuple(heads),
        responses=tuple(responses),
        ranks=tuple(ranks),
        aspects=tuple(aspects),
        columns=tuple(columns),
        choice=choice,
        ranking=ranking,
        flags=flags,
        rationale=rationale,
        correction=correction,
        prelabel=prelabel,
        started=started,
        ack=ack,
        guidelines=guidelines,
        submit=submit,
        skip=skip,
    )


def build(service: Service) -> gr.Blocks:
    rating = service.rating

    with page_blocks("rate") as page:
        view = layout()
        outputs = view.outputs

        def current(user, campaign: str, done: str = "") -> dict:
            """The caller's item in `campaign`; `done` names what just happened ('✓ Saved'), shown with where the
            next item sits."""
            try:
                item = rating.next_item(user, campaign)
            except (Paused, NotQualified, BreakDue) as refused:  # the workforce rules: no item until it passes
                guidelines = rating.campaign(user, campaign).guidelines
                shown = render(
                    view, None, rating.progress(user, campaign), guidelines, "", rating.outlook(user, campaign)
                )
                return {**shown, view.status: f"{done + ' — ' if done else ''}⛔ {refused}"}
            progress = rating.progress(user, campaign)
            if item is None:
                status = f"{done} — that was the last item for you here." if done else ""
                guidelines = rating.campaign(user, campaign).guidelines
                return render(view, None, progress, guidelines, status, rating.outlook(user, campaign))
            return render(view, item, progress, "", f"{done} — next: {progress.position()}" if done else "")

        def note(text: str) -> dict:
            """Only the status line (and the ack the keyboard script waits for): the item stays as it is."""
            return {view.status: text, view.ack: time.time()}

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

        def send(data: dict, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                token, ranks = data[view.lease], [data[rank] for rank in view.ranks]
                if not token:
                    return note("Nothing to submit: there is no item on screen.")
                if not data[view.choice] and not (data[view.ranking] or "").strip() and not any(ranks):
                    if rating.lease_age(user, token) < DOUBLE_PRESS_SECONDS:
                        return {view.ack: time.time()}  # the tail of a double press: the 'Saved' line stays
                    return note("⚠ Pick an answer first (keys 1-5, or 0 for both bad): nothing was saved yet.")
                try:
                    saved = rating.submit_choice(
                        user,
                        token,
                        data[view.choice],
                        ranking=data[view.ranking] or "",
                        ranks=ranks,
                        flags=data[view.flags] or [],
                        rationale=data[view.rationale] or "",
                        correction=data[view.correction] or "",
                        aspects=aspect_scores(view, data, rating.campaign(user, data[view.campaign]).aspects),
                    )
                except HitlError as exc:
                    return note(f"⚠ Not saved: {exc}")
                feedback = rating.training_feedback(user, saved.item_id, data[view.campaign])
                return current(user, data[view.campaign], f"✓ Saved. {feedback}" if feedback else "✓ Saved")

        def give_back(token, name, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                if token:
                    rating.skip(user, token)
                return current(user, name, "Skipped")

        page.load(load, None, [view.nav, view.campaign, *outputs], api_visibility="private")
        view.campaign.input(change_campaign, view.campaign, outputs, api_visibility="private")
        answer = {view.lease, view.campaign, view.choice, view.ranking, view.flags, view.rationale, view.correction}
        sent = answer | set(view.ranks) | set(view.aspect_pickers)
        view.submit.click(send, sent, outputs, trigger_mode="once", api_visibility="private")
        view.skip.click(give_back, [view.lease, view.campaign], outputs, trigger_mode="once", api_visibility="private")
    return page
