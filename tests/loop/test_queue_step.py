"""The queue step: its parts are stored together or not at all (a kill between them queues nothing, a restart
queues everything once), and with selection it stores every candidate and queues the informative pairs."""

import numpy as np
import pytest
from sqlalchemy import func, select
from tiny import save_tiny_policy

from hitl.loop.steps import QueuePart, QueueStep, queue_step
from hitl.pair_selection import SelectionSettings
from hitl.store.schema import items, responses
from policy.config import GenerationSettings
from policy.generate import Sample

PROMPTS = ["how is the sky", "why is the sea blue", "what is a dog"]


@pytest.fixture
def policy_dir(tmp_path):
    return save_tiny_policy(tmp_path / "tiny")


@pytest.fixture
def prompt_file(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(f'{{"prompt": "{p}"}}\n' for p in PROMPTS))
    return str(path)


class FakeSampler:
    """Distinct answers per (call, prompt, sample); `die_on` makes that call fail like a killed process."""

    def __init__(self, die_on: int | None = None):
        self.calls, self.die_on = 0, die_on

    def __call__(self, resolved, prompts, settings, progress=False):
        self.calls += 1
        if self.calls == self.die_on:
            raise KeyboardInterrupt
        record = settings.sampling_record()
        words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
        return [
            Sample(i, j, f"{words[(self.calls * 3 + j) % 9]} answer {i} {j} {self.calls}", 3, "eos", 4, False, record)
            for i in range(len(prompts))
            for j in range(settings.n)
        ]


def _counts(store):
    with store.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(responses)).scalar(),
            conn.execute(select(func.count()).select_from(items)).scalar(),
        )


def test_a_kill_between_the_parts_queues_nothing_and_a_restart_queues_everything_once(
    store, make_campaign, policy_dir, prompt_file
):
    campaign = make_campaign(gold_rate=0)
    parts = [QueuePart(policy_dir, n=2), QueuePart(policy_dir, n=2, seed_offset=1)]
    step = QueueStep(parts, prompts=prompt_file, settings=GenerationSettings(n=2), source="r1", once=True)
    with pytest.raises(KeyboardInterrupt):
        queue_step(store, campaign, step, sampler=FakeSampler(die_on=2))  # dies generating the second part
    assert _counts(store) == (0, 0)
    done = queue_step(store, campaign, step, sampler=FakeSampler())
    assert done.items == 6 and not done.skipped and _counts(store) == (12, 6)
    again = queue_step(store, campaign, step, sampler=FakeSampler())
    assert again.skipped and again.items == 6 and _counts(store) == (12, 6)  # nothing twice


def test_selection_stores_every_candidate_and_queues_the_pairs_the_samples_disagree_on(
    store, make_campaign, policy_dir, prompt_file
):
    campaign = make_campaign(gold_rate=0)

    def rewards(prompts, texts):
        # Five MC samples; they agree on every answer but the first of each prompt's first part.
        out = np.zeros((5, len(texts)))
        for j, text in enumerate(texts):
            if text.endswith(" 0 1"):
                out[:, j] = [4, -4, 4, -4, 4]
        return out

    step = QueueStep(
        [QueuePart(policy_dir, n=2, temperature=0.7), QueuePart(policy_dir, n=2, temperature=1.2)],
        prompts=prompt_file,
        settings=GenerationSettings(n=2),
        source="sel",
        selection=SelectionSettings(method="informative", per_prompt=1),
        budget=2,
    )
    result = queue_step(store, campaign, step, sampler=FakeSampler(), rewards=rewards)
    assert result.candidates == 12 and result.items == 2 and result.selected_by == {"informative": 2}
    with store.read() as conn:
        rows = conn.execute(select(items.c.response_ids, items.c.selection)).all()
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
        temperatures = {r.sampling.get("temperature") for r in conn.execute(select(responses.c.sampling)).all()}
    assert all(r.selection["method"] == "informative" and r.selection["disagreement"] > 0.5 for r in rows)
    assert all(any(texts[i].endswith(" 0 1") for i in r.response_ids) for r in rows)
    assert _counts(store) == (12, 2) and temperatures == {0.7, 1.2}


def test_bounded_pairs_keep_the_newest_the_best_best_of_n_and_draw_older_ones():
    from hitl.loop.steps.policy_step import bounded_pairs

    human = [{"id": i} for i in range(100)]
    bon = [{"id": f"b{i}", "reward_gap": i / 10} for i in range(50)]
    kept_human, kept_bon = bounded_pairs(human, bon, 60, seed=1)
    assert len(kept_bon) == 20 and min(p["reward_gap"] for p in kept_bon) == 3.0  # the largest gaps
    assert len(kept_human) == 40 and kept_human[-20:] == human[-20:]  # the newest 20 all there
    older = kept_human[:20]
    assert all(p["id"] < 80 for p in older) and older == sorted(older, key=lambda p: p["id"])
    assert bounded_pairs(human[:10], bon[:5], 60) == (human[:10], bon[:5])  # under the bound: everything


def test_the_campaign_s_ties_teach_the_choice_which_pairs_raters_decide(store, make_campaign):
    """Judged under a sparse rule (a list beats prose, two proses tie), the campaign's own judgments give a
    decisiveness model that rates list-vs-prose pairs above prose-vs-prose; with no judgments there is none."""
    import random

    from hitl.catalog import add_item, add_prompt, add_response
    from hitl.loop.steps.queue_step import campaign_decisiveness
    from hitl.simulate import RaterBehaviour, load_oracle, simulate

    campaign = make_campaign(gold_rate=0, overlap=1)
    rng = random.Random(0)
    words = ["sun", "rain", "leaf", "root", "seed", "soil", "water", "light", "grow", "cold", "warm", "slow"]

    def prose():
        return " ".join(rng.choice(words) for _ in range(rng.randint(8, 16))).capitalize() + "."

    def listed():
        return "\n".join(f"{i}. {' '.join(rng.choice(words) for _ in range(4))}" for i in range(1, 4))

    with store.write() as conn:
        for i in range(80):
            pid = add_prompt(conn, text=f"question {i}")
            texts = [listed() if i % 4 == 0 else prose(), prose()]
            rids = [add_response(conn, prompt_id=pid, text=t) for t in texts]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    assert campaign_decisiveness(store, campaign) is None  # nothing judged yet
    crowd = [RaterBehaviour(f"r{i}", flip=0.0) for i in range(2)]
    simulate(store, campaign, crowd, load_oracle("rule:list"), max_judgments=80)
    model = campaign_decisiveness(store, campaign)
    assert model is not None and model.pairs == 80 and abs(model.base_rate - 0.25) < 1e-9
    assert model.predict(listed(), prose()) > 0.6 > 0.2 > model.predict(prose(), prose())
