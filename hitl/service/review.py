"""Reviewing: items whose judgments disagree, carry flags, miss a gold answer or offer a correction; adjudications.

    python -c "from hitl.service import Service; help(Service.review)"

An adjudication is the final label of an item: hitl.preferences uses the latest one instead of the
raters' votes, and the correction it accepts (a rater's rewritten response) becomes training data. Items waiting in
the expert queue (hitl.workforce.escalation) show as "escalated", with why and since when; their adjudication is
the expert's answer and needs the escalation's skill.
The queue reads every judgment of a campaign: its rows are computed once per new judgment or adjudication
(at most every few seconds, hitl.service.heavy) and each request only filters them.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

from sqlalchemy import func, insert, select

from hitl.campaigns import campaign_names
from hitl.errors import Forbidden, InvalidInput, NotFound
from hitl.service.access import require
from hitl.service.heavy import HeavyGate, ResultCache
from hitl.storable import check_storable
from hitl.store import Store
from hitl.store.schema import adjudications, campaigns, escalations, items, judgments, prompts, responses, users
from hitl.users import User
from hitl.workforce.escalation import check_may_answer, list_escalations, open_escalation, resolve
from hitl.workforce.skills import skills_of

# "escalated": waiting in the expert queue (hitl.workforce.escalation), with its reason and how long it waited.
REASONS = ("disagreement", "flags", "failed_gold", "correction", "escalated")
# How the queue can be ordered: newest items first (the default), the longest-waiting first, the widest
# disagreement first, the most-judged first.
SORTS = ("newest", "oldest", "disagreement", "judgments")
MAX_ROWS = 500
# A pairwise adjudication as the review page offers it: the verdict and how strong a preference is.
VERDICTS = {"1": "Response 1 is better", "2": "Response 2 is better", "tie": "Tie", "both_bad": "Both bad"}
STRENGTHS = {1: "slightly better", 2: "better", 3: "much better"}


@dataclass(frozen=True)
class ReviewRow:
    item_id: int
    campaign: str
    reasons: tuple[str, ...]
    n_judgments: int
    raters: tuple[str, ...]
    flags: tuple[str, ...]
    adjudicated: bool
    disagreement: float = 0.0  # share of judgments that differ from the most common answer (0: all agree)
    missed_gold: tuple[str, ...] = ()  # raters whose answer missed the gold answer
    last_judged: float = 0.0  # epoch of the newest judgment
    escalation: str = ""  # why it waits in the expert queue ("" when it does not), and for which skill
    escalated_at: float | None = None  # since when (the page shows the time waited)

    def waiting_seconds(self, now: float | None = None) -> float | None:
        """How long the item has waited in the expert queue (None when it is not there)."""
        if self.escalated_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.escalated_at)


def reason_counts(rows: list[ReviewRow]) -> dict[str, int]:
    """How many of the rows carry each reason (a row can carry several), in REASONS order."""
    return {reason: sum(reason in r.reasons for r in rows) for reason in REASONS}


@dataclass(frozen=True)
class JudgmentView:
    id: int
    rater: str
    answer: str  # in canonical response numbers, e.g. "2 better (3)", "tie", "2 > 1 > 3"
    flags: tuple[str, ...]
    rationale: str
    correction: str | None
    seconds: float | None
    first_shown: int  # canonical number of the response this rater saw first
    aspects: str = ""  # the rater's aspect scores by canonical response number ("" when none were given)


@dataclass(frozen=True)
class ItemReview:
    item_id: int
    campaign: str
    item_kind: str
    prompt_text: str | None
    prompt_messages: list[dict] | None
    responses: list[str]  # canonical order: response 1, 2, ...
    gold_answer: int | None  # canonical number (1-based) for gold items
    judgments: list[JudgmentView] = field(default_factory=list)
    adjudications: list[str] = field(default_factory=list)


def _label(j, canonical: list[int]) -> tuple:
    if j.tie:
        return ("both_bad",) if j.both_bad else ("tie",)
    return tuple(j.ranking)


def describe(ranking: list[int], strength: int, tie: bool, both_bad: bool, canonical: list[int]) -> str:
    """An answer in canonical response numbers: '2 better (3)', 'tie', 'both bad', '2 > 1 > 3'."""
    if tie:
        return "both bad" if both_bad else "tie"
    numbers = [canonical.index(r) + 1 for r in ranking]
    text = f"{numbers[0]} better ({strength})" if len(numbers) == 2 else " > ".join(map(str, numbers))
    return text + (" · both bad" if both_bad else "")


def describe_aspects(scores: dict | None, canonical: list[int]) -> str:
    """Aspect scores in canonical response numbers: '1: helpfulness 3, verbosity 1 · 2: helpfulness 4'."""
    if not scores:
        return ""
    by_id = {int(k): v for k, v in scores.items()}
    parts = [
        f"{k + 1}: " + ", ".join(f"{name} {score}" for name, score in by_id[rid].items())
        for k, rid in enumerate(canonical)
        if by_id.get(rid)
    ]
    return " · ".join(parts)


def parse_ranking(typed: str) -> list[int]:
    """Response numbers as a reviewer types them, best first: '2 1', '2 > 1 > 3' or '2, 1'."""
    tokens = str(typed or "")[:200].replace(",", " ").replace(">", " ").split()
    if not all(t.isascii() and t.isdigit() for t in tokens):
        raise InvalidInput(f"write the response numbers best first, e.g. '2 1' or '2 > 1', not {typed!r}")
    return [int(t) for t in tokens]


def review_version(store: Store) -> tuple:
    """What changes whenever a judgment, an adjudication or an escalation is added."""
    with store.read() as conn:
        return tuple(
            conn.execute(
                select(
                    select(func.max(judgments.c.id)).scalar_subquery(),
                    select(func.max(adjudications.c.id)).scalar_subquery(),
                    select(func.max(escalations.c.id)).scalar_subquery(),
                )
            ).one()
        )


class ReviewService:
    def __init__(self, store: Store, gate: HeavyGate | None = None):
        self.store = store
        self._rows = ResultCache(gate or HeavyGate(), size=32, max_age=600.0)

    def clear_cache(self) -> None:
        """Forget the computed queue rows (after a change review_version does not see)."""
        self._rows.clear()

    def campaigns(self, caller: User) -> list[str]:
        """The campaigns the review queue can be narrowed to (reviewers and admins)."""
        require(caller, "reviewer")
        return campaign_names(self.store)

    def queue(
        self,
        caller: User,
        campaign: str | None = None,
        *,
        rater: str | None = None,
        flag: str | None = None,
        reason: str | None = None,
        sort: str = "newest",
        open_only: bool = False,
        offset: int = 0,
        limit: int = MAX_ROWS,
    ) -> list[ReviewRow]:
        """Items needing a look, optionally only one campaign / rater / flag / reason, or only those without an
        adjudication; ordered by `sort` (SORTS: newest items first by default); `limit` rows from `offset`
        (queue_size gives the whole count, for paging)."""
        out = self._matching(caller, campaign, rater, flag, reason, sort, open_only)
        return out[max(0, offset) : max(0, offset) + max(0, min(limit, MAX_ROWS))]

    def queue_size(self, caller: User, campaign: str | None = None, **filters) -> int:
        """How many rows `queue` has with these filters, over every page."""
        return len(self._matching(caller, campaign, **{"sort": "newest", "open_only": False, **filters}))

    def _matching(
        self,
        caller: User,
        campaign: str | None,
        rater: str | None = None,
        flag: str | None = None,
        reason: str | None = None,
        sort: str = "newest",
        open_only: bool = False,
    ) -> list[ReviewRow]:
        require(caller, "reviewer")
        if reason and reason not in REASONS:
            raise InvalidInput(f"reason must be one of {', '.join(REASONS)}")
        if sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
        rows = self._rows.get(
            campaign or None, review_version(self.store), lambda: self._all_rows(campaign or None), "review queue"
        )
        out = [
            row
            for row in rows
            if not (reason and reason not in row.reasons)
            and not (rater and rater not in row.raters)
            and not (flag and flag not in row.flags)
            and not (open_only and row.adjudicated)
        ]
        # The cached rows are newest first; the other orders are stable sorts of them.
        if sort == "oldest":
            out.sort(key=lambda r: r.last_judged)
        elif sort == "disagreement":
            out.sort(key=lambda r: -r.disagreement)
        elif sort == "judgments":
            out.sort(key=lambda r: -r.n_judgments)
        return out

    def _all_rows(self, campaign: str | None) -> list[ReviewRow]:
        """Every item needing a look (of one campaign, or all), newest first."""
        query = (
            select(
                judgments.c.item_id,
                judgments.c.ranking,
                judgments.c.tie,
                judgments.c.both_bad,
                judgments.c.flags,
                judgments.c.correction,
                judgments.c.created_at,
                users.c.name,
                items.c.response_ids,
                items.c.is_gold,
                items.c.gold_answer,
                campaigns.c.name.label("campaign"),
            )
            .join(users, users.c.id == judgments.c.user_id)
            .join(items, items.c.id == judgments.c.item_id)
            .join(campaigns, campaigns.c.id == items.c.campaign_id)
            .order_by(judgments.c.item_id.desc(), judgments.c.id)
        )
        if campaign:
            query = query.where(campaigns.c.name == campaign)
        with self.store.read() as conn:
            rows = conn.execute(query).all()
            done = set(conn.execute(select(adjudications.c.item_id).distinct()).scalars())
            waiting = {e.item_id: e for e in list_escalations(conn)}
        by_item: dict[int, list] = defaultdict(list)
        for r in rows:
            by_item[r.item_id].append(r)
        out = []
        for item_id, js in by_item.items():
            row = self._row(item_id, js, item_id in done)
            e = waiting.get(item_id)
            if e is not None:
                why = f"{e.reason.replace('_', ' ')}: {e.detail}" if e.detail else e.reason.replace("_", " ")
                row = replace(
                    row,
                    reasons=(*row.reasons, "escalated"),
                    escalation=why + (f" (needs {e.skill})" if e.skill else ""),
                    escalated_at=e.created_at,
                )
            if row.reasons:
                out.append(row)
        return out

    @staticmethod
    def _row(item_id: int, js: list, adjudicated: bool) -> ReviewRow:
        first = js[0]
        canonical = list(first.response_ids)
        reasons = []
        labels = Counter(_label(j, canonical) for j in js)
        if len(labels) > 1:
            reasons.append("disagreement")
        flags = sorted({f for j in js for f in (j.flags or [])})
        if flags:
            reasons.append("flags")
        missed: list[str] = []
        if first.is_gold and first.gold_answer is not None:
            expected = canonical[first.gold_answer]
            missed = [j.name for j in js if j.tie or j.ranking[0] != expected]
            if missed:
                reasons.append("failed_gold")
        if any(j.correction for j in js):
            reasons.append("correction")
        return ReviewRow(
            item_id,
            first.campaign,
            tuple(reasons),
            len(js),
            tuple(j.name for j in js),
            tuple(flags),
            adjudicated,
            disagreement=1 - max(labels.values()) / len(js),
            missed_gold=tuple(missed),
            last_judged=max(j.created_at for j in js),
        )

    def item(self, caller: User, item_id: int) -> ItemReview:
        """Everything about one item: prompt, responses, each judgment with its rater, earlier adjudications."""
        require(caller, "reviewer")
        return self.item_view(item_id)

    def item_view(self, item_id: int) -> ItemReview:
        """item() without the role check, for callers that checked access their own way (the expert queue)."""
        with self.store.read() as conn:
            it = conn.execute(
                select(
                    items,
                    prompts.c.text,
                    prompts.c.messages,
                    campaigns.c.name.label("campaign"),
                    campaigns.c.item_kind,
                )
                .join(prompts, prompts.c.id == items.c.prompt_id)
                .join(campaigns, campaigns.c.id == items.c.campaign_id)
                .where(items.c.id == int(item_id))
            ).first()
            if it is None:
                raise NotFound(f"no item {item_id}")
            canonical = list(it.response_ids)
            texts = dict(
                conn.execute(select(responses.c.id, responses.c.text).where(responses.c.id.in_(canonical))).all()
            )
            js = conn.execute(
                select(judgments, users.c.name)
                .join(users, users.c.id == judgments.c.user_id)
                .where(judgments.c.item_id == it.id)
                .order_by(judgments.c.id)
            ).all()
            adj = conn.execute(
                select(adjudications, users.c.name)
                .join(users, users.c.id == adjudications.c.reviewer_id)
                .where(adjudications.c.item_id == it.id)
                .order_by(adjudications.c.id)
            ).all()
        views = [
            JudgmentView(
                j.id,
                j.name,
                describe(list(j.ranking), j.strength, j.tie, j.both_bad, canonical),
                tuple(j.flags or ()),
                j.rationale or "",
                j.correction,
                j.seconds_on_item,
                canonical.index(j.display_order[0]) + 1 if j.display_order else 1,
                describe_aspects(j.aspects, canonical),
            )
            for j in js
        ]
        adjudicated = [
            f"{a.name}: {describe(list(a.ranking), a.strength, a.tie, a.both_bad, canonical)}"
            + (
                f" (accepted the correction of judgment {a.accepted_correction_judgment_id})"
                if a.accepted_correction_judgment_id
                else ""
            )
            + (f" — {a.note}" if a.note else "")
            for a in adj
        ]
        return ItemReview(
            it.id,
            it.campaign,
            it.item_kind,
            it.text,
            it.messages,
            [texts[r] for r in canonical],
            it.gold_answer + 1 if it.is_gold and it.gold_answer is not None else None,
            views,
            adjudicated,
        )

    def adjudicate(
        self,
        caller: User,
        item_id: int,
        *,
        ranking: list[int] | str | None = None,
        tie: bool = False,
        both_bad: bool = False,
        strength: int = 2,
        note: str = "",
        accept_correction: int | None = None,
    ) -> int:
        """Store the final label. `ranking` lists canonical response numbers (1-based) best first, as a list or
        as typed ('2 1', '2 > 1'); a tie needs none. `accept_correction` is the id of a judgment on this item
        whose correction becomes data. An item waiting in the expert queue needs an expert for its skill; the
        adjudication is its answer and closes the escalation."""
        require(caller, "reviewer")
        return self.adjudicate_as_expert(
            caller,
            item_id,
            ranking=ranking,
            tie=tie,
            both_bad=both_bad,
            strength=strength,
            note=note,
            accept_correction=accept_correction,
        )

    def adjudicate_as_expert(
        self,
        caller: User,
        item_id: int,
        *,
        ranking: list[int] | str | None = None,
        tie: bool = False,
        both_bad: bool = False,
        strength: int = 2,
        note: str = "",
        accept_correction: int | None = None,
    ) -> int:
        """adjudicate() for a caller who may answer the item's escalation (checked here), whatever their role."""
        require(caller, "rater")
        review = self.item_view(item_id)
        with self.store.read() as conn:
            canonical = list(conn.execute(select(items.c.response_ids).where(items.c.id == review.item_id)).scalar())
        n = len(canonical)
        if tie:
            if review.item_kind != "pairwise":
                raise InvalidInput("ties are only for pairwise items: rank every response")
            ids, strength = list(canonical), 0
        else:
            numbers = parse_ranking(ranking) if isinstance(ranking, str) else [int(x) for x in (ranking or [])]
            if n == 2 and len(numbers) == 1:
                numbers.append(3 - numbers[0])  # the winner alone names the pair's order
            if sorted(numbers) != list(range(1, n + 1)):
                raise InvalidInput(f"rank every response once, best first, with the numbers 1 to {n}")
            if not 1 <= int(strength) <= 3:
                raise InvalidInput("strength must be 1, 2 or 3 (much better)")
            ids = [canonical[k - 1] for k in numbers]
        if accept_correction is not None:
            own = {j.id: j for j in review.judgments}
            if int(accept_correction) not in own or not own[int(accept_correction)].correction:
                raise InvalidInput(f"judgment {accept_correction} is not a judgment of this item with a correction")
        if len(note or "") > 5000:
            raise InvalidInput("the note is longer than 5000 characters")
        check_storable(note or "", "note")
        self._rows.clear()  # this reviewer's next look at the queue shows the item as adjudicated
        with self.store.write() as conn:
            waiting = open_escalation(conn, review.item_id)
            if waiting is not None:
                check_may_answer(caller, skills_of(conn, caller.id), waiting.skill)
            elif not caller.has_role("reviewer"):
                raise Forbidden("only reviewers adjudicate items that do not wait in the expert queue")
            adjudication_id = conn.execute(
                insert(adjudications).values(
                    item_id=review.item_id,
                    reviewer_id=caller.id,
                    ranking=ids,
                    strength=int(strength),
                    tie=bool(tie),
                    both_bad=bool(both_bad),
                    note=(note or "").strip(),
                    accepted_correction_judgment_id=None if accept_correction is None else int(accept_correction),
                    created_at=time.time(),
                )
            ).inserted_primary_key[0]
            if waiting is not None:
                resolve(conn, review.item_id, caller.id, adjudication_id)
            return adjudication_id

    def adjudicate_choice(
        self,
        caller: User,
        item_id: int,
        *,
        winner: str | None = None,
        ranks: list[str | int | None] | tuple = (),
        all_bad: bool = False,
        strength: int = 2,
        note: str = "",
        accept_correction: int | None = None,
    ) -> int:
        """The review page's controls as an adjudication. Pairwise: `winner` is a key of VERDICTS (response 1 or
        2 better, tie, both bad) with `strength` 1-3. Ranking: `ranks[k]` is the rank (1 = best) of response k+1,
        and `all_bad` marks them all bad."""
        require(caller, "reviewer")
        return self.adjudicate_choice_as_expert(
            caller,
            item_id,
            winner=winner,
            ranks=ranks,
            all_bad=all_bad,
            strength=strength,
            note=note,
            accept_correction=accept_correction,
        )

    def adjudicate_choice_as_expert(
        self,
        caller: User,
        item_id: int,
        *,
        winner: str | None = None,
        ranks: list[str | int | None] | tuple = (),
        all_bad: bool = False,
        strength: int = 2,
        note: str = "",
        accept_correction: int | None = None,
    ) -> int:
        """adjudicate_choice() for an expert answering an escalation (access checked by adjudicate_as_expert)."""
        require(caller, "rater")
        kind = self.item_view(item_id).item_kind
        if kind == "ranking":
            picked = [r for r in ranks if r not in (None, "")]
            if not picked:
                raise InvalidInput("give every response a rank (1 = best)")
            if len(picked) < len(ranks) or not all(str(r).isdigit() for r in picked):
                raise InvalidInput("give every response a rank (1 = best): some have none")
            if sorted(int(r) for r in picked) != list(range(1, len(ranks) + 1)):
                raise InvalidInput(f"each rank from 1 to {len(ranks)} once: two responses share a rank")
            order = sorted(range(len(ranks)), key=lambda k: int(ranks[k]))
            return self.adjudicate_as_expert(
                caller,
                item_id,
                ranking=[k + 1 for k in order],
                both_bad=bool(all_bad),
                strength=strength,
                note=note,
                accept_correction=accept_correction,
            )
        if winner not in VERDICTS:
            raise InvalidInput("pick the verdict: response 1 better, response 2 better, tie or both bad")
        tie = winner in ("tie", "both_bad")
        return self.adjudicate_as_expert(
            caller,
            item_id,
            ranking=None if tie else [int(winner)],
            tie=tie,
            both_bad=winner == "both_bad",
            strength=strength,
            note=note,
            accept_correction=accept_correction,
        )
