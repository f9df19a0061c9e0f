"""The workforce rules through the web app and the REST API: campaign rules, the roster, reinstatement, skills,
gold rationales, the expert queue (escalations and their answers), and gold that grows (proposals a reviewer
confirms or declines).

    python -c "from hitl.service import Service; help(Service.workforce)"

Roles: admins set rules and skills; reviewers see the roster, reinstate raters, write rationales and send items
to the expert queue; an expert is whoever holds an escalation's skill (any role), or any reviewer for an
escalation without one, and answers it here or on the review page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hitl.campaigns import campaign_names, get_campaign
from hitl.errors import Conflict, NotFound
from hitl.service.access import require
from hitl.service.heavy import HeavyGate, ResultCache
from hitl.service.review import ItemReview, ReviewService, review_version
from hitl.storable import check_storable
from hitl.store import Store
from hitl.users import User
from hitl.workforce import escalation, gold, manage, skills
from hitl.workforce.escalation import Escalation
from hitl.workforce.gold import GoldParams, GoldProposal
from hitl.workforce.manage import RosterRow
from hitl.workforce.rules import WorkforceRules


class WorkforceService:
    def __init__(
        self,
        store: Store,
        review: ReviewService,
        on_change: Callable[[], None] = lambda: None,
        gate: HeavyGate | None = None,
    ):
        self.store = store
        self.review = review
        self.changed = on_change  # clears the service's cached campaign settings
        # Proposals fit Dawid-Skene over the campaign's judgments: once per change of them, not per request.
        self._gold = ResultCache(gate or HeavyGate(), size=32, max_age=600.0)

    def rules(self, caller: User, campaign: str) -> WorkforceRules:
        require(caller, "reviewer")
        return get_campaign(self.store, campaign).rules

    def set_rules(self, caller: User, campaign: str, changes: dict) -> WorkforceRules:
        """Change some rules (None values are left alone); refused whole when any is invalid (InvalidInput)."""
        require(caller, "admin")
        check_storable(changes, "rules")
        saved = manage.set_rules(self.store, campaign, **{k: v for k, v in changes.items() if v is not None}).rules
        self.changed()
        return saved

    def roster(self, caller: User, campaign: str) -> list[RosterRow]:
        """Who is in training, passed, failed, paused or warned in the campaign."""
        require(caller, "reviewer")
        return manage.roster(self.store, get_campaign(self.store, campaign))

    def reinstate(self, caller: User, campaign: str, rater: str, note: str = "") -> str:
        require(caller, "reviewer")
        check_storable(note or "", "note")
        return manage.reinstate(self.store, get_campaign(self.store, campaign), rater, caller.id, note)

    def skills(self, caller: User, name: str) -> list[str]:
        """A user's skills (admins: anyone's; others: their own)."""
        if name != getattr(caller, "name", None):
            require(caller, "admin")
        require(caller, "rater")
        return skills.user_skill_names(self.store, name)

    def set_skills(self, caller: User, name: str, add: list[str] = (), remove: list[str] = ()) -> list[str]:
        require(caller, "admin")
        result = skills.set_skills(self.store, name, add, remove)
        self.store.route_cache.clear()  # the user's routes follow the new skills at once
        return result

    def set_rationale(self, caller: User, item_id: int, rationale: str) -> None:
        require(caller, "reviewer")
        check_storable(rationale or "", "rationale")
        manage.set_rationale(self.store, item_id, rationale)

    # --- gold grows ---

    def gold_proposals(
        self, caller: User, campaign: str | None, params: GoldParams = GoldParams()
    ) -> list[GoldProposal]:
        """Items of the campaign (None: of every campaign, one after the other) judged unanimously by competent
        raters, surest first, for a reviewer to confirm."""
        require(caller, "reviewer")
        params.validate()
        if not campaign:
            return [p for name in campaign_names(self.store) for p in self.gold_proposals(caller, name, params)]
        c = get_campaign(self.store, campaign)
        version = (review_version(self.store), gold.decisions_version(self.store))
        return self._gold.get((c.id, params), version, lambda: gold.proposals(self.store, c, params), "gold proposals")

    def decide_gold(
        self, caller: User, item_id: int, accept: bool, note: str = "", params: GoldParams = GoldParams()
    ) -> str:
        """Confirm (the item becomes gold with its raters' answer) or decline a proposal; refused whole, saying why,
        when the item is not proposed (any more)."""
        require(caller, "reviewer")
        check_storable(note or "", "note")
        campaign = self.review.item_view(item_id).campaign
        found = {p.item_id: p for p in self.gold_proposals(caller, campaign, params)}
        done = gold.decide(self.store, found.get(int(item_id)), item_id, accept, caller.id, note)
        self._gold.clear()
        self.review.clear_cache()  # the queue's rows know which items are gold
        return done

    # --- the expert queue ---

    def escalations(self, caller: User, campaign: str | None = None, every: bool = False) -> list[Escalation]:
        """Open escalations the caller may answer, the longest waiting first; `every` (reviewers): all of them."""
        require(caller, "rater")
        if every:
            require(caller, "reviewer")
        campaign_id = get_campaign(self.store, campaign).id if campaign else None
        with self.store.read() as conn:
            waiting = escalation.list_escalations(conn, campaign_id)
            own = skills.skills_of(conn, caller.id)
        return [e for e in waiting if every or escalation.may_answer(caller, own, e.skill)]

    def escalate(self, caller: User, item_id: int, note: str = "") -> int:
        """A reviewer sends an item to the expert queue (Conflict if it waits there already)."""
        require(caller, "reviewer")
        check_storable(note or "", "note")
        review = self.review.item_view(item_id)
        rules = get_campaign(self.store, review.campaign).rules
        with self.store.write() as conn:
            made = escalation.escalate(conn, review.item_id, rules, "requested", (note or "").strip(), caller.id)
        if made is None:
            raise Conflict(f"item {item_id} already waits in the expert queue")
        self.review.clear_cache()
        return made

    def escalated_item(self, caller: User, item_id: int) -> ItemReview:
        """An item waiting in the expert queue, for an expert who may answer it."""
        require(caller, "rater")
        self._check_expert(caller, item_id)
        return self.review.item_view(item_id)

    def answer(self, caller: User, item_id: int, **verdict) -> int:
        """The expert's answer to an escalated item (the review page's verdict controls); it becomes the label.

        `verdict`: winner (VERDICTS key) and strength for pairwise items, ranks for rankings, note."""
        require(caller, "rater")
        self._check_expert(caller, item_id)
        return self.review.adjudicate_choice_as_expert(caller, item_id, **verdict)

    def _check_expert(self, caller: User, item_id: int) -> None:
        with self.store.read() as conn:
            waiting = escalation.open_escalation(conn, int(item_id))
            own = skills.skills_of(conn, caller.id)
        if waiting is None:
            raise NotFound(f"item {item_id} does not wait in the expert queue")
        escalation.check_may_answer(caller, own, waiting.skill)


def rules_dict(rules: WorkforceRules) -> dict:
    """The rules as plain values (what the API and `hitl workforce rules --json` show)."""
    return dataclasses.asdict(rules)
