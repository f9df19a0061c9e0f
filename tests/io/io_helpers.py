"""Helpers for the import / export tests: write input files, make judgments through the real queue."""

from __future__ import annotations

import csv
import json
import uuid

from sqlalchemy import func, insert, select

from hitl.catalog import add_item, add_prompt, add_response
from hitl.queue import JudgmentInput, next_item, submit
from hitl.store.schema import adjudications, items, judgments, prompts, responses


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def write_csv(path, header, rows) -> str:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def table_counts(store) -> dict[str, int]:
    with store.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar()
            for t in (prompts, responses, items, judgments)
        }


def make_item(
    store, campaign, answers, prompt="Explain tides.", messages=None, gold_answer=None
) -> tuple[int, list[int]]:
    """One item over new responses with the given texts; returns (item id, canonical response ids)."""
    with store.write() as conn:
        pid = add_prompt(conn, text=None if messages else prompt, messages=messages)
        rids = [add_response(conn, prompt_id=pid, text=t) for t in answers]
        iid = add_item(
            conn,
            campaign_id=campaign.id,
            prompt_id=pid,
            response_ids=rids,
            item_kind=campaign.settings.item_kind,
            gold_answer=gold_answer,
        )
    return iid, rids


def rate(store, campaign, user, item_id, ranking=(), **fields) -> None:
    """`user` judges `item_id` through the queue (lease + submit); `ranking` lists response ids best first."""
    assignment = next_item(store, user, campaign)
    assert assignment is not None and assignment.item_id == item_id, "the queue handed out another item"
    judgment = JudgmentInput(ranking=list(ranking), **fields)
    submit(store, assignment.lease_token, uuid.uuid4().hex, judgment, user=user)


def adjudicate(store, item_id, reviewer, ranking, strength=2, tie=False, both_bad=False, accepted=None, at=None):
    with store.write() as conn:
        conn.execute(
            insert(adjudications).values(
                item_id=item_id,
                reviewer_id=reviewer.id,
                ranking=list(ranking),
                strength=strength,
                tie=tie,
                both_bad=both_bad,
                note="",
                accepted_correction_judgment_id=accepted,
                created_at=at if at is not None else 1_000.0,
            )
        )


def judgment_id(store, item_id, user) -> int:
    with store.read() as conn:
        return conn.execute(
            select(judgments.c.id).where(judgments.c.item_id == item_id, judgments.c.user_id == user.id)
        ).scalar_one()
