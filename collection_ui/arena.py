"""The arena page: a blind battle between two model versions' stored answers to a prompt; the names are
revealed only after the vote, and a vote after the reveal does not count. Keys as on the rate page (1-5, 0,
Enter to vote, s for a new battle), kept until a new battle is drawn (`#hitl-ack`, collection_ui/shortcuts.py).

    hitl serve    # then http://127.0.0.1:7860/arena/
"""

import time

import gradio as gr

from collection_ui.common import caller, nav_markdown, page_blocks, prompt_markdown, safe_markdown, shown_errors
from collection_ui.shortcuts import KEY_OF_CHOICE
from hitl.service import Service
from hitl.service.arena import BattleView, Reveal
from hitl.service.rating import CHOICES

SAMPLED = "(sampled)"
VOTE_CHOICES = [(f"{label} [{KEY_OF_CHOICE[key]}]", key) for key, label, *_ in CHOICES]


def _battle(b: BattleView | None) -> list:
    # The last value is the ack the keyboard script waits for: keys pressed before a new battle is drawn apply to it.
    if b is None:
        return [
            None,
            gr.update(visible=False),
            "",
            "",
            "",
            None,
            "Press **New battle** to start.",
            gr.update(interactive=False),
            time.time(),
        ]
    return [
        b.id,
        gr.update(visible=True),
        prompt_markdown(b.prompt_text, b.prompt_messages),
        b.response_a,
        b.response_b,
        None,
        "Which answer is better? The model names are shown after your vote.",
        gr.update(interactive=True),
        time.time(),
    ]


def _reveal(r: Reveal) -> list:
    return [f"**A** was **{r.model_a}**, **B** was **{r.model_b}**. {r.message}", time.time()]


def build(service: Service) -> gr.Blocks:
    arena = service.arena

    with page_blocks("arena") as page:
        battle_id = gr.State(None)
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Row():
            model_a = gr.Dropdown(label="Model A", choices=[SAMPLED], value=SAMPLED)
            model_b = gr.Dropdown(label="Model B", choices=[SAMPLED], value=SAMPLED)
            prompt_set = gr.Dropdown(label="Prompt set", choices=["all"], value="all")
            new = gr.Button("New battle [s]", elem_id="hitl-skip")
        with gr.Column(visible=False, elem_classes=["hitl-box"]) as prompt_box:
            gr.Markdown("#### Prompt")
            prompt = safe_markdown(elem_id="hitl-prompt")
        with gr.Row(equal_height=False):
            with gr.Column(elem_classes=["hitl-response"]):
                gr.Markdown("#### A")
                answer_a = safe_markdown(elem_id="hitl-arena-a")
            with gr.Column(elem_classes=["hitl-response"]):
                gr.Markdown("#### B")
                answer_b = safe_markdown(elem_id="hitl-arena-b")
        vote = gr.Radio(label="Your vote", choices=VOTE_CHOICES, elem_id="hitl-choice")
        with gr.Row():
            send = gr.Button("Vote [Enter]", variant="primary", elem_id="hitl-submit", interactive=False)
            reveal = gr.Button("Reveal without voting")
        result = safe_markdown(elem_id="hitl-arena-result")
        ack = gr.Number(visible="hidden", elem_id="hitl-ack", precision=6)
        outputs = [battle_id, prompt_box, prompt, answer_a, answer_b, vote, result, send, ack]

        def pick(name: str) -> str | None:
            return None if name in (None, "", SAMPLED) else name

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                models = [SAMPLED, *arena.models(user)]
                return [
                    nav_markdown(user, "arena"),
                    gr.update(choices=models, value=SAMPLED),
                    gr.update(choices=models, value=SAMPLED),
                    gr.update(choices=arena.prompt_sets(user), value="all"),
                    *_battle(arena.open_battle(user)),
                ]

        def start(a, b, chosen_set, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                return _battle(arena.new_battle(user, pick(a), pick(b), chosen_set or "all"))

        def cast(current, choice, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                if current is None:
                    raise gr.Error("Start a battle first.")
                if not choice:
                    raise gr.Error("Pick a vote first (keys 1-5, 0).")
                return _reveal(arena.vote(user, current, choice))

        def show(current, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                if current is None:
                    raise gr.Error("Start a battle first.")
                return _reveal(arena.reveal(user, current))

        page.load(load, None, [nav, model_a, model_b, prompt_set, *outputs], api_visibility="private")
        new.click(start, [model_a, model_b, prompt_set], outputs, trigger_mode="once", api_visibility="private")
        send.click(cast, [battle_id, vote], [result, ack], trigger_mode="once", api_visibility="private")
        reveal.click(show, battle_id, [result, ack], api_visibility="private")
    return page
