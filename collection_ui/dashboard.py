"""The dashboard (reviewers and admins): throughput over time, queue depth, Krippendorff's alpha, the per-rater
quality table, a plot of each rater metric, and the loop's rounds with their metrics.

    hitl serve    # then http://127.0.0.1:7860/dashboard/

Every number comes from hitl.stats / hitl.quality through the service; this page only draws them.
"""

from datetime import datetime

import gradio as gr
import pandas as pd

from collection_ui.common import caller, nav_markdown, page_blocks, safe_markdown, shown_errors
from hitl.service import Service
from hitl.service.dashboard import RATER_COLUMNS, ROUND_COLUMNS, Dashboard

METRICS = [c for c in RATER_COLUMNS if c not in ("rater", "issues")]


def _fmt(x) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def _headline(d: Dashboard) -> str:
    s, q = d.summary, d.depth
    return (
        f"### {d.campaign}\n"
        f"**Judgments** {s['n_judgments']} · **items judged** {s['n_items']} · **raters** {s['n_raters']} · "
        f"**Krippendorff's alpha** ordinal {_fmt(s['alpha_ordinal'])}, nominal {_fmt(s['alpha_nominal'])} · "
        f"**Fleiss' kappa** {_fmt(s['fleiss_kappa'])}\n\n"
        f"**Queue:** {q['open_items']} open items need {q['judgments_needed']} more judgments · "
        f"{q['done_items']} done · {q['gold_items']} gold"
    )


def _outputs(d: Dashboard) -> list:
    times = pd.DataFrame(
        {"time": [datetime.fromtimestamp(t) for t, _ in d.throughput], "judgments": [n for _, n in d.throughput]}
    )
    table = pd.DataFrame(d.raters, columns=RATER_COLUMNS)
    plots = [
        pd.DataFrame({"rater": table["rater"], metric: pd.to_numeric(table[metric], errors="coerce")})
        for metric in METRICS
    ]
    rounds = pd.DataFrame(d.rounds, columns=ROUND_COLUMNS)
    rounds["updated"] = [datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "" for t in rounds["updated"]]
    return [_headline(d), times, table, *plots, rounds]


def build(service: Service) -> gr.Blocks:
    with page_blocks("dashboard") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Row():
            campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True)
            refresh = gr.Button("Refresh")
        headline = safe_markdown(elem_id="hitl-dashboard-headline")
        throughput = gr.LinePlot(x="time", y="judgments", title="Judgments per hour", height=260)
        table = gr.Dataframe(headers=RATER_COLUMNS, interactive=False, label="Raters", wrap=True)
        plots = []
        for start in range(0, len(METRICS), 3):
            with gr.Row():
                plots += [
                    gr.BarPlot(x="rater", y=metric, title=metric, height=240) for metric in METRICS[start : start + 3]
                ]
        rounds = gr.Dataframe(
            headers=ROUND_COLUMNS, interactive=False, label="Loop rounds (hitl loop / hitl serve --loop)", wrap=True
        )
        outputs = [headline, throughput, table, *plots, rounds]

        def load(request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                names = service.dashboard.campaigns(user)
                if not names:
                    return [
                        nav_markdown(user, "dashboard"),
                        gr.update(choices=[]),
                        "No campaigns yet.",
                        *[None] * (len(outputs) - 1),
                    ]
                shown = service.dashboard.dashboard(user, names[0])
                return [nav_markdown(user, "dashboard"), gr.update(choices=names, value=names[0]), *_outputs(shown)]

        def show(name, request: gr.Request):
            with shown_errors():
                user = caller(service, request, "reviewer")
                if not name:
                    raise gr.Error("Pick a campaign.")
                return _outputs(service.dashboard.dashboard(user, name))

        page.load(load, None, [nav, campaign, *outputs], api_visibility="private")
        campaign.input(show, campaign, outputs, api_visibility="private")
        refresh.click(show, campaign, outputs, api_visibility="private")
    return page
