"""Resume after a kill: the resumed run trains on exactly the batches the uninterrupted run did (same order, no pair
twice in an epoch) and ends with the same model."""

import numpy as np
import pytest
from reward_helpers import planted_rows
from transformers import TrainerCallback

from reward.data import PreferenceData
from reward.train import train_reward

PAIRS, BATCH = 48, 4
STEPS_PER_EPOCH = PAIRS // BATCH


class Killed(Exception):
    pass


class KillAt(TrainerCallback):
    """Dies at the start of the step after `step` (as a kill would, after that step's checkpoint)."""

    def __init__(self, step: int):
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Killed(f"killed after step {self.step}")


def _run(make_reward_config, out, rows, batches, callbacks=(), save_steps=5):
    config = make_reward_config(
        output_dir=str(out),
        num_train_epochs=2,
        per_device_train_batch_size=BATCH,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=None,
        learning_rate=1e-3,
    )
    return train_reward(config, data=PreferenceData(rows, []), observer=batches.append, callbacks=list(callbacks))


@pytest.mark.parametrize(("save_steps", "kill_after"), [(5, 17), (6, 12)], ids=["mid-epoch", "epoch-boundary"])
def test_resumed_run_replays_the_same_batches(make_reward_config, tmp_path, save_steps, kill_after):
    rows = planted_rows(PAIRS, seed=11)
    whole: list[list[int]] = []
    reference = _run(make_reward_config, tmp_path / "whole", rows, whole, save_steps=save_steps)
    assert len(whole) == 2 * STEPS_PER_EPOCH
    for epoch in range(2):
        seen = [i for batch in whole[epoch * STEPS_PER_EPOCH : (epoch + 1) * STEPS_PER_EPOCH] for i in batch]
        assert sorted(seen) == list(range(PAIRS))  # every pair once per epoch
    assert whole[:STEPS_PER_EPOCH] != whole[STEPS_PER_EPOCH:]  # each epoch has its own order

    killed: list[list[int]] = []
    with pytest.raises(Killed):
        _run(make_reward_config, tmp_path / "killed", rows, killed, [KillAt(kill_after)], save_steps=save_steps)
    resumed: list[list[int]] = []
    result = _run(make_reward_config, tmp_path / "killed", rows, resumed, save_steps=save_steps)
    last_checkpoint = kill_after // save_steps * save_steps
    assert killed[:last_checkpoint] + resumed == whole
    # A finished run keeps its model, not the checkpoints it could have resumed from.
    assert not list((tmp_path / "whole").glob("checkpoint-*")) and not list((tmp_path / "killed").glob("checkpoint-*"))

    prompts, chosen = [r["prompt"] for r in rows], [r["chosen"] for r in rows]
    from reward.score import RewardScorer

    def scores(r):
        return RewardScorer(r.trainer.model, r.trainer.processing_class, max_length=48).score(prompts, chosen)

    np.testing.assert_allclose(scores(result), scores(reference), atol=1e-4)
