"""Exporting judgments as training data (TRL preference pairs, KTO unpaired rows) or raw rows, with a manifest.

    python -c "import hitl.store as s, hitl.io as io; print(io.export(s.open_store(), 'pairs.jsonl').counts)"

Layouts: "pairs" = TRL `prompt/chosen/rejected/margin` (+ strength, weight, item_id, source, ids); "unpaired" =
KTO `prompt/completion/label`; "raw" = one row per judgment with every stored field. Chat prompts are written in
TRL's conversational form (prompt = the message list, chosen / rejected / completion = one assistant message);
when any row of an export is a chat, every row is, because TRL wants one form per dataset. Formats: "jsonl"
(byte-identical for the same database and options), "parquet", "hf" (datasets' save_to_disk directory with a
dataset card, README.md: hitl.io.dataset_card; `push_to_hub` sends it to the hub as well).

`strength` is the raters' judgment (1-3, 0 for a tie, the mean when aggregated). `margin` is what hitl's own reward
training uses, because TRL's RewardTrainer reads any `margin` column as a loss margin in logits:
`margin_per_strength` (0.5) per step above "slightly better", so 0 / 0.5 / 1.0 (training_margin).

Files are written to a temp file beside the target, fsynced and renamed. The manifest (also atomic) records the
counts, options, sha256 of the data, the time and the hitl version; it is `.<name>.manifest.json` beside the data,
a hidden name, because `datasets.load_dataset("json", data_dir=...)` reads every visible file of the folder.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

import hitl
from hitl.campaigns import Campaign, get_campaign
from hitl.errors import InvalidInput
from hitl.io.aspects import add_aspect_columns, aspect_means
from hitl.io.atomic import sha256_file, write_atomic, write_atomic_dir
from hitl.io.dataset_card import lineage, render_card
from hitl.preferences import MARGIN_PER_STRENGTH, build_pairs, load_items, training_margin, unpaired_rows
from hitl.store import Store
from hitl.store.schema import campaigns, items, judgments, users

FORMATS = ("jsonl", "parquet", "hf")
LAYOUTS = ("pairs", "unpaired", "raw")
CARD_NAME = "README.md"


def manifest_path(data_path: str | Path) -> Path:
    """`.<name>.manifest.json` beside the data: hidden, so `load_dataset("json", data_dir=...)` never reads it."""
    data = Path(data_path)
    return data.with_name(f".{data.name}.manifest.json")


@dataclass(frozen=True)
class Manifest:
    """What an export wrote. `sha256` is the data file's hash, or {relative path: hash} for an hf directory."""

    path: str
    data_path: str
    fmt: str
    layout: str
    campaign: str | None
    options: dict[str, Any]
    counts: dict[str, Any]
    sha256: str | dict[str, str]
    created_at: str
    hitl_version: str = field(default=hitl.__version__)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _chat_prompt(prompt: str | None, messages: list[dict] | None) -> list[dict]:
    return messages if messages is not None else [{"role": "user", "content": prompt}]


def pair_rows(
    pairs: list, conversational: bool, margin_per_strength: float = MARGIN_PER_STRENGTH
) -> list[dict[str, Any]]:
    """PreferencePairs as TRL rows (text, or conversational when `conversational`): `strength` as the raters gave
    it, `margin` as hitl trains with it (training_margin)."""
    rows = []
    for p in pairs:
        if conversational:
            prompt, chosen, rejected = _chat_prompt(p.prompt, p.messages), _assistant(p.chosen), _assistant(p.rejected)
        else:
            prompt, chosen, rejected = p.prompt, p.chosen, p.rejected
        rows.append(
            {
                "prompt": prompt,
                "chosen": chosen,
                "rejected": rejected,
                "margin": training_margin(p.margin, margin_per_strength),
                "strength": p.margin,
                "weight": p.weight,
                "item_id": p.item_id,
                "source": p.source,
                "n_votes": p.n_votes,
                "prompt_id": p.prompt_id,
                "chosen_response_id": p.chosen_response_id,
                "rejected_response_id": p.rejected_response_id,
            }
        )
    return rows


