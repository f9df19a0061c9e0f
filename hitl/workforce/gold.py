"""Gold grows in the store: items judged unanimously by competent raters proposed as gold (hitl.quality.gold_growth),
and a reviewer's decision on each; a confirmed item becomes a gold item in place.

    hitl workforce gold demo                       # the proposals, surest first
    hitl workforce gold demo --confirm 12 --decline 14

A confirmed item keeps its judgments; it is marked gold with the answer its raters gave and opened again, so it
serves as an attention check (and a training item for a qualification) to raters who have not seen it. Training
data uses the gold answer for it, which is what its raters said. A declined item is never proposed again. Either
decision is checked again inside its write transaction: an item that got a dissenting judgment, an adjudication or
a decision since it was proposed is refused whole, and nothing is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from hitl.campaigns import Campaign, get_campaign
from hitl.errors import Conflict, InvalidInput, NotFound
from hitl.quality.gold_growth import (
    DEFAULT_COMPETENCE_MIN_N,
    DEFAULT_MIN_COMPETENCE,
    DEFAULT_MIN_POSTERIOR,
    DEFAULT_MIN_RATERS,
    check_gold_params,
    gold_candidates,
)
from hitl.stats import judgment_rows
from hitl.store import Store
from hitl.store.schema import adjudications, gold_decisions, items, judgments, users
from hitl.workforce.manage import AUTO_USER

MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class GoldParams:
    """What makes an item worth proposing (hitl.quality.gold_growth.gold_candidates)."""

    min_raters: int = DEFAULT_MIN_RATERS
    min_competence: float = DEFAULT_MIN_COMPETENCE
    competence_min_n: int = DEFAULT_COMPETENCE_MIN_N
    min_posterior: float = DEFAULT_MIN_POSTERIOR

    def validate(self) -> GoldParams:
        """InvalidInput naming the parameter out of range."""
        try:
            check_gold_params(self.min_raters, self.min_competence, self.competence_min_n, self.min_posterior)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        return self


@dataclass(frozen=True)
class GoldProposal:
    """An item proposed as gold: the response (1-based, stored order) its raters all picked, who they were, the
    weakest of their Dawid-Skene competences and the posterior of that answer."""

    item_id: int
    campaign: str
    answer: int
    raters: tuple[str, ...]
    min_competence: float
    posterior: float


def proposals(store: Store, campaign: Campaign, params: GoldParams = GoldParams()) -> list[GoldProposal]:
    """The campaign's items worth confirming as gold, surest first; gold, adjudicated and decided items left out."""
    params.validate()
    rows = [r for r in judgment_rows(store, campaign) if r.rater != AUTO_USER]  # auto-labels are not a rater
    with store.read() as conn:
        decided = set(
            conn.execute(select(gold_decisions.c.item_id).where(gold_decisions.c.campaign_id == campaign.id)).scalars()
        )
        adjudicated = set(
            conn.execute(
                select(adjudications.c.item_id)
                .join(items, items.c.id == adjudications.c.item_id)
                .where(items.c.campaign_id == campaign.id)
            ).scalars()
        )
        retired = set(
            conn.execute(
                select(items.c.id).where(items.c.campaign_id == campaign.id, items.c.status == "retired")
            ).scalars()
        )
    found = gold_candidates(
        rows,
        min_raters=params.min_raters,
        min_competence=params.min_competence,
        competence_min_n=params.competence_min_n,
        min_posterior=params.min_posterior,
    )
    skip = decided | adjudicated | retired
    return [
        GoldProposal(c.item_id, campaign.name, c.answer + 1, c.raters, c.min_competence, c.posterior)
        for c in found
        if c.item_id not in skip
    ]


def decisions_version(store: Store) -> float | None:
    """Changes with every decision (also ones made by another process, e.g. the CLI)."""
    with store.read() as conn:
        return conn.execute(select(func.max(gold_decisions.c.decided_at))).scalar()


