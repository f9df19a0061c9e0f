"""Running simulated raters through the queue, the same service the web app uses, or over HTTP.

    hitl simulate --campaign demo --oracle rule:concise --raters 8 --judgments 500
    hitl simulate --campaign demo --url http://127.0.0.1:7860      # against a running `hitl serve`

A campaign's workforce rules apply to simulated raters as to people: a rater the queue refuses (paused, not
qualified, on a break) stops, and the report says why (SimulationReport.stopped).

Each simulated rater is a real user (with a random password nobody knows) who leases items and answers
them (hitl.simulate.clients), so everything downstream (overlap, gold, quality control, exports) sees
ordinary judgments.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass, field

from hitl import users
from hitl.campaigns import Campaign
from hitl.errors import Conflict
from hitl.queue import JudgmentInput
from hitl.simulate.clients import HttpClient, RaterClient, StoreClient
from hitl.simulate.oracles import Oracle
from hitl.simulate.raters import RaterBehaviour
from hitl.store import Store
from hitl.workforce.errors import BreakDue, NotQualified, Paused


@dataclass
class SimulationReport:
    judgments: Counter = field(default_factory=Counter)  # per rater
    exhausted: list[str] = field(default_factory=list)  # raters who ran out of items
    # Raters the campaign's workforce rules stopped (paused, not qualified, on a break), with the message.
    stopped: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.judgments.values())


def _user_for(store: Store, name: str) -> users.User:
    try:
        return users.create_user(store, name, "rater", secrets.token_urlsafe(16))
    except Conflict:
        return users.get_user(store, name)


def simulate(
    store: Store,
    campaign: Campaign,
    crowd: list[RaterBehaviour],
    oracle: Oracle,
    max_judgments: int,
    seed: int = 0,
    stretch: int = 50,
    url: str | None = None,
) -> SimulationReport:
    """Raters take turns (round robin) until `max_judgments` are recorded or every rater runs dry.

    `stretch` judgments make one work stretch (fatigue resets after it, as after a break). With `url`, each
    rater gets a fresh API token and judges over HTTP against the `hitl serve` there (on the same store).
    """
    raters: list[tuple[RaterBehaviour, RaterClient, random.Random]] = []
    for b in crowd:
        user, rng = _user_for(store, b.name), random.Random(f"{seed}:{b.name}")
        if url:
            client: RaterClient = HttpClient(
                url, users.create_api_token(store, b.name, "hitl simulate"), campaign.name
            )
        else:
            client = StoreClient(store, user, campaign, rng)
        raters.append((b, client, rng))
    return run_raters(raters, campaign, oracle, max_judgments, stretch)


def run_raters(
    raters: list[tuple[RaterBehaviour, RaterClient, random.Random]],
    campaign: Campaign,
    oracle: Oracle,
    max_judgments: int,
    stretch: int = 50,
) -> SimulationReport:
    """The round robin itself, over any clients."""
    report = SimulationReport()
    done_by: Counter = Counter()
    active = list(raters)
    while active and report.total < max_judgments:
        for entry in list(active):
            if report.total >= max_judgments:
                break
            behaviour, client, rng = entry
            try:
                item = client.next()
            except (Paused, NotQualified, BreakDue) as exc:
                active.remove(entry)
                report.stopped[behaviour.name] = str(exc)
                continue
            if item is None:
                active.remove(entry)
                report.exhausted.append(behaviour.name)
                continue
            scores = [float(s) for s in oracle(item.prompt, item.texts)]
            order, strength, tie, seconds = behaviour.decide(
                scores, [len(t) for t in item.texts], done_by[behaviour.name] % stretch, rng
            )
            tie = tie and campaign.settings.allow_tie
            judgment = JudgmentInput(
                ranking=[item.response_ids[i] for i in order],
                strength=0 if tie else max(1, strength),
                tie=tie,
                seconds_on_item=seconds,
                flags=["unsure"] if behaviour.unsure and rng.random() < behaviour.unsure else [],
            )
            try:
                client.submit(item, uuid.uuid4().hex, judgment)
            except Paused as exc:  # paused by a reviewer while holding the item: nothing was recorded
                active.remove(entry)
                report.stopped[behaviour.name] = str(exc)
                continue
            done_by[behaviour.name] += 1
            report.judgments[behaviour.name] += 1
    return report
