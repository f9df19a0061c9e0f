"""The dataset card (README.md) of an `hf` export: counts, rater agreement, export options and lineage.

    hitl export out/ds --format hf --campaign demo && cat out/ds/README.md

The card is what the Hugging Face hub shows for a pushed dataset and what `datasets` keeps beside a saved one:
YAML metadata (tags, task, size category) and a body saying what the rows are, how they were made (options,
how strength became `margin`), how much the raters agreed, and where the data came from (campaign, the model
versions whose responses are compared, the judgments' time span, the hitl version).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

import hitl
from hitl.campaigns import Campaign
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import items, judgments, model_versions, responses

LAYOUT_TEXT = {
    "pairs": "TRL preference pairs (`prompt`, `chosen`, `rejected`), for RewardTrainer and DPOTrainer",
    "unpaired": "TRL unpaired preference rows (`prompt`, `completion`, `label`), for KTOTrainer",
    "raw": "one row per human judgment with every stored field",
}


@dataclass(frozen=True)
class Lineage:
    """Where an export's rows came from."""

    campaign: str | None
    model_versions: list[str]
    first_judgment_at: float | None
    last_judgment_at: float | None


def lineage(store: Store, campaign: Campaign | None, rows: list[dict[str, Any]]) -> Lineage:
    """The campaign, the model versions that wrote the exported responses, and the judgments' time span."""
    response_ids = set()
    for row in rows:
        for key in ("chosen_response_id", "rejected_response_id", "response_id"):
            if row.get(key) is not None:
                response_ids.add(row[key])
        response_ids.update(row.get("response_ids") or [])
    names: set[str] = set()
    span = select(func.min(judgments.c.created_at), func.max(judgments.c.created_at)).join(
        items, items.c.id == judgments.c.item_id
    )
    if campaign is not None:
        span = span.where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        for chunk in in_chunks(sorted(response_ids)):
            query = (
                select(model_versions.c.name)
                .join(responses, responses.c.model_version_id == model_versions.c.id)
                .where(responses.c.id.in_(chunk))
                .distinct()
            )
            names.update(conn.execute(query).scalars())
        first, last = conn.execute(span).one()
    return Lineage(campaign.name if campaign is not None else None, sorted(names), first, last)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else "n/a"


def render_card(
    *,
    layout: str,
    counts: dict[str, Any],
    options: dict[str, Any],
    agreement: dict[str, Any],
    origin: Lineage,
    created_at: str,
) -> str:
    """README.md text of an exported dataset (YAML front matter, then Markdown)."""
    title = f"hitl export of campaign {origin.campaign}" if origin.campaign else "hitl export of every campaign"
    lines = [
        "---",
        "tags:",
        "- hitl",
        "- rlhf",
        "- human-feedback",
        "- preference",
        "task_categories:",
        "- text-generation",
        "size_categories:",
        f"- {_size_category(int(counts.get('rows', 0)))}",
        "---",
        "",
        f"# {title}",
        "",
        f"{LAYOUT_TEXT[layout]}, exported by hitl {hitl.__version__} on {created_at}.",
        "",
        "## Counts",
        "",
        *(f"- {key}: {_number(value)}" for key, value in counts.items() if not isinstance(value, dict)),
        *(
            f"- {key}: " + ", ".join(f"{k} {v}" for k, v in value.items())
            for key, value in counts.items()
            if isinstance(value, dict)
        ),
        "",
        "## Rater agreement",
        "",
        *(f"- {key}: {_number(value)}" for key, value in agreement.items()),
        "",
        "Krippendorff's alpha (ordinal and nominal) and Fleiss' kappa over every judgment of the exported items; "
        "n/a where undefined (a single rater per item).",
        "",
        "## Options",
        "",
        *(f"- {key}: {value}" for key, value in options.items()),
    ]
    if layout == "pairs":
        lines += [
            "",
            "`strength` is the raters' judgment (1 slightly, 2 clearly, 3 much better; 0 a tie; the mean when "
            "aggregated). `margin` is what hitl trains with: TRL's RewardTrainer reads it as a loss margin in "
            f"logits, `margin_per_strength` ({options.get('margin_per_strength')}) per step above 1. "
            "`weight` scales a pair's loss (0.5 for each order of a tie, the Dawid-Skene posterior).",
        ]
    lines += [
        "",
        "## Lineage",
        "",
        f"- campaign: {origin.campaign or 'all'}",
        f"- model versions compared: {', '.join(origin.model_versions) or 'none registered (imported responses)'}",
        f"- judgments from {_when(origin.first_judgment_at)} to {_when(origin.last_judgment_at)}",
        f"- hitl version: {hitl.__version__}",
        "",
    ]
    return "\n".join(lines)
