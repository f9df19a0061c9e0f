"""The review page (reviewers): items with disagreement, flags or a missed gold answer; every judgment side by
side with its rater; the adjudication (final label) and acceptance of a rater's corrected response.

    hitl serve    # then log in as a reviewer: http://127.0.0.1:7860/review/
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
from hitl.config import FLAGS
from hitl.service import Service
from hitl.service.review import REASONS, ItemReview

MAX_RESPONSES = 8
QUEUE_HEADERS = ["item", "campaign", "reasons", "judgments", "raters", "flags", "adjudicated"]
JUDGMENT_HEADERS = ["judgment", "rater", "answer", "flags", "rationale", "correction", "seconds", "saw first"]


def _queue_rows(rows) -> list[list]:
    return [
        [
            r.item_id,
            r.campaign,
            ", ".join(r.reasons),
            r.n_judgments,
            ", ".join(r.raters),
            ", ".join(r.flags),
            "yes" if r.adjudicated else "",
        ]
        for r in rows
    ]


def _detail(r: ItemReview) -> list:
    n = len(r.responses)
    gold = f" · gold answer: response {r.gold_answer}" if r.gold_answer else ""
    header = f"### Item {r.item_id} · campaign {r.campaign} · {r.item_kind}{gold}"
    judgments = [
        [
            j.id,
            j.rater,
            j.answer,
            ", ".join(j.flags),
            j.rationale,
            j.correction or "",
            "" if j.seconds is None else round(j.seconds, 1),
            j.first_shown,
        ]
        for j in r.judgments
    ]
    corrections = [(f"judgment {j.id} by {j.rater}", j.id) for j in r.judgments if j.correction]
    earlier = "\n".join(f"- {line}" for line in r.adjudications) or "_No adjudication yet._"
    return [
        r.item_id,
        header,
        gr.update(value=chat_messages(r.prompt_text, r.prompt_messages), visible=True),
        *[*r.responses, *[""] * (MAX_RESPONSES - n)],
        *[gr.update(visible=i < n) for i in range(MAX_RESPONSES)],
        judgments,
        gr.update(choices=[("none", 0), *corrections], value=0),
        earlier,
    ]


def build(service: Service) -> gr.Blocks:
    review = service.review

    with page_blocks("review") as page:
        item_id = gr.State(None)
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Row():
            campaign = gr.Dropdown(
                label="Campaign",
                choices=[("all campaigns", "")],
                value="",
                interactive=True,
                elem_id="hitl-review-campaign",
            )
            rater = gr.Textbox(label="Rater", max_lines=1, max_length=64)
            flag = gr.Dropdown(label="Flag", choices=[("any", ""), *[(f, f) for f in FLAGS]], value="")
            reason = gr.Dropdown(label="Reason", choices=[("any", ""), *[(r, r) for r in REASONS]], value="")
            refresh = gr.Button("Show items", elem_id="hitl-review-refresh")
        queue = gr.Dataframe(headers=QUEUE_HEADERS, interactive=False, label="Items to review (click one)", wrap=True)
        header = safe_markdown()
        prompt = safe_chatbot(label="Prompt", height="auto", max_height=300, visible=False)
        columns, responses = [], []
        with gr.Row(equal_height=False):
            for i in range(MAX_RESPONSES):
                with gr.Column(visible=False, min_width=280, elem_classes=["hitl-response"]) as column:
                    gr.Markdown(f"#### Response {i + 1}")
                    responses.append(safe_markdown())
                columns.append(column)
        judgments = gr.Dataframe(headers=JUDGMENT_HEADERS, interactive=False, label="Judgments", wrap=True)
        earlier = safe_markdown()
        with gr.Group():
            gr.Markdown("#### Adjudication (the final label)")
            with gr.Row():
                ranking = gr.Textbox(label="Responses best first (e.g. 2 1)", max_lines=1, max_length=64)
                strength = gr.Radio(label="Strength", choices=[1, 2, 3], value=2)
                tie = gr.Checkbox(label="Tie")
                both_bad = gr.Checkbox(label="Both / all bad")
            correction = gr.Dropdown(label="Accept a corrected response", choices=[("none", 0)], value=0)
            note = gr.Textbox(label="Note", lines=2, max_length=5000)
            save = gr.Button("Save adjudication", variant="primary")
        status = safe_markdown()

        filters = [campaign, rater, flag, reason]
        detail = [item_id, header, prompt, *responses, *columns, judgments, correction, earlier]

        def rows_for(user, name, who, marked, why):
            return _queue_rows(
                review.queue(user, name or None, rater=who or None, flag=marked or None, reason=why or None)
            )

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                names = review.campaigns(user)
                choices = [("all campaigns", ""), *[(n, n) for n in names]]
                return [
                    nav_markdown(user, "review"),
                    gr.update(choices=choices, value=""),
                    rows_for(user, "", "", "", ""),
                ]

        def show(name, who, marked, why, request: gr.Request):
            with shown_errors():
                return rows_for(caller(service, request, "reviewer"), name, who, marked, why)

        def open_item(rows, evt: gr.SelectData, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
                return _detail(review.item(user, int(rows.iloc[row, 0])))

        def adjudicate(current, order, how_strong, is_tie, bad, accepted, why, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                if current is None:
                    raise gr.Error("Open an item first (click it in the table).")
                review.adjudicate(
                    user,
                    current,
                    ranking=order or "",
                    tie=bool(is_tie),
                    both_bad=bool(bad),
                    strength=int(how_strong or 2),
                    note=why or "",
                    accept_correction=int(accepted) or None,
                )
                return [*_detail(review.item(user, current)), f"Saved the adjudication of item {current}."]

        page.load(load, None, [nav, campaign, queue], api_visibility="private")
        refresh.click(show, filters, queue, api_visibility="private")
        queue.select(open_item, queue, detail, api_visibility="private")
        save.click(
            adjudicate,
            [item_id, ranking, strength, tie, both_bad, correction, note],
            [*detail, status],
            api_visibility="private",
        )
    return page
