"""`hitl train-reward`, `hitl eval-reward` and `hitl score` end to end on judgments made through the queue, and the
config precedence (defaults < YAML < flags)."""

import json
from pathlib import Path

import pytest
from reward_helpers import add_item, judge, planted_rows
from sqlalchemy import select

from hitl.campaigns import create_campaign
from hitl.cli.main import main
from hitl.config import CampaignSettings
from hitl.errors import InvalidInput
from hitl.store import open_store
from hitl.store.schema import dataset_snapshots, items, model_versions
from hitl.users import create_user
from reward.config import make_config


def test_yaml_then_flags_override_defaults(tmp_path):
    path = tmp_path / "cpu.yaml"
    path.write_text("reward:\n  learning_rate: 1e-4\n  num_train_epochs: 3\n  use_lora: true\npolicy:\n  beta: 0.1\n")
    config = make_config(config_path=str(path), args=["--num_train_epochs", "1", "--save_strategy", "no"])
    assert (config.learning_rate, config.num_train_epochs, config.use_lora, config.lora_r) == (1e-4, 1.0, True, 16)
    assert isinstance(config.learning_rate, float) and config.save_strategy == "no"
    assert config.bf16 is False and config.activation_checkpointing is False
    assert config.train_sampling_strategy == "group_by_length"
    path.write_text("reward:\n  learnin_rate: 1e-4\n")
    with pytest.raises(InvalidInput, match=f"unknown reward option.*{path.name}.*learnin_rate"):
        make_config(config_path=str(path))
    with pytest.raises(InvalidInput, match="learning_rate.*invalid float value"):
        make_config(args=["--learning_rate", "fast"])
    flat = tmp_path / "trl.yaml"  # a TRL-style file without hitl's sections is read whole
    flat.write_text("learning_rate: 3.0e-5\nsave_strategy: no\n")
    assert make_config(config_path=str(flat)).learning_rate == 3e-5


@pytest.fixture
def judged(tmp_path):
    url = f"sqlite:///{tmp_path / 'hitl.db'}"
    store = open_store(url)
    campaign = create_campaign(store, CampaignSettings(name="planted", overlap=1, gold_rate=0.0))
    rater = create_user(store, "rater1", "rater", "correct-horse-battery")
    for i, row in enumerate(planted_rows(60, seed=21)):
        item, (good, bad) = add_item(store, campaign, [row["chosen"], row["rejected"]], prompt=row["prompt"])
        judge(store, campaign, rater, item, [good, bad], strength=1 + i % 3)
    for row in planted_rows(4, seed=22):  # not judged yet: `hitl score` ranks these
        add_item(store, campaign, [row["chosen"], row["rejected"]], prompt=row["prompt"])
    yield url, store, campaign
    store.close()


def test_train_evaluate_and_score_from_the_command_line(judged, backbone_dir, tmp_path, capsys):
    url, store, campaign = judged
    out = tmp_path / "rm"
    train = ["train-reward", "--db", url, "--campaign", "planted", "--model", backbone_dir, "--name", "rm1"]
    train += ["--output-dir", str(out), "--num-train-epochs", "4", "--learning-rate", "3e-3", "--max-length", "48"]
    train += ["--threads", "1", "--eval-fraction", "0.2", "--per-device-train-batch-size", "8"]
    train += ["--save_strategy", "no", "--disable_tqdm", "true", "--warmup_steps", "0"]
    assert main(train) == 0
    printed = capsys.readouterr().out
    assert "pairwise accuracy" in printed and "registered reward version rm1" in printed
    with store.read() as conn:
        version = conn.execute(select(model_versions).where(model_versions.c.name == "rm1")).one()
        snapshots = conn.execute(select(dataset_snapshots)).all()
    assert version.kind == "reward" and Path(version.path) == out.resolve()
    assert version.metadata["dataset_snapshot_id"] in {s.id for s in snapshots} and len(snapshots) == 3
    assert version.metadata["accuracy"] >= 0.8
    assert (out / "eval" / "calibration.png").is_file()

    capsys.readouterr()
    assert main(["eval-reward", "--db", url, "--model", "rm1"]) == 0
    printed = capsys.readouterr().out
    # Every rate with its interval and n; a handful of held-out pairs says it is a handful.
    assert "95% CI" in printed and "held-out decisive pairs" in printed
    report = json.loads((out / "eval-heldout" / "report.json").read_text())
    assert report["accuracy"] == version.metadata["accuracy"] and report["model"]["version_id"] == version.id
    assert report["by_strength"] and report["rater_ceiling"]["items"] == 0  # one rater per item: no ceiling
    assert main(["eval-reward", "--db", url, "--model", "rm1", "--json"]) == 0
    as_json = json.loads(capsys.readouterr().out)  # the report on stdout, nothing else
    assert as_json["accuracy"] == report["accuracy"] and as_json["files"] and "warning" in as_json

    prelabels = tmp_path / "prelabels.jsonl"
    score = ["score", "--db", url, "--campaign", "planted", "--model", "rm1", "--mc-samples", "2"]
    assert main([*score, "--out", str(prelabels)]) == 0
    scored = [json.loads(line) for line in prelabels.read_text().splitlines()]
    assert len(scored) == 4
    with store.read() as conn:
        priorities = dict(conn.execute(select(items.c.id, items.c.priority).where(items.c.status == "open")).all())
    assert {s["item_id"]: pytest.approx(s["uncertainty"]) for s in scored} == priorities


def test_clear_errors(judged, backbone_dir, tmp_path, capsys):
    url, store, _ = judged
    create_campaign(store, CampaignSettings(name="empty"))
    args = ["train-reward", "--db", url, "--campaign", "empty", "--model", backbone_dir, "--output-dir", str(tmp_path)]
    assert main(args) == 1
    assert "no usable preference pairs" in capsys.readouterr().err
    assert main(["eval-reward", "--db", url, "--model", "nope"]) == 1
    assert "no reward model folder or registered reward version 'nope'" in capsys.readouterr().err


def test_min_steps_gives_small_datasets_more_epochs():
    from hitl.trainer_config import epochs_for_min_steps as epochs_for

    config = make_config({"min_steps": 40, "per_device_train_batch_size": 16, "num_train_epochs": 2})
    assert epochs_for(config, 64) == 10.0  # 4 steps an epoch: 10 epochs make 40 steps
    assert epochs_for(config, 800) == 2.0  # 50 steps an epoch: the configured 2 epochs already exceed 40
    assert epochs_for(make_config({"min_steps": 40, "max_steps": 5}), 64) == 2.0  # max_steps wins (Trainer's rule)
