"""The demo on embedded data: a store under HITL_HOME, logins (admin, reviewer, rater), campaigns, the demo prompts
and gold pairs (gold in both campaigns), and a calibration round judged by scripted raters so the quality numbers
have something to find.

    make demo        # or: hitl demo

Re-running is safe: what exists is reused, and scripted raters only judge what they have not judged.
`hitl demo` then fills the `demo` campaign's queue from the default policy (hitl/cli/demo_cmd.py), once.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select

from hitl import io, users
from hitl.campaigns import Campaign, create_campaign, get_campaign
from hitl.catalog import gold_response_id
from hitl.config import CampaignSettings
from hitl.errors import Conflict, NotFound
from hitl.queue import Assignment, JudgmentInput, next_item, submit
from hitl.store import Store
from hitl.store.schema import items

GUIDELINES = """\
**Which response is better for the user?** Judge helpfulness first, then honesty and harmlessness.

- Prefer the response that answers the question correctly and completely; length is not merit.
- A polite refusal is better than harmful help; an unnecessary refusal of a harmless request is worse.
- Use *tie* only when neither is better, *both bad* when neither is acceptable, and write a better
  response when you can.
"""


# Demo prompts the default policy answers, two samples each: 48 items x overlap 3 = 144 judgments to collect, more
# than the 100 a loop round needs, so the README tour reaches the first round. About 2-3 minutes on 2 CPU cores.
QUEUE_PROMPTS = 48
# Longest demo answer in tokens: SmolLM2's median answer to the demo prompts is ~120 tokens; at 256 about three in
# four answers end on their own (the rate page marks the others as cut off), at 64 almost none did.
QUEUE_MAX_NEW_TOKENS = 256


def data_file(name: str) -> Path:
    return Path(str(resources.files("hitl") / "data" / name))


@dataclass(frozen=True)
class ScriptedRater:
    """A stand-in rater with a known habit, so the demo shows what quality control catches."""

    name: str
    pick: Callable[[Assignment, random.Random], int]  # index into the responses as shown
    seconds: tuple[float, float]


def _careful(gold_index: Callable[[Assignment], int]) -> Callable[[Assignment, random.Random], int]:
    return lambda a, rng: gold_index(a) if rng.random() < 0.9 else 1 - gold_index(a)


def _ensure_user(store: Store, name: str, role: str, password: str) -> None:
    with contextlib.suppress(Conflict):
        users.create_user(store, name, role, password)


def _ensure_campaign(store: Store, settings: CampaignSettings) -> tuple[Campaign, bool]:
    try:
        return get_campaign(store, settings.name), False
    except NotFound:
        return create_campaign(store, settings), True


# The logins the README's tour uses, one per role; each name is also the role.
DEMO_LOGINS = ("admin", "reviewer", "rater")


def credentials(home: Path) -> dict[str, str]:
    """Demo passwords, made once and kept in HITL_HOME so re-runs print the same logins (a home from an older demo
    keeps its passwords and gains the logins it lacks)."""
    path = home / "demo-credentials.txt"
    creds = dict(line.split(":", 1) for line in path.read_text().split()) if path.exists() else {}
    missing = [name for name in DEMO_LOGINS if name not in creds]
    if missing:
        creds.update({name: secrets.token_urlsafe(9) for name in missing})
        path.write_text("".join(f"{k}:{v}\n" for k, v in creds.items()))
        path.chmod(0o600)
    return creds


def set_up(store: Store, home: Path) -> dict[str, str]:
    """Users, the `demo` campaign with the demo prompts, and the `calibration` campaign of gold pairs."""
    creds = credentials(home)
    for name in DEMO_LOGINS:
        _ensure_user(store, name, name, creds[name])
    demo, new = _ensure_campaign(store, CampaignSettings(name="demo", guidelines=GUIDELINES, overlap=3, gold_rate=0.1))
    if new:
        print(io.import_prompts(store, data_file("demo_prompts.jsonl"), source="hitl demo").summary())
    if not gold_items(store, demo):
        # The campaign's gold rate needs gold items to serve, or every rater's gold accuracy stays blank.
        print(io.import_preferences(store, data_file("demo_gold.jsonl"), campaign=demo, as_="gold").summary())
    calibration, new = _ensure_campaign(
        store, CampaignSettings(name="calibration", guidelines=GUIDELINES, overlap=1, gold_rate=1.0)
    )
    if new:
        print(io.import_preferences(store, data_file("demo_gold.jsonl"), campaign=calibration, as_="gold").summary())
    return creds


def scripted_raters(store: Store, calibration: Campaign) -> list[ScriptedRater]:
    def gold_index(a: Assignment) -> int:
        correct = gold_response_id(store, a.item_id)
        return [r.response_id for r in a.responses].index(correct)

    def longer(a: Assignment, rng: random.Random) -> int:
        return max(range(len(a.responses)), key=lambda i: len(a.responses[i].text))

    return [
        ScriptedRater("sim-careful-1", _careful(gold_index), (20, 60)),
        ScriptedRater("sim-careful-2", _careful(gold_index), (15, 45)),
        ScriptedRater("sim-left-clicker", lambda a, rng: 0, (8, 20)),
        ScriptedRater("sim-length-lover", longer, (10, 30)),
        ScriptedRater("sim-spammer", lambda a, rng: rng.randrange(2), (0.5, 2)),
    ]


def run_calibration(store: Store, calibration: Campaign, seed: int = 0) -> int:
    """Each scripted rater judges every gold pair it has not judged yet; returns judgments recorded."""
    recorded = 0
    for rater in scripted_raters(store, calibration):
        _ensure_user(store, rater.name, "rater", secrets.token_urlsafe(12))
        user = users.get_user(store, rater.name)
        rng = random.Random(f"{seed}-{rater.name}")
        while (a := next_item(store, user, calibration, rng=rng)) is not None:
            first = rater.pick(a, rng)
            ranking = [a.responses[first].response_id, a.responses[1 - first].response_id]
            judgment = JudgmentInput(
                ranking=ranking, strength=rng.choice([1, 2, 3]), seconds_on_item=rng.uniform(*rater.seconds)
            )
            recorded += not submit(store, a.lease_token, uuid.uuid4().hex, judgment, user=user).duplicate
    return recorded


def gold_items(store: Store, campaign: Campaign) -> int:
    with store.read() as conn:
        return conn.execute(
            select(func.count()).where(items.c.campaign_id == campaign.id, items.c.is_gold.is_(True))
        ).scalar_one()


def queued_items(store: Store, campaign: str = "demo") -> int:
    """Regular (not gold) items of a demo campaign: more than 0 means its queue was filled already."""
    demo_campaign = get_campaign(store, campaign)
    with store.read() as conn:
        return conn.execute(
            select(func.count()).where(items.c.campaign_id == demo_campaign.id, items.c.is_gold.is_(False))
        ).scalar_one()
