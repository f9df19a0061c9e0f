"""The review page (reviewers): items with disagreement, flags or a missed gold answer, counted by reason, sorted
and filtered; one click opens an item with every judgment beside its rater; the adjudication (a verdict or a rank
per response, a labelled strength) and acceptance of a rater's corrected response; items proposed as gold (every
rater, each of proven competence, picked the same answer), opened the same way and confirmed or declined.

    hitl serve    # then log in as a reviewer: http://127.0.0.1:7860/review/  (?item=ID opens one item)
"""

import time
from collections import Counter

import gradio as gr

from collection_ui.common import caller, nav_markdown, page_blocks, prompt_markdown, safe_markdown, shown_errors
from hitl.config import FLAGS
from hitl.service import Service
from hitl.service.review import REASONS, SORTS, STRENGTHS, VERDICTS, ItemReview, ReviewRow, reason_counts
from hitl.workforce.gold import GoldProposal

MAX_RESPONSES = 8
QUEUE_HEADERS = [
    "item",
    "campaign",
    "why",
    "disagreement %",
    "judgments",
    "missed gold",
    "flags",
    "last judged (h ago)",
    "adjudicated",
]
QUEUE_TYPES = ["number", "str", "str", "number", "number", "str", "str", "number", "str"]
JUDGMENT_HEADERS = [
    "judgment",
    "rater",
    "answer",
    "flags",
    "rationale",
    "correction",
    "seconds",
    "saw first",
    "aspects (0-4)",
]
SORT_LABELS = {
    "newest": "newest items first",
    "oldest": "waiting longest first",
    "disagreement": "widest disagreement first",
    "judgments": "most judgments first",
}


GOLD_HEADERS = ["item", "campaign", "answer", "raters (all agree)", "lowest competence", "posterior"]


def _gold_rows(found: list[GoldProposal]) -> list[list]:
    return [
        [p.item_id, p.campaign, f"response {p.answer}", ", ".join(p.raters), round(p.min_competence, 2), p.posterior]
        for p in found
    ]


def _gold_text(found: list[GoldProposal]) -> str:
    if not found:
        return "No item is proposed as gold: none was judged the same way by enough raters of proven competence."
    return (
        f"**{len(found)} items** proposed as gold. Click one to open it below, check it, then confirm it "
        "(it becomes a gold item with this answer) or decline it (never proposed again)."
    )


def _waiting(r: ReviewRow, now: float) -> str:
    """For an item in the expert queue: why it went there and how long it has waited."""
    waited = r.waiting_seconds(now)
    return "" if waited is None else f" — {r.escalation}; waiting {waited / 3600:.1f} h"


def _queue_rows(rows: list[ReviewRow], now: float) -> list[list]:
    return [
        [
            r.item_id,
            r.campaign,
            ", ".join(x.replace("_", " ") for x in r.reasons) + _waiting(r, now),
            round(100 * r.disagreement),
            r.n_judgments,
            ", ".join(r.missed_gold),
            ", ".join(r.flags),
            round((now - r.last_judged) / 3600, 1),
            "yes" if r.adjudicated else "",
        ]
        for r in rows
    ]


def _counts_text(rows: list[ReviewRow]) -> str:
    counts = reason_counts(rows)
    parts = " · ".join(f"{reason.replace('_', ' ')} **{n}**" for reason, n in counts.items())
    text = f"**{len(rows)} items** to look at — {parts}. Click a row to open the item."
    missed = Counter(name for r in rows for name in r.missed_gold).most_common(3)
    if missed:
        # Many items failing gold because of the same few raters is a rater problem, not an item problem.
        text += "\n\nMissed gold most often: " + ", ".join(
            f"{name} ({n} item{'s' if n != 1 else ''})" for name, n in missed
        )
    return text


