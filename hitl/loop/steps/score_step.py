"""The score step: a reward model (or a small ensemble) scores a campaign's open items; each item keeps its
pre-label (for the rate page's hint) and, by default, its queue priority becomes the models' uncertainty, so
raters see the pairs the models are least sure about first. `hitl score` and the loop's rounds call it.

    hitl score --campaign demo --model demo-rm --mc-samples 8
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hitl.campaigns import Campaign
from hitl.errors import InvalidInput
from hitl.store import Store


@dataclass
class ScoreStep:
    models: list[str] = field(metadata={"help": "Reward versions (name or id) or folders; several: an ensemble."})
    mc_samples: int = field(default=8, metadata={"help": "Dropout passes per model (1: no MC dropout)."})
    batch_size: int = field(default=32, metadata={"help": "Sequences per scoring batch."})
    priorities: bool = field(default=True, metadata={"help": "Set queue priorities to the uncertainty."})


@dataclass
class ScoreResult:
    scores: list[Any]  # reward.prelabel.ItemScore, one per open item
    models: int
    model_version_id: int | None  # the one model's version (None for an ensemble or a bare folder)


def score_step(store: Store, campaign: Campaign, step: ScoreStep) -> ScoreResult:
    """Score every open item of the campaign (gold too: a hint shown on every item but gold would give gold away)."""
    if not step.models:
        raise InvalidInput("name at least one reward model to score with")
    if step.mc_samples < 1:
        raise InvalidInput("--mc-samples must be at least 1")
    if step.batch_size < 1:
        raise InvalidInput("--batch-size must be at least 1")
    from reward.models import resolve_reward_ref
    from reward.prelabel import prioritize
    from reward.score import RewardScorer

    refs = [resolve_reward_ref(store, ref) for ref in step.models]
    scorers = [RewardScorer.from_pretrained(path, batch_size=step.batch_size) for path, _ in refs]
    version_id = refs[0][1] if len(refs) == 1 else None
    scores = prioritize(store, campaign, scorers, step.mc_samples, version_id, priorities=step.priorities)
    return ScoreResult(scores, len(scorers), version_id)
