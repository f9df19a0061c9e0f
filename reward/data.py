"""Preference data for reward models: judgments in the store, or a file, -> checked TRL rows, a train / eval split
by prompt, dataset snapshots in the store, and the pre-tokenized dataset the trainer reads.

    python -c "from hitl.store import open_store; from reward.data import store_rows; \
print(store_rows(open_store(), 'calibration')[:2])"

A row is TRL's explicit-prompt preference record plus what hitl knows about it: `prompt` (text or chat),
`chosen`, `rejected`, `margin` (the training margin, from rater strength), `weight` (ties, Dawid-Skene), `strength`
(1-3 as rated; 0 for a tie; None when unknown), `tie`, `source`, `item_id`. Files can hold TRL records (text or
conversational, explicit or implicit prompt), or HH-RLHF dialogue pairs; a saved HF dataset or `hf:owner/name`
(online only) works too. Only `datasets` is imported here, and only by `tokenize_rows`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from hitl.campaigns import Campaign
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import InvalidInput, NoPreferencePairs
from hitl.io.atomic import sha256_file, write_atomic
from hitl.io.imports import at, load_records
from hitl.io.readers import HUB_PREFIX
from hitl.io.records import optional, parse_preference
from hitl.preferences import build_pairs, training_margin
from hitl.store import Store
from hitl.store.schema import adjudications, dataset_snapshots, judgments
from reward.encoding import PairEncoder, prompt_key

Row = dict[str, Any]
NO_PAIRS_FIX = (
    "collect judgments first (hitl stats shows how many), pick another --campaign, keep ties (--ties half) or "
    "both-bad answers (--both-bad keep), or pass --data FILE"
)


def store_rows(
    store: Store,
    campaign: Campaign | str | int | None = None,
    *,
    ties: str = "drop",
    both_bad: str = "drop",
    aggregate: str = "all",
    include_corrections: bool = True,
    margin_per_strength: float = 0.5,
) -> list[Row]:
    """Rows from the judgments of `campaign` (or all), with adjudications and gold answers overriding votes."""
    pairs = build_pairs(
        store, campaign, ties=ties, both_bad=both_bad, aggregate=aggregate, include_corrections=include_corrections
    )
    rows = []
    for p in pairs:
        tie = p.margin == 0.0 and p.source != "correction"
        strength = None if tie else p.margin
        rows.append(
            {
                "prompt": p.messages if p.messages is not None else p.prompt,
                "chosen": p.chosen,
                "rejected": p.rejected,
                "margin": training_margin(strength, margin_per_strength),
                "weight": p.weight,
                "strength": 0.0 if tie else p.margin,
                "tie": tie,
                "source": p.source,
                "item_id": p.item_id,
            }
        )
    return rows


def _file_row(record: dict[str, Any], max_text_bytes: int) -> Row:
    value = parse_preference(record, max_text_bytes)
    prompt = value.prompt.messages if value.prompt.messages is not None else value.prompt.text
    margin, strength = optional(record, "margin"), optional(record, "strength")
    return {
        "prompt": prompt,
        "chosen": value.chosen,
        "rejected": value.rejected,
        # A file's margin is already a reward gap; without one the pair is a plain Bradley-Terry pair.
        "margin": float(margin) if margin is not None else 0.0,
        "weight": 1.0 if optional(record, "weight") is None else float(record["weight"]),
        "strength": float(strength) if strength is not None else None,
        "tie": False,
        "source": str(optional(record, "source") or "file"),
        "item_id": None,
    }


def file_rows(
    path: str | Path, *, skip_invalid: bool = False, max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
) -> tuple[list[Row], list[str]]:
    """Rows of a preference file (JSONL / CSV / Parquet), a saved HF dataset or `hf:owner/name[:split]`, and why
    each skipped record was refused (only with `skip_invalid`: public sets hold a few empty answers)."""
    rows, skipped = [], []
    for number, record in load_records(path):
        try:
            with at(path, number):
                try:
                    rows.append(_file_row(record, max_text_bytes))
                except InvalidInput as exc:
                    raise InvalidInput(
                        f"{exc}. Expected TRL preference records (prompt, chosen, rejected: text or chat) or HH-RLHF "
                        "chosen/rejected dialogues"
                    ) from None
        except InvalidInput as exc:
            if not skip_invalid:
                raise InvalidInput(f"{exc}; fix the record, or pass --skip-invalid to leave bad records out") from None
            skipped.append(str(exc))
    return rows, skipped


def check_rows(rows: Sequence[Row], what: str = "the dataset") -> None:
    """Refuse data a reward model cannot learn from, saying how to fix it."""
    if not rows:
        raise NoPreferencePairs(f"{what} has no usable preference pairs: {NO_PAIRS_FIX}")
    for i, row in enumerate(rows):
        missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
        if missing:
            raise InvalidInput(
                f"{what}, row {i}: no {', '.join(missing)} column; a preference row needs prompt, chosen and rejected"
            )
        for key in ("chosen", "rejected"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise InvalidInput(f"{what}, row {i}: {key} is empty; drop the row or fill in the response")
        if row["chosen"].strip() == row["rejected"].strip() and not row.get("tie"):
            raise InvalidInput(f"{what}, row {i}: chosen == rejected; a preference needs two different responses")
        if not row["prompt"]:
            raise InvalidInput(f"{what}, row {i}: the prompt is empty")


def _bucket(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_prompt(
    rows: Sequence[Row], eval_fraction: float, seed: int = 0, start: float = 0.0
) -> tuple[list[Row], list[Row]]:
    """(train, eval) with every prompt on one side only. A prompt's side depends on the prompt and the seed alone,
    so it stays put as judgments accumulate and later models never evaluate on what earlier ones trained on.

    `start`: hold out the prompts whose bucket is in [start, start + eval_fraction) instead of [0, eval_fraction):
    the other folds of a cross-validation (fold k of 1 / eval_fraction starts at k * eval_fraction)."""
    if not 0.0 <= eval_fraction < 1.0:
        raise InvalidInput(f"eval_fraction must be in [0, 1), not {eval_fraction}")
    if not 0.0 <= start <= 1.0 - eval_fraction + 1e-9:
        raise InvalidInput(f"a held-out window must lie in [0, 1): start {start}, eval_fraction {eval_fraction}")
    keys = sorted({prompt_key(r["prompt"]) for r in rows}, key=lambda k: _bucket(k, seed))
    held = {k for k in keys if start <= _bucket(k, seed) < start + eval_fraction}
    if eval_fraction > 0 and len(keys) >= 2 and start == 0.0:
        # Tiny sets: both sides get at least one prompt.
        if not held:
            held = {keys[0]}
        if len(held) == len(keys):
            held.discard(keys[-1])
    train = [r for r in rows if prompt_key(r["prompt"]) not in held]
    return train, [r for r in rows if prompt_key(r["prompt"]) in held]


def content_hash(rows: Sequence[Row]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def counts(rows: Sequence[Row]) -> dict[str, Any]:
    return {
        "pairs": len(rows),
        "prompts": len({prompt_key(r["prompt"]) for r in rows}),
        "items": len({r["item_id"] for r in rows if r.get("item_id") is not None}),
        "ties": sum(bool(r.get("tie")) for r in rows),
        "sources": dict(Counter(r.get("source", "") for r in rows)),
    }


def write_rows(rows: Sequence[Row], path: str | Path) -> Path:
    def write(temp: Path) -> None:
        with open(temp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    return write_atomic(path, write)


def read_rows(path: str | Path) -> list[Row]:
    """Rows written by `write_rows` (a snapshot's file), exactly as they were built."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def record_snapshot(
    store: Store,
    name: str,
    rows: Sequence[Row],
    *,
    params: dict[str, Any],
    parent_ids: Sequence[int] = (),
    path: str | Path | None = None,
) -> int:
    """The id of the snapshot (name, content hash), recording it if new: rebuilding the same data reuses it."""
    digest = content_hash(rows)
    with store.write() as conn:
        found = conn.execute(
            select(dataset_snapshots.c.id).where(
                dataset_snapshots.c.name == name, dataset_snapshots.c.content_hash == digest
            )
        ).first()
        if found:
            return found.id
        return conn.execute(
            insert(dataset_snapshots).values(
                name=name,
                content_hash=digest,
                counts=counts(rows),
                parent_ids=[int(i) for i in parent_ids],
                params=params,
                path=str(path or ""),
                created_at=time.time(),
            )
        ).inserted_primary_key[0]


