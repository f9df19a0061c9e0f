"""Arena battles with a known answer for the leaderboard tests (API, CLI, pages): the longer answer mostly wins."""

from __future__ import annotations

import random

from sqlalchemy import select

from hitl.catalog import add_prompt, add_response, register_model_version
from hitl.service.arena import record_battle
from hitl.store.schema import responses
from hitl.users import create_user

PADDING = "\n\nMore detail: " + "and so on " * 40


def seed_length_battles(store, n: int = 80, seed: int = 0) -> None:
    """`wordy` mostly answers long (80% of prompts), `brief` mostly short (long on 20%), `idle` has answers but no
    battles; the longer answer wins 80% of battles, equal lengths are a coin flip, so only length matters. Prompts
    alternate between the tags 'code' and 'chat'."""
    rng = random.Random(seed)
    # Four voters, so no one reaches the per-pair cap of the integrity rules (hitl.arena_integrity).
    voters = [create_user(store, f"seed-voter-{k}", "rater", "correct-horse-battery").id for k in range(4)]
    with store.write() as conn:
        ids = {m: register_model_version(conn, kind="policy", name=m) for m in ("wordy", "brief", "idle")}
        for i in range(n):
            pid = add_prompt(conn, text=f"leaderboard prompt {i}", tags=["code" if i % 2 else "chat"])
            for m, mid in ids.items():
                padded = rng.random() < (0.8 if m == "wordy" else 0.2)
                text = f"An answer to prompt {i}." + (PADDING if padded else "")  # no model names: they void votes
                add_response(conn, prompt_id=pid, text=text, model_version_id=mid)
    with store.read() as conn:
        rows = conn.execute(
            select(responses.c.id, responses.c.prompt_id, responses.c.model_version_id, responses.c.text).where(
                responses.c.model_version_id.in_(ids.values())
            )
        ).all()
    by_prompt: dict[int, dict[int, tuple[int, int]]] = {}
    for rid, pid, mid, text in rows:
        by_prompt.setdefault(pid, {})[mid] = (rid, len(text))
    for pid in sorted(by_prompt):
        answers = by_prompt[pid]
        a, b = answers[ids["wordy"]], answers[ids["brief"]]
        if rng.random() < 0.5:  # either side may be shown first
            a, b = b, a
        # The longer answer wins 80% of the time; equal lengths are a coin flip.
        a_wins = rng.random() < 0.5 if a[1] == b[1] else (a[1] > b[1]) == (rng.random() < 0.8)
        record_battle(store, a[0], b[0], "a" if a_wins else "b", judge="human", user_id=voters[pid % 4])
