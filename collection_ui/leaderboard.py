"""The leaderboard page: raw and style-controlled Bradley-Terry ratings side by side with bootstrap 95% intervals
(a toggle picks which one orders the board, its rank intervals and verdicts), the style coefficients (how much the
judges reward length, lists, headers, bold, code), a verdict per adjacent pair and the battles that would separate
the pairs not yet separated, a board per prompt category, and the win-rate heatmap of one judge at a time (human
votes, reward-model or oracle judged battles); then the policy comparisons: every `hitl eval-policy` run and every
loop round's new-vs-base evaluation, with intervals.

    hitl serve    # then http://127.0.0.1:7860/leaderboard/

The numbers come from hitl.leaderboard_report / hitl.winrate through the service (drawn once per change of the
battles); this page only draws them. The bootstrap
resamples are an advanced setting with the CLI's default (hitl.stats.BOOTSTRAP_ROUNDS).
"""

import gradio as gr

from collection_ui.charts import heatmap_figure
from collection_ui.common import caller, nav_markdown, page_blocks, result_table, safe_markdown, shown_errors
from hitl.leaderboard_report import MIN_BATTLES_TO_RANK, ModelRow, Report, interval_text
from hitl.ratings import MAX_ROUNDS
from hitl.service import Service
from hitl.service.arena import Board
from hitl.service.comparisons import ComparisonRow
from hitl.stats import BOOTSTRAP_ROUNDS, format_rate

JUDGES = (("human", "Human votes"), ("reward", "Reward model"), ("oracle", "Oracle"))
VIEWS = (("raw", "Raw"), ("style", "Style-controlled"))
RATING_HEADERS = [
    "rank",
    "model",
    "rating",
    "95% interval",
    "style-controlled",
    "95% interval ",  # Gradio needs distinct headers
    "battles",
    "wins",
    "losses",
    "ties",
]
CATEGORY_HEADERS = ["rank", "model", "rating", "95% interval", "battles", "wins", "losses", "ties"]
COEFFICIENT_HEADERS = ["style feature", "coefficient [95% CI]", "rating points", "1 sd", "n"]
ALL_PROMPTS = "All prompts"
COMPARISON_HEADERS = [
    "A",
    "B",
    "judged by",
    "from",
    "n",
    "A wins / ties / B wins",
    "A's win rate [95% CI]",
    "length-controlled [95% CI]",
    "style-controlled [95% CI]",
    "verdict",
]
NO_BATTLES = {
    "human": "No votes yet: raters vote on the **Arena** page.",
    "reward": "No reward-model-judged battles yet: `hitl eval-policy --a A --b B --prompts all --reward RM`.",
    "oracle": "No oracle-judged battles yet: `hitl eval-policy --a A --b B --prompts all --oracle rule:concise`.",
}


def _heatmap(board: Board):
    """The board's win-rate heatmap (model names are labels, never mathtext: collection_ui.charts)."""
    return heatmap_figure(board.models, board.win_rates, board.counts)


def _summary(board: Board, report: Report) -> str:
    if not board.n_battles:
        return NO_BATTLES[board.judge]
    view = "style-controlled" if report.view == "style" else "raw"
    text = (
        f"**{board.n_battles} counted battle{'' if board.n_battles == 1 else 's'}** · ratings on the Elo scale "
        f"(mean 1000; +100 = 64% expected wins) · ordered by the **{view}** rating · ranks are 95% intervals that "
        "hold for every model at once"
    )
    if board.n_battles < MIN_BATTLES_TO_RANK:
        text += f"\n\n⚠ Fewer than {MIN_BATTLES_TO_RANK} battles: too few to separate the models, so no ranking yet."
    for note in report.notes:
        text += f"\n\n{note}"
    if report.integrity:
        text += "\n\nIntegrity of the votes: " + " · ".join(report.integrity)
    return text


def _number(x: float | None) -> str | int:
    return "–" if x is None else round(x)


def _rating_rows(rows: list[ModelRow], style: bool = True) -> list[list]:
    out = []
    for m in rows:
        row = [m.rank, m.model, _number(m.rating), interval_text(m.low, m.high, m.rated)]
        if style:
            row += [_number(m.style_rating), interval_text(m.style_low, m.style_high, m.style_rating is not None)]
        out.append([*row, m.battles, m.wins, m.losses, m.ties])
    return out


def _coefficient_rows(report: Report) -> list[list]:
    return [
        [c.feature, format_rate(c.coefficient, c.low, c.high), round(c.elo), f"{c.sd:.2f}", c.n]
        for c in report.coefficients
    ]


def _verdicts(report: Report) -> str:
    if not report.verdicts:
        return ""
    lines = ["#### Verdicts (adjacent pairs, 95%, corrected for the number of pairs)"]
    lines += [f"- {v.text}" for v in report.verdicts]
    if report.plans:
        lines.append("\n#### Battles that would separate them")
        lines += [f"- {p.text}" for p in report.plans]
    return "\n".join(lines)


