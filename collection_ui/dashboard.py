"""The dashboard (reviewers and admins): judgments per hour, queue depth, agreement, the per-rater quality table,
one chart per rater metric, the loop's rounds with every rate's 95% interval and n, and quality by prompt tag (per
tag and per rater x tag: preference shares, agreement, gold accuracy, and who fails on one kind of prompt).

    hitl serve    # then http://127.0.0.1:7860/dashboard/  (?campaign=NAME picks the campaign)

Every number comes from hitl.stats / hitl.quality through the service; this page only rounds and draws them.
"""

from datetime import datetime

import gradio as gr

from collection_ui.charts import hourly_figure, rater_bars
from collection_ui.common import caller, nav_markdown, page_blocks, result_table, safe_markdown, shown_errors
from hitl.service import Service
from hitl.service.dashboard import ROUND_INTERVALS, Dashboard
from hitl.stats import TAG_RATES, format_rate

# The rater table as people read it: (header with its unit, how to show a row's value). Numbers stay numbers,
# so a click on a header sorts them.
RATER_TABLE = [
    ("rater", lambda r: r["rater"]),
    ("judgments", lambda r: r["judgments"]),
    ("gold accuracy %", lambda r: _pct(r["gold accuracy"])),
    ("gold 95% CI (n)", lambda r: _ci(r["gold low"], r["gold high"], r["gold n"])),
    ("agreement %", lambda r: _pct(r["agreement"])),
    ("agreement 95% CI (n)", lambda r: _ci(r["agreement low"], r["agreement high"], r["agreement n"])),
    ("picks first shown %", lambda r: _pct(r["position bias (first shown)"])),
    ("picks longer %", lambda r: _pct(r["length bias (longer)"])),
    ("median s", lambda r: None if r["median seconds"] is None else round(r["median seconds"], 1)),
    ("flagged %", lambda r: _pct(r["flagged share"])),
    ("issues", lambda r: r["issues"] or "–"),
]
RATER_TYPES = ["str", "number", "number", "str", "number", "str", "number", "number", "number", "number", "str"]
# (title, data key, n key, unit, reference line, its label) of each rater chart.
RATER_CHARTS = [
    ("Gold accuracy", "gold accuracy", "gold n", "%", None, ""),
    ("Agreement with the other raters", "agreement", "agreement n", "%", None, ""),
    ("Picks the response shown first", "position bias (first shown)", "position n", "%", 0.5, "chance"),
    ("Picks the longer response", "length bias (longer)", "length n", "%", 0.5, "chance"),
    ("Median seconds per judgment", "median seconds", "timed n", "s", None, ""),
    ("Judgments with a flag", "flagged share", "judgments", "%", None, ""),
]
ROUND_TABLE = ["round", "stage", "status", "new judgments", *ROUND_INTERVALS, "items queued", "updated", "message"]


def _width(header: str) -> int:
    """A column wide enough for its header on one line (the tables scroll sideways on a phone instead)."""
    return max(80, 9 * len(header) + 28)


def _pct(x: float | None) -> int | None:
    return None if x is None else round(100 * x)


def _ci(low: float | None, high: float | None, n: int | None) -> str:
    if not n:
        return "– (0)"
    return f"{100 * low:.0f}–{100 * high:.0f} ({n})" if low is not None and high is not None else f"– ({n})"


def _fmt(x) -> str:
    return "–" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))


def _headline(d: Dashboard) -> str:
    s, q = d.summary, d.depth
    gold = f"{q['gold_items']} gold" if q["gold_items"] else "**no gold items** (gold accuracy stays blank)"
    return (
        f"### {d.campaign}\n"
        f"**Judgments** {s['n_judgments']} · **items judged** {s['n_items']} · **raters** {s['n_raters']} · "
        f"**Krippendorff's alpha** ordinal {_fmt(s['alpha_ordinal'])}, nominal {_fmt(s['alpha_nominal'])} · "
        f"**Fleiss' kappa** {_fmt(s['fleiss_kappa'])}\n\n"
        f"**Queue:** {q['open_items']} open items need {q['judgments_needed']} more judgments · "
        f"{q['done_items']} done · {gold}"
    )


def _round_row(r: dict) -> list:
    rates = [format_rate(r[c], r[f"{c} low"], r[f"{c} high"], r[f"{c} n"]) for c in ROUND_INTERVALS]
    when = datetime.fromtimestamp(r["updated"]).strftime("%Y-%m-%d %H:%M") if r["updated"] else ""
    queued = "–" if r["items queued"] is None else r["items queued"]
    new = "–" if r["new judgments"] is None else r["new judgments"]
    return [r["round"], r["stage"], r["status"], new, *rates, queued, when, r["message"]]


