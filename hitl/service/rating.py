"""Rating through the web app: lease the next item, turn a button choice into a judgment, progress and breaks.

    python -c "from hitl.service import Service; help(Service.rating)"

The page keeps only the lease token; everything else (the display order, when the lease started, which
campaign it is) is read back from the store, so a hidden value changed in the browser cannot steer a
judgment. The idempotency key of a page submit is derived from the lease, so a double click, a retry or
a second tab records one judgment.
"""

from __future__ import annotations

import string
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hitl.campaigns import Campaign, get_campaign, list_campaigns
from hitl.config import FLAGS
from hitl.errors import InvalidInput, LeaseError
from hitl.queue import Assignment, JudgmentInput, SubmitResult, next_item, release, skip, submit
from hitl.service.access import require
from hitl.service.outlook import Outlook, left_query, rater_outlook
from hitl.service.settings import WebSettings
from hitl.storable import check_storable
from hitl.store import Store
from hitl.store.schema import campaigns, item_prelabels, items, judgments, leases, responses
from hitl.users import User
from hitl.workforce.manage import training_feedback
from hitl.workforce.standing import latest_warning, qualification_of

LABELS = string.ascii_uppercase[:8]
CAMPAIGN_TTL_SECONDS = 5.0
NOTICE_HOURS = 8.0  # a workforce warning shows on the page this long

# The pairwise answers, in button order: (key, label, winner index in display order or None, strength, tie, both_bad).
CHOICES = (
    ("a_much", "A much better", 0, 3, False, False),
    ("a", "A better", 0, 2, False, False),
    ("tie", "Tie", None, 0, True, False),
    ("b", "B better", 1, 2, False, False),
    ("b_much", "B much better", 1, 3, False, False),
    ("both_bad", "Both bad", None, 0, True, True),
)
CHOICE_LABELS = {key: label for key, label, *_ in CHOICES}


@dataclass(frozen=True)
class CampaignView:
    name: str
    guidelines: str
    item_kind: str
    allow_tie: bool
    allow_both_bad: bool
    require_rationale: bool
    show_prelabel: bool
    aspects: tuple[str, ...] = ()  # scored 0-4 per response besides the preference (none: no aspect controls)

    def choices(self) -> list[tuple[str, str]]:
        """(label, key) of the answers this campaign allows, in button order."""
        return [
            (label, key)
            for key, label, _, _, tie, bad in CHOICES
            if (not tie or bad or self.allow_tie) and (not bad or self.allow_both_bad)
        ]


@dataclass(frozen=True)
class RateItem:
    """An item under lease, as the rate page shows it: responses in display order, labelled A, B, ..."""

    lease_token: str
    item_id: int
    campaign: CampaignView
    prompt_text: str | None
    prompt_messages: list[dict] | None
    responses: list[str]
    started_at: float
    expires_at: float
    resumed: bool
    prelabel: str | None
    # Per response in display order: the token limit it was cut off at (finish_reason "length"), else None.
    cut_off_at: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Progress:
    judged_today: int
    left: int
    stretch_minutes: float
    take_break: bool
    judged_here: int = 0  # the caller's judgments in this campaign
    notice: str = ""  # what the campaign's workforce rules tell the caller: a warning, training progress

    def position(self) -> str:
        """Where the item on screen sits in the caller's share of the campaign: 'item 5 of 24'."""
        return f"item {self.judged_here + 1} of {self.judged_here + max(self.left, 1)}"


def campaign_view(c: Campaign) -> CampaignView:
    s = c.settings
    return CampaignView(
        s.name,
        s.guidelines,
        s.item_kind,
        s.allow_tie,
        s.allow_both_bad,
        s.require_rationale,
        s.show_prelabel,
        tuple(s.aspect_names()),
    )


def cut_off_at(sampling: dict | None) -> int | None:
    """The token limit a generated response stopped at without finishing (its sampling record says
    finish_reason "length"), else None: such answers end mid-sentence and the page marks them."""
    if not sampling or sampling.get("finish_reason") != "length":
        return None
    return int(sampling.get("max_new_tokens") or sampling.get("n_tokens") or 0) or None


