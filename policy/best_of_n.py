"""Best-of-n pairs: the reward model labels the policy's own samples, stretching scarce human labels for DPO.

    hitl train-policy --campaign demo --reward demo-r1-reward --best-of-n 4

For each prompt the policy samples n answers, the reward model scores them, and the best and the worst become
one (chosen, rejected) pair. Pairs whose reward gap is small are left out: the reward model cannot tell those
answers apart, and a coin-flip label teaches the policy noise.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from hitl.errors import InvalidInput
from policy.config import GenerationSettings

Prompt = str | list[dict]
Scorer = Callable[[Sequence[Prompt], Sequence[str]], Sequence[float]]  # (prompts, answers) -> rewards
Sampler = Callable[[Sequence[Prompt], GenerationSettings], list]  # -> list[policy.generate.Sample]


def best_of_n_pairs(
    prompts: Sequence[Prompt],
    sample: Sampler,
    score: Scorer,
    settings: GenerationSettings,
    *,
    min_gap: float = 0.1,
) -> list[dict[str, Any]]:
    """One {prompt, chosen, rejected, reward_gap} per prompt whose best and worst samples differ by >= `min_gap`."""
    if settings.n < 2:
        raise InvalidInput("best-of-n needs at least 2 samples per prompt (n >= 2)")
    if min_gap < 0:
        raise InvalidInput("min_gap must not be negative")
    samples = [s for s in sample(list(prompts), settings) if s.text.strip()]
    if not samples:
        return []
    rewards = score([prompts[s.prompt_index] for s in samples], [s.text for s in samples])
    by_prompt: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for s, r in zip(samples, rewards, strict=True):
        by_prompt[s.prompt_index].append((float(r), s.text))
    pairs = []
    for index in sorted(by_prompt):
        scored = sorted(by_prompt[index])
        (low, worst), (high, best) = scored[0], scored[-1]
        if best != worst and high - low >= min_gap:
            pairs.append({"prompt": prompts[index], "chosen": best, "rejected": worst, "reward_gap": high - low})
    return pairs


def sampler_for(resolved: Any, progress: bool = False) -> Sampler:
    """A sampler over a resolved policy (policy.models.ResolvedModel) through policy.generate."""
    from policy.generate import sample

    def run(prompts: Sequence[Prompt], settings: GenerationSettings) -> list:
        return sample(resolved, prompts, dataclasses.replace(settings), progress=progress)

    return run
