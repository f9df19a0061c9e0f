"""Reward-test fixtures: one torch thread, a saved tiny backbone folder, small CPU configs."""

from __future__ import annotations

import pytest
import torch
from reward_helpers import bert_tokenizer, tiny_bert


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def backbone_dir(tmp_path_factory):
    """A saved tiny BERT backbone folder (model + tokenizer), loaded by path like a real backbone."""
    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = bert_tokenizer()
    tiny_bert(len(tokenizer)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture
def make_reward_config(tmp_path, backbone_dir):
    from reward.config import make_config

    def make(**values):
        base = {
            "model": backbone_dir,
            "output_dir": str(tmp_path / "rm"),
            "learning_rate": 3e-3,
            "num_train_epochs": 4,
            "per_device_train_batch_size": 8,
            "max_length": 48,
            "threads": 1,
            "save_strategy": "no",
            "logging_steps": 5,
            "disable_tqdm": True,
            "warmup_steps": 0,
            "seed": 0,
        }
        return make_config({**base, **values})

    return make
