"""Generated responses into the rating queue: which responses one item compares, then storing both at once.

    hitl generate --model default --prompts all --n 2 --campaign demo                      # samples of one version
    hitl generate --model ./dpo-v2 --prompts all --campaign demo --pairing versus --against default

Strategies: `samples` compares samples of one model version with each other; `versus` compares this version's
samples with another version's answers to the same prompts. Ranking campaigns get K-way sets (at most 8
responses) instead of pairs. Identical answers to a prompt are never compared. Items carry a priority (0 by
default; later the reward model's uncertainty) so the queue can serve the most informative first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from hitl.campaigns import Campaign
from hitl.catalog import add_item, add_responses
from hitl.errors import InvalidInput
from hitl.io.imports import item_groups

STRATEGIES = ("samples", "versus")
Answer = tuple[int, str]  # (response id, text)


def distinct(answers: Sequence[Answer]) -> list[Answer]:
    """The answers with repeated texts dropped (the first kept); whitespace at the ends does not count."""
    seen: dict[str, Answer] = {}
    for rid, text in answers:
        seen.setdefault(text.strip(), (rid, text))
    return list(seen.values())


def sample_groups(answers: Sequence[Answer], item_kind: str) -> list[list[int]]:
    """Samples of one version: every two distinct answers (pairwise), or K-way sets (ranking)."""
    return item_groups(list(answers), item_kind, "all-pairs")


def versus_groups(mine: Sequence[Answer], theirs: Sequence[Answer], item_kind: str) -> list[list[int]]:
    """This version against another: each of my distinct answers meets one of theirs with a different text,
    taking theirs in turn so every one of them is used; ranking campaigns rank all distinct answers together."""
    if item_kind == "ranking":
        return item_groups(distinct([*mine, *theirs]), item_kind, "all-pairs")
    own, other = distinct(mine), distinct(theirs)
    groups, used = [], 0
    for rid, text in own:
        for k in range(len(other)):
            orid, otext = other[(used + k) % len(other)]
            if otext.strip() != text.strip():
                groups.append([rid, orid])
                used += k + 1
                break
    return groups


def plan_items(
    new: Mapping[int, Sequence[Answer]],
    item_kind: str,
    strategy: str = "samples",
    other: Mapping[int, Sequence[Answer]] | None = None,
) -> list[tuple[int, list[int]]]:
    """(prompt id, response ids) of every item to create, per prompt in the order given."""
    if strategy not in STRATEGIES:
        raise InvalidInput(f"pairing must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if strategy == "versus" and other is None:
        raise InvalidInput("pairing 'versus' needs the other version's answers (--against)")
    planned = []
    for pid, answers in new.items():
        if strategy == "samples":
            groups = sample_groups(answers, item_kind)
        else:
            groups = versus_groups(answers, (other or {}).get(pid, []), item_kind)
        planned.extend((pid, g) for g in groups)
    return planned


@dataclass
class StoredGeneration:
    responses: int = 0
    items: int = 0
    empty: int = 0  # samples with no text (the model stopped at once), not stored
    response_ids: dict[int, list[Answer]] = field(default_factory=dict)
    ids: list[int | None] = field(default_factory=list)  # per sample, in order: its response id (None: empty)


def store_responses(
    conn: Connection,
    prompt_ids: Sequence[int],
    samples: Sequence,
    model_version_id: int,
    source: str,
) -> StoredGeneration:
    """Store generated samples (policy.generate.Sample) as responses; `prompt_ids[s.prompt_index]` is each prompt."""
    out = StoredGeneration()
    kept = [s for s in samples if s.text.strip()]
    out.empty = len(samples) - len(kept)
    rows = [
        {
            "prompt_id": prompt_ids[s.prompt_index],
            "text": s.text,
            "model_version_id": model_version_id,
            "sampling": s.sampling(),
        }
        for s in kept
    ]
    ids = add_responses(conn, rows, source=source)
    for row, rid in zip(rows, ids, strict=True):
        out.response_ids.setdefault(row["prompt_id"], []).append((rid, row["text"]))
    stored = iter(ids)
    out.ids = [next(stored) if s.text.strip() else None for s in samples]
    out.responses = len(ids)
    return out


def store_items(
    conn: Connection, campaign: Campaign, planned: Sequence[tuple[int, list[int]]], priority: float = 0.0
) -> int:
    for pid, group in planned:
        add_item(
            conn,
            campaign_id=campaign.id,
            prompt_id=pid,
            response_ids=group,
            item_kind=campaign.settings.item_kind,
            priority=priority,
        )
    return len(planned)
