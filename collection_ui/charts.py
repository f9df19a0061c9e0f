"""Figures the dashboard and the leaderboard draw: judgments per calendar hour, one bar chart per rater metric and
the win-rate heatmap, made to be read at a glance (axes from 0, labels that fit, n beside every bar).

    python -c "from collection_ui.charts import hourly_figure; hourly_figure([(0.0, 3), (3600.0, 5)])"

Text that reaches a figure (rater and model names) is a label, never markup: every figure is drawn with
matplotlib's mathtext off, so a name with `$...$` draws as written. Figures are closed after drawing (the page
keeps the image), so a long-running server does not accumulate them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

PLAIN_TEXT = {"text.parse_math": False, "font.size": 10}


def _plain(draw: Callable) -> Callable:
    def wrapped(*args, **kwargs):
        with matplotlib.rc_context(PLAIN_TEXT):
            fig = draw(*args, **kwargs)
            fig.tight_layout()
        plt.close(fig)
        return fig

    wrapped.__doc__ = draw.__doc__
    return wrapped


def _message(text: str, size: tuple[float, float] = (6, 1.4)):
    fig, ax = plt.subplots(figsize=size)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="#555")
    ax.axis("off")
    return fig


@_plain
def hourly_figure(buckets: Sequence[tuple[float, int]], min_hours: int = 6):
    """Judgments per local calendar hour (bars labelled 09:00, 10:00, ...), from the first busy hour to now."""
    counts = [n for _, n in buckets]
    if not any(counts):
        return _message(f"No judgments in the last {len(buckets)} hours")
    first = min(next(i for i, n in enumerate(counts) if n), max(0, len(counts) - min_hours))
    shown = list(buckets)[first:]
    hours = [datetime.fromtimestamp(t) for t, _ in shown]
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    x = np.arange(len(shown))
    ax.bar(x, [n for _, n in shown], width=0.8, color="tab:blue")
    step = max(1, math.ceil(len(shown) / 12))  # at most ~12 labels, so they never overlap
    ax.set_xticks(x[::step], [h.strftime("%H:00") for h in hours[::step]])
    ax.set_xlim(-0.6, len(shown) - 0.4)
    ax.set_ylim(0, max(counts) * 1.15 + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("judgments")
    days = f"{hours[0]:%d %b}" + ("" if hours[0].date() == hours[-1].date() else f" – {hours[-1]:%d %b}")
    ax.set_xlabel(f"hour starting (local time, {days})")
    ax.set_title("Judgments per hour (the last bar is the current hour, still filling)", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


@_plain
def rater_bars(
    names: Sequence[str],
    values: Sequence[float | None],
    ns: Sequence[int | None],
    title: str,
    unit: str = "%",
    reference: float | None = None,
    reference_label: str = "",
):
    """One metric, one horizontal bar per rater (names on the y axis always fit), x from 0, n beside each bar;
    a rater without enough data gets '–' instead of an empty bar. `unit` '%' takes values as shares (0-1)."""
    if not names:
        return _message("No raters yet", size=(4.5, 1.2))
    scale = 100.0 if unit == "%" else 1.0
    shown = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v * scale for v in values]
    top = 100.0 if unit == "%" else max([v for v in shown if v is not None] + [1.0]) * 1.25
    fig, ax = plt.subplots(figsize=(4.6, 0.9 + 0.34 * len(names)))
    y = np.arange(len(names))
    ax.barh(y, [v or 0.0 for v in shown], height=0.65, color="tab:blue")
    for i, (v, n) in enumerate(zip(shown, ns, strict=True)):
        count = "" if n is None else f" n={int(n)}"
        label = "–" if v is None else (f"{v:.0f}{unit}" if unit == "%" else f"{v:.1f} {unit}")
        ax.text((v or 0.0) + top * 0.01, i, f"{label}{count}", va="center", fontsize=8)
    if reference is not None:
        ax.axvline(reference * scale, color="grey", linestyle=":", linewidth=1)
        ax.text(reference * scale, len(names) - 0.4, f" {reference_label}", fontsize=7, color="grey", va="bottom")
    ax.set_yticks(y, list(names))
    ax.invert_yaxis()  # first rater at the top, as in the table
    ax.set_xlim(0, top * 1.3)  # room for the value labels
    if unit == "%":
        ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_ylim(len(names) - 0.5 + (0.6 if reference is not None else 0), -0.5)
    ax.set_xlabel("percent" if unit == "%" else unit)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


@_plain
def heatmap_figure(models: Sequence[str], win_rates: np.ndarray, counts: np.ndarray):
    """Win rate of the row model against the column model, with the battle count in each cell."""
    k = len(models)
    if not k:
        return _message("No battles yet")
    side = max(4.2, 1.6 + 1.0 * k)
    fig, ax = plt.subplots(figsize=(side + 1.4, side))
    shown = np.ma.masked_invalid(np.asarray(win_rates, dtype=float))
    image = ax.imshow(shown, vmin=0, vmax=1, cmap="RdYlGn")
    ax.set_xticks(range(k), list(models), rotation=30, ha="right")
    ax.set_yticks(range(k), list(models))
    for i in range(k):
        for j in range(k):
            value = win_rates[i, j]
            n = int(counts[i, j])
            text = "–" if math.isnan(value) else f"{value:.0%}\n{n} battle{'' if n == 1 else 's'}"
            ax.text(j, i, text, ha="center", va="center", fontsize=9)
    ax.set_xlabel("against (column model)")
    ax.set_ylabel("row model")
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("row model's win rate")
    ax.set_title("Win rate of the row model\nagainst the column model", fontsize=10)
    return fig
