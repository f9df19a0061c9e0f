"""The one scorer: batching does not change scores, MC dropout varies them, uncertainty orders the queue, best-of-n
and the TRL reward-function signature."""

import numpy as np
import pytest
from reward_helpers import add_item

from hitl.queue import next_item
from reward.models import load_backbone
from reward.prelabel import pending_items, prioritize, score_items
from reward.score import RewardScorer, pair_uncertainty, reward_function


@pytest.fixture
def scorer(backbone_dir):
    model, tokenizer = load_backbone(backbone_dir)
    return RewardScorer(model, tokenizer, max_length=32, batch_size=3)


def test_batch_size_and_order_do_not_change_scores(scorer):
    prompts = ["why is the sky blue", "tell me a cat", "hello"] * 3
    texts = ["light", "the cat is red and fast and good", "yes", "no", "maybe sure", "one two", "sky", "sea", "ten"]
    batched = scorer.score(prompts, texts)
    one_by_one = np.array([scorer.score([p], [t])[0] for p, t in zip(prompts, texts, strict=True)])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    assert scorer.score([], []).shape == (0,)


def test_mc_dropout_samples_vary_and_leave_the_model_deterministic(scorer):
    samples = scorer.mc_scores(["hello"] * 4, ["good", "bad", "fine", "awful"], samples=5)
    assert samples.shape == (5, 4) and samples.std(axis=0).max() > 0
    np.testing.assert_allclose(scorer.score(["hello"], ["good"]), scorer.score(["hello"], ["good"]))


def test_pair_uncertainty():
    same = np.zeros((4, 2))
    assert pair_uncertainty(same)[0] == pytest.approx(1.0)
    sure = np.array([[10.0, -10.0]] * 4)
    assert pair_uncertainty(sure)[0] < 0.01
    torn = np.array([[5.0, -5.0], [-5.0, 5.0]])  # two models disagree: unsure overall
    assert pair_uncertainty(torn)[0] == pytest.approx(1.0)


def test_priorities_put_the_most_uncertain_item_first(scorer, store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=1)
    ids = [
        add_item(store, c, [f"answer {w}", f"reply {w} {w} {w}"], prompt=f"q {w}")[0] for w in ("sky", "cat", "dog")
    ]
    scores = prioritize(store, c, [scorer], mc_samples=4)
    assert {s.item_id for s in scores} == set(ids) and all(0 <= s.uncertainty <= 1 for s in scores)
    assert all(0.5 <= s.confidence <= 1 for s in scores)
    most_uncertain = max(scores, key=lambda s: s.uncertainty).item_id
    assert next_item(store, make_user(), c).item_id == most_uncertain
    assert [p.item_id for p in pending_items(store, c)] == ids
    assert score_items([scorer], []) == []


def test_reward_function_scores_text_and_conversational_input_alike(scorer):
    candidates = ["good", "bad", "great answer"]
    rewards = list(scorer.score(["hello"] * 3, candidates))
    fn = reward_function(scorer)
    chat = [[{"role": "user", "content": "hello"}]] * 3
    conversational = [[{"role": "assistant", "content": c}] for c in candidates]
    assert fn.__name__ == "reward_model"
    assert fn(prompts=chat, completions=conversational, completion_ids=None) == pytest.approx(
        list(scorer.score(chat, candidates))
    )
    assert fn(["hello"] * 3, candidates) == pytest.approx(rewards)
