"""One real round on tiny models: reward training, a DPO step, pairs into the queue, round metrics; and a
restart after a kill mid-round that neither retrains nor re-queues."""

import pytest
import torch
import yaml
from tiny import save_tiny_policy

from hitl.campaigns import get_campaign
from hitl.cli.main import main
from hitl.demo import data_file
from hitl.loop import LoopSettings, rounds, run_loop
from hitl.loop.stages import RoundPlan, RoundStages
from hitl.store import open_store


@pytest.fixture
def setup(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    policy_dir = save_tiny_policy(tmp_path / "tiny-policy")
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["campaign", "create", "c", "--overlap", "1", "--gold-rate", "0", "--db", db]) == 0
    assert (
        main(
            [
                "import",
                "preferences",
                str(data_file("demo_gold.jsonl")),
                "--campaign",
                "c",
                "--as",
                "judgments",
                "--db",
                db,
            ]
        )
        == 0
    )
    config = tmp_path / "loop.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "reward": {
                    "model": str(policy_dir),
                    "num_train_epochs": 1,
                    "per_device_train_batch_size": 8,
                    "max_length": 64,
                    "eval_fraction": 0.25,
                    "learning_rate": 1e-3,
                },
                "policy": {"max_steps": 2, "per_device_train_batch_size": 4, "max_length": 64, "lora_r": 4},
            }
        )
    )
    plan = RoundPlan(
        prompts="all",
        prompts_per_round=4,
        candidates=2,
        items_per_round=6,
        selection_samples=2,
        best_of_n_gap=0.0,
        max_new_tokens=6,
        oracle="rule:concise",
        config_path=str(config),
    )
    store = open_store(db)
    return store, get_campaign(store, "c"), plan, str(policy_dir)


def test_one_real_round_then_a_restart_does_not_redo_work(setup):
    store, campaign, plan, base = setup
    settings = LoopSettings(min_new_judgments=10, min_reward_accuracy=0.0, min_reward_pairs=1)
    stages = RoundStages(plan, base_policy=base)
    (r,) = run_loop(store, campaign, stages, settings)
    assert r.status == "done", r.message
    assert r.reward_version_id and r.policy_version_id and r.base_policy_id
    assert r.metrics["items_queued"] >= 4 and r.metrics["eval_pairs"] >= 1
    assert 0 <= r.metrics["best_of_n_pairs"] <= 24  # at most one reward-labelled pair per prompt v0 answered twice
    assert r.metrics["candidates"] >= 4 and sum(r.metrics["selected_by"].values()) == r.metrics["items_queued"]
    assert 0.0 <= r.metrics["oracle_win_rate"] <= 1.0 and "mean_reward_new" in r.metrics
    assert (
        0.0 <= r.metrics["oracle_lc_low"] <= r.metrics["oracle_lc_high"] <= 1.0 and "oracle_lc_win_rate" in r.metrics
    )
    # Pretend the process died after the policy step: back to "generate" on the same round.
    from hitl.loop.state import save

    save(store, r, stage="generate", status="running")
    queued = r.metrics["items_queued"]
    (again,) = run_loop(store, campaign, stages, settings)
    assert again.number == 1 and again.status == "done" and len(rounds(store, campaign)) == 1
    from hitl.stats import queue_depth

    assert queue_depth(store, campaign).open_items == queued  # nothing queued twice


