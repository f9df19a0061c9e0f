"""The leaderboard page: Bradley-Terry ratings with bootstrap 95% intervals, the win-rate heatmap and battle
counts; human votes and reward-model-judged battles on separate tabs.

    hitl serve    # then http://127.0.0.1:7860/leaderboard/

The numbers come from hitl.ratings through the service; this page only draws them.
"""

import math

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402

from collection_ui.common import caller, nav_markdown, page_blocks, safe_markdown, shown_errors  # noqa: E402
from hitl.service import Service  # noqa: E402
from hitl.service.arena import Board  # noqa: E402

JUDGES = (("human", "Human votes"), ("reward", "Reward-model judged"))
RATING_HEADERS = ["rank", "model", "rating", "95% interval", "battles", "wins", "losses", "ties"]


def _interval(low: float, high: float) -> str:
    return "-" if math.isnan(low) else f"{low:.0f} – {high:.0f}"


def _heatmap(board: Board):
    # Model names are user text: labels, never mathtext ("$...$" in a name would break every panel).
    with matplotlib.rc_context({"text.parse_math": False}):
        return _draw_heatmap(board)


def _draw_heatmap(board: Board):
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * max(2, len(board.models)), 1 + 0.8 * max(2, len(board.models))))
    if board.models:
        image = ax.imshow(board.win_rates, vmin=0, vmax=1, cmap="RdYlGn")
        ax.set_xticks(range(len(board.models)), board.models, rotation=45, ha="right")
        ax.set_yticks(range(len(board.models)), board.models)
        for i in range(len(board.models)):
            for j in range(len(board.models)):
                value = board.win_rates[i, j]
                if not math.isnan(value):
                    ax.text(j, i, f"{value:.2f}\n({board.counts[i, j]})", ha="center", va="center", fontsize=8)
        fig.colorbar(image, ax=ax, label="row model's win rate")
    else:
        ax.text(0.5, 0.5, "no battles yet", ha="center", va="center")
        ax.axis("off")
    ax.set_title("Win rate of the row model against the column model (battles)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def _outputs(board: Board) -> list:
    rows = [
        [k + 1, r.model, round(r.rating), _interval(r.low, r.high), r.battles, r.wins, r.losses, r.ties]
        for k, r in enumerate(board.ratings)
    ]
    counts = [[m, *board.counts[i].tolist()] for i, m in enumerate(board.models)]
    summary = f"{board.n_battles} counted battles · ratings on the Elo scale (mean 1000; +100 = 64% expected wins)"
    return [summary, rows, _heatmap(board), gr.update(value=counts, headers=["model", *board.models])]


def build(service: Service) -> gr.Blocks:
    with page_blocks("leaderboard") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        rounds = gr.Slider(label="Bootstrap resamples", minimum=50, maximum=1000, value=200, step=50)
        refresh = gr.Button("Refresh")
        tabs = {}
        for judge, title in JUDGES:
            with gr.Tab(title):
                tabs[judge] = [
                    safe_markdown(),
                    gr.Dataframe(
                        headers=RATING_HEADERS, interactive=False, label="Ratings", elem_id=f"hitl-board-{judge}"
                    ),
                    gr.Plot(label="Win rates"),
                    gr.Dataframe(interactive=False, label="Battle counts"),
                ]
        outputs = [c for judge, _ in JUDGES for c in tabs[judge]]

        def boards(user, n: int) -> list:
            return [x for judge, _ in JUDGES for x in _outputs(service.arena.board(user, judge, rounds=int(n)))]

        def load(n, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                return [nav_markdown(user, "leaderboard"), *boards(user, n)]

        def again(n, request: gr.Request):
            with shown_errors():
                return boards(caller(service, request, "rater"), n)

        page.load(load, rounds, [nav, *outputs], api_visibility="private")
        refresh.click(again, rounds, outputs, api_visibility="private")
    return page
