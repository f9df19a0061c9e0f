"""The leaderboard's data from the store: every counted battle of a judge as a plain record (both answers' style
counts, the prompt's tags) after the integrity rules, the models that could be rated, and the versions of the
battles and of the stored answers that the caches key on; hitl.leaderboard_report does the statistics.

    hitl leaderboard --judge human --view style

ArenaService.report caches the draw by the version of the battles and of the stored answers (hitl.service.heavy),
so a request computes nothing unless a battle was counted or an answer stored; `hitl leaderboard` calls
`report_draws` directly.
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, func, select

from hitl.arena_integrity import IntegrityConfig, IntegrityReport, Vote, apply_rules
from hitl.leaderboard_report import BattleRecord, Draws, draw
from hitl.ratings import Battle
from hitl.store import Store
from hitl.store.schema import arena_battles, model_versions, prompts, responses, users
from hitl.style_control import style_counts

# Built once: making an alias builds a proxy per column (milliseconds per call), and the board asks often.
_A_MODEL, _B_MODEL = model_versions.alias("a_model"), model_versions.alias("b_model")
_RA, _RB = responses.alias("ra"), responses.alias("rb")

_BATTLE_ROWS = (
    select(
        arena_battles.c.id,
        _A_MODEL.c.name,
        _B_MODEL.c.name,
        arena_battles.c.outcome,
        _RA.c.text,
        _RB.c.text,
        prompts.c.tags,
        prompts.c.text,
        prompts.c.messages,
        users.c.name,
        arena_battles.c.voted_at,
    )
    .join(_A_MODEL, _A_MODEL.c.id == arena_battles.c.model_a_id)
    .join(_B_MODEL, _B_MODEL.c.id == arena_battles.c.model_b_id)
    .join(_RA, _RA.c.id == arena_battles.c.response_a_id)
    .join(_RB, _RB.c.id == arena_battles.c.response_b_id)
    .join(prompts, prompts.c.id == arena_battles.c.prompt_id)
    .outerjoin(users, users.c.id == arena_battles.c.user_id)
    .where(arena_battles.c.judge == bindparam("judge"), arena_battles.c.counted.is_(True))
    .order_by(arena_battles.c.id)
)

# A's score for each stored outcome (both answers bad counts as a tie); the arena records and reads the same.
OUTCOME_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}


def battle_records(
    store: Store, judge: str = "human", integrity: IntegrityConfig | None = None
) -> tuple[list[BattleRecord], IntegrityReport | None]:
    """Every counted battle of this judge, oldest first, with both answers' style counts and the prompt's tags.
    Human votes first pass the integrity rules (hitl.arena_integrity): the records are what they kept, at their
    weights, with the report of what each rule removed; program judges' battles are taken as they are."""
    with store.read() as conn:
        rows = conn.execute(_BATTLE_ROWS, {"judge": judge}).all()
    rows = [r for r in rows if r[3] in OUTCOME_SCORE]
    weights = {r[0]: 1.0 for r in rows}
    report = None
    if judge == "human":
        votes = [
            Vote(bid, voter or "?", at or 0.0, a, b, OUTCOME_SCORE[o], text or json.dumps(messages), ta, tb)
            for bid, a, b, o, ta, tb, _, text, messages, voter, at in rows
        ]
        kept, report = apply_rules(votes, integrity)
        weights = {v.battle_id: v.weight for v in kept}
    records = [
        BattleRecord(
            a,
            b,
            OUTCOME_SCORE[o],
            style_counts(ta),
            style_counts(tb),
            tuple(sorted(set(tags or ()))),
            weights[bid],
        )
        for bid, a, b, o, ta, tb, tags, *_ in rows
        if bid in weights
    ]
    return records, report


def counted_battles(store: Store, judge: str = "human") -> list[Battle]:
    """(model A name, model B name, score of A) for every counted battle of this judge."""
    a_model, b_model = _A_MODEL, _B_MODEL
    with store.read() as conn:
        rows = conn.execute(
            select(a_model.c.name, b_model.c.name, arena_battles.c.outcome)
            .join(a_model, a_model.c.id == arena_battles.c.model_a_id)
            .join(b_model, b_model.c.id == arena_battles.c.model_b_id)
            .where(arena_battles.c.judge == judge, arena_battles.c.counted.is_(True))
            .order_by(arena_battles.c.id)
        ).all()
    return [(a, b, OUTCOME_SCORE[o]) for a, b, o in rows if o in OUTCOME_SCORE]


def battles_version(store: Store, judge: str) -> tuple:
    """What changes whenever the counted battles of a judge change (votes only ever add counted battles)."""
    with store.read() as conn:
        return tuple(
            conn.execute(
                select(func.count(), func.max(arena_battles.c.id), func.max(arena_battles.c.voted_at)).where(
                    arena_battles.c.judge == judge, arena_battles.c.counted.is_(True)
                )
            ).one()
        )


def answers_version(store: Store) -> tuple:
    """What changes whenever stored answers, prompts or model versions are added."""
    with store.read() as conn:
        return (
            conn.execute(select(func.count(), func.max(responses.c.id))).one(),
            conn.execute(select(func.max(prompts.c.id))).scalar(),
            conn.execute(select(func.max(model_versions.c.id))).scalar(),
        )


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


def report_draws(store: Store, judge: str = "human", seed: int = 0, integrity: IntegrityConfig | None = None) -> Draws:
    """The costly part of the leaderboard report of one judge (hitl.leaderboard_report.draw)."""
    records, checked = battle_records(store, judge, integrity)
    return draw(records, rateable_models(store), seed=seed, integrity=checked)
