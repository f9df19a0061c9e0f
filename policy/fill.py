"""Fill a campaign's queue from a policy: check the request, generate, then store prompts, responses and items
in one transaction, with every model used registered as a model version.

    hitl generate --model default --prompts hitl/data/demo_prompts.jsonl --n 2 --campaign demo --limit 24

Everything a user can get wrong (the campaign, the prompts, the model specs, the settings) is checked before the
first token is generated, and nothing is stored unless the whole run succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from hitl.campaigns import get_campaign
from hitl.catalog import register_model_version
from hitl.embedded import EMBEDDED
from hitl.errors import InvalidInput
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import model_versions, responses
from policy.config import GenerationSettings
from policy.models import ResolvedModel, resolve
from policy.pairing import STRATEGIES, plan_items, store_items, store_responses
from policy.prompts import PromptRecord, load_prompts, match_prompts, save_prompts

Sampler = Callable[..., list]  # (resolved, prompts, settings, progress=...) -> list[policy.generate.Sample]


@dataclass
class FillReport:
    campaign: str
    model: str
    model_version_id: int
    prompts: int
    responses: int
    items: int
    empty: int
    tokens: int
    seconds: float
    against: str | None = None
    against_generated: int = 0
    against_reused: int = 0

    def summary(self) -> str:
        rate = self.tokens / self.seconds if self.seconds > 0 else 0.0
        text = (
            f"{self.model}: {self.responses} responses to {self.prompts} prompts ({self.tokens:,} tokens in "
            f"{self.seconds:.1f} s, {rate:.0f} tokens/s); {self.items} new items in campaign {self.campaign!r}"
        )
        if self.against:
            text += (
                f"; against {self.against}: {self.against_generated} responses generated, "
                f"{self.against_reused} reused from the store"
            )
        if self.empty:
            text += f"; {self.empty} empty samples left out"
        return text


def find_version(conn: Connection, name_or_path: str):
    """A registered policy version by name or by path, or None. `default` is the embedded default policy's version
    (registered under its own name), so its stored answers are found under either name."""
    if name_or_path == "default":
        name_or_path = EMBEDDED["policy"].name
    return conn.execute(
        select(model_versions.c.id, model_versions.c.name, model_versions.c.path)
        .where(
            model_versions.c.kind == "policy",
            or_(model_versions.c.name == name_or_path, model_versions.c.path == name_or_path),
        )
        .order_by(model_versions.c.id)
    ).first()


def register_resolved(conn: Connection, model: ResolvedModel) -> int:
    """The model version id of a resolved model (and of its base, as its parent), registering what is new.

    A folder already registered under another name (e.g. by training) keeps that version.
    """
    row = find_version(conn, model.name) or find_version(conn, model.path)
    if row is not None:
        return row.id
    parent = register_resolved(conn, model.base) if model.base is not None else None
    return register_model_version(
        conn,
        kind="policy",
        name=model.name,
        path=model.path,
        parent_id=parent,
        metadata={"source": model.source, "spec": model.spec},
    )


def resolve_named(store: Store, spec: str, progress: bool = True) -> ResolvedModel:
    """A spec, or the name of a registered policy version with weights on disk."""
    with store.read() as conn:
        row = find_version(conn, spec)
    if row is not None and row.path and spec != "default":
        resolved = resolve(row.path, progress=progress)
        return ResolvedModel(spec, row.name, resolved.path, resolved.source, resolved.base)
    return resolve(spec, progress=progress)


def stored_answers(conn: Connection, version_id: int, prompt_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    found: dict[int, list[tuple[int, str]]] = {}
    for chunk in in_chunks(sorted(set(prompt_ids))):
        rows = conn.execute(
            select(responses.c.id, responses.c.prompt_id, responses.c.text)
            .where(responses.c.model_version_id == version_id, responses.c.prompt_id.in_(chunk))
            .order_by(responses.c.id)
        )
        for rid, pid, text in rows:
            found.setdefault(pid, []).append((rid, text))
    return found


@dataclass
class _Against:
    """The other side of a `versus` run: answers already stored, and what must still be generated."""

    spec: str
    version_id: int | None
    model: ResolvedModel | None
    missing: list[int]  # indexes into the prompt records


def _plan_against(
    store: Store, spec: str, mine: ResolvedModel, records: Sequence[PromptRecord], progress: bool
) -> _Against:
    with store.read() as conn:
        row = find_version(conn, spec)
        matched = match_prompts(conn, records)
        have = stored_answers(conn, row.id, [p for p in matched if p is not None]) if row else {}
    missing = [i for i, pid in enumerate(matched) if pid is None or pid not in have]
    model = None
    if missing:
        if row is not None and not row.path and spec != "default":
            raise InvalidInput(
                f"policy version {spec!r} has no stored answer to {len(missing)} of the prompts and no weights "
                "path to generate them: import its responses first, or pass a model spec to --against"
            )
        model = resolve_named(store, spec, progress)
    names = {row.name, row.path} if row is not None else set()
    if model is not None:
        names |= {model.name, model.path}
    if mine.name in names or mine.path in names:
        raise InvalidInput(f"--against {spec!r} is the model being sampled: use --pairing samples")
    return _Against(spec, row.id if row else None, model, missing)


@dataclass
class PreparedFill:
    """A checked and generated fill, not stored yet: `store_fill` writes it inside the caller's transaction, so
    several fills (the loop's parts of one round) can be stored all together or not at all."""

    target: Any  # hitl.campaigns.Campaign
    records: list[PromptRecord]
    mine: ResolvedModel
    samples: list
    other: _Against | None
    their_samples: list
    pairing: str
    priority: float
    source: str
    seconds: float


def prepare_fill(
    store: Store,
    *,
    model: str,
    prompts: str,
    campaign: str,
    settings: GenerationSettings,
    pairing: str = "samples",
    against: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    priority: float = 0.0,
    progress: bool = True,
    source: str = "hitl generate",
    sampler: Sampler | None = None,
) -> PreparedFill:
    """Check the request, then generate `settings.n` samples per prompt with `model` (and the missing answers of
    `against`); nothing is written."""
    settings.validate()
    if pairing not in STRATEGIES:
        raise InvalidInput(f"--pairing must be one of {', '.join(STRATEGIES)}, not {pairing!r}")
    if (pairing == "versus") != bool(against):
        raise InvalidInput("--pairing versus needs --against SPEC_OR_VERSION, and --against needs --pairing versus")
    target = get_campaign(store, campaign)
    records = load_prompts(store, prompts, limit, offset)
    mine = resolve_named(store, model, progress)
    other = _plan_against(store, against, mine, records, progress) if against else None
    if sampler is None:
        from policy.generate import sample as sampler

    started = time.perf_counter()
    samples = sampler(mine, [r.prompt for r in records], settings, progress=progress)
    their_samples = []
    if other is not None and other.missing:
        their_samples = sampler(other.model, [records[i].prompt for i in other.missing], settings, progress=progress)
    seconds = time.perf_counter() - started
    return PreparedFill(target, records, mine, samples, other, their_samples, pairing, priority, source, seconds)


def store_fill(conn: Connection, fill: PreparedFill) -> FillReport:
    """Store a prepared fill's prompts, responses and items (and register its model versions) on `conn`."""
    other = fill.other
    prompt_ids = save_prompts(conn, fill.records, fill.source)
    version_id = register_resolved(conn, fill.mine)
    stored = store_responses(conn, prompt_ids, fill.samples, version_id, fill.source)
    answers = None
    reused = generated = 0
    their_id = None
    if other is not None:
        their_id = other.version_id
        if other.model is not None:
            their_id = register_resolved(conn, other.model)
        answers = stored_answers(conn, their_id, prompt_ids)
        reused = sum(len(v) for v in answers.values())
        if fill.their_samples:
            missing_ids = [prompt_ids[i] for i in other.missing]
            theirs = store_responses(conn, missing_ids, fill.their_samples, their_id, fill.source)
            generated = theirs.responses
            for pid, got in theirs.response_ids.items():
                answers.setdefault(pid, []).extend(got)
    planned = plan_items(stored.response_ids, fill.target.settings.item_kind, fill.pairing, answers)
    n_items = store_items(conn, fill.target, planned, fill.priority)
    return FillReport(
        campaign=fill.target.name,
        model=fill.mine.name,
        model_version_id=version_id,
        prompts=len(fill.records),
        responses=stored.responses,
        items=n_items,
        empty=stored.empty,
        tokens=sum(s.n_tokens for s in [*fill.samples, *fill.their_samples]),
        seconds=fill.seconds,
        against=_version_name(conn, their_id) if other is not None else None,
        against_generated=generated,
        against_reused=reused,
    )


def _version_name(conn: Connection, version_id: int | None) -> str | None:
    """The registered name a report shows (`default` is reported as the version it names)."""
    if version_id is None:
        return None
    return conn.execute(select(model_versions.c.name).where(model_versions.c.id == version_id)).scalar()


def fill_queue(store: Store, **request: Any) -> FillReport:
    """Generate and queue in one go (see `prepare_fill` for the arguments): everything stored, or nothing."""
    fill = prepare_fill(store, **request)
    with store.write() as conn:
        return store_fill(conn, fill)
