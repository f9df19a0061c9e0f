"""Policy comparisons the web app shows: every `hitl eval-policy` run (its judged pairs stored as reward- or
oracle-judged battles) and every loop round's evaluation of its new policy against its base, each as a win rate
with its 95% interval, n and a verdict.

    hitl eval-policy --a demo-dpo-1 --b default --prompts all --oracle rule:concise   # then /leaderboard/

`record_pairs` is what eval-policy calls (idempotent: a pair already judged by the same judge is not stored
twice); `ComparisonService.rows` is what the leaderboard page reads, computed once per change of its data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from hitl.catalog import register_model_version
from hitl.service.access import require
from hitl.service.arena import record_battle
from hitl.service.heavy import HeavyGate, ResultCache
from hitl.stats import BOOTSTRAP_ROUNDS, win_verdict
from hitl.store import Store
from hitl.store.schema import arena_battles, campaigns, loop_rounds, model_versions, responses
from hitl.users import User

JUDGED = ("reward", "oracle")  # battle judges that are programs: what eval-policy stores
_SCORE = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}


@dataclass(frozen=True)
class JudgedPair:
    """One judged pair of stored answers to a prompt: A's response, B's, and the outcome for A (1, 0 or 0.5)."""

    response_a_id: int
    response_b_id: int
    outcome: float


@dataclass(frozen=True)
class ComparisonRow:
    a: str
    b: str
    judge: str  # "reward model demo-rm", "oracle rule:concise"
    source: str  # "hitl eval-policy", "loop round 2 (demo)"
    n: int
    wins: int | None  # A's wins, ties and losses (None for a loop round, which keeps only the rate)
    ties: int | None
    losses: int | None
    rate: float
    low: float
    high: float
    length_controlled: float | None
    verdict: str
    # A's win rate with length and markdown held equal (hitl.style_control), its 95% interval; None for a loop round.
    style_controlled: float | None = None
    style_low: float | None = None
    style_high: float | None = None
    # The 95% interval of the length-controlled rate (None where it was not recorded: rounds of older versions).
    lc_low: float | None = None
    lc_high: float | None = None


def record_pairs(store: Store, pairs: Sequence[JudgedPair], judge: str, judge_name: str) -> int:
    """Store eval-policy's judged pairs as counted battles of `judge` ("reward": a reward version named
    `judge_name`; "oracle": the oracle spec, registered as a model version of kind "oracle"); returns how many
    were new."""
    if judge not in JUDGED:
        raise ValueError(f"judge must be one of {', '.join(JUDGED)}")
    kind = "oracle" if judge == "oracle" else "reward"
    with store.write() as conn:
        judge_id = conn.execute(
            select(model_versions.c.id).where(model_versions.c.kind == kind, model_versions.c.name == judge_name)
        ).scalar()
        if judge_id is None and judge == "oracle":
            judge_id = register_model_version(conn, kind="oracle", name=judge_name, metadata={"spec": judge_name})
        seen = {
            (a, b)
            for a, b in conn.execute(
                select(arena_battles.c.response_a_id, arena_battles.c.response_b_id).where(
                    arena_battles.c.judge == judge, arena_battles.c.judge_model_id == judge_id
                )
            )
        }
    new = 0
    for p in pairs:
        if (p.response_a_id, p.response_b_id) in seen:
            continue
        outcome = "a" if p.outcome == 1.0 else "b" if p.outcome == 0.0 else "tie"
        record_battle(store, p.response_a_id, p.response_b_id, outcome, judge=judge, judge_model=judge_name)
        seen.add((p.response_a_id, p.response_b_id))
        new += 1
    return new


def _version(store: Store) -> tuple:
    with store.read() as conn:
        return tuple(
            conn.execute(
                select(
                    select(func.max(arena_battles.c.id)).where(arena_battles.c.judge.in_(JUDGED)).scalar_subquery(),
                    select(func.max(loop_rounds.c.updated_at)).scalar_subquery(),
                )
            ).one()
        )


def _battle_rows(store: Store, rounds: int) -> list[ComparisonRow]:
    from hitl.style_control import style_controlled_rate
    from hitl.winrate import win_rate

    versions = model_versions.alias("v")
    ra, rb = responses.alias("ra"), responses.alias("rb")
    with store.read() as conn:
        names = dict(conn.execute(select(model_versions.c.id, model_versions.c.name)).all())
        rows = conn.execute(
            select(
                arena_battles.c.model_a_id,
                arena_battles.c.model_b_id,
                arena_battles.c.judge,
                versions.c.name,
                arena_battles.c.outcome,
                ra.c.text,
                rb.c.text,
            )
            .join(ra, ra.c.id == arena_battles.c.response_a_id)
            .join(rb, rb.c.id == arena_battles.c.response_b_id)
            .outerjoin(versions, versions.c.id == arena_battles.c.judge_model_id)
            .where(arena_battles.c.judge.in_(JUDGED), arena_battles.c.counted.is_(True))
            .order_by(arena_battles.c.id)
        ).all()
    groups: dict[tuple, list[tuple[float, str, str]]] = defaultdict(list)
    for a, b, judge, judge_name, outcome, text_a, text_b in rows:
        if outcome not in _SCORE:
            continue
        # One row per pair of versions and judge, oriented as it was first stored.
        if (b, a, judge, judge_name) in groups:
            groups[(b, a, judge, judge_name)].append((1.0 - _SCORE[outcome], text_b or "", text_a or ""))
        else:
            groups[(a, b, judge, judge_name)].append((_SCORE[outcome], text_a or "", text_b or ""))
    out = []
    for (a, b, judge, judge_name), found in groups.items():
        outcomes = [o for o, _, _ in found]
        texts_a, texts_b = [x for _, x, _ in found], [y for _, _, y in found]
        r = win_rate(outcomes, [len(x) for x in texts_a], [len(y) for y in texts_b], bootstrap=rounds)
        style = style_controlled_rate(outcomes, texts_a, texts_b, bootstrap=rounds)
        label = f"{'reward model' if judge == 'reward' else 'oracle'} {judge_name or '?'}"
        out.append(
            ComparisonRow(
                names[a],
                names[b],
                label,
                "hitl eval-policy",
                r.n,
                outcomes.count(1.0),
                outcomes.count(0.5),
                outcomes.count(0.0),
                r.rate,
                r.low,
                r.high,
                r.length_controlled,
                win_verdict(names[a], names[b], r.low, r.high, r.n),
                style.rate,
                style.low,
                style.high,
                r.lc_low,
                r.lc_high,
            )
        )
    return out


def _round_rows(store: Store) -> list[ComparisonRow]:
    """Each loop round's evaluation of its new policy against its base (rates from the round's metrics)."""
    with store.read() as conn:
        names = dict(conn.execute(select(model_versions.c.id, model_versions.c.name)).all())
        rounds = conn.execute(
            select(loop_rounds, campaigns.c.name.label("campaign"))
            .join(campaigns, campaigns.c.id == loop_rounds.c.campaign_id)
            .where(loop_rounds.c.policy_version_id.is_not(None))
            .order_by(loop_rounds.c.campaign_id, loop_rounds.c.number)
        ).all()
    out = []
    for r in rounds:
        m = r.metrics or {}
        a, b = names.get(r.policy_version_id, "?"), names.get(r.base_policy_id, "?")
        reward = names.get(r.reward_version_id)
        judges = [
            (
                f"reward model {reward}" if reward else "the round's reward model",
                "rm_win_rate",
                "rm_win_low",
                "rm_win_high",
                None,
            ),
            ("oracle (the loop's)", "oracle_win_rate", "oracle_win_low", "oracle_win_high", "oracle_lc_win_rate"),
        ]
        for judge, rate, low, high, lc in judges:
            lc_low, lc_high = (m.get("oracle_lc_low"), m.get("oracle_lc_high")) if lc else (None, None)
            if m.get(rate) is None:
                continue
            n = int(m.get("eval_pairs") or 0)
            lo, hi = float(m.get(low, float("nan"))), float(m.get(high, float("nan")))
            row = ComparisonRow(
                a,
                b,
                judge,
                f"loop round {r.number} ({r.campaign})",
                n,
                None,
                None,
                None,
                float(m[rate]),
                lo,
                hi,
                m.get(lc) if lc else None,
                win_verdict(a, b, lo, hi, n),
                lc_low=lc_low,
                lc_high=lc_high,
            )
            out.append(row)
    return out


class ComparisonService:
    def __init__(self, store: Store, gate: HeavyGate | None = None):
        self.store = store
        self._cache = ResultCache(gate or HeavyGate(), size=4, max_age=600.0)

    def rows(self, caller: User, rounds: int = BOOTSTRAP_ROUNDS) -> list[ComparisonRow]:
        """Every stored comparison of two policy versions: eval-policy runs, then loop rounds."""
        require(caller, "rater")
        rounds = max(10, min(int(rounds), BOOTSTRAP_ROUNDS))

        def compute() -> list[ComparisonRow]:
            return _battle_rows(self.store, rounds) + _round_rows(self.store)

        return self._cache.get(rounds, _version(self.store), compute, "comparisons")