def unpaired_dicts(unpaired: list, conversational: bool) -> list[dict[str, Any]]:
    rows = []
    for u in unpaired:
        prompt = _chat_prompt(u.prompt, u.messages) if conversational else u.prompt
        completion = _assistant(u.completion) if conversational else u.completion
        rows.append(
            {
                "prompt": prompt,
                "completion": completion,
                "label": u.label,
                "item_id": u.item_id,
                "source": u.source,
                "prompt_id": u.prompt_id,
                "response_id": u.response_id,
            }
        )
    return rows


def raw_rows(store: Store, campaign: Campaign | None) -> list[dict[str, Any]]:
    """One row per judgment, oldest first, with the item's prompt and response texts alongside."""
    loaded = {it.id: it for it in load_items(store, campaign)}
    query = (
        select(judgments, users.c.name.label("user"), campaigns.c.name.label("campaign"))
        .join(users, users.c.id == judgments.c.user_id)
        .join(items, items.c.id == judgments.c.item_id)
        .join(campaigns, campaigns.c.id == items.c.campaign_id)
        .order_by(judgments.c.id)
    )
    if campaign is not None:
        query = query.where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        found = conn.execute(query).all()
    rows = []
    for j in found:
        it = loaded[j.item_id]
        rows.append(
            {
                "judgment_id": j.id,
                "campaign": j.campaign,
                "item_id": j.item_id,
                "prompt_id": it.prompt_id,
                "prompt": it.prompt,
                "messages": it.messages,
                "response_ids": it.response_ids,
                "responses": [it.texts[rid] for rid in it.response_ids],
                "is_gold": it.is_gold,
                "gold_answer": it.gold_answer,
                "user": j.user,
                "user_id": j.user_id,
                "lease_id": j.lease_id,
                "ranking": list(j.ranking),
                "strength": j.strength,
                "tie": bool(j.tie),
                "both_bad": bool(j.both_bad),
                "flags": list(j.flags),
                "rationale": j.rationale,
                "correction": j.correction,
                "seconds_on_item": j.seconds_on_item,
                "display_order": list(j.display_order),
                "idempotency_key": j.idempotency_key,
                "source": j.source,
                "created_at": j.created_at,
                "aspects": j.aspects,
            }
        )
    return rows


def _write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)


def _write_hf(rows: list[dict[str, Any]], path: Path, card: str) -> None:
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(path))
    (path / CARD_NAME).write_text(card, encoding="utf-8")


def push_to_hub(data_path: str | Path, repo_id: str, *, private: bool = True) -> str:
    """Send a saved `hf` export and its card to the hub (needs network and a token); returns the dataset's URL.

    `datasets` writes its own card (YAML: configs, dataset_info) when it pushes; hitl's card replaces the body and
    adds its tags, keeping that YAML so the hub's viewer still finds the data.
    """
    import datasets
    from huggingface_hub import DatasetCard

    folder = Path(data_path)
    datasets.load_from_disk(str(folder)).push_to_hub(repo_id, private=private)
    ours = DatasetCard((folder / CARD_NAME).read_text(encoding="utf-8"))
    card = DatasetCard.load(repo_id, repo_type="dataset")
    card.data.tags = sorted(set(card.data.get("tags") or []) | set(ours.data.get("tags") or []))
    card.text = ours.text
    card.push_to_hub(repo_id, repo_type="dataset")
    return f"https://huggingface.co/datasets/{repo_id}"


def _counts(layout: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Any] = {"rows": len(rows), "items": len({r["item_id"] for r in rows})}
    if layout == "pairs":
        counts["by_source"] = dict(sorted(Counter(r["source"] for r in rows).items()))
    elif layout == "unpaired":
        counts["desirable"] = sum(r["label"] for r in rows)
        counts["undesirable"] = len(rows) - counts["desirable"]
    else:
        counts["users"] = len({r["user_id"] for r in rows})
    return counts


