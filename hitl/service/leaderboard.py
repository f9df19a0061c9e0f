"""The leaderboard report's data from the store: every counted battle of a judge as a plain record (both answers'
style counts, the prompt's tags) and the models that could be rated; hitl.leaderboard_report does the statistics.

    hitl leaderboard --judge human --view style

ArenaService.report caches the draw by the version of the battles and of the stored answers (hitl.service.heavy),
so a request computes nothing unless a battle was counted or an answer stored; `hitl leaderboard` calls
`report_draws` directly.
"""

from __future__ import annotations

from sqlalchemy import select

from hitl.leaderboard_report import BattleRecord, Draws, draw
from hitl.service.arena import _OUTCOME_SCORE
from hitl.store import Store
from hitl.store.schema import arena_battles, model_versions, prompts, responses
from hitl.style_control import style_counts


def battle_records(store: Store, judge: str = "human") -> list[BattleRecord]:
    """Every counted battle of this judge, oldest first, with both answers' style counts and the prompt's tags."""
    a_model, b_model = model_versions.alias("a_model"), model_versions.alias("b_model")
    ra, rb = responses.alias("ra"), responses.alias("rb")
    with store.read() as conn:
        rows = conn.execute(
            select(a_model.c.name, b_model.c.name, arena_battles.c.outcome, ra.c.text, rb.c.text, prompts.c.tags)
            .join(a_model, a_model.c.id == arena_battles.c.model_a_id)
            .join(b_model, b_model.c.id == arena_battles.c.model_b_id)
            .join(ra, ra.c.id == arena_battles.c.response_a_id)
            .join(rb, rb.c.id == arena_battles.c.response_b_id)
            .join(prompts, prompts.c.id == arena_battles.c.prompt_id)
            .where(arena_battles.c.judge == judge, arena_battles.c.counted.is_(True))
            .order_by(arena_battles.c.id)
        ).all()
    return [
        BattleRecord(a, b, _OUTCOME_SCORE[o], style_counts(ta), style_counts(tb), tuple(sorted(set(tags or ()))))
        for a, b, o, ta, tb, tags in rows
        if o in _OUTCOME_SCORE
    ]


def rateable_models(store: Store) -> list[str]:
    """Policy versions with stored answers: the models a board lists (unrated until they have battles)."""
    with store.read() as conn:
        return sorted(
            conn.execute(
                select(model_versions.c.name)
                .where(model_versions.c.id.in_(select(responses.c.model_version_id).distinct()))
                .where(model_versions.c.kind == "policy")
            ).scalars()
        )


def report_draws(store: Store, judge: str = "human", seed: int = 0) -> Draws:
    """The costly part of the leaderboard report of one judge (hitl.leaderboard_report.draw)."""
    return draw(battle_records(store, judge), rateable_models(store), seed=seed)
