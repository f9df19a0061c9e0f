"""The queue step: generate responses with one or more policies and queue them as comparison items, all stored
in one transaction (every part or none). `hitl generate`, `hitl eval-policy --arena` and the loop's rounds call it.

    hitl generate --model default --prompts all --n 2 --campaign demo

A step is made of parts (samples of one model paired with each other, or one model against another). With
`selection`, the parts are pooled instead: every part's answers to a prompt are candidates, a reward scorer
gives each candidate reward samples, and hitl.pair_selection picks the `budget` most informative pairs over all
prompts (each item records how it was chosen); every candidate is stored as a response, chosen or not, so later
steps (best-of-n) can use them. The loop's rounds queue this way. With `once`, a step whose
`source` already stored responses is finished: a restarted round never queues its pairs twice, and because the
parts are stored together there is no state in which some were made and others were not.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from hitl.campaigns import Campaign
from hitl.catalog import add_item
from hitl.decisiveness import DecisivenessModel, fit_decisiveness
from hitl.errors import InvalidInput
from hitl.pair_selection import Decisive, PromptCandidates, SelectionSettings, reward_samples_by_prompt, select_pairs
from hitl.store import Store
from hitl.store.schema import items, responses
from policy.config import GenerationSettings


@dataclass
class QueuePart:
    """One generation of a queue step."""

    model: str = field(metadata={"help": "The policy sampled: default, a hub id, a path or a version name."})
    pairing: str = field(default="samples", metadata={"help": "samples (with each other) or versus (--against)."})
    against: str | None = field(default=None, metadata={"help": "For versus: the other policy."})
    n: int | None = field(default=None, metadata={"help": "Samples per prompt (None: the step's settings.n)."})
    temperature: float | None = field(default=None, metadata={"help": "None: the step's settings.temperature."})
    seed_offset: int = field(default=0, metadata={"help": "Added to the step's seed (parts with other draws)."})


@dataclass
class QueueStep:
    parts: list[QueuePart] = field(metadata={"help": "What to generate and how to pair it."})
    prompts: str = field(default="all", metadata={"help": "A prompt file, a tag of stored prompts, or all."})
    limit: int | None = field(default=None, metadata={"help": "At most this many prompts."})
    offset: int = field(default=0, metadata={"help": "Start at this prompt of the set (wrapping around)."})
    settings: GenerationSettings = field(default_factory=GenerationSettings, metadata={"help": "Sampling."})
    priority: float = field(default=0.0, metadata={"help": "Queue priority of the new items (higher first)."})
    source: str = field(default="hitl generate", metadata={"help": "Stored with every response: where it came from."})
    once: bool = field(default=False, metadata={"help": "Do nothing when `source` already has responses."})
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})
    selection: SelectionSettings | None = field(
        default=None, metadata={"help": "Pool the parts' answers and choose pairs (hitl.pair_selection)."}
    )
    budget: int = field(default=128, metadata={"help": "With selection: most items queued."})
    selection_seed: int = field(default=0, metadata={"help": "With selection: seed of random choices."})


# (prompts, answers) -> reward samples [S, len(answers)]: S ensemble members or MC-dropout passes.
RewardSampler = Callable[[Sequence[Any], Sequence[str]], np.ndarray]


@dataclass
class QueueResult:
    reports: list[Any]  # policy.fill.FillReport, one per part (empty when skipped)
    items: int
    seconds: float
    skipped: bool = False
    selected_by: dict[str, int] = field(default_factory=dict)  # with selection: items per method
    candidates: int = 0  # with selection: answers stored

    def summary(self) -> str:
        if self.skipped:
            return f"already queued earlier ({self.items} items): nothing generated"
        return "\n".join(r.summary() for r in self.reports)


def _items_from_source(store: Store, campaign: Campaign, source: str) -> int | None:
    """Items of the campaign over responses stored under `source`; None when that source stored nothing."""
    with store.read() as conn:
        first = conn.execute(
            select(func.min(responses.c.id), func.min(responses.c.created_at)).where(responses.c.source == source)
        ).one()
        if first[0] is None:
            return None
        ids = set(conn.execute(select(responses.c.id).where(responses.c.source == source)).scalars())
        rows = conn.execute(
            select(items.c.response_ids).where(items.c.campaign_id == campaign.id, items.c.created_at >= first[1])
        ).scalars()
        return sum(1 for response_ids in rows if ids.intersection(response_ids))


def _prepare(store: Store, campaign: Campaign, step: QueueStep, part: QueuePart, sampler: Any, pairing: str):
    from policy.fill import prepare_fill

    settings = dataclasses.replace(
        step.settings,
        n=part.n or step.settings.n,
        temperature=step.settings.temperature if part.temperature is None else part.temperature,
        seed=step.settings.seed + part.seed_offset,
    )
    return prepare_fill(
        store,
        model=part.model,
        prompts=step.prompts,
        campaign=campaign.name,
        settings=settings,
        pairing=pairing,
        against=part.against if pairing == "versus" else None,
        limit=step.limit,
        offset=step.offset,
        priority=step.priority,
        progress=step.progress,
        source=step.source,
        sampler=sampler,
    )


def queue_step_done(store: Store, campaign: Campaign, step: QueueStep) -> bool:
    """True when a `once` step's source already stored its responses (queue_step would do nothing)."""
    return _items_from_source(store, campaign, step.source) is not None