def _midnight(now: float) -> float:
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class RatingService:
    def __init__(self, store: Store, settings: WebSettings):
        self.store = store
        self.settings = settings
        self._campaigns: dict[str, tuple[Campaign, float]] = {}

    def forget_cached(self) -> None:
        self._campaigns = {}

    def _campaign(self, name: str) -> Campaign:
        """The campaign's settings, re-read at most every few seconds (they change rarely; leases are hot)."""
        now = time.monotonic()
        hit = self._campaigns.get(name)
        if hit is not None and hit[1] > now:
            return hit[0]
        campaign = get_campaign(self.store, name)
        if len(self._campaigns) > 1000:
            self._campaigns = {}
        self._campaigns[name] = (campaign, now + CAMPAIGN_TTL_SECONDS)
        return campaign

    def campaigns(self, caller: User) -> list[str]:
        require(caller, "rater")
        return [c.name for c in list_campaigns(self.store)]

    def campaign(self, caller: User, name: str) -> CampaignView:
        require(caller, "rater")
        return campaign_view(get_campaign(self.store, name))

    def next_item(self, caller: User, campaign: str) -> RateItem | None:
        """The caller's live lease in the campaign (a refresh resumes it), else a new one; None when done."""
        require(caller, "rater")
        c = get_campaign(self.store, campaign)
        a = next_item(self.store, caller, c)
        if a is None:
            return None
        shown = [r.response_id for r in a.responses]
        with self.store.read() as conn:
            started = conn.execute(select(leases.c.created_at).where(leases.c.token == a.lease_token)).scalar()
            found = conn.execute(select(responses.c.id, responses.c.sampling).where(responses.c.id.in_(shown)))
            sampling = dict(found.all())
        return RateItem(
            lease_token=a.lease_token,
            item_id=a.item_id,
            campaign=campaign_view(c),
            prompt_text=a.prompt_text,
            prompt_messages=a.prompt_messages,
            responses=[r.text for r in a.responses],
            started_at=started or time.time(),
            expires_at=a.expires_at,
            resumed=a.resumed,
            prelabel=self.prelabel(a.item_id, [r.response_id for r in a.responses])
            if c.settings.show_prelabel
            else None,
            cut_off_at=tuple(cut_off_at(sampling.get(rid)) for rid in shown),
        )

    def lease(self, caller: User, campaign: str) -> Assignment | None:
        """The bare queue assignment, for programs (the REST API's hot path: no page extras)."""
        require(caller, "rater")
        return next_item(self.store, caller, self._campaign(str(campaign)))

    def submit(self, caller: User, lease_token: str, idempotency_key: str, judgment: JudgmentInput) -> SubmitResult:
        """Record a program's judgment exactly once per idempotency key."""
        require(caller, "rater")
        return submit(self.store, lease_token, idempotency_key, judgment, user=caller)

    def prelabel(self, item_id: int, shown_ids: list[int]) -> str | None:
        """The reward model's pre-label of an item as a hint in the caller's display order ("A", "B", ...),
        from the latest `hitl score`; None when the item has not been scored."""
        with self.store.read() as conn:
            row = conn.execute(
                select(item_prelabels.c.preferred_response_id, item_prelabels.c.confidence).where(
                    item_prelabels.c.item_id == item_id
                )
            ).first()
        if row is None or row.preferred_response_id not in shown_ids:
            return None
        letter = chr(ord("A") + shown_ids.index(row.preferred_response_id))
        return f"the reward model prefers **{letter}** ({row.confidence:.0%} sure). Judge for yourself."

    def lease_age(self, caller: User, lease_token: str) -> float:
        """Seconds since the caller's lease started (the page tells a double press from a forgotten answer)."""
        require(caller, "rater")
        return max(0.0, time.time() - self._own_lease(caller, lease_token).created_at)

    def _own_lease(self, caller: User, token: str):
        with self.store.read() as conn:
            row = conn.execute(
                select(leases.c.user_id, leases.c.display_order, leases.c.created_at, campaigns.c.item_kind)
                .join(items, items.c.id == leases.c.item_id)
                .join(campaigns, campaigns.c.id == items.c.campaign_id)
                .where(leases.c.token == str(token or ""))
            ).first()
        if row is None:
            raise LeaseError("unknown lease: fetch a new item")
        if row.user_id != caller.id:
            raise LeaseError("this lease belongs to another user")
        return row

    def submit_choice(
        self,
        caller: User,
        lease_token: str,
        choice: str | None,
        *,
        ranking: str = "",
        ranks: list[str | int | None] | tuple = (),
        flags: list[str] | tuple[str, ...] = (),
        rationale: str = "",
        correction: str = "",
        aspects: list[dict] | tuple = (),
    ) -> SubmitResult:
        """Record the page's answer. Pairwise: `choice` is a CHOICES key. Ranking: `ranks` gives each shown
        response (A, B, ... in display order) its rank, or `ranking` lists the letters best first (e.g. "CAB",
        used when no rank is picked); `choice` may be "both_bad" to mark them all bad. `aspects[i]`: the shown
        response i's scores on the campaign's aspects ({aspect: 0-4}; None or missing: not scored)."""
        require(caller, "rater")
        # The page's text as the REST API checks it: the same refusal, naming the field, on both stores.
        check_storable(rationale or "", "rationale")
        check_storable(correction or "", "correction")
        lease = self._own_lease(caller, lease_token)
        order = list(lease.display_order)
        bad_flags = set(flags or ()) - set(FLAGS)
        if bad_flags:
            raise InvalidInput(f"unknown flag(s) {', '.join(sorted(bad_flags))}: use {', '.join(FLAGS)}")
        common = {
            "flags": list(flags or ()),
            "rationale": rationale or "",
            "correction": correction or None,
            "seconds_on_item": max(0.0, time.time() - lease.created_at),
            "aspects": self._aspects(aspects, order),
        }
        if lease.item_kind == "ranking":
            typed = self.ranking_from_ranks(list(ranks)[: len(order)]) or ranking
            judgment = JudgmentInput(ranking=self._ranking(typed, order), both_bad=choice == "both_bad", **common)
        else:
            judgment = self._pairwise(choice, order, common)
        return submit(self.store, lease_token, f"ui:{lease_token}", judgment, user=caller)

    @staticmethod
    def _aspects(given: list[dict] | tuple, order: list[int]) -> dict[int, dict[str, int]]:
        """The page's per-shown-response scores by response id, unscored ones left out (checked by the queue)."""
        out = {}
        for rid, scores in zip(order, list(given or ())[: len(order)], strict=False):
            picked = {}
            for name, value in (scores or {}).items():
                if value in (None, ""):
                    continue
                if not str(value).isdigit():
                    raise InvalidInput(f"aspect {name}: pick a score from 0 to 4, not {value!r}")
                picked[name] = int(value)
            if picked:
                out[rid] = picked
        return out

    @staticmethod
    def ranking_from_ranks(ranks: list[str | int | None]) -> str:
        """The typed form ("CAB") of per-response rank picks (ranks[i] is the rank of response A, B, ...; 1 is
        best); "" when none is picked. Refuses a rank given twice or a response left without one."""
        picked = [str(r) for r in ranks if r not in (None, "")]
        if not picked:
            return ""
        if len(picked) < len(ranks):
            missing = ", ".join(LABELS[i] for i, r in enumerate(ranks) if r in (None, ""))
            raise InvalidInput(f"give every response a rank: {missing} has none")
        if not all(p.isdigit() for p in picked) or sorted(int(p) for p in picked) != list(range(1, len(ranks) + 1)):
            raise InvalidInput(f"each rank from 1 to {len(ranks)} once: two responses share a rank")
        return "".join(LABELS[i] for i in sorted(range(len(ranks)), key=lambda i: int(picked[i])))

    @staticmethod
    def _ranking(letters: str, order: list[int]) -> list[int]:
        picked = [ch for ch in (letters or "").upper() if not ch.isspace() and ch not in ",>"]
        labels = LABELS[: len(order)]
        if sorted(picked) != sorted(labels):
            raise InvalidInput(f"rank every response once, best first, using the letters {', '.join(labels)}")
        return [order[labels.index(ch)] for ch in picked]

    @staticmethod
    def _pairwise(choice: str | None, order: list[int], common: dict) -> JudgmentInput:
        spec = next((c for c in CHOICES if c[0] == choice), None)
        if spec is None:
            raise InvalidInput(
                "pick an answer first: A much better, A better, tie, B better, B much better or both bad"
            )
        _, _, winner, strength, tie, both_bad = spec
        ranking = list(order) if winner in (None, 0) else [order[1], order[0]]
        return JudgmentInput(ranking=ranking, strength=strength, tie=tie, both_bad=both_bad, **common)

    def skip(self, caller: User, lease_token: str) -> None:
        require(caller, "rater")
        skip(self.store, str(lease_token or ""), caller)

    def release(self, caller: User, lease_token: str) -> None:
        require(caller, "rater")
        release(self.store, str(lease_token or ""), caller)

    def outlook(self, caller: User, campaign: str) -> Outlook:
        """For a rater with nothing left here: when the loop queues more, and other campaigns with work."""
        require(caller, "rater")
        return rater_outlook(self.store, caller, campaign)

    def training_feedback(self, caller: User, item_id: int, campaign: str) -> str | None:
        """After a training answer: the reference answer (in the caller's display order) and its rationale."""
        require(caller, "rater")
        return training_feedback(self.store, caller.id, self._campaign(str(campaign)), int(item_id))

    def notice(self, caller: User, c: Campaign, now: float) -> str:
        """A warning the caller got here in the last hours, or where their qualification stands."""
        if not c.rules.watches:
            return ""
        with self.store.read() as conn:
            warning = latest_warning(conn, caller.id, c.id, now - NOTICE_HOURS * 3600)
            q = qualification_of(conn, caller.id, c.id, c.rules)
        if warning:
            return (
                f"Warning: {warning}. Take your time: a reviewer looks at raters who keep this up, and may pause them."
            )
        if q.status == "training":
            return (
                f"Qualification: training item {q.total + 1} of {c.rules.qualification_items} (attempt {q.attempt})."
            )
        return ""

    def progress(self, caller: User, campaign: str, now: float | None = None) -> Progress:
        """Judged today (all campaigns), items still open to the caller here, and whether a break is due."""
        require(caller, "rater")
        now = time.time() if now is None else now
        c = get_campaign(self.store, campaign)
        with self.store.read() as conn:
            times = (
                conn.execute(
                    select(judgments.c.created_at)
                    .where(judgments.c.user_id == caller.id, judgments.c.created_at >= _midnight(now))
                    .order_by(judgments.c.created_at.desc())
                )
                .scalars()
                .all()
            )
            judged_here = conn.execute(
                select(func.count())
                .select_from(judgments)
                .join(items, items.c.id == judgments.c.item_id)
                .where(items.c.campaign_id == c.id, judgments.c.user_id == caller.id)
            ).scalar()
            left = conn.execute(left_query(caller).where(items.c.campaign_id == c.id)).scalar()
        stretch = self._stretch_seconds(times, now)
        return Progress(
            len(times),
            int(left or 0),
            stretch / 60,
            stretch >= self.settings.break_after_minutes * 60,
            judged_here=int(judged_here or 0),
            notice=self.notice(caller, c, now),
        )

    def _stretch_seconds(self, newest_first: list[float], now: float) -> float:
        """How long the caller has worked without a pause of break_gap_minutes (0 when they just had one)."""
        gap = self.settings.break_gap_minutes * 60
        if not newest_first or now - newest_first[0] >= gap:
            return 0.0
        start = newest_first[0]
        for t in newest_first[1:]:
            if start - t >= gap:
                break
            start = t
        return now - start
