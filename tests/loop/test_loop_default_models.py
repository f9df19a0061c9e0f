"""One whole round of the loop on the real default models with simulated raters (slow: a few minutes on 2 cores).

Seed pairs from the default policy, simulated raters judge them, then a round trains the default reward backbone,
takes a DPO step on SmolLM2, queues the new version's answers, and the raters judge those too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

PROMPTS = Path(__file__).resolve().parents[2] / "hitl" / "data" / "demo_prompts.jsonl"


def test_one_whole_round_on_the_default_models(tmp_path, home_with_default_models):
    from hitl.campaigns import create_campaign
    from hitl.config import CampaignSettings
    from hitl.loop import LoopSettings, run_loop
    from hitl.loop.stages import RoundPlan, RoundStages
    from hitl.simulate import default_crowd, load_oracle, simulate
    from hitl.stats import collection_report
    from hitl.store import open_store
    from policy.config import GenerationSettings
    from policy.fill import fill_queue

    prompts = tmp_path / "prompts.jsonl"
    rows = [json.loads(line) for line in PROMPTS.read_text().splitlines() if line.strip()]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in [r for r in rows if "prompt" in r][:8]))
    config = tmp_path / "cpu.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "reward": {"max_length": 96, "num_train_epochs": 2, "per_device_train_batch_size": 8},
                "policy": {
                    "learning_rate": 2e-4,
                    "num_train_epochs": 1,
                    "per_device_train_batch_size": 4,
                    "loss_type": ["sigmoid", "sft"],
                    "loss_weights": [1.0, 0.5],
                },
            }
        )
    )
    store = open_store(f"sqlite:///{tmp_path / 'loop.db'}")
    campaign = create_campaign(store, CampaignSettings(name="whole", overlap=3, gold_rate=0.0))
    oracle, crowd = load_oracle("rule:concise"), default_crowd(8)
    settings = GenerationSettings(n=2, max_new_tokens=16, seed=0)
    seeded = fill_queue(store, model="default", prompts=str(prompts), campaign="whole", settings=settings)
    assert seeded.items == 8
    assert simulate(store, campaign, crowd, oracle, 10**6).total == 24

    plan = RoundPlan(
        prompts=str(prompts),
        prompts_per_round=8,
        items_per_round=16,
        max_new_tokens=16,
        oracle="rule:concise",
        config_path=str(config),
    )
    gate = LoopSettings(min_new_judgments=20, min_reward_accuracy=-1.0, min_reward_pairs=1)
    (r,) = run_loop(store, campaign, RoundStages(plan), gate)
    assert r.status == "done", r.message
    assert r.reward_version_id and r.policy_version_id and r.metrics["new_judgments"] == 24
    assert (home_with_default_models / "policies" / "whole-r1-policy" / "adapter_config.json").exists()
    # 8 prompts x (4 new candidates + the base's answer): up to 2 disjoint pairs per prompt, chosen by the model.
    queued = r.metrics["items_queued"]
    assert 8 <= queued <= 16 and r.metrics["selected_by"] == {"informative": queued} and r.metrics["candidates"] >= 32
    assert r.metrics["policy_precision"] in ("bf16", "fp32")
    assert r.metrics["policy_loss_terms"] == "sigmoid + 0.5*sft"  # the YAML's DPO loss ran and the round says so
    assert 0.0 <= r.metrics["oracle_win_rate"] <= 1.0
    assert simulate(store, campaign, crowd, oracle, 10**6, seed=1).total == 3 * queued  # the new pairs reach raters

    _, raters = collection_report(store, campaign)
    assert "sim-spammer" in {q.rater for q in raters if q.flagged}