def test_hitl_loop_killed_mid_round_continues_without_redoing_work(setup, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import func, select

    from hitl.store.schema import items, loop_rounds, model_versions

    store, campaign, plan, base = setup
    argv = [sys.executable, "-m", "hitl.cli.main", "loop", "--campaign", "c", "--db", store.url, "--base", base]
    argv += ["--config", plan.config_path, "--min-new-judgments", "10", "--min-reward-accuracy", "0"]
    argv += [
        "--min-reward-pairs",
        "1",
        "--prompts-per-round",
        "4",
        "--max-new-tokens",
        "6",
        "--oracle",
        "rule:concise",
    ]
    argv += ["--candidates", "2", "--items-per-round", "6", "--selection-samples", "2"]
    env = {**os.environ, "HITL_THREADS": "1"}

    def stage() -> str | None:
        with store.read() as conn:
            return conn.execute(select(loop_rounds.c.stage).order_by(loop_rounds.c.id.desc())).scalar()

    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while stage() != "train_policy" and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)  # mid-round: the reward model is registered, the policy step is running
    child.wait()
    assert child.returncode == -signal.SIGKILL and stage() == "train_policy", child.stderr.read().decode()[-2000:]

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (r,) = rounds(store, campaign)
    assert r.status == "done" and r.number == 1
    with store.read() as conn:
        names = conn.execute(select(model_versions.c.name).where(model_versions.c.name.like("c-r1-%"))).scalars()
        assert sorted(names) == ["c-r1-policy", "c-r1-reward"]  # the reward model was not trained twice
        queued = conn.execute(select(func.count()).select_from(items).where(items.c.status == "open")).scalar()
    assert queued == r.metrics["items_queued"]


def _decisive_rows(store, outcome) -> int:
    import json
    from pathlib import Path

    from hitl.loop.steps.versions import version_by_id

    model_dir = Path(version_by_id(store, outcome.ids["reward_version_id"]).path)
    rows = [json.loads(line) for line in (model_dir / "data" / "full.jsonl").read_text().splitlines() if line]
    return sum(not row.get("tie") for row in rows)


def test_too_few_held_out_pairs_cross_validate_over_every_fold_once(setup):
    """Short of the gate's decisive held-out pairs, train_reward scores one more reward model per other fold of
    prompts: every decisive pair is held out exactly once, and a restarted stage reuses the folds' scores. When
    all the folds together hold fewer decisive pairs than the gate needs, none is trained: the gate fails on the
    count whatever the accuracy, and says how many pairs there are."""
    from pathlib import Path

    from hitl.loop.gate import reward_gate
    from hitl.loop.state import current_round
    from hitl.loop.steps.versions import version_by_id

    store, campaign, plan, base = setup
    round_ = current_round(store, campaign, None)
    short = RoundStages(plan, base_policy=base).train_reward(store, campaign, round_, min_pairs=10_000)
    decisive = _decisive_rows(store, short)
    model_dir = Path(version_by_id(store, short.ids["reward_version_id"]).path)
    m = short.metrics
    assert m["reward_accuracy"] is None and m["reward_eval_pairs"] == decisive  # the most the folds could hold out
    assert m["reward_heldout_pairs"] < decisive and not (model_dir / "folds").exists()  # no fold was trained
    # A failed attempt's time still counts towards the round's reward-model time (a waiting round's split).
    assert m["reward_seconds_all"] == pytest.approx(m["reward_seconds"] + (m["reward_cv_seconds"] or 0.0))
    verdict = reward_gate(m["reward_accuracy"], m["reward_eval_pairs"], 0.5, 10_000, judgments=100)
    assert not verdict.passed and verdict.pairs == decisive and f"has {decisive} decisive pairs" in verdict.message

    # Needing every decisive pair: every fold is trained, each pair held out once (the model is not trained again).
    stages = RoundStages(plan, base_policy=base)
    outcome = stages.train_reward(store, campaign, round_, min_pairs=decisive)
    m = outcome.metrics
    assert "reward_seconds" not in m  # the registered reward model was reused
    folds = m["reward_folds"]
    assert [f["start"] for f in folds] == [0.0, 0.25, 0.5, 0.75]
    assert folds[0]["pairs"] == m["reward_heldout_pairs"] and m["reward_heldout_pairs"] < m["reward_eval_pairs"]
    assert m["reward_eval_pairs"] == sum(f["pairs"] for f in folds) == decisive  # every decisive pair held out once
    scored = sum(f["accuracy"] * f["pairs"] for f in folds if f["pairs"]) / m["reward_eval_pairs"]
    assert abs(m["reward_accuracy"] - scored) < 1e-9
    folder = model_dir / "folds"
    assert sorted(p.name for p in folder.iterdir()) == ["1", "2", "3"]
    assert not any((folder / k / "model").exists() for k in ("1", "2", "3"))  # only the scores are kept
    again = stages.train_reward(store, campaign, round_, min_pairs=decisive)
    assert again.metrics["reward_folds"] == folds and again.metrics["reward_cv_seconds"] < 5


