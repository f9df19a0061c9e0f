"""Mean pooling: the masked mean reaches the score head, padding changes nothing, the choice survives save and load
(full and LoRA), and models that cannot take it (or an unknown pooling) are refused."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from reward_helpers import planted_rows
from tiny import tiny_llama, tiny_tokenizer

from hitl.errors import InvalidInput
from reward.data import PreferenceData
from reward.models import load_backbone
from reward.pooling import pooling_of
from reward.score import RewardScorer
from reward.train import train_reward


def test_model_is_the_default_and_mean_is_asked_for(backbone_dir):
    assert pooling_of(load_backbone(backbone_dir)[0]) == "model"
    assert pooling_of(load_backbone(backbone_dir, pooling="mean")[0]) == "mean"


def test_the_head_reads_the_mean_of_the_real_tokens(backbone_dir):
    model, tokenizer = load_backbone(backbone_dir, pooling="mean")
    model.eval()
    batch = tokenizer(["the sky is blue and the sea is green", "hello"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits[:, 0]
        hidden = model.bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = model.classifier((hidden * mask).sum(1) / mask.sum(1))[:, 0]
        alone = model(**tokenizer(["hello"], return_tensors="pt")).logits[0, 0]
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(logits[1], alone)  # the padding of the short row is not averaged in


@pytest.mark.parametrize("use_lora", [False, True], ids=["full", "lora"])
def test_mean_pooling_is_saved_and_put_back_on_load(make_reward_config, use_lora):
    held = planted_rows(16, seed=9)
    config = make_reward_config(pooling="mean", num_train_epochs=1, use_lora=use_lora, lora_r=4)
    result = train_reward(config, data=PreferenceData(planted_rows(32, seed=8), held))
    settings = json.loads(Path(result.output_dir, "hitl_reward.json").read_text())
    assert settings["pooling"] == "mean"
    prompts, chosen, rejected = ([r[k] for r in held] for k in ("prompt", "chosen", "rejected"))
    in_memory = RewardScorer(result.trainer.model, result.trainer.processing_class, max_length=48)
    reloaded = RewardScorer.from_pretrained(result.output_dir)
    assert pooling_of(reloaded.model) == "mean"
    np.testing.assert_allclose(
        reloaded.score_pairs(prompts, chosen, rejected), in_memory.score_pairs(prompts, chosen, rejected), atol=1e-4
    )


def test_models_that_cannot_take_mean_pooling_are_refused(backbone_dir):
    tok = tiny_tokenizer()
    with pytest.raises(InvalidInput, match="mean pooling needs an encoder whose classifier reads a pooler"):
        load_backbone(tiny_llama(tok), tok, pooling="mean")
    with pytest.raises(InvalidInput, match="pooling must be one of model, mean"):
        load_backbone(backbone_dir, pooling="max")