def _agreement(store: Store, campaign: Campaign | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement statistics over the judgments of the exported items (hitl.quality.campaign_summary)."""
    from hitl.quality import campaign_summary
    from hitl.stats import judgment_rows

    exported = {r["item_id"] for r in rows}
    summary = campaign_summary(r for r in judgment_rows(store, campaign) if r.item_id in exported)
    return {k: summary[k] for k in ("n_judgments", "n_raters", "alpha_ordinal", "alpha_nominal", "fleiss_kappa")}


def export(
    store: Store,
    out_path: str | Path,
    *,
    fmt: str = "jsonl",
    layout: str = "pairs",
    campaign: Campaign | str | int | None = None,
    ties: str = "drop",
    both_bad: str = "drop",
    aggregate: str = "all",
    include_corrections: bool = True,
    margin_per_strength: float = MARGIN_PER_STRENGTH,
) -> Manifest:
    """Write the judgments of `campaign` (or all) to `out_path` and its manifest; see the module docstring.

    ties / both_bad / aggregate / margin_per_strength shape the pairs layout (see hitl.preferences.build_pairs);
    the other layouts have one row per judgment and refuse them. An export with no rows is refused rather than
    written empty.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if campaign is not None and not isinstance(campaign, Campaign):
        campaign = get_campaign(store, campaign)
    options: dict[str, Any] = {}
    if layout == "pairs":
        options = {
            "ties": ties,
            "both_bad": both_bad,
            "aggregate": aggregate,
            "include_corrections": include_corrections,
        }
        pairs = build_pairs(store, campaign, **options)
        conversational = any(p.messages is not None for p in pairs)
        if not (math.isfinite(margin_per_strength) and margin_per_strength >= 0):
            raise InvalidInput(f"margin_per_strength must be a number >= 0, not {margin_per_strength!r}")
        rows = pair_rows(pairs, conversational, margin_per_strength)
        add_aspect_columns(rows, aspect_means(store, campaign))
        options["margin_per_strength"] = margin_per_strength
    else:
        if (ties, both_bad, aggregate, margin_per_strength) != ("drop", "drop", "all", MARGIN_PER_STRENGTH):
            raise InvalidInput(
                f"ties, both_bad, aggregate and margin_per_strength apply to the pairs layout, not to {layout!r}"
            )
        if layout == "unpaired":
            options = {"include_corrections": include_corrections}
            unpaired = unpaired_rows(store, campaign, include_corrections=include_corrections)
            rows = unpaired_dicts(unpaired, conversational=any(u.messages is not None for u in unpaired))
        else:
            rows = raw_rows(store, campaign)
    scope = f"campaign {campaign.name!r}" if campaign is not None else "the store"
    if not rows:
        raise InvalidInput(f"nothing to export: {scope} has no judgments that give {layout} rows with these options")

    out = Path(out_path)
    counts = _counts(layout, rows)
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        if fmt == "hf":
            card = render_card(
                layout=layout,
                counts=counts,
                options=options,
                agreement=_agreement(store, campaign, rows),
                origin=lineage(store, campaign, rows),
                created_at=created_at,
            )
            write_atomic_dir(out, lambda p: _write_hf(rows, p, card))
            files = sorted(f for f in out.rglob("*") if f.is_file())
            digest: str | dict[str, str] = {f.relative_to(out).as_posix(): sha256_file(f) for f in files}
        else:
            write_atomic(out, lambda p: (_write_jsonl if fmt == "jsonl" else _write_parquet)(rows, p))
            digest = sha256_file(out)
    except (OSError, ValueError) as exc:
        # A path under a file, /proc, a read-only disk, a NUL in the name: one line naming the path, no traceback.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot write the export to {out_path}: {reason}; choose another path") from None
    return save_manifest(out, fmt, layout, campaign.name if campaign is not None else None, options, counts, digest)


def save_manifest(
    out: Path,
    fmt: str,
    layout: str,
    campaign: str | None,
    options: dict[str, Any],
    counts: dict[str, Any],
    digest: str | dict[str, str],
) -> Manifest:
    """Write the manifest of an export at `out` (atomically, at manifest_path(out)) and return it."""
    manifest = Manifest(
        path=str(manifest_path(out)),
        data_path=str(out),
        fmt=fmt,
        layout=layout,
        campaign=campaign,
        options=options,
        counts=counts,
        sha256=digest,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    text = json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n"
    write_atomic(manifest.path, lambda p: p.write_text(text, encoding="utf-8"))
    return manifest
