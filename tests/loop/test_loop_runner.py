"""Round orchestration with fake stages: waiting, stopping on a bad reward model or divergence, resuming."""

import pytest
from factories import add_items

from hitl.catalog import register_model_version
from hitl.loop import LoopSettings, StageOutcome, rounds, run_loop
from hitl.queue import JudgmentInput, next_item, submit


class FakeStages:
    def __init__(self, store, accuracy=0.8, diverge=False, crash_in=None, eval_pairs=100):
        self.store, self.accuracy, self.diverge, self.crash_in = store, accuracy, diverge, crash_in
        self.eval_pairs = eval_pairs
        self.calls = []

    def _version(self, kind, name):
        with self.store.write() as conn:
            return register_model_version(conn, kind=kind, name=name)

    def train_reward(self, store, campaign, round_, min_pairs):
        self.calls.append(("train_reward", round_.number))
        rid = self._version("reward", f"{campaign.name}-r{round_.number}-reward")
        metrics = {"reward_accuracy": self.accuracy, "reward_eval_pairs": self.eval_pairs}
        return StageOutcome(ids={"reward_version_id": rid}, metrics=metrics)

    def train_policy(self, store, campaign, round_):
        self.calls.append(("train_policy", round_.number))
        if self.crash_in == "train_policy":
            self.crash_in = None
            raise KeyboardInterrupt  # the process is killed mid-stage
        if self.diverge:
            return StageOutcome(stop="the policy step diverged (NaN loss): not registered")
        pid = self._version("policy", f"{campaign.name}-r{round_.number}-policy")
        return StageOutcome(ids={"policy_version_id": pid}, metrics={"policy_loss": 0.5})

    def generate(self, store, campaign, round_):
        self.calls.append(("generate", round_.number))
        return StageOutcome(metrics={"items_queued": 4})

    def replenish(self, store, campaign, round_):
        self.calls.append(("replenish", round_.number))
        return StageOutcome(metrics={"items_queued_waiting": 4})

    def score(self, store, campaign, round_):
        self.calls.append(("score", round_.number))
        return StageOutcome(metrics={"items_scored": 4})

    def evaluate(self, store, campaign, round_):
        self.calls.append(("evaluate", round_.number))
        return StageOutcome(metrics={"win_rate_vs_base": 0.6})


def judge(store, make_user, campaign, n):
    u = make_user()
    for i in range(n):
        a = next_item(store, u, campaign)
        submit(
            store, a.lease_token, f"{u.name}-{i}", JudgmentInput(ranking=[r.response_id for r in a.responses]), user=u
        )


def test_waits_for_enough_judgments_then_runs_a_whole_round(store, make_user, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 10)
    stages = FakeStages(store)
    settings = LoopSettings(min_new_judgments=5)
    (r,) = run_loop(store, campaign, stages, settings)
    assert r.status == "waiting" and "0 new of the 5" in r.message and stages.calls == []
    judge(store, make_user, campaign, 5)
    (r,) = run_loop(store, campaign, stages, settings)
    assert r.status == "done" and r.number == 1 and r.policy_version_id and r.reward_version_id
    assert [c[0] for c in stages.calls] == ["train_reward", "train_policy", "generate", "score", "evaluate"]
    assert r.metrics["new_judgments"] == 5 and r.metrics["win_rate_vs_base"] == 0.6
    (r2,) = run_loop(store, campaign, stages, settings)
    assert r2.number == 2 and r2.status == "waiting" and r2.base_policy_id == r.policy_version_id


def test_judgments_made_before_the_next_round_exists_count_towards_it(store, make_user, make_campaign):
    # `hitl loop` (one round per run) is started again only after raters judged the last round's pairs.
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 10)
    judge(store, make_user, campaign, 5)
    stages = FakeStages(store)
    (r1,) = run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5))
    judge(store, make_user, campaign, 5)
    (r2,) = run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5))
    assert (r1.status, r2.status, r2.number) == ("done", "done", 2)
    assert r2.metrics["new_judgments"] == 5 and r2.judgments_at_start == 5


@pytest.mark.parametrize(("accuracy", "pairs", "says"), [(0.45, 100, "not clearly above"), (0.6, 40, "not clearly")])
def test_a_reward_model_not_clearly_better_than_chance_makes_the_round_wait(
    store, make_user, make_campaign, accuracy, pairs, says
):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 12)
    judge(store, make_user, campaign, 5)
    stages = FakeStages(store, accuracy=accuracy, eval_pairs=pairs)
    settings = LoopSettings(min_new_judgments=5, min_reward_pairs=30)
    (r,) = run_loop(store, campaign, stages, settings)
    assert r.status == "waiting" and r.stage == "wait" and says in r.message and r.policy_version_id is None
    # Raters get more pairs to judge, so that the wait can end.
    assert [c[0] for c in stages.calls] == ["train_reward", "replenish"] and r.metrics["reward_attempt"] == 2
    assert r.metrics["items_queued_waiting"] == 4
    (again,) = run_loop(store, campaign, stages, settings)  # no new judgments: still waiting, nothing retrained
    assert again.status == "waiting" and "5 more judgments needed" in again.message
    assert [c[0] for c in stages.calls].count("train_reward") == 1
    judge(store, make_user, campaign, 5)
    stages.accuracy, stages.eval_pairs = 0.8, 100  # more (and better) data: the second attempt passes
    (done,) = run_loop(store, campaign, stages, settings)
    assert done.status == "done" and done.number == 1 and done.metrics["reward_accuracy_low"] > 0.7


def test_a_reward_model_on_too_few_held_out_pairs_never_passes(store, make_user, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 5)
    judge(store, make_user, campaign, 5)
    stages = FakeStages(store, accuracy=1.0, eval_pairs=6)  # perfect, on 6 pairs
    (r,) = run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5, min_reward_pairs=30))
    assert r.status == "waiting" and "6 decisive held-out pairs and the gate needs 30" in r.message
    # 6 pairs from 5 judgments: the other 24 need about 20 more, so no reward model is trained before then.
    assert "about 20 more at the rate so far" in r.message and r.metrics["wait_until_judgments"] == 5 + 20
    (still,) = run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5, min_reward_pairs=30))
    assert still.status == "waiting" and "20 more judgments needed before it trains again" in still.message


def test_a_diverged_policy_step_is_not_registered(store, make_user, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 5)
    judge(store, make_user, campaign, 5)
    (r,) = run_loop(store, campaign, FakeStages(store, diverge=True), LoopSettings(min_new_judgments=5))
    assert r.status == "stopped" and "diverged" in r.message and r.policy_version_id is None


def test_killed_mid_round_resumes_without_redoing_finished_stages(store, make_user, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_items(store, campaign, 5)
    judge(store, make_user, campaign, 5)
    stages = FakeStages(store, crash_in="train_policy")
    with pytest.raises(KeyboardInterrupt):
        run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5))
    (r,) = run_loop(store, campaign, stages, LoopSettings(min_new_judgments=5))
    assert r.status == "done"
    assert [c[0] for c in stages.calls] == [
        "train_reward",
        "train_policy",
        "train_policy",
        "generate",
        "score",
        "evaluate",
    ]
    assert len(rounds(store, campaign)) == 1
