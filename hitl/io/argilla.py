"""Argilla in and out: preference records (a ranking question, or one rating question per response) as a
`datasets` dataset in the layout Argilla 2.x writes with `dataset.records.to_datasets()` / `to_hub`.

    hitl import argilla ./argilla-export --campaign votes        # a saved dataset, Parquet or JSONL
    hitl export ./for-argilla --format argilla --campaign demo    # a saved dataset Argilla can log

That layout has one row per record: the fields as columns (`prompt`, `response1`, `response2`, ...), then per
question `<question>.responses` (one value per annotator), `<question>.responses.users` (their user ids) and
`<question>.responses.status` ("submitted", "draft", "discarded"); metadata are columns too. Import reads:

- a ranking question: each value lists the response fields best first (Argilla's RankingQuestion, whose
  values name the fields, e.g. values=["response1", "response2"]);
- else rating questions named after the responses (`<field>_rating` or `rating_<field>`): the higher rating wins,
  equal ratings are a tie (pairs only), strength = the gap clipped to 1..3;
- a label question `strength` ("slightly better", "clearly better", "much better", "tie") sets the strength.

Only submitted responses count. The prompt is the `prompt` field (or `instruction`, `input`, `question`). An
annotator is named by the `hitl_raters` metadata column that hitl's export writes ({user id: name}), else
`user-<user id>`. Export writes every item of a campaign as such a record, with a ranking question `ranking`
over the response fields and the label question `strength`; user ids are UUIDs derived from the rater names.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import InvalidInput
from hitl.io.annotated import (
    STRENGTH_LABELS,
    TIE_LABEL,
    AnnotatedItem,
    RatedAnswer,
    campaign_items,
    parse_strength_label,
    store_annotated,
    strength_label,
)
from hitl.io.atomic import sha256_file, write_atomic_dir
from hitl.io.exports import Manifest, save_manifest
from hitl.io.imports import ImportReport, at, load_records
from hitl.io.records import parse_prompt
from hitl.store import Store

PROMPT_FIELDS = ("prompt", "instruction", "input", "question")
RANKING_QUESTION = "ranking"
STRENGTH_QUESTION = "strength"
RATERS_METADATA = "hitl_raters"
DEFAULT_RATER_PREFIX = "argilla-"
_RESPONSE_FIELD = re.compile(r"^response_?(\d+)$")
_USERS = uuid.UUID("6f1c0a8e-3b1d-4c55-9a7e-2f4b8d0c9e11")  # namespace of the user ids an export derives


def _answers_of(record: dict[str, Any], question: str) -> list[tuple[str, Any]]:
    """(user id, value) of each submitted response to `question`."""
    values = record.get(f"{question}.responses") or []
    users = record.get(f"{question}.responses.users") or []
    statuses = record.get(f"{question}.responses.status") or ["submitted"] * len(values)
    if not (len(values) == len(users) == len(statuses)):
        raise InvalidInput(f"'{question}.responses', '.users' and '.status' must have one entry per annotator")
    return [(str(u), v) for v, u, s in zip(values, users, statuses, strict=True) if s in (None, "submitted")]


def _questions(record: dict[str, Any]) -> list[str]:
    return sorted({k.removesuffix(".responses") for k in record if k.endswith(".responses")})


def _response_fields(record: dict[str, Any], questions: list[str]) -> list[str]:
    """The response fields, in order: the options a ranking question ranks, else fields named response<N>."""
    for q in questions:
        for _, value in _answers_of(record, q):
            if isinstance(value, list) and value and all(isinstance(v, str) and v in record for v in value):
                return sorted(value, key=_field_order)
    fields = sorted((k for k in record if _RESPONSE_FIELD.match(k) and isinstance(record[k], str)), key=_field_order)
    if len(fields) < 2:
        raise InvalidInput(
            "no responses found: give fields response1, response2, ... (or a ranking question over the fields)"
        )
    return fields


def _field_order(name: str) -> tuple[int, str]:
    m = _RESPONSE_FIELD.match(name)
    return (int(m.group(1)) if m else 10**6, name)


def _rating_questions(questions: list[str], fields: list[str]) -> dict[str, str] | None:
    """field -> its rating question, when every response has one."""
    found = {}
    for f in fields:
        for q in (f"{f}_rating", f"rating_{f}"):
            if q in questions:
                found[f] = q
    return found if len(found) == len(fields) else None


def _from_ranking(record, question, fields) -> dict[str, list[int]]:
    out = {}
    for user, value in _answers_of(record, question):
        if not isinstance(value, list) or sorted(value) != sorted(fields):
            raise InvalidInput(f"a '{question}' response must rank every response field once, not {value!r}")
        out[user] = [fields.index(v) for v in value]
    return out


def _from_ratings(record, by_field: dict[str, str], fields) -> dict[str, tuple[list[int], int, bool]]:
    ratings: dict[str, dict[str, float]] = {}
    for f, q in by_field.items():
        for user, value in _answers_of(record, q):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"a '{q}' response must be a number, not {value!r}")
            ratings.setdefault(user, {})[f] = float(value)
    out = {}
    for user, given in ratings.items():
        if len(given) != len(fields):
            continue  # this annotator rated only some responses: no comparison
        order = sorted(range(len(fields)), key=lambda i: -given[fields[i]])
        top, second = given[fields[order[0]]], given[fields[order[1]]]
        if len(set(given.values())) < len(fields) and len(fields) > 2:
            continue  # K-way rankings have no partial ties
        tie = top == second
        out[user] = ([] if tie else order, 0 if tie else int(min(3, max(1, round(top - second)))), tie)
    return out


def parse_record(record: dict[str, Any], max_bytes: int) -> AnnotatedItem:
    """One Argilla record (flattened, as `to_datasets()` writes it) as an item with its annotators' answers."""
    questions = _questions(record)
    fields = _response_fields(record, questions)
    prompt_field = next((f for f in PROMPT_FIELDS if record.get(f) is not None), None)
    if prompt_field is None:
        raise InvalidInput(f"no prompt field: give one of {', '.join(PROMPT_FIELDS)}")
    names = record.get(RATERS_METADATA)
    names = json.loads(names) if isinstance(names, str) and names else {}
    labels = dict(_answers_of(record, STRENGTH_QUESTION)) if STRENGTH_QUESTION in questions else {}
    answers: dict[str, tuple[list[int], int, bool]] = {}
    others = [q for q in questions if q != STRENGTH_QUESTION]
    ranked = next((q for q in others if any(isinstance(v, list) for _, v in _answers_of(record, q))), None)
    if ranked is not None:
        answers = {u: (order, 2, False) for u, order in _from_ranking(record, ranked, fields).items()}
    elif (by_field := _rating_questions(questions, fields)) is not None:
        answers = _from_ratings(record, by_field, fields)
    for user, label in labels.items():
        strength, tie = parse_strength_label(label if isinstance(label, str) else None)
        if user in answers or tie:
            answers[user] = ([] if tie else answers[user][0], strength, tie)
    rated = [
        RatedAnswer(names.get(user) or f"user-{user}", order, strength, tie)
        for user, (order, strength, tie) in sorted(answers.items())
    ]
    texts = [record[f] for f in fields]
    return AnnotatedItem(parse_prompt(record[prompt_field], max_bytes), texts, rated, str(record.get("id") or ""))