def judgment_watermark(store: Store) -> dict[str, int]:
    """The newest judgment and adjudication ids: with the campaign and options they pin down what was read."""
    with store.read() as conn:
        return {
            "max_judgment_id": conn.execute(select(func.max(judgments.c.id))).scalar() or 0,
            "max_adjudication_id": conn.execute(select(func.max(adjudications.c.id))).scalar() or 0,
        }


@dataclass
class PreferenceData:
    """A dataset built for one training run: its split, snapshot ids (None when not recorded) and skipped records."""

    train: list[Row]
    eval: list[Row]
    snapshot_ids: dict[str, int | None] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _source_params(source: str) -> dict[str, Any]:
    if source.startswith(HUB_PREFIX) or not Path(source).is_file():
        return {"source": source}
    return {"source": str(Path(source).resolve()), "file_sha256": sha256_file(Path(source))}


def build_preference_data(
    store: Store,
    data: str = "store",
    *,
    campaign: str | None = None,
    eval_data: str | None = None,
    eval_fraction: float = 0.1,
    split_seed: int = 0,
    ties: str = "drop",
    both_bad: str = "drop",
    aggregate: str = "all",
    include_corrections: bool = True,
    margin_per_strength: float = 0.5,
    skip_invalid: bool = False,
    out_dir: str | Path | None = None,
    record: bool = True,
) -> PreferenceData:
    """Rows from `data` ("store" or a file), split by prompt (or `eval_data` as the eval set), checked, and
    recorded as snapshots (full, train, eval; the parts' parent is the full set) with their rows under out_dir."""
    options = {"ties": ties, "both_bad": both_bad, "aggregate": aggregate, "include_corrections": include_corrections}
    skipped: list[str] = []
    if data == "store":
        rows = store_rows(store, campaign, margin_per_strength=margin_per_strength, **options)
        params = {"source": "store", "campaign": campaign, **options, **judgment_watermark(store)}
        params["margin_per_strength"] = margin_per_strength
    else:
        rows, skipped = file_rows(data, skip_invalid=skip_invalid)
        params = _source_params(data)
    what = f"the judgments of campaign {campaign!r}" if data == "store" and campaign else f"data from {data}"
    check_rows(rows, what)
    if eval_data:
        train, (held, more_skipped) = rows, file_rows(eval_data, skip_invalid=skip_invalid)
        skipped += more_skipped
        check_rows(held, f"eval data from {eval_data}")
        params["eval"] = _source_params(eval_data)
    else:
        train, held = split_by_prompt(rows, eval_fraction, split_seed)
        params.update(eval_fraction=eval_fraction, split_seed=split_seed)
        check_rows(train, f"the training part of {what} (lower --eval-fraction)")
    ids: dict[str, int | None] = {"full": None, "train": None, "eval": None}
    if record:
        label = f"reward:{campaign or 'all'}" if data == "store" else f"reward:{Path(data).name or data}"
        paths = {}
        if out_dir is not None:
            for part, part_rows in (("full", rows), ("train", train), ("eval", held)):
                paths[part] = write_rows(part_rows, Path(out_dir) / "data" / f"{part}.jsonl")
        ids["full"] = record_snapshot(store, label, rows, params=params, path=paths.get("full"))
        for part, part_rows in (("train", train), ("eval", held)):
            if part_rows:
                ids[part] = record_snapshot(
                    store, f"{label}:{part}", part_rows, params=params, parent_ids=[ids["full"]], path=paths.get(part)
                )
    return PreferenceData(train, held, ids, params, skipped)


def tokenize_rows(rows: Sequence[Row], encoder: PairEncoder):
    """The pre-tokenized dataset RewardTrainer reads (`chosen_ids`, `rejected_ids`, `margin`), plus `weight`,
    `length` (for length-grouped batches) and `pair_index` (the row's position, to trace the data order)."""
    from datasets import Dataset

    prompts = [r["prompt"] for r in rows]
    chosen = encoder.encode(prompts, [r["chosen"] for r in rows])
    rejected = encoder.encode(prompts, [r["rejected"] for r in rows])
    return Dataset.from_dict(
        {
            "chosen_ids": chosen,
            "rejected_ids": rejected,
            "margin": [float(r.get("margin") or 0.0) for r in rows],
            "weight": [float(r.get("weight", 1.0)) for r in rows],
            "length": [max(len(c), len(r)) for c, r in zip(chosen, rejected, strict=True)],
            "pair_index": list(range(len(rows))),
        }
    )
