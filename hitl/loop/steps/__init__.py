"""Every training job of hitl, once: the CLI subcommands and the loop's round stages are thin callers of these.

    hitl train-reward ...   -> train_reward_step      hitl train-policy ... -> train_policy_step
    hitl generate ...       -> queue_step             hitl score ...        -> score_step

Each takes (store, campaign, step config), returns what it registered or counted, and is idempotent by the
version name (or, for queueing, by its source) it is given.
"""

from hitl.loop.steps.policy_step import PolicyStep, PolicyStepResult, train_policy_step
from hitl.loop.steps.queue_step import QueuePart, QueueResult, QueueStep, queue_step
from hitl.loop.steps.reward_step import RewardStep, RewardStepResult, train_reward_step
from hitl.loop.steps.score_step import ScoreResult, ScoreStep, score_step

__all__ = [
    "PolicyStep",
    "PolicyStepResult",
    "QueuePart",
    "QueueResult",
    "QueueStep",
    "RewardStep",
    "RewardStepResult",
    "ScoreResult",
    "ScoreStep",
    "queue_step",
    "score_step",
    "train_policy_step",
    "train_reward_step",
]