def _reason_choices(rows: list[ReviewRow]) -> list[tuple[str, str]]:
    counts = reason_counts(rows)
    return [("any", ""), *[(f"{r.replace('_', ' ')} ({counts[r]})", r) for r in REASONS]]


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
            j.aspects,
        ]
        for j in r.judgments
    ]
    corrections = [(f"judgment {j.id} by {j.rater}", j.id) for j in r.judgments if j.correction]
    earlier = "\n".join(f"- {line}" for line in r.adjudications) or "_No adjudication yet._"
    ranked = r.item_kind == "ranking"
    rank_choices = [str(k) for k in range(1, n + 1)]
    return [
        r.item_id,
        header,
        prompt_markdown(r.prompt_text, r.prompt_messages),
        *[*r.responses, *[""] * (MAX_RESPONSES - n)],
        *[gr.update(visible=ranked and i < n, choices=rank_choices, value=None) for i in range(MAX_RESPONSES)],
        *[gr.update(visible=i < n) for i in range(MAX_RESPONSES)],
        judgments,
        gr.update(choices=[("none", 0), *corrections], value=0),
        earlier,
        gr.update(visible=not ranked, value=None),
        gr.update(visible=ranked, value=False),
        gr.update(visible=True),
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
                min_width=160,
            )
            reason = gr.Dropdown(
                label="Reason", choices=_reason_choices([]), value="", elem_id="hitl-review-reason", min_width=160
            )
            sort = gr.Dropdown(
                label="Order",
                choices=[(SORT_LABELS[s], s) for s in SORTS],
                value=SORTS[0],
                elem_id="hitl-review-sort",
                min_width=160,
            )
            rater = gr.Textbox(label="Rater", max_lines=1, max_length=64, min_width=120)
            flag = gr.Dropdown(label="Flag", choices=[("any", ""), *[(f, f) for f in FLAGS]], value="", min_width=120)
        with gr.Row():
            open_only = gr.Checkbox(label="Only items without an adjudication", value=False)
            refresh = gr.Button("Show items", elem_id="hitl-review-refresh")
        counts = safe_markdown(elem_id="hitl-review-counts")
        queue = gr.Dataframe(
            headers=QUEUE_HEADERS,
            datatype=QUEUE_TYPES,
            interactive=False,
            label="Items to review",
            max_height=420,
            column_widths=[80, 110, 190, 154, 109, 260, 110, 199, 127],
            elem_id="hitl-review-queue",
            elem_classes=["hitl-table"],
        )
        with gr.Accordion("Proposed gold", open=False, elem_id="hitl-review-gold-box"):
            find_gold = gr.Button("Show items proposed as gold", elem_id="hitl-review-gold-find")
            gold_text = safe_markdown(elem_id="hitl-review-gold-count")
            gold_table = gr.Dataframe(
                headers=GOLD_HEADERS,
                datatype=["number", "str", "str", "str", "number", "number"],
                interactive=False,
                label="Proposed as gold (click a row to open the item)",
                max_height=320,
                wrap=True,
                elem_id="hitl-review-gold",
                elem_classes=["hitl-table"],
            )
            with gr.Row():
                confirm_gold = gr.Button("Confirm the open item as gold", elem_id="hitl-review-gold-confirm")
                decline_gold = gr.Button("Not gold", elem_id="hitl-review-gold-decline")
        with gr.Column(visible=False) as panel:
            header = safe_markdown(elem_id="hitl-review-header")
            with gr.Column(elem_classes=["hitl-box"]):
                gr.Markdown("#### Prompt")
                prompt = safe_markdown(elem_id="hitl-prompt")
            columns, responses, ranks = [], [], []
            with gr.Row(equal_height=False):
                for i in range(MAX_RESPONSES):
                    with gr.Column(visible=False, min_width=280, elem_classes=["hitl-response"]) as column:
                        gr.Markdown(f"#### Response {i + 1}")
                        responses.append(safe_markdown())
                        label = f"Rank of response {i + 1} (1 = best)"
                        ranks.append(gr.Radio(label=label, choices=[], visible=False))
                    columns.append(column)
            judgments = gr.Dataframe(
                headers=JUDGMENT_HEADERS, interactive=False, label="Judgments", wrap=True, elem_classes=["hitl-table"]
            )
            earlier = safe_markdown()
            with gr.Group():
                gr.Markdown("#### Adjudication (the final label)")
                verdict = gr.Radio(
                    label="Verdict", choices=[(v, k) for k, v in VERDICTS.items()], elem_id="hitl-review-verdict"
                )
                all_bad = gr.Checkbox(label="All responses are bad", visible=False)
                strength = gr.Radio(label="How much better", choices=[(v, k) for k, v in STRENGTHS.items()], value=2)
                correction = gr.Dropdown(label="Accept a corrected response", choices=[("none", 0)], value=0)
                note = gr.Textbox(label="Note", lines=2, max_length=5000)
                save = gr.Button("Save adjudication", variant="primary", elem_id="hitl-review-save")
        status = safe_markdown(elem_id="hitl-review-status")

        filters = [campaign, rater, flag, reason, sort, open_only]
        detail = [item_id, header, prompt, *responses, *ranks, *columns, judgments, correction, earlier, verdict]
        detail += [all_bad, panel]

        def listing(user, name, who, marked, why, order, only_open) -> list:
            """The queue table, its counts and the reason picker (with counts of the rows before the reason filter)."""
            kwargs = {"rater": who or None, "flag": marked or None, "sort": order or SORTS[0], "open_only": only_open}
            everything = review.queue(user, name or None, **kwargs)
            rows = [r for r in everything if not why or why in r.reasons]
            return [_queue_rows(rows, time.time()), _counts_text(rows), gr.update(choices=_reason_choices(everything))]

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                names = review.campaigns(user)
                choices = [("all campaigns", ""), *[(n, n) for n in names]]
                shown = listing(user, "", "", "", "", SORTS[0], False)
                wanted = dict(request.query_params).get("item", "")
                asked = wanted.isdigit() and len(wanted) < 10
                opened = _detail(review.item(user, int(wanted))) if asked else [gr.skip()] * len(detail)
                return [nav_markdown(user, "review"), gr.update(choices=choices, value=""), *shown, *opened]

        def show(name, who, marked, why, order, only_open, request: gr.Request):
            with shown_errors():
                return listing(caller(service, request, "reviewer"), name, who, marked, why, order, only_open)

        def open_item(evt: gr.SelectData, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                return _detail(review.item(user, int(evt.row_value[0])))

        def adjudicate(data: dict, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                current = data[item_id]
                if current is None:
                    raise gr.Error("Open an item first (click it in the table).")
                shown = review.item(user, current)
                review.adjudicate_choice(
                    user,
                    current,
                    winner=data[verdict],
                    ranks=[data[rank] for rank in ranks[: len(shown.responses)]],
                    all_bad=bool(data[all_bad]),
                    strength=int(data[strength] or 2),
                    note=data[note] or "",
                    accept_correction=int(data[correction] or 0) or None,
                )
                return [*_detail(review.item(user, current)), f"✓ Saved the adjudication of item {current}."]

        def proposed(name, request: gr.Request):
            with shown_errors():
                found = service.workforce.gold_proposals(caller(service, request, "reviewer"), name or None)
                return [_gold_rows(found), _gold_text(found)]

        def decide(accept: bool):
            def handler(name, current, request: gr.Request):
                with shown_errors():
                    user = caller(service, request, "reviewer")
                    if current is None:
                        raise gr.Error("Open a proposed item first (click it in the table of proposed gold).")
                    said = service.workforce.decide_gold(user, current, accept)
                    found = service.workforce.gold_proposals(user, name or None)
                    return [_gold_rows(found), _gold_text(found), *_detail(review.item(user, current)), f"✓ {said}."]

            return handler

        gold_outputs = [gold_table, gold_text, *detail, status]
        find_gold.click(proposed, campaign, [gold_table, gold_text], api_visibility="private")
        gold_table.select(open_item, None, detail, api_visibility="private")
        confirm_gold.click(decide(True), [campaign, item_id], gold_outputs, api_visibility="private")
        decline_gold.click(decide(False), [campaign, item_id], gold_outputs, api_visibility="private")

        listed = [queue, counts, reason]
        page.load(load, None, [nav, campaign, *listed, *detail], api_visibility="private")
        refresh.click(show, filters, listed, api_visibility="private")
        for control in (campaign, reason, sort, flag, open_only):
            control.input(show, filters, listed, api_visibility="private")
        queue.select(open_item, None, detail, api_visibility="private")
        answer = {item_id, verdict, all_bad, strength, correction, note, *ranks}
        save.click(adjudicate, answer, [*detail, status], api_visibility="private")
    return page