def _outputs(d: Dashboard) -> list:
    table = [[show(r) for _, show in RATER_TABLE] for r in d.raters]
    names = [r["rater"] for r in d.raters]
    charts = [
        rater_bars(names, [r[key] for r in d.raters], [r[n] for r in d.raters], title, unit, ref, ref_label)
        for title, key, n, unit, ref, ref_label in RATER_CHARTS
    ]
    rounds = [_round_row(r) for r in d.rounds]
    standing = [[r[k] if r[k] is not None else "" for k in STANDING_KEYS] for r in d.workforce]
    tags = [_tag_row(r, ["tag", "judgments", "items"]) for r in d.tags]
    rater_tags = [_tag_row(r, ["tag", "rater", "judgments"]) for r in d.rater_tags]
    return [_headline(d), hourly_figure(d.throughput), table, *charts, rounds, standing, tags, rater_tags]


# Quality by prompt tag (hitl.stats.tag_table): each rate as "0.62 [0.50, 0.74] n=24".
TAG_LABELS = [label for _, label in TAG_RATES]
TAG_HEADERS = ["tag", "judgments", "items", *TAG_LABELS, "issues"]
RATER_TAG_HEADERS = ["tag", "rater", "judgments", *TAG_LABELS, "issues"]


def _tag_row(r: dict, first: list[str]) -> list:
    rates = [format_rate(r[k], r[f"{k} low"], r[f"{k} high"], r[f"{k} n"]) for k, _ in TAG_RATES]
    return [*(r[k] for k in first), *rates, r["issues"] or "–"]


def _tag_widths(headers: list[str]) -> list[int]:
    return [250 if h in TAG_LABELS else (360 if h == "issues" else _width(h)) for h in headers]


# The workforce roster (hitl.workforce: qualification, pauses, warnings), shown when the campaign has such rules.
STANDING_KEYS = ["rater", "qualification", "attempt", "correct", "total", "paused", "warning", "judgments"]


def build(service: Service) -> gr.Blocks:
    with page_blocks("dashboard") as page:
        nav = safe_markdown(elem_classes=["hitl-nav"])
        with gr.Row():
            campaign = gr.Dropdown(label="Campaign", choices=[], interactive=True)
            refresh = gr.Button("Refresh")
        headline = safe_markdown(elem_id="hitl-dashboard-headline")
        throughput = gr.Plot(label="Judgments per hour", show_label=False, elem_id="hitl-dashboard-hours")
        table = result_table(
            headers=[h for h, _ in RATER_TABLE],
            datatype=RATER_TYPES,
            label="Raters (click a header to sort)",
            max_height=640,
            wrap=True,
            column_widths=[190] + [_width(h) for h, _ in RATER_TABLE[1:-1]] + [360],
            elem_id="hitl-dashboard-raters",
        )
        with gr.Row():
            # The figures carry their own titles: no label box over them.
            plots = [gr.Plot(label=title, show_label=False, min_width=320) for title, *_ in RATER_CHARTS]
        rounds = result_table(
            headers=ROUND_TABLE,
            label="Loop rounds (hitl loop / hitl serve --loop-campaign): rates with their 95% interval and n",
            wrap=True,
            wide=True,
            # The rate columns hold "0.71 [0.55, 0.83] n=31" on one line (in the page's font): up to the last rate
            # the table fits a laptop screen.
            column_widths=[170 if h in ROUND_INTERVALS else _width(h) for h in ROUND_TABLE[:-1]] + [360],
            elem_id="hitl-dashboard-rounds",
        )
        standing = result_table(
            headers=STANDING_KEYS,
            label="Raters under the workforce rules: in training, passed, failed, paused, warned (hitl workforce)",
            wrap=True,
            elem_id="hitl-dashboard-standing",
        )
        tags = result_table(
            headers=TAG_HEADERS,
            label="By prompt tag: preference shares, agreement and gold accuracy, each with its 95% interval and n",
            wrap=True,
            column_widths=_tag_widths(TAG_HEADERS),
            elem_id="hitl-dashboard-tags",
        )
        rater_tags = result_table(
            headers=RATER_TAG_HEADERS,
            label="Raters by prompt tag (issues: lower on this tag than on the others, false discovery rate 5%)",
            wrap=True,
            max_height=480,
            column_widths=_tag_widths(RATER_TAG_HEADERS),
            elem_id="hitl-dashboard-rater-tags",
        )
        outputs = [headline, throughput, table, *plots, rounds, standing, tags, rater_tags]

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
                wanted = dict(request.query_params).get("campaign")
                name = wanted if wanted in names else names[0]
                shown = service.dashboard.dashboard(user, name)
                return [nav_markdown(user, "dashboard"), gr.update(choices=names, value=name), *_outputs(shown)]

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