def import_argilla(
    store: Store,
    path: str | Path,
    *,
    campaign,
    rater_prefix: str = DEFAULT_RATER_PREFIX,
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    skip_invalid: bool = False,
) -> ImportReport:
    """Store each Argilla record as an item of `campaign` with one judgment per submitted annotator."""
    planned, skipped = [], []
    for number, record in load_records(path):
        try:
            with at(path, number):
                planned.append((number, parse_record(record, max_text_bytes)))
        except InvalidInput as exc:
            if not skip_invalid:
                raise
            skipped.append(str(exc))
    return store_annotated(
        store,
        path,
        planned,
        campaign=campaign,
        tool="argilla",
        skipped=skipped,
        rater_prefix=rater_prefix,
        source=source,
        max_text_bytes=max_text_bytes,
    )


def user_id(name: str) -> str:
    """The Argilla user id an export gives a hitl rater: a UUID derived from the name, the same in every export."""
    return str(uuid.uuid5(_USERS, name))


def argilla_rows(found: list[tuple[int, AnnotatedItem]]) -> list[dict[str, Any]]:
    """Records in Argilla's flattened layout, every row with the same columns (a K-way campaign has K fields).

    When any prompt is a chat, every prompt is written as a chat list (Argilla's ChatField; a text prompt becomes
    one user message), because one column holds one type."""
    chat = any(it.prompt.messages is not None for _, it in found)
    rows = []
    for item_id, item in found:
        fields = [f"response{i + 1}" for i in range(len(item.responses))]
        ranked = [a for a in item.answers if not a.tie]
        p = item.prompt
        row: dict[str, Any] = {
            "id": str(item_id),
            "status": "completed" if item.answers else "pending",
            "_server_id": None,
            "prompt": (p.messages or [{"role": "user", "content": p.text}]) if chat else p.text,
            **dict(zip(fields, item.responses, strict=True)),
            f"{RANKING_QUESTION}.responses": [[fields[i] for i in a.ranking] for a in ranked],
            f"{RANKING_QUESTION}.responses.users": [user_id(a.rater) for a in ranked],
            f"{RANKING_QUESTION}.responses.status": ["submitted"] * len(ranked),
            f"{STRENGTH_QUESTION}.responses": [strength_label(a.strength, a.tie) for a in item.answers],
            f"{STRENGTH_QUESTION}.responses.users": [user_id(a.rater) for a in item.answers],
            f"{STRENGTH_QUESTION}.responses.status": ["submitted"] * len(item.answers),
            RATERS_METADATA: json.dumps({user_id(a.rater): a.rater for a in item.answers}, sort_keys=True),
        }
        rows.append(row)
    return rows


def export_argilla(store: Store, out_path: str | Path, *, campaign) -> Manifest:
    """Write `campaign` as Argilla records, a dataset saved with save_to_disk at `out_path`, with a manifest; the
    manifest's options say the Argilla settings that show them (fields, questions, metadata)."""
    import datasets

    target, found = campaign_items(store, campaign)
    if not found:
        raise InvalidInput(f"nothing to export: campaign {target.name!r} has no items")
    rows = argilla_rows(found)
    out = Path(out_path)
    try:
        write_atomic_dir(out, lambda p: datasets.Dataset.from_list(rows).save_to_disk(str(p)))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot write the export to {out_path}: {reason}; choose another path") from None
    files = sorted(f for f in out.rglob("*") if f.is_file())
    settings = {
        "fields": ["prompt", *(k for k in rows[0] if _RESPONSE_FIELD.match(k))],
        "questions": {
            RANKING_QUESTION: "RankingQuestion over the response fields",
            STRENGTH_QUESTION: f"LabelQuestion: {', '.join([*STRENGTH_LABELS.values(), TIE_LABEL])}",
        },
        "metadata": [RATERS_METADATA],
    }
    counts = {"records": len(rows), "responses": sum(len(it.answers) for _, it in found)}
    digest = {f.relative_to(out).as_posix(): sha256_file(f) for f in files}
    return save_manifest(out, "argilla", "records", target.name, {"argilla_settings": settings}, counts, digest)
