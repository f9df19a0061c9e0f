"""The one reward scorer: the tokenization of training, batched; for evaluation, pre-labels, queue priorities,
best-of-n and the policy's reward.

    python -c "from reward.score import RewardScorer as S; print(S.from_pretrained('DIR').score(['Hi'], ['Hey!']))"

`RewardScorer.score` gives one reward per (prompt, completion). `mc_scores` repeats it with dropout on (MC
dropout) for uncertainty; `pair_uncertainty` turns samples from one or more scorers (a small ensemble) into how
unsure the models are which response is better. `reward_function` is the `(prompts, completions, **kw) ->
list[float]` callable TRL's GRPO / RLOO take, so the policy is rewarded exactly as the reward model was trained.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reward.encoding import PairEncoder, Prompt, completion_text
from reward.models import load_reward_model, max_positions

# Dropout used for MC samples when the model's own dropout is 0 (TRL disables it while training).
MC_DROPOUT_P = 0.1


class RewardScorer:
    """Rewards from a sequence-classification model with one output, batched by length."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_length: int = 512,
        use_chat_template: bool = True,
        batch_size: int = 32,
    ):
        limit = max_positions(model)
        self.model = model
        self.tokenizer = tokenizer
        self.encoder = PairEncoder(tokenizer, min(max_length, limit) if limit else max_length, use_chat_template)
        self.batch_size = batch_size
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def from_pretrained(cls, path: str | Path, batch_size: int = 32) -> RewardScorer:
        """A scorer for a folder `reward.train` wrote, encoding exactly as its training did."""
        model, tokenizer, settings = load_reward_model(path)
        encoding = settings.get("encoding", {})
        return cls(model, tokenizer, batch_size=batch_size, **encoding)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _batches(self, ids: list[list[int]]) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
        # Longest first, so similar lengths share a batch (little padding) and memory peaks at once.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in chunk)
            input_ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = 1
            yield chunk, input_ids.to(self.device), mask.to(self.device)

    def score_ids(self, ids: list[list[int]]) -> np.ndarray:
        """Rewards of already encoded sequences, in their order."""
        out = np.zeros(len(ids), dtype=np.float64)
        with torch.inference_mode():
            for chunk, input_ids, mask in self._batches(ids):
                logits = self.model(input_ids=input_ids, attention_mask=mask).logits[:, 0]
                out[chunk] = logits.float().cpu().numpy()
        return out

    def score(self, prompts: Sequence[Prompt], completions: Sequence[Any]) -> np.ndarray:
        """One reward per (prompt, completion); completions as text or TRL conversational lists."""
        if not len(prompts):
            return np.zeros(0)
        self.model.eval()
        return self.score_ids(self.encoder.encode(list(prompts), list(completions)))

    def score_pairs(
        self, prompts: Sequence[Prompt], chosen: Sequence[str], rejected: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        both = self.score([*prompts, *prompts], [*chosen, *rejected])
        return both[: len(prompts)], both[len(prompts) :]

    @contextlib.contextmanager
    def _dropout_on(self) -> Iterator[None]:
        layers = [m for m in self.model.modules() if isinstance(m, torch.nn.Dropout)]
        saved = [(m, m.p, m.training) for m in layers]
        for m in layers:
            m.p = m.p or MC_DROPOUT_P
            m.train()
        try:
            yield
        finally:
            for m, p, training in saved:
                m.p = p
                m.train(training)

    def mc_scores(self, prompts: Sequence[Prompt], completions: Sequence[Any], samples: int = 8) -> np.ndarray:
        """[samples, n] rewards with dropout on; one plain pass when samples <= 1 (or the model has no dropout)."""
        self.model.eval()
        ids = self.encoder.encode(list(prompts), list(completions))
        if samples <= 1:
            return self.score_ids(ids)[None, :]
        with self._dropout_on():
            return np.stack([self.score_ids(ids) for _ in range(samples)])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def pair_uncertainty(samples: np.ndarray) -> tuple[float, np.ndarray]:
    """How unsure sampled rewards ([samples, k responses of one item]) are about the order: the entropy (in bits,
    0..1) of the mean probability that one response beats the other, averaged over the item's response pairs.
    Highest when the models cannot tell the responses apart or disagree with each other. Also the mean rewards."""
    mean = samples.mean(axis=0)
    entropies = []
    for a, b in itertools.combinations(range(samples.shape[1]), 2):
        p = float(sigmoid(samples[:, a] - samples[:, b]).mean())
        p = min(max(p, 1e-12), 1 - 1e-12)
        entropies.append(-(p * math.log2(p) + (1 - p) * math.log2(1 - p)))
    return (float(np.mean(entropies)) if entropies else 0.0), mean


def ensemble_samples(
    scorers: Sequence[RewardScorer], prompts: Sequence[Prompt], completions: Sequence[Any], mc_samples: int = 8
) -> np.ndarray:
    """[samples, n] rewards from every scorer (each with MC dropout when mc_samples > 1), stacked."""
    return np.concatenate([s.mc_scores(prompts, completions, mc_samples) for s in scorers])


def reward_function(scorer: RewardScorer, name: str = "reward_model") -> Callable[..., list[float]]:
    """A TRL reward function: `(prompts, completions, **kwargs) -> list[float]`, text or conversational."""

    def reward(prompts: Sequence[Prompt], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        texts = [completion_text(c) for c in completions]
        return [float(r) for r in scorer.score(list(prompts), texts)]

    reward.__name__ = name
    return reward


def reward_function_for(store: Any, ref: str, batch_size: int = 32) -> tuple[Callable[..., list[float]], int | None]:
    """(TRL reward function, version id) for a reward model given by version name, id or folder."""
    from reward.models import resolve_reward_ref

    path, version_id = resolve_reward_ref(store, ref)
    return reward_function(RewardScorer.from_pretrained(path, batch_size=batch_size)), version_id


def judge_for(store: Any, ref: str, batch_size: int = 32) -> Callable[[Any, Sequence[str]], list[float]]:
    """An oracle-shaped judge `(prompt, answers) -> scores` from a reward model (version name, id or folder).

    Simulated raters and `hitl eval-policy --reward` take judges of this shape, so a trained reward model
    can stand in anywhere a rule oracle can.
    """
    from reward.models import resolve_reward_ref

    path, _ = resolve_reward_ref(store, ref)
    scorer = RewardScorer.from_pretrained(path, batch_size=batch_size)

    def judge(prompt: Any, answers: Sequence[str]) -> list[float]:
        return [float(s) for s in scorer.score([prompt] * len(answers), list(answers))]

    judge.__name__ = f"reward:{ref}"
    return judge
