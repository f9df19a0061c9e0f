"""Comparing two policy versions: answers to a prompt set (stored ones reused when their sampling settings match),
each pair judged, win rates with intervals.

    hitl eval-policy --a demo-dpo-1 --b default --prompts all --limit 48 --oracle rule:concise

The judge is any `(prompt, [answer_a, answer_b]) -> [score_a, score_b]`: an oracle rule from hitl.simulate, or a
reward model (reward.score). A version's stored answer to a prompt is reused when it was sampled with the same
temperature, top-p and token limit (the first sample of that prompt); only the missing ones are generated, and
they are stored, so the next comparison (and the arena) reuses them too. Human judging instead queues the pairs as
battles (`hitl eval-policy --arena CAMPAIGN`, through policy.fill).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hitl.catalog import add_responses, prompt_display_text
from hitl.errors import InvalidInput
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import model_versions, responses
from hitl.style_control import StyleControlledRate, style_controlled_rate
from hitl.winrate import WinRate, outcome_from_scores, win_rate
from policy.config import GenerationSettings

Judge = Callable[[str, Sequence[str]], Sequence[float]]
Sampler = Callable[[Any, Sequence[Any], GenerationSettings], list]
# A stored answer is reused only when it was sampled like this comparison asks (seed and n may differ: any sample
# of the same distribution is as good as a new one).
MATCHED_SETTINGS = ("temperature", "top_p", "max_new_tokens")


@dataclass
class Side:
    """One policy of a comparison: its version name and where its answers came from."""

    spec: str
    name: str
    version_id: int
    reused: int = 0
    generated: int = 0


@dataclass
class Comparison:
    a: str
    b: str
    result: WinRate
    rows: list[dict[str, Any]] = field(default_factory=list)
    sides: list[Side] = field(default_factory=list)
    # A's win rate with length and markdown held equal (hitl.style_control), beside the length-controlled one.
    style: StyleControlledRate | None = None

    @property
    def tally(self) -> tuple[int, int, int]:
        """(A wins, ties, B wins) over the judged pairs."""
        outcomes = [r["outcome"] for r in self.rows]
        return outcomes.count(1.0), outcomes.count(0.5), outcomes.count(0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "result": dataclasses.asdict(self.result),
            "style_controlled": None if self.style is None else dataclasses.asdict(self.style),
            "answers": [dataclasses.asdict(s) for s in self.sides],
            "rows": self.rows,
        }


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


def matching_answers(
    store: Store, version_id: int, prompt_ids: Sequence[int], settings: GenerationSettings
) -> dict[int, tuple[int, str]]:
    """prompt id -> (response id, text) of the version's first stored answer sampled with these settings."""
    wanted = {k: v for k, v in settings.sampling_record().items() if k in MATCHED_SETTINGS}
    best: dict[int, tuple[tuple, int, str]] = {}
    with store.read() as conn:
        for chunk in in_chunks(sorted(set(prompt_ids))):
            rows = conn.execute(
                select(responses.c.id, responses.c.prompt_id, responses.c.text, responses.c.sampling).where(
                    responses.c.model_version_id == version_id, responses.c.prompt_id.in_(chunk)
                )
            )
            for rid, pid, text, sampling in rows:
                sampling = sampling or {}
                if not text.strip() or any(sampling.get(k) != v for k, v in wanted.items()):
                    continue
                rank = (int(sampling.get("sample_index", 0)), rid)
                if pid not in best or rank < best[pid][0]:
                    best[pid] = (rank, rid, text)
    return {pid: (rid, text) for pid, (_, rid, text) in best.items()}


def _answers(
    store: Store, spec: str, prompts: Sequence[Any], prompt_ids: Sequence[int], settings: GenerationSettings, run
) -> tuple[Side, list[tuple[int | None, str]]]:
    """(the side, [(response id or None, answer)] per prompt): stored answers where they match, new ones stored."""
    from policy.fill import register_resolved, resolve_named

    resolved = resolve_named(store, spec)
    with store.write() as conn:
        vid = register_resolved(conn, resolved)
        name = conn.execute(select(model_versions.c.name).where(model_versions.c.id == vid)).scalar_one()
    side = Side(spec, name, vid)
    found = matching_answers(store, vid, prompt_ids, settings)
    answers: list[tuple[int | None, str]] = [found.get(pid, (None, "")) for pid in prompt_ids]
    missing = [i for i, pid in enumerate(prompt_ids) if pid not in found]
    side.reused = len(prompt_ids) - len(missing)
    if missing:
        samples = run(resolved, [prompts[i] for i in missing], settings)
        by_index = {s.prompt_index: s for s in samples}
        new = [(i, by_index[k]) for k, i in enumerate(missing) if k in by_index and by_index[k].text.strip()]
        rows = [
            {"prompt_id": prompt_ids[i], "text": s.text, "model_version_id": vid, "sampling": s.sampling()}
            for i, s in new
        ]
        with store.write() as conn:
            ids = add_responses(conn, rows, source="hitl eval-policy")
        for (i, s), rid in zip(new, ids, strict=True):
            answers[i] = (rid, s.text)
        side.generated = len(new)
    return side, answers


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
    """Win rate of policy `a` over `b` (specs or version names) on the prompts `prompts` names. Each row also has
    the two answers' response ids (`a_id`, `b_id`; None for an empty answer), so the pairs can be stored."""
    from policy.generate import sample
    from policy.prompts import load_prompts, save_prompts

    if a == b:
        raise InvalidInput("compare two different versions (--a and --b are the same)")
    records = load_prompts(store, prompts, limit)
    settings = dataclasses.replace(settings, n=1)
    run = sampler or (lambda resolved, ps, s: sample(resolved, ps, s, progress=True))
    with store.write() as conn:
        prompt_ids = save_prompts(conn, records, source="hitl eval-policy")
    texts = [r.prompt for r in records]
    side_a, answers_a = _answers(store, a, texts, prompt_ids, settings, run)
    side_b, answers_b = _answers(store, b, texts, prompt_ids, settings, run)
    if side_a.version_id == side_b.version_id:
        raise InvalidInput(f"--a {a!r} and --b {b!r} are the same model version ({side_a.name})")
    rows = judge_pairs(texts, [t for _, t in answers_a], [t for _, t in answers_b], judge)
    for row, (rid_a, _), (rid_b, _) in zip(rows, answers_a, answers_b, strict=True):
        row.update(a_id=rid_a, b_id=rid_b)
    result = win_rate(
        [r["outcome"] for r in rows], [len(r["a"]) for r in rows], [len(r["b"]) for r in rows], bootstrap=bootstrap
    )
    outcomes, texts_a, texts_b = ([r[k] for r in rows] for k in ("outcome", "a", "b"))
    style = style_controlled_rate(outcomes, texts_a, texts_b, bootstrap=bootstrap)
    return Comparison(a=side_a.name, b=side_b.name, result=result, rows=rows, sides=[side_a, side_b], style=style)
