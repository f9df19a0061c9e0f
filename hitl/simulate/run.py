"""Running simulated raters through the queue, the same service the web app uses.

    hitl simulate --campaign demo --oracle rule:concise --raters 8 --judgments 500

Each simulated rater is a real (inactive-for-login) user who leases items with `next_item` and
answers with `submit`, so everything downstream (overlap, gold, quality control, exports) sees
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
from hitl.catalog import prompt_display_text
from hitl.errors import Conflict
from hitl.queue import JudgmentInput, next_item, submit
from hitl.simulate.oracles import Oracle
from hitl.simulate.raters import RaterBehaviour
from hitl.store import Store


@dataclass
class SimulationReport:
    judgments: Counter = field(default_factory=Counter)  # per rater
    exhausted: list[str] = field(default_factory=list)  # raters who ran out of items

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
) -> SimulationReport:
    """Raters take turns (round robin) until `max_judgments` are recorded or every rater runs dry.

    `stretch` judgments make one work stretch (fatigue resets after it, as after a break).
    """
    report = SimulationReport()
    raters = [(b, _user_for(store, b.name), random.Random(f"{seed}:{b.name}")) for b in crowd]
    done_by: Counter = Counter()
    active = list(raters)
    while active and report.total < max_judgments:
        for entry in list(active):
            if report.total >= max_judgments:
                break
            behaviour, user, rng = entry
            a = next_item(store, user, campaign, rng=rng)
            if a is None:
                active.remove(entry)
                report.exhausted.append(behaviour.name)
                continue
            texts = [r.text for r in a.responses]
            prompt = prompt_display_text(a.prompt_text, a.prompt_messages)
            scores = [float(s) for s in oracle(prompt, texts)]
            order, strength, tie, seconds = behaviour.decide(
                scores, [len(t) for t in texts], done_by[behaviour.name] % stretch, rng
            )
            tie = tie and campaign.settings.allow_tie
            judgment = JudgmentInput(
                ranking=[a.responses[i].response_id for i in order],
                strength=0 if tie else max(1, strength),
                tie=tie,
                seconds_on_item=seconds,
            )
            submit(store, a.lease_token, uuid.uuid4().hex, judgment, user=user)
            done_by[behaviour.name] += 1
            report.judgments[behaviour.name] += 1
    return report
