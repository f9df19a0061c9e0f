"""Builders for test data: prompts with responses and items, in one transaction."""

from __future__ import annotations

from hitl.catalog import add_item, add_prompt, add_response


def add_items(store, campaign, n: int, *, k: int = 2, gold: int = 0, priority=lambda i: 0.0) -> list[int]:
    """`n` regular items plus `gold` gold items (gold answer 0) of `k` responses each; returns all item ids."""
    ids = []
    with store.write() as conn:
        for i in range(n + gold):
            pid = add_prompt(conn, text=f"prompt {i}: explain item {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"answer {j} to prompt {i}" + "!" * j) for j in range(k)]
            ids.append(
                add_item(
                    conn,
                    campaign_id=campaign.id,
                    prompt_id=pid,
                    response_ids=rids,
                    item_kind=campaign.settings.item_kind,
                    priority=priority(i),
                    gold_answer=0 if i >= n else None,
                )
            )
    return ids
