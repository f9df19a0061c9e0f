"""Builders for the workforce tests: tagged items with a short and a long answer, and a rater's lease and answer."""

from __future__ import annotations

import uuid

from hitl.catalog import add_item, add_prompt, add_response
from hitl.queue import JudgmentInput, next_item, submit


def add_tagged_items(store, campaign, n: int, *, tags=(), gold: int = 0, start: int = 0) -> list[int]:
    """`n` regular items plus `gold` gold items (the answer saying "correct" is gold), prompts tagged `tags`."""
    ids = []
    with store.write() as conn:
        for i in range(start, start + n + gold):
            pid = add_prompt(conn, text=f"question {i}", tags=list(tags))
            good = add_response(conn, prompt_id=pid, text=f"The correct answer {i}.")
            bad = add_response(conn, prompt_id=pid, text=f"A wrong answer {i}, longer than the other.")
            order = [good, bad] if i % 2 else [bad, good]
            is_gold = i >= start + n
            ids.append(
                add_item(
                    conn,
                    campaign_id=campaign.id,
                    prompt_id=pid,
                    response_ids=order,
                    item_kind="pairwise",
                    gold_answer=order.index(good) if is_gold else None,
                )
            )
    return ids


def answer(store, user, campaign, *, right: bool = True, seconds: float = 20.0, flags=()):
    """Lease the next item and answer it (the response saying 'correct' when `right`); the assignment, or None."""
    a = next_item(store, user, campaign)
    if a is None:
        return None
    texts = [r.text for r in a.responses]
    good = next(i for i, t in enumerate(texts) if "correct" in t)
    first = good if right else 1 - good
    ranking = [a.responses[first].response_id, a.responses[1 - first].response_id]
    judgment = JudgmentInput(ranking=ranking, strength=2, seconds_on_item=seconds, flags=list(flags))
    submit(store, a.lease_token, uuid.uuid4().hex, judgment, user=user)
    return a
