"""The leaderboard page: Bradley-Terry ratings with bootstrap 95% intervals (models whose intervals overlap share a
rank) and the win-rate heatmap of one judge at a time (human votes, reward-model or oracle judged battles), and
the policy comparisons: every `hitl eval-policy` run and every loop round's new-vs-base evaluation, with intervals.

    hitl serve    # then http://127.0.0.1:7860/leaderboard/

The numbers come from hitl.ratings / hitl.winrate through the service; this page only draws them. The bootstrap
resamples are an advanced setting with the CLI's default (hitl.stats.BOOTSTRAP_ROUNDS).
"""

import math

import gradio as gr

from collection_ui.charts import heatmap_figure
from collection_ui.common import caller, nav_markdown, page_blocks, safe_markdown, shown_errors
from hitl.ratings import MAX_ROUNDS, shared_ranks
from hitl.service import Service
from hitl.service.arena import Board
from hitl.service.comparisons import ComparisonRow
from hitl.stats import BOOTSTRAP_ROUNDS, format_rate

JUDGES = (("human", "Human votes"), ("reward", "Reward model"), ("oracle", "Oracle"))
RATING_HEADERS = ["rank", "model", "rating", "95% interval", "battles", "wins", "losses", "ties"]
COMPARISON_HEADERS = [
    "A",
    "B",
    "judged by",
    "from",
    "n",
    "A wins / ties / B wins",
    "A's win rate [95% CI]",
    "length-controlled",
    "verdict",
]
NO_BATTLES = {
    "human": "No votes yet: raters vote on the **Arena** page.",
    "reward": "No reward-model-judged battles yet: `hitl eval-policy --a A --b B --prompts all --reward RM`.",
    "oracle": "No oracle-judged battles yet: `hitl eval-policy --a A --b B --prompts all --oracle rule:concise`.",
}


def _interval(low: float, high: float) -> str:
    return "–" if math.isnan(low) else f"{low:.0f} – {high:.0f}"


def _heatmap(board: Board):
    """The board's win-rate heatmap (model names are labels, never mathtext: collection_ui.charts)."""
    return heatmap_figure(board.models, board.win_rates, board.counts)


# Below this many battles a bootstrap interval says nothing (a single battle resamples to itself): no ranking.
MIN_BATTLES_TO_RANK = 10


def _summary(board: Board) -> str:
    if not board.n_battles:
        return NO_BATTLES[board.judge]
    text = (
        f"**{board.n_battles} counted battle{'' if board.n_battles == 1 else 's'}** · ratings on the Elo scale "
        "(mean 1000; +100 = 64% expected wins) · models whose 95% intervals overlap share a rank"
    )
    if board.n_battles < MIN_BATTLES_TO_RANK:
        text += f"\n\n⚠ Fewer than {MIN_BATTLES_TO_RANK} battles: too few to separate the models, so all share rank 1."
    return text


def _board_outputs(board: Board) -> list:
    ranks = shared_ranks(board.ratings)
    if board.n_battles < MIN_BATTLES_TO_RANK:
        ranks = [1] * len(ranks)
    rows = [
        [rank, r.model, round(r.rating), _interval(r.low, r.high), r.battles, r.wins, r.losses, r.ties]
        for rank, r in zip(ranks, board.ratings, strict=True)
    ]
    return [_summary(board), rows, _heatmap(board)]


def _comparison_rows(rows: list[ComparisonRow]) -> list[list]:
    out = []
    for c in rows:
        tally = "–" if c.wins is None else f"{c.wins} / {c.ties} / {c.losses}"
        lc = "–" if c.length_controlled is None else f"{c.length_controlled:.2f}"
        rate = format_rate(c.rate, c.low, c.high)
        out.append([c.a, c.b, c.judge, c.source, c.n, tally, rate, lc, c.verdict])
    return out


def build(service: Service) -> gr.Blocks:
    titles = {title: judge for judge, title in JUDGES}

    with page_blocks("leaderboard") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        # A picker rather than tabs: it wraps on a phone, where tabs would hide behind an overflow menu.
        judge = gr.Radio(
            label="Battles judged by", choices=list(titles), value=JUDGES[0][1], elem_id="hitl-board-judge"
        )
        summary = safe_markdown(elem_id="hitl-board-summary")
        ratings = gr.Dataframe(
            headers=RATING_HEADERS,
            interactive=False,
            label="Ratings",
            elem_id="hitl-board",
            elem_classes=["hitl-table"],
        )
        heatmap = gr.Plot(label="Win rates", show_label=False)
        gr.Markdown(
            "### Comparisons\nWin rate of A over B on the same prompts, judged by a reward model or an oracle: every "
            "`hitl eval-policy` run and every loop round's new policy against its base."
        )
        comparisons = gr.Dataframe(
            headers=COMPARISON_HEADERS,
            interactive=False,
            label="Comparisons",
            wrap=True,
            elem_id="hitl-comparisons",
            elem_classes=["hitl-table"],
        )
        with gr.Accordion("Advanced", open=False):
            rounds = gr.Slider(
                label="Bootstrap resamples of the 95% intervals (as `hitl eval-policy --bootstrap`)",
                minimum=100,
                maximum=MAX_ROUNDS,
                value=BOOTSTRAP_ROUNDS,
                step=100,
            )
            refresh = gr.Button("Refresh")
        outputs = [summary, ratings, heatmap, comparisons]

        def everything(user, title, n) -> list:
            board = service.arena.board(user, titles.get(title, "human"), rounds=int(n))
            return [*_board_outputs(board), _comparison_rows(service.comparisons.rows(user, int(n)))]

        def load(title, n, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                return [nav_markdown(user, "leaderboard"), *everything(user, title, n)]

        def again(title, n, request: gr.Request):
            with shown_errors():
                return everything(caller(service, request, "rater"), title, n)

        page.load(load, [judge, rounds], [nav, *outputs], api_visibility="private")
        judge.input(again, [judge, rounds], outputs, api_visibility="private")
        refresh.click(again, [judge, rounds], outputs, api_visibility="private")
    return page