def _category_outputs(report: Report, chosen: str) -> list:
    """The category picker's choices and the chosen category's message and table (empty under too few battles)."""
    tags = [c.tag for c in report.categories]
    choices = [ALL_PROMPTS, *tags]
    value = chosen if chosen in choices else ALL_PROMPTS
    if value == ALL_PROMPTS:
        text = (
            "Pick a prompt category (from prompt tags) to see its own board and the battles behind it."
            if tags
            else "No tagged prompts have battles yet: tag prompts (`hitl import prompts FILE --tag TAG`, or `tags` "
            "in each record) to get a board per category."
        )
        if report.hidden_categories:
            text += f" {report.hidden_categories} more categories with fewer battles are not shown."
        return [gr.update(choices=choices, value=value), text, gr.update(value=[], visible=False)]
    board = next(c for c in report.categories if c.tag == value)
    rows = _rating_rows(board.rows, style=False)
    return [gr.update(choices=choices, value=value), board.message, gr.update(value=rows, visible=bool(rows))]


def _board_outputs(board: Board, report: Report, category: str) -> list:
    return [
        _summary(board, report),
        _rating_rows(report.rows),
        gr.update(value=_coefficient_rows(report), visible=bool(report.coefficients)),
        _verdicts(report),
        *_category_outputs(report, category),
        _heatmap(board),
    ]


def _comparison_rows(rows: list[ComparisonRow]) -> list[list]:
    out = []
    for c in rows:
        tally = "–" if c.wins is None else f"{c.wins} / {c.ties} / {c.losses}"
        lc = "–" if c.length_controlled is None else format_rate(c.length_controlled, c.lc_low, c.lc_high)
        rate = format_rate(c.rate, c.low, c.high)
        style = "–" if c.style_controlled is None else format_rate(c.style_controlled, c.style_low, c.style_high)
        out.append([c.a, c.b, c.judge, c.source, c.n, tally, rate, lc, style, c.verdict])
    return out


def build(service: Service) -> gr.Blocks:
    titles = {title: judge for judge, title in JUDGES}
    views = {title: view for view, title in VIEWS}

    with page_blocks("leaderboard") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        # Pickers rather than tabs: they wrap on a phone, where tabs would hide behind an overflow menu.
        judge = gr.Radio(
            label="Battles judged by", choices=list(titles), value=JUDGES[0][1], elem_id="hitl-board-judge"
        )
        view = gr.Radio(
            label="Order by",
            choices=list(views),
            value=VIEWS[0][1],
            info="Style-controlled: the rating with answer length and markdown (lists, headers, bold, code) equal",
            elem_id="hitl-board-view",
        )
        summary = safe_markdown(elem_id="hitl-board-summary")
        ratings = result_table(
            headers=RATING_HEADERS,
            label="Ratings",
            elem_id="hitl-board",
        )
        verdicts = safe_markdown(elem_id="hitl-board-verdicts")
        coefficients = result_table(
            headers=COEFFICIENT_HEADERS,
            label="What the judges reward: log-odds of winning per standard deviation of the style difference",
            elem_id="hitl-board-style",
        )
        gr.Markdown("### Categories")
        category = gr.Radio(label="Prompt category", choices=[ALL_PROMPTS], value=ALL_PROMPTS, elem_id="hitl-category")
        category_summary = safe_markdown(elem_id="hitl-category-summary")
        category_board = result_table(
            headers=CATEGORY_HEADERS,
            label="Category ratings",
            elem_id="hitl-category-board",
        )
        heatmap = gr.Plot(label="Win rates", show_label=False)
        gr.Markdown(
            "### Comparisons\nWin rate of A over B on the same prompts, judged by a reward model or an oracle: every "
            "`hitl eval-policy` run and every loop round's new policy against its base."
        )
        comparisons = result_table(
            headers=COMPARISON_HEADERS,
            label="Comparisons",
            wrap=True,
            wide=True,
            # 1,200 px in all: the ten columns fit a laptop screen (the verdict wraps inside its own), and a phone
            # scrolls the table inside its box rather than squeezing every column to a letter.
            column_widths=[95, 95, 160, 130, 45, 75, 120, 120, 120, 240],
            elem_id="hitl-comparisons",
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
        outputs = [summary, ratings, coefficients, verdicts, category, category_summary, category_board, heatmap]
        inputs = [judge, view, category, rounds]

        def everything(user, judge_title, view_title, chosen, n) -> list:
            name = titles.get(judge_title, "human")
            board = service.arena.board(user, name, rounds=int(n))
            report = service.arena.report(user, name, rounds=int(n), view=views.get(view_title, "raw"))
            return [*_board_outputs(board, report, chosen), _comparison_rows(service.comparisons.rows(user, int(n)))]

        def load(judge_title, view_title, chosen, n, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "rater")
                return [nav_markdown(user, "leaderboard"), *everything(user, judge_title, view_title, chosen, n)]

        def again(judge_title, view_title, chosen, n, request: gr.Request):
            with shown_errors():
                return everything(caller(service, request, "rater"), judge_title, view_title, chosen, n)

        page.load(load, inputs, [nav, *outputs, comparisons], api_visibility="private")
        for control in (judge, view, category):
            control.input(again, inputs, [*outputs, comparisons], api_visibility="private")
        refresh.click(again, inputs, [*outputs, comparisons], api_visibility="private")
    return page
