"""Training on a tiny random backbone: a planted preference is learned, weights matter, the scorer agrees with the
trainer's own evaluation, LoRA saves its score head, a causal LM gets a head, a headless backbone is refused."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from reward_helpers import planted_rows
from safetensors.torch import load_file
from tiny import tiny_llama, tiny_tokenizer

from hitl.errors import InvalidInput
from reward.data import PreferenceData
from reward.models import load_backbone
from reward.score import RewardScorer
from reward.train import train_reward


def _scores(result, rows):
    model = result.trainer.model
    scorer = RewardScorer(model, result.trainer.processing_class, max_length=48)
    return scorer.score_pairs([r["prompt"] for r in rows], [r["chosen"] for r in rows], [r["rejected"] for r in rows])


def test_learns_a_planted_preference_and_registers_it(make_reward_config, backbone_dir, sqlite_store):
    train, held = planted_rows(160, seed=0), planted_rows(40, seed=1)
    before = load_file(f"{backbone_dir}/model.safetensors")
    result = train_reward(make_reward_config(), sqlite_store, data=PreferenceData(train, held), version_name="planted")
    assert result.report["accuracy"] >= 0.9
    chosen, rejected = _scores(result, train)
    assert (chosen > rejected).mean() >= 0.9  # learned on the pairs it trained on
    after = load_file(f"{result.output_dir}/model.safetensors")
    changed = [k for k in before if f"bert.{k}" in after and not torch.equal(before[k], after[f"bert.{k}"])]
    assert len(changed) > len(before) // 2
    assert result.version_id is not None and result.version_name == "planted"
    settings = json.loads(Path(result.output_dir, "hitl_reward.json").read_text())
    assert settings["encoding"] == {"max_length": 48, "use_chat_template": False}  # BERT has no chat template
    assert {p.rsplit("/", 1)[-1] for p in result.files} >= {"report.json", "accuracy.png", "calibration.png"}


def test_scorer_gives_the_numbers_of_the_trainers_own_evaluation(make_reward_config):
    train, held = planted_rows(64, seed=2), planted_rows(40, seed=3)
    config = make_reward_config(num_train_epochs=1, per_device_eval_batch_size=len(held))
    result = train_reward(config, data=PreferenceData(train, held))
    trl = result.trainer.evaluate()
    chosen, rejected = _scores(result, held)
    both = np.concatenate([chosen, rejected])
    assert trl["eval_accuracy"] == pytest.approx(float((chosen > rejected).mean()))
    assert trl["eval_min_reward"] == pytest.approx(both.min(), abs=1e-5)
    assert trl["eval_max_reward"] == pytest.approx(both.max(), abs=1e-5)
    assert trl["eval_mean_reward"] == pytest.approx(both.mean(), abs=1e-5)
    assert result.report["accuracy"] == pytest.approx(trl["eval_accuracy"])


def test_weights_scale_each_pairs_loss(make_reward_config):
    rows = planted_rows(120, seed=4)
    # The same pairs the other way round, nearly weightless: the planted direction must still win.
    flipped = [{**r, "chosen": r["rejected"], "rejected": r["chosen"], "weight": 0.02} for r in rows]
    result = train_reward(make_reward_config(), data=PreferenceData(rows + flipped, planted_rows(40, seed=5)))
    assert result.report["accuracy"] >= 0.9


def test_lora_saves_the_score_head_and_reloads_to_the_same_scores(make_reward_config):
    held = planted_rows(20, seed=7)
    config = make_reward_config(use_lora=True, lora_r=4, lora_alpha=8, learning_rate=1e-2, num_train_epochs=2)
    result = train_reward(config, data=PreferenceData(planted_rows(64, seed=6), held))
    adapter = json.loads(Path(result.output_dir, "adapter_config.json").read_text())
    assert "classifier" in adapter["modules_to_save"]
    in_memory = _scores(result, held)
    loaded = RewardScorer.from_pretrained(result.output_dir)
    reloaded = loaded.score_pairs(
        [r["prompt"] for r in held], [r["chosen"] for r in held], [r["rejected"] for r in held]
    )
    np.testing.assert_allclose(reloaded, in_memory, atol=1e-4)


def test_causal_lm_gets_a_classification_head(make_reward_config):
    tok = tiny_tokenizer()
    rows = [{"prompt": "question", "chosen": "good answer", "rejected": "bad answer"}] * 16
    config = make_reward_config(num_train_epochs=1, learning_rate=1e-3)
    result = train_reward(config, data=PreferenceData(rows, rows[:4]), model=tiny_llama(tok), tokenizer=tok)
    assert type(result.trainer.model).__name__ == "LlamaForSequenceClassification"
    reloaded = RewardScorer.from_pretrained(result.output_dir).score(["question"], ["good answer"])
    assert reloaded[0] == pytest.approx(_scores(result, rows[:1])[0][0], abs=1e-4)


def test_a_backbone_without_a_classification_head_is_refused(tmp_path):
    from transformers import ViTConfig, ViTModel

    ViTModel(
        ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16)
    ).save_pretrained(tmp_path / "vit")
    with pytest.raises(InvalidInput, match=r"\(vit\) cannot take a sequence-classification head: use an encoder"):
        load_backbone(str(tmp_path / "vit"))
