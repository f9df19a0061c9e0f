"""`hitl train-policy` end to end on a tiny saved Llama: trains DPO on imported judgments and registers it."""

from pathlib import Path

import pytest
import torch
from sqlalchemy import select
from tiny import save_tiny_policy

from hitl.cli.main import main
from hitl.demo import data_file
from hitl.store import open_store
from hitl.store.schema import model_versions


@pytest.fixture
def tiny_dir(tmp_path):
    return Path(save_tiny_policy(tmp_path / "tiny-policy"))


def test_dpo_on_judgments_registers_a_child_version(tmp_path, tiny_dir, monkeypatch, capsys):
    torch.set_num_threads(1)
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["campaign", "create", "c", "--db", db]) == 0
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
    argv = [
        "train-policy",
        "--campaign",
        "c",
        "--model",
        str(tiny_dir),
        "--name",
        "c-dpo-1",
        "--db",
        db,
        "--max_steps",
        "2",
        "--per-device-train-batch-size",
        "4",
        "--max_length",
        "64",
        "--lora_r",
        "4",
        "--learning_rate",
        "1e-4",
    ]
    capsys.readouterr()
    assert main(argv) == 0
    printed = capsys.readouterr()
    # A summary a person reads (pairs, steps, loss start -> end, margin, verdict, plot), not the Trainer's dicts.
    for line in (
        "pairs:         24 human + 0 best-of-n",
        "steps:         2 in",
        "loss:",
        "reward margin:",
        "verdict:",
    ):
        assert line in printed.out
    assert "{'loss'" not in printed.out + printed.err
    assert (tmp_path / "home" / "policies" / "c-dpo-1" / "training-loss.png").is_file()
    store = open_store(db)
    with store.read() as conn:
        rows = {r.name: r for r in conn.execute(select(model_versions)).all()}
    child = rows["c-dpo-1"]
    assert child.kind == "policy" and child.metadata["algorithm"] == "dpo" and child.metadata["steps"] == 2
    assert child.metadata["human_pairs"] == 24 and child.metadata["campaign"] == "c"
    assert main(argv) == 0  # the same name again: returned, not trained again
    with store.read() as conn:
        assert conn.execute(select(model_versions).where(model_versions.c.name == "c-dpo-1")).all() == [child]
    parent = next(r for r in rows.values() if r.id == child.parent_id)
    assert parent.path == str(tiny_dir)
    assert (tmp_path / "home" / "policies" / "c-dpo-1" / "adapter_config.json").exists()


def test_bad_input_is_refused_before_training(tmp_path, tiny_dir, capsys):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["campaign", "create", "c", "--db", db]) == 0
    assert main(["train-policy", "--campaign", "c", "--model", str(tiny_dir), "--db", db]) == 1
    assert "no preference pairs" in capsys.readouterr().err
    assert main(["train-policy", "--campaign", "c", "--algorithm", "grpo", "--model", str(tiny_dir), "--db", db]) == 1
    assert "needs --reward" in capsys.readouterr().err
    assert main(["train-policy", "--campaign", "c", "--nonsense", "1", "--model", str(tiny_dir), "--db", db]) == 2
    assert "unknown dpo flag(s): --nonsense 1" in capsys.readouterr().err
    assert main(["train-policy", "--campaign", "c", "--beta", "high", "--model", str(tiny_dir), "--db", db]) == 2
    assert "invalid float value: 'high'" in capsys.readouterr().err


def test_best_of_n_needs_dpo_and_a_reward_model(tmp_path, tiny_dir, capsys):
    db = f"sqlite:///{tmp_path / 'h.db'}"
    assert main(["campaign", "create", "c", "--db", db]) == 0
    base = ["train-policy", "--campaign", "c", "--model", str(tiny_dir), "--db", db]
    assert main([*base, "--best-of-n", "4"]) == 1
    assert "--best-of-n N adds DPO pairs" in capsys.readouterr().err
    assert main([*base, "--best-of-n", "4", "--algorithm", "kto", "--reward", "r"]) == 1
    assert "--best-of-n N adds DPO pairs" in capsys.readouterr().err
