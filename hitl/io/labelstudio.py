"""Label Studio in and out: its JSON export of pairwise / ranker tasks, and hitl campaigns as Label Studio tasks.

    hitl import labelstudio project-export.json --campaign ls-votes
    hitl export tasks.json --format labelstudio --campaign demo   # + tasks.label_config.xml for the project

Import reads Label Studio's JSON export (a list of tasks, each with `data` and `annotations`). A task's prompt is
`data.prompt` (or `data.messages`, a chat list); its responses are named by the annotation results: a `pairwise`
result's `to_name` ("response_a,response_b": the left and right data fields; `value.selected` is "left" or
"right"), or a `ranker` result's List, whose items ({id, title, body}) are the responses and whose `value.ranker`
lists their ids best first. A `choices` result named `strength` ("slightly better", "clearly better", "much better",
"tie") sets the strength; without one it is "clearly better". Cancelled annotations are left out; a task without
annotations becomes an item to rate. The annotator is `completed_by`: its email (older exports give a user object),
else the name hitl wrote into the task's `meta`, else `user-<id>`.

Export writes every item of a campaign as such a task, one annotation per judgment, with the labeling config that
shows them (pairwise campaigns: Pairwise over two Text fields; ranking campaigns: Ranker over a List) and the
raters' names in each task's `meta.hitl`, so an export imported again keeps prompts, responses, raters and labels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import InvalidInput
from hitl.io.annotated import (
    AnnotatedItem,
    RatedAnswer,
    campaign_items,
    parse_strength_label,
    store_annotated,
    strength_label,
)
from hitl.io.atomic import sha256_file, write_atomic
from hitl.io.exports import Manifest, save_manifest
from hitl.io.imports import ImportReport, at, load_records
from hitl.io.records import parse_prompt
from hitl.store import Store

PAIR_FIELDS = ("response_a", "response_b")
LIST_FIELD = "responses"
STRENGTH_CHOICES = "strength"
DEFAULT_RATER_PREFIX = "labelstudio-"


def labeling_config(item_kind: str) -> str:
    """The Label Studio labeling config (XML) that shows exported tasks and gives results import understands."""
    if item_kind == "pairwise":
        compare = f'  <Pairwise name="preference" toName="{",".join(PAIR_FIELDS)}"/>\n' + "".join(
            f'  <Text name="{f}" value="${f}"/>\n' for f in PAIR_FIELDS
        )
    else:
        compare = (
            f'  <List name="{LIST_FIELD}" value="${LIST_FIELD}" title="Responses"/>\n'
            f'  <Ranker name="rank" toName="{LIST_FIELD}"/>\n'
        )
    labels = "".join(
        f'    <Choice value="{v}"/>\n' for v in ("slightly better", "clearly better", "much better", "tie")
    )
    return (
        "<View>\n"
        '  <Text name="prompt" value="$prompt"/>\n'
        f"{compare}"
        f'  <Choices name="{STRENGTH_CHOICES}" toName="prompt" choice="single">\n{labels}  </Choices>\n'
        "</View>\n"
    )


def _rater(annotation: dict[str, Any], meta_names: dict[str, str]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        name = who.get("email") or who.get("username")
        if name:
            return str(name)
        who = who.get("id")
    if who is None:
        raise InvalidInput("an annotation without completed_by: who answered is unknown")
    return meta_names.get(str(who)) or f"user-{who}"


def _prompt(data: dict[str, Any], max_bytes: int):
    value = data.get("messages") if isinstance(data.get("messages"), list) else data.get("prompt")
    if value is None:
        raise InvalidInput(f"the task's data has no 'prompt' (fields: {', '.join(sorted(data)) or 'none'})")
    return parse_prompt(value, max_bytes)


def _responses(data: dict[str, Any], results: list[dict[str, Any]]) -> tuple[list[str], list[str] | None]:
    """(response texts, List item ids or None) of a task, from the names its results point at."""
    for r in results:
        if r.get("type") == "pairwise":
            names = [n.strip() for n in str(r.get("to_name", "")).split(",")]
            if len(names) == 2 and all(isinstance(data.get(n), str) for n in names):
                return [data[n] for n in names], None
            raise InvalidInput(f"pairwise result names {r.get('to_name')!r}: the task's data needs both text fields")
        if r.get("type") == "ranker":
            return _list_items(data, str(r.get("to_name", "")))
    if all(isinstance(data.get(n), str) for n in PAIR_FIELDS):
        return [data[n] for n in PAIR_FIELDS], None
    if isinstance(data.get(LIST_FIELD), list):
        return _list_items(data, LIST_FIELD)
    raise InvalidInput(
        f"no responses found: give data fields {' and '.join(PAIR_FIELDS)}, a '{LIST_FIELD}' list, or "
        "annotations with a pairwise or ranker result"
    )


def _list_items(data: dict[str, Any], name: str) -> tuple[list[str], list[str]]:
    entries = data.get(name)
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "id" in e for e in entries):
        raise InvalidInput(f"ranker result names the list {name!r}: data.{name} must be a list of {{id, body}}")
    return [str(e.get("body") if e.get("body") is not None else e.get("title", "")) for e in entries], [
        str(e["id"]) for e in entries
    ]


def _ranked_ids(value: dict[str, Any]) -> list[str]:
    ranked = value.get("ranker")
    if ranked is None and len(value) == 1:
        ranked = next(iter(value.values()))  # older exports key the order by the Ranker's name
    if isinstance(ranked, dict):
        buckets = [v for k, v in ranked.items() if k != "_"]
        if len(buckets) != 1:
            raise InvalidInput("a ranker result with several buckets is no ranking: use one list or one bucket")
        ranked = buckets[0]
    if not isinstance(ranked, list):
        raise InvalidInput("a ranker result's value must list the item ids best first")
    return [str(x) for x in ranked]


def _strength_choice(results: list[dict[str, Any]]) -> str | None:
    for r in results:
        if r.get("type") == "choices" and r.get("from_name") == STRENGTH_CHOICES:
            chosen = (r.get("value") or {}).get("choices") or [None]
            return chosen[0]
    return None


def _answer(annotation: dict[str, Any], ids: list[str] | None, names: dict[str, str]) -> RatedAnswer | None:
    results = annotation.get("result") or []
    strength, tie = parse_strength_label(_strength_choice(results))
    ranking: list[int] = []
    for r in results:
        value = r.get("value") or {}
        if r.get("type") == "pairwise":
            if value.get("selected") not in ("left", "right"):
                raise InvalidInput(f"pairwise 'selected' must be left or right, not {value.get('selected')!r}")
            ranking = [0, 1] if value["selected"] == "left" else [1, 0]
        elif r.get("type") == "ranker":
            order = _ranked_ids(value)
            if ids is None or sorted(order) != sorted(ids):
                raise InvalidInput("a ranker result must rank every item of the task's list once")
            ranking = [ids.index(x) for x in order]
    if tie:
        ranking = []
    elif not ranking:
        return None  # an annotation of something else (a comment, a rating of the prompt): no preference
    seconds = annotation.get("lead_time")
    seconds = float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else None
    return RatedAnswer(_rater(annotation, names), ranking, strength, tie, seconds)


def parse_task(task: dict[str, Any], max_bytes: int) -> AnnotatedItem:
    """One task of a Label Studio JSON export as an item with its annotators' answers."""
    data = task.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("a Label Studio task needs a 'data' object (export the project as JSON)")
    annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    results = [r for a in annotations for r in a.get("result") or []]
    texts, ids = _responses(data, results)
    names = ((task.get("meta") or {}).get("hitl") or {}).get("raters") or {}
    answers = [a for a in (_answer(x, ids, names) for x in annotations) if a is not None]
    return AnnotatedItem(_prompt(data, max_bytes), texts, answers, str(task.get("id", "")))


