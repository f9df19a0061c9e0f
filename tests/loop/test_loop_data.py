"""Across rounds, the reward model's data and the policy step's pairs hold every earlier round's judgments and
corrections (nothing is limited to the newest round)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))

from io_helpers import make_item, rate  # noqa: E402

from hitl.loop.steps.policy_step import bounded_pairs  # noqa: E402
from policy.train import records_from_store  # noqa: E402
from reward.data import build_preference_data  # noqa: E402


def _round(store, campaign, raters, number: int, items: int = 4, correction: bool = False):
    """`items` new items, each judged by every rater (the first judgment of the round writes a correction)."""
    made = []
    for i in range(items):
        item, (good, bad) = make_item(
            store, campaign, [f"round {number} good answer {i}", f"round {number} poor reply {i}"], f"r{number} q{i}"
        )
        for k, rater in enumerate(raters):
            fields = {"correction": f"round {number} corrected answer {i}"} if correction and i == 0 and k == 0 else {}
            rate(store, campaign, rater, item, [good, bad], strength=2, **fields)
        made.append(item)
    return made


def test_both_steps_see_every_earlier_rounds_judgments_and_corrections(store, make_user, make_campaign, tmp_path):
    campaign = make_campaign(gold_rate=0, overlap=3)
    raters = [make_user() for _ in range(3)]
    rounds = [_round(store, campaign, raters, n, correction=(n == 1)) for n in (1, 2, 3)]
    data = build_preference_data(
        store, campaign=campaign.name, aggregate="dawid_skene", eval_fraction=0.25, out_dir=tmp_path
    )
    rows = data.train + data.eval
    seen = {r["item_id"] for r in rows}
    assert all(item in seen for made in rounds for item in made)  # every round's items, round 1 included
    assert any(r["source"] == "correction" and r["chosen"] == "round 1 corrected answer 0" for r in rows)

    pairs = records_from_store(store, campaign, "dpo")["pairs"]
    prompts = {p["prompt"] for p in pairs}
    assert {f"r{n} q{i}" for n in (1, 2, 3) for i in range(4)} <= prompts
    assert any(p["chosen"] == "round 1 corrected answer 0" for p in pairs)
    # Under the loop's bound every pair stays while they fit; above it the oldest are drawn, never all dropped.
    assert bounded_pairs(pairs, [], 160) == (pairs, [])
    assert len(pairs) > 8
    draws = [bounded_pairs(pairs, [], 8, seed=s)[0] for s in range(5)]
    assert all(len(kept) == 8 for kept in draws)
    assert any(p["prompt"].startswith("r1") for kept in draws for p in kept)
