"""Arena battles with a known answer for the leaderboard tests (API, CLI, pages): the longer answer mostly wins."""

from __future__ import annotations

import random

from sqlalchemy import select

from hitl.catalog import add_prompt, add_response, register_model_version
from hitl.service.arena import record_battle
from hitl.store.schema import responses

PADDING = "\n\nMore detail: " + "and so on " * 40


def seed_length_battles(store, n: int = 80, seed: int = 0) -> None:
    """`wordy` answers long, `brief` short, `idle` has answers but no battles; the longer answer mostly wins.
    Prompts alternate between the tags 'code' and 'chat'."""
    rng = random.Random(seed)
    with store.write() as conn:
        ids = {m: register_model_version(conn, kind="policy", name=m) for m in ("wordy", "brief", "idle")}
        for i in range(n):
            pid = add_prompt(conn, text=f"leaderboard prompt {i}", tags=["code" if i % 2 else "chat"])
            for m, mid in ids.items():
                text = f"{m} answers {i}." + (PADDING if m == "wordy" else "")
                add_response(conn, prompt_id=pid, text=text, model_version_id=mid)
    with store.read() as conn:
        rows = conn.execute(
            select(responses.c.id, responses.c.prompt_id, responses.c.model_version_id).where(
                responses.c.model_version_id.in_(ids.values())
            )
        ).all()
    by_prompt: dict[int, dict[int, int]] = {}
    for rid, pid, mid in rows:
        by_prompt.setdefault(pid, {})[mid] = rid
    for pid in sorted(by_prompt):
        answers = by_prompt[pid]
        wordy, brief = answers[ids["wordy"]], answers[ids["brief"]]
        a, b = (wordy, brief) if rng.random() < 0.5 else (brief, wordy)
        wordy_wins = rng.random() < 0.8
        outcome = "a" if (a == wordy) == wordy_wins else "b"
        record_battle(store, a, b, outcome, judge="human")