def import_labelstudio(
    store: Store,
    path: str | Path,
    *,
    campaign,
    rater_prefix: str = DEFAULT_RATER_PREFIX,
    source: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    skip_invalid: bool = False,
) -> ImportReport:
    """Store each task of a Label Studio JSON export as an item of `campaign` with one judgment per annotation."""
    planned, skipped = [], []
    for number, task in load_records(path):
        try:
            with at(path, number):
                planned.append((number, parse_task(task, max_text_bytes)))
        except InvalidInput as exc:
            if not skip_invalid:
                raise
            skipped.append(str(exc))
    return store_annotated(
        store,
        path,
        planned,
        campaign=campaign,
        tool="labelstudio",
        skipped=skipped,
        rater_prefix=rater_prefix,
        source=source,
        max_text_bytes=max_text_bytes,
    )


def _task(item_id: int, item: AnnotatedItem, kind: str, user_ids: dict[str, int]) -> dict[str, Any]:
    p = item.prompt
    data: dict[str, Any] = {"prompt": p.text}
    if p.messages is not None:
        # Label Studio's Text shows a string: the chat as text, and the messages kept for the way back.
        data["prompt"] = "\n\n".join(f"{m['role']}: {m['content']}" for m in p.messages)
        data["messages"] = p.messages
    ids = [f"r{i + 1}" for i in range(len(item.responses))]
    if kind == "pairwise":
        data.update(zip(PAIR_FIELDS, item.responses, strict=True))
    else:
        data[LIST_FIELD] = [
            {"id": rid, "title": f"Response {i + 1}", "body": text}
            for i, (rid, text) in enumerate(zip(ids, item.responses, strict=True))
        ]
    annotations = []
    for n, a in enumerate(item.answers, start=1):
        result = [
            {
                "from_name": STRENGTH_CHOICES,
                "to_name": "prompt",
                "type": "choices",
                "value": {"choices": [strength_label(a.strength, a.tie)]},
            }
        ]
        if not a.tie and kind == "pairwise":
            side = "left" if a.ranking[0] == 0 else "right"
            result.insert(0, _result("preference", ",".join(PAIR_FIELDS), "pairwise", {"selected": side}))
        elif not a.tie:
            result.insert(0, _result("rank", LIST_FIELD, "ranker", {"ranker": [ids[i] for i in a.ranking]}))
        annotations.append(
            {
                "id": item_id * 1000 + n,
                "completed_by": user_ids[a.rater],
                "result": result,
                "was_cancelled": False,
                "ground_truth": False,
                "lead_time": a.seconds_on_item,
            }
        )
    raters = {str(user_ids[a.rater]): a.rater for a in item.answers}
    return {"id": item_id, "data": data, "annotations": annotations, "meta": {"hitl": {"raters": raters}}}


