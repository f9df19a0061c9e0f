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
    by_prompt: dict[int, list[str]] = defaultdict(list)
    for s in sample(list(prompts), settings):
        by_prompt[s.prompt_index].append(s.text)
    return best_vs_worst([(prompts[i], by_prompt[i]) for i in sorted(by_prompt)], score, min_gap=min_gap)


def best_vs_worst(
    groups: Sequence[tuple[Prompt, Sequence[str]]], score: Scorer, *, min_gap: float = 0.1
) -> list[dict[str, Any]]:
    """One {prompt, chosen, rejected, reward_gap} per group of answers to a prompt: its highest- and lowest-reward
    answers, when they differ by at least `min_gap` (empty answers and repeats are left out first)."""
    if min_gap < 0:
        raise InvalidInput("min_gap must not be negative")
    flat = [(prompt, text) for prompt, texts in groups for text in dict.fromkeys(t for t in texts if t.strip())]
    if not flat:
        return []
    rewards = score([p for p, _ in flat], [t for _, t in flat])
    pairs, start = [], 0
    for prompt, texts in groups:
        answers = list(dict.fromkeys(t for t in texts if t.strip()))
        scored = sorted(zip((float(r) for r in rewards[start : start + len(answers)]), answers, strict=True))
        start += len(answers)
        if len(scored) < 2:
            continue
        (low, worst), (high, best) = scored[0], scored[-1]
        if high - low >= min_gap:
            pairs.append({"prompt": prompt, "chosen": best, "rejected": worst, "reward_gap": high - low})
    return pairs


def sampler_for(resolved: Any, progress: bool = False) -> Sampler:
    """A sampler over a resolved policy (policy.models.ResolvedModel) through policy.generate."""
    from policy.generate import sample

    def run(prompts: Sequence[Prompt], settings: GenerationSettings) -> list:
        return sample(resolved, prompts, dataclasses.replace(settings), progress=progress)

    return run
