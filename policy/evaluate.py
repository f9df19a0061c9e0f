"""Comparing two policy versions: generate on a prompt set, judge each pair, report win rates.

    hitl eval-policy --a demo-r3-policy --b default --prompts demo --oracle rule:concise

The judge is any `(prompt, [answer_a, answer_b]) -> [score_a, score_b]`: an oracle rule from
hitl.simulate, or a reward model (reward.score). Human judging instead queues the pairs as battles
(`hitl eval-policy --arena CAMPAIGN`, through policy.fill).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitl.catalog import prompt_display_text
from hitl.errors import InvalidInput
from hitl.store import Store
from hitl.winrate import WinRate, outcome_from_scores, win_rate
from policy.config import GenerationSettings

Judge = Callable[[str, Sequence[str]], Sequence[float]]
Sampler = Callable[[Any, Sequence[Any], GenerationSettings], list]


@dataclass
class Comparison:
    a: str
    b: str
    result: WinRate
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "result": dataclasses.asdict(self.result), "rows": self.rows}


def judge_pairs(
    prompts: Sequence[Any], answers_a: Sequence[str], answers_b: Sequence[str], judge: Judge
) -> list[dict]:
    """One row per prompt: both answers, both scores and the outcome for A (1 win, 0 loss, 0.5 tie)."""
    rows = []
    for prompt, a, b in zip(prompts, answers_a, answers_b, strict=True):
        text = prompt if isinstance(prompt, str) else prompt_display_text(None, prompt)
        score_a, score_b = (float(s) for s in judge(text, [a, b]))
        rows.append(
            {
                "prompt": text,
                "a": a,
                "b": b,
                "score_a": score_a,
                "score_b": score_b,
                "outcome": outcome_from_scores(score_a, score_b),
            }
        )
    return rows


def compare_policies(
    store: Store,
    a: str,
    b: str,
    prompts: str,
    judge: Judge,
    settings: GenerationSettings,
    *,
    limit: int | None = None,
    bootstrap: int = 1000,
    sampler: Sampler | None = None,
) -> Comparison:
    """Win rate of policy `a` over `b` (specs or version names) on the prompts `prompts` names."""
    from policy.fill import resolve_named
    from policy.generate import sample
    from policy.prompts import load_prompts

    if a == b:
        raise InvalidInput("compare two different versions (--a and --b are the same)")
    records = load_prompts(store, prompts, limit)
    settings = dataclasses.replace(settings, n=1)
    run = sampler or (lambda resolved, ps, s: sample(resolved, ps, s, progress=True))
    texts = [r.prompt for r in records]
    answers = {}
    for spec in (a, b):
        samples = run(resolve_named(store, spec), texts, settings)
        by_prompt = {s.prompt_index: s.text for s in samples}
        answers[spec] = [by_prompt.get(i, "") for i in range(len(texts))]
    rows = judge_pairs(texts, answers[a], answers[b], judge)
    result = win_rate(
        [r["outcome"] for r in rows], [len(r["a"]) for r in rows], [len(r["b"]) for r in rows], bootstrap=bootstrap
    )
    return Comparison(a=a, b=b, result=result, rows=rows)