def test_cross_validation_stops_once_the_folds_hold_the_pairs_the_gate_needs(setup):
    """Folds are trained in order only until the pooled decisive held-out pairs reach the gate's minimum (a count
    known before training, so the stop never depends on how the folds score)."""
    from hitl.loop.state import current_round

    store, campaign, plan, base = setup
    round_ = current_round(store, campaign, None)
    first = RoundStages(plan, base_policy=base).train_reward(store, campaign, round_, min_pairs=10_000)
    needed = first.metrics["reward_heldout_pairs"] + 1  # one fold more than the main split is enough
    outcome = RoundStages(plan, base_policy=base).train_reward(store, campaign, round_, min_pairs=needed)
    folds = outcome.metrics["reward_folds"]
    assert len(folds) == 2 and folds[1]["pairs"] >= 1 and folds[1]["accuracy"] is not None
    assert outcome.metrics["reward_eval_pairs"] == folds[0]["pairs"] + folds[1]["pairs"] >= needed


def test_a_waiting_round_queues_as_many_batches_as_the_wait_needs_and_never_twice(setup):
    import dataclasses

    from hitl.loop import state
    from hitl.stats import queue_depth

    store, campaign, plan, base = setup
    stages = RoundStages(dataclasses.replace(plan, waiting_prompts=4), base_policy=base)
    round_ = state.current_round(store, campaign, None)
    count = state.judgment_count(store, campaign)
    # Waiting for 10 more judgments (overlap 1); a batch here is at most 4 pairs (4 prompts, 2 candidates each).
    round_ = state.save(store, round_, metrics={"reward_attempt": 2, "wait_until_judgments": count + 10})
    outcome = stages.replenish(store, campaign, round_)
    queued = outcome.metrics["items_queued_waiting_2"]
    assert 2 <= outcome.metrics["waiting_batches_2"] <= 4  # more than one batch: one holds at most 4 judgments
    assert queued >= 10 and queue_depth(store, campaign).judgments_needed == queued
    assert outcome.metrics["waiting_queue_seconds"] > 0  # the waiting round's time in generating and choosing
    round_ = state.save(store, round_, metrics=outcome.metrics)
    assert stages.replenish(store, campaign, round_).metrics == {}  # the queue holds what the wait needs
    assert queue_depth(store, campaign).open_items == queued


def test_a_waiting_batch_draws_on_the_larger_pool_only_when_decisiveness_predicts(setup, monkeypatch):
    """Without a decisiveness model that predicts, a waiting batch answers a round's prompts (a larger pool would
    cost generation and its choice could not find the decisive pairs in it); with one, --waiting-prompts."""
    import dataclasses

    from sqlalchemy import func, select

    from hitl.loop import stages as stages_module
    from hitl.loop import state
    from hitl.store.schema import responses

    store, campaign, plan, base = setup
    plan = dataclasses.replace(plan, prompts_per_round=2, waiting_prompts=4, waiting_batches=1)
    stages = RoundStages(plan, base_policy=base)
    round_ = state.current_round(store, campaign, None)
    count = state.judgment_count(store, campaign)

    def prompts_answered(attempt: int) -> int:
        with store.read() as conn:
            source = f"hitl loop {campaign.name} r{round_.number} more {attempt}"
            q = select(func.count(func.distinct(responses.c.prompt_id))).where(responses.c.source == source)
            return conn.execute(q).scalar_one()

    class Predicts:
        def predict(self, a: str, b: str) -> float:
            return 0.5

        def summary(self) -> dict:
            return {"pairs": 50}

    for attempt, model, pool in ((2, None, 2), (3, Predicts(), 4)):
        monkeypatch.setattr(stages_module, "campaign_decisiveness", lambda store, campaign, model=model: model)
        round_ = state.save(store, round_, metrics={"reward_attempt": attempt, "wait_until_judgments": count + 1})
        outcome = stages.replenish(store, campaign, round_)
        assert outcome.metrics[f"waiting_pool_prompts_{attempt}"] == pool
        assert prompts_answered(attempt) == pool
        assert (f"decisive_model_waiting_{attempt}" in outcome.metrics) == (model is not None)