def _result(from_name: str, to_name: str, kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": to_name, "type": kind, "value": value}


def export_labelstudio(store: Store, out_path: str | Path, *, campaign) -> Manifest:
    """Write `campaign` as Label Studio tasks (JSON) and its labeling config beside (`<stem>.label_config.xml`),
    with a manifest as every export has (hitl.io.exports.manifest_path)."""
    target, found = campaign_items(store, campaign)
    if not found:
        raise InvalidInput(f"nothing to export: campaign {target.name!r} has no items")
    raters = sorted({a.rater for _, it in found for a in it.answers})
    user_ids = {name: i for i, name in enumerate(raters, start=1)}  # stable per export, named in each task's meta
    tasks = [_task(item_id, item, target.settings.item_kind, user_ids) for item_id, item in found]
    out = Path(out_path)
    config = out.with_name(f"{out.stem}.label_config.xml")
    text = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    try:
        write_atomic(out, lambda p: p.write_text(text, encoding="utf-8"))
        write_atomic(config, lambda p: p.write_text(labeling_config(target.settings.item_kind), encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot write the export to {out_path}: {reason}; choose another path") from None
    counts = {"tasks": len(tasks), "annotations": sum(len(t["annotations"]) for t in tasks), "raters": len(raters)}
    options = {"label_config": str(config)}
    return save_manifest(out, "labelstudio", "tasks", target.name, options, counts, sha256_file(out))