def _why_not(conn, item_id: int) -> str:
    """Why an item is not among the proposals, for the refusal's message."""
    row = conn.execute(select(items.c.is_gold, items.c.status).where(items.c.id == item_id)).first()
    if row is None:
        raise NotFound(f"no item {item_id}")
    if row.is_gold:
        return "it is a gold item already"
    done = conn.execute(select(gold_decisions.c.accepted).where(gold_decisions.c.item_id == item_id)).first()
    if done is not None:
        return f"a reviewer already {'confirmed' if done.accepted else 'declined'} it"
    if conn.execute(select(adjudications.c.id).where(adjudications.c.item_id == item_id)).first() is not None:
        return "it has an adjudication (its label is the reviewer's, not its raters')"
    return (
        "its raters are too few, not unanimous, unsure, or not all of proven competence "
        "(see `hitl workforce gold CAMPAIGN` for the proposals)"
    )


def decide(
    store: Store,
    proposal: GoldProposal | None,
    item_id: int,
    accept: bool,
    reviewer_id: int | None = None,
    note: str = "",
) -> str:
    """Confirm (``accept``) or decline the item proposed as gold; ``proposal`` is the item's entry among the current
    proposals (None: it is not proposed, which is refused saying why). What was done, for the caller to show."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"the note is longer than {MAX_NOTE_CHARS} characters")
    item_id = int(item_id)
    with store.write() as conn:
        if proposal is None:
            why = _why_not(conn, item_id)
            raise InvalidInput(f"item {item_id} is not proposed as gold: {why}; nothing was changed")
        row = conn.execute(
            select(items.c.is_gold, items.c.response_ids, items.c.campaign_id).where(items.c.id == item_id)
        ).first()
        if row is None:
            raise NotFound(f"no item {item_id}")
        decided = conn.execute(select(gold_decisions.c.item_id).where(gold_decisions.c.item_id == item_id)).first()
        if row.is_gold or decided is not None:
            raise Conflict(f"item {item_id} was decided meanwhile: {_why_not(conn, item_id)}; nothing was changed")
        expected = list(row.response_ids)[proposal.answer - 1]
        answers = conn.execute(
            select(judgments.c.ranking, judgments.c.tie, judgments.c.both_bad, judgments.c.flags)
            .join(users, users.c.id == judgments.c.user_id)
            .where(judgments.c.item_id == item_id, users.c.name != AUTO_USER)
        ).all()
        dissent = [a for a in answers if a.tie or a.both_bad or a.flags or list(a.ranking)[0] != expected]
        adjudicated = conn.execute(select(adjudications.c.id).where(adjudications.c.item_id == item_id)).first()
        if dissent or adjudicated is not None:
            raise Conflict(
                f"item {item_id} changed since it was proposed (a new answer differs, or it was adjudicated): "
                "it is no longer proposed; nothing was changed"
            )
        now = time.time()
        conn.execute(
            insert(gold_decisions).values(
                item_id=item_id,
                campaign_id=row.campaign_id,
                accepted=bool(accept),
                answer=proposal.answer - 1 if accept else None,
                reviewer_id=reviewer_id,
                note=note,
                decided_at=now,
            )
        )
        if accept:
            # Open again: a gold item is never "done", it is an attention check for everyone who has not seen it.
            conn.execute(
                update(items)
                .where(items.c.id == item_id)
                .values(is_gold=True, gold_answer=proposal.answer - 1, status="open")
            )
    if accept:
        store.route_cache.clear()  # qualification and attention checks count gold items
        return f"item {item_id} is a gold item now (answer: response {proposal.answer})"
    return f"item {item_id} declined as gold: it will not be proposed again"


def decide_by_id(
    store: Store,
    item_id: int,
    accept: bool,
    reviewer_id: int | None = None,
    note: str = "",
    params: GoldParams = GoldParams(),
) -> str:
    """decide() for a caller without the proposals at hand (the CLI): they are computed for the item's campaign."""
    with store.read() as conn:
        campaign_id = conn.execute(select(items.c.campaign_id).where(items.c.id == int(item_id))).scalar()
    if campaign_id is None:
        raise NotFound(f"no item {item_id}")
    found = {p.item_id: p for p in proposals(store, get_campaign(store, int(campaign_id)), params)}
    return decide(store, found.get(int(item_id)), item_id, accept, reviewer_id, note)