def campaign_decisiveness(store: Store, campaign: Campaign, newest: int = 2000) -> DecisivenessModel | None:
    """hitl.decisiveness fitted on the campaign's newest `newest` judged pairwise items (share of votes neither
    tie nor both bad; the bound keeps the fit to seconds on a big campaign); None while it has too few of them or
    the fit does not predict them."""
    from hitl.preferences import load_items

    texts, decided, votes = [], [], []
    judged = [it for it in load_items(store, campaign) if len(it.response_ids) == 2 and it.votes]
    for it in judged[-newest:]:
        texts.append(tuple(it.texts[r] for r in it.response_ids))
        decided.append(sum(not (v.tie or v.both_bad) for v in it.votes) / len(it.votes))
        votes.append(len(it.votes))
    return fit_decisiveness(texts, decided, votes)


def queue_step(
    store: Store,
    campaign: Campaign,
    step: QueueStep,
    sampler: Any = None,
    rewards: RewardSampler | None = None,
    decisive: Decisive | None = None,
) -> QueueResult:
    """Generate every part, then store them all in one transaction (with `step.selection`: pool, score with
    `rewards` when given, weigh by `decisive` when given, choose pairs; without `rewards` the choice falls back to
    diversity)."""
    if not step.parts:
        raise InvalidInput("a queue step needs at least one part")
    if step.once:
        done = _items_from_source(store, campaign, step.source)
        if done is not None:
            return QueueResult([], done, 0.0, skipped=True)
    if step.selection is not None:
        return _queue_selected(store, campaign, step, sampler, rewards, decisive)
    from policy.fill import store_fill

    fills = [_prepare(store, campaign, step, part, sampler, part.pairing) for part in step.parts]
    with store.write() as conn:
        reports = [store_fill(conn, fill) for fill in fills]
    return QueueResult(reports, sum(r.items for r in reports), sum(r.seconds for r in reports))


def _queue_selected(
    store: Store,
    campaign: Campaign,
    step: QueueStep,
    sampler: Any,
    rewards: RewardSampler | None,
    decisive: Decisive | None,
) -> QueueResult:
    from policy.fill import register_resolved
    from policy.pairing import store_responses
    from policy.prompts import save_prompts

    step.selection.validate()
    if campaign.settings.item_kind != "pairwise":
        raise InvalidInput("pair selection makes pairwise items: queue a ranking campaign without --selection")
    # pairing "samples" only checks the request here: the items come from the selection below.
    fills = [_prepare(store, campaign, step, part, sampler, "samples") for part in step.parts]
    records = fills[0].records
    # Candidate c of prompt k: (part, index into that part's samples); texts in the same order.
    pool: dict[int, list[tuple[int, int]]] = {}
    for f, fill in enumerate(fills):
        for s, sample in enumerate(fill.samples):
            if sample.text.strip():
                pool.setdefault(sample.prompt_index, []).append((f, s))
    keys = sorted(pool)
    texts = {k: [fills[f].samples[s].text for f, s in pool[k]] for k in keys}
    samples = None
    if rewards is not None and keys:
        scored = reward_samples_by_prompt(rewards, [(records[k].prompt, texts[k]) for k in keys])
        samples = dict(zip(keys, scored, strict=True))
    candidates = [
        PromptCandidates(k, list(range(len(pool[k]))), texts[k], samples[k] if samples else None) for k in keys
    ]
    chosen = select_pairs(
        candidates, step.budget, step.selection, random.Random(step.selection_seed), decisive=decisive
    )
    with store.write() as conn:
        prompt_ids = save_prompts(conn, records, step.source)
        response_id: dict[tuple[int, int], int] = {}
        for f, fill in enumerate(fills):
            version_id = register_resolved(conn, fill.mine)
            stored = store_responses(conn, prompt_ids, fill.samples, version_id, step.source)
            response_id.update({(f, s): rid for s, rid in enumerate(stored.ids) if rid is not None})
        for pair in chosen:
            a, b = (pool[pair.key][i] for i in pair.ids)
            add_item(
                conn,
                campaign_id=campaign.id,
                prompt_id=prompt_ids[pair.key],
                response_ids=[response_id[a], response_id[b]],
                item_kind="pairwise",
                priority=step.priority,
                selection=pair.record(),
            )
    return QueueResult(
        [],
        len(chosen),
        sum(fill.seconds for fill in fills),
        selected_by=dict(Counter(p.method for p in chosen)),
        candidates=len(response_id),
    )
