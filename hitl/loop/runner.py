"""The round orchestration of `hitl loop`: enough new judgments -> reward model -> policy step ->
new responses into the queue -> round metrics; then the next round.

    hitl loop --campaign demo --config configs/cpu.yaml

Every stage's outcome is written to the store before the next starts (`hitl.loop.state`), and stages
register their versions under names fixed by the round, so killing the loop at any point and starting
it again continues without redoing or duplicating finished work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from hitl.campaigns import Campaign
from hitl.loop import state
from hitl.loop.gate import judgments_for_pairs, reward_gate
from hitl.loop.state import LoopRound
from hitl.store import Store

log = logging.getLogger(__name__)


@dataclass
class LoopSettings:
    """When a round may start and what counts as a usable reward model."""

    min_new_judgments: int = field(
        default=100, metadata={"help": "New judgments in the campaign needed before a round trains anything."}
    )
    min_reward_accuracy: float = field(
        default=0.5,
        metadata={
            "help": "The lower end of the 95% interval of the reward model's held-out accuracy must be above this; "
            "otherwise the round waits for more judgments and trains the reward model again."
        },
    )
    min_reward_pairs: int = field(
        default=30,
        metadata={
            "help": "Decisive held-out pairs the reward model is judged on, at least (fewer: the round waits); "
            "cross-validation folds are trained only until they hold this many."
        },
    )
    max_rounds: int = field(default=1, metadata={"help": "Rounds to run in this invocation (0: until stopped)."})


@dataclass
class StageOutcome:
    """What a stage reports back: ids to record on the round and metrics to merge."""

    ids: dict[str, int | None] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stop: str | None = None  # a reason to stop the round here (nothing after this stage runs)
    wait: str | None = None  # a reason to wait for more judgments, then run this stage again


class Stages(Protocol):
    """The work of a round; the real implementation lives in hitl.loop.stages, tests pass fakes."""

    def train_reward(self, store: Store, campaign: Campaign, round_: LoopRound, min_pairs: int) -> StageOutcome: ...
    def train_policy(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def generate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def score(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def evaluate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def replenish(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...


def _next(stage: str) -> str:
    return state.STAGE_ORDER[state.STAGE_ORDER.index(stage) + 1]


def step_round(
    store: Store, campaign: Campaign, stages: Stages, settings: LoopSettings, base_policy_id: int | None = None
) -> LoopRound:
    """Run the current round as far as it can go now; returns it (done, waiting or stopped)."""
    round_ = state.current_round(store, campaign, base_policy_id)
    while round_.stage != "done":
        if round_.stage == "wait":
            count = state.judgment_count(store, campaign)
            new = count - round_.judgments_at_start
            until = round_.metrics.get("wait_until_judgments", 0)
            if new < settings.min_new_judgments or count < until:
                msg = f"waiting for judgments: {new} new of the {settings.min_new_judgments} a round needs"
                if round_.metrics.get("gate_message"):
                    short = max(settings.min_new_judgments - new, until - count)
                    msg = f"{round_.metrics['gate_message']} ({short} more judgments needed before it trains again)"
                    # Raters need something to judge for the wait to end: more pairs of the base policy, chosen
                    # with what the reward model learned so far (idempotent: once per attempt).
                    more = stages.replenish(store, campaign, round_)
                    if more.metrics:
                        state.save(store, round_, metrics=more.metrics)
                return state.save(store, round_, status="waiting", message=msg)
            state.save(store, round_, status="running", message="", metrics={"new_judgments": new})
        else:
            log.info("round %d: %s", round_.number, round_.stage)
            # The reward stage gets the gate's minimum of pairs: it decides how many folds are worth training.
            extra = {"min_pairs": settings.min_reward_pairs} if round_.stage == "train_reward" else {}
            outcome: StageOutcome = getattr(stages, round_.stage)(store, campaign, round_, **extra)
            verdict = None
            if round_.stage == "train_reward" and outcome.stop is None and outcome.wait is None:
                judged = state.judgment_count(store, campaign)
                verdict = reward_gate(
                    outcome.metrics.get("reward_accuracy"),
                    outcome.metrics.get("reward_eval_pairs"),
                    settings.min_reward_accuracy,
                    settings.min_reward_pairs,
                    judgments=judged,
                )
                outcome.metrics.update(reward_accuracy_low=verdict.low, reward_accuracy_high=verdict.high)
                outcome.wait = verdict.message or None
            if outcome.wait:
                # Wait for more judgments, then train a new reward model (a new attempt, a new version name). Short
                # of decisive pairs, wait for as many as they need at the rate seen (another reward model before
                # then would have too few again), but never fewer than a round's minimum.
                count = state.judgment_count(store, campaign)
                wanted = settings.min_new_judgments
                if verdict is not None and verdict.pairs < verdict.needed_pairs:
                    wanted = max(wanted, judgments_for_pairs(verdict.pairs, verdict.needed_pairs, count) or 0)
                metrics = {
                    **outcome.metrics,
                    "reward_attempt": round_.metrics.get("reward_attempt", 1) + 1,
                    "wait_until_judgments": count + wanted,
                    "gate_message": outcome.wait,
                }
                state.save(store, round_, stage="wait", metrics=metrics, **outcome.ids)
                continue  # the wait branch says what is missing and gives raters more to judge
            if outcome.stop:
                return state.save(
                    store, round_, status="stopped", message=outcome.stop, metrics=outcome.metrics, **outcome.ids
                )
            state.save(store, round_, metrics=outcome.metrics, **outcome.ids)
        state.save(store, round_, stage=_next(round_.stage))
    return state.save(store, round_, status="done")


def run_loop(
    store: Store, campaign: Campaign, stages: Stages, settings: LoopSettings, base_policy_id: int | None = None
) -> list[LoopRound]:
    """Rounds until `settings.max_rounds` are done, or the current one waits or stops."""
    finished: list[LoopRound] = []
    while settings.max_rounds == 0 or len(finished) < settings.max_rounds:
        round_ = step_round(store, campaign, stages, settings, base_policy_id)
        finished.append(round_)
        if round_.status != "done":
            break
    return finished
