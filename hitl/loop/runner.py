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
        metadata={"help": "Held-out pairwise accuracy the reward model must beat; below it the round stops."},
    )
    max_rounds: int = field(default=1, metadata={"help": "Rounds to run in this invocation (0: until stopped)."})


@dataclass
class StageOutcome:
    """What a stage reports back: ids to record on the round and metrics to merge."""

    ids: dict[str, int | None] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stop: str | None = None  # a reason to stop the round here (nothing after this stage runs)


class Stages(Protocol):
    """The work of a round; the real implementation lives in hitl.loop.stages, tests pass fakes."""

    def train_reward(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def train_policy(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def generate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def score(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...
    def evaluate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome: ...


def _next(stage: str) -> str:
    return state.STAGE_ORDER[state.STAGE_ORDER.index(stage) + 1]


def step_round(
    store: Store, campaign: Campaign, stages: Stages, settings: LoopSettings, base_policy_id: int | None = None
) -> LoopRound:
    """Run the current round as far as it can go now; returns it (done, waiting or stopped)."""
    round_ = state.current_round(store, campaign, base_policy_id)
    while round_.stage != "done":
        if round_.stage == "wait":
            new = state.judgment_count(store, campaign) - round_.judgments_at_start
            if new < settings.min_new_judgments:
                msg = f"waiting for judgments: {new} new of the {settings.min_new_judgments} a round needs"
                return state.save(store, round_, status="waiting", message=msg)
            state.save(store, round_, status="running", message="", metrics={"new_judgments": new})
        else:
            log.info("round %d: %s", round_.number, round_.stage)
            outcome: StageOutcome = getattr(stages, round_.stage)(store, campaign, round_)
            if round_.stage == "train_reward" and outcome.stop is None:
                accuracy = outcome.metrics.get("reward_accuracy")
                if accuracy is None or accuracy <= settings.min_reward_accuracy:
                    outcome.stop = (
                        f"the reward model's held-out accuracy {accuracy} is not above {settings.min_reward_accuracy}:"
                        " the policy is not trained on it; collect more (or cleaner) judgments"
                    )
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
