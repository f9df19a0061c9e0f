"""How an encoder backbone turns its token states into the one vector the score head reads.

    hitl train-reward --config configs/cpu.yaml --pooling mean

"model" (the default) keeps the architecture's own head: BERT-style classifiers read the [CLS] token through a
dense + tanh "pooler". "mean" reads the mean of the token states, the way sentence-transformers models such as
the default all-MiniLM-L6-v2 were trained to be read. On HH-RLHF harmless (scripts/bench_reward.py settings, three
seeds each) the two were within noise of each other (0.626 vs 0.618 median held-out accuracy), so the default
stays the model's own; mean is there for backbones and data where it helps.

The mean is taken over real tokens only: a forward pre-hook on the encoder keeps the attention mask (per thread)
for the pooler, which transformers calls with the token states alone. The choice is saved with the reward model
(reward.models) and put back on load, so training, evaluation and scoring read the same vector.
"""

from __future__ import annotations

import threading
from typing import Any

from hitl.errors import InvalidInput

POOLINGS = ("model", "mean")


def check_pooling(pooling: str) -> str:
    if pooling not in POOLINGS:
        raise InvalidInput(f"pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
    return pooling


def _pooled_encoder(model: Any) -> Any:
    """The encoder module whose `pooler` feeds the score head (BERT-style classifiers), or None."""
    encoder = getattr(model, getattr(model, "base_model_prefix", ""), None)
    return encoder if getattr(encoder, "pooler", None) is not None else None


def _mean_pooler() -> Any:
    """A torch module standing in for the pooler: the mean of the token states under the attention mask."""
    import torch

    class MeanPooler(torch.nn.Module):
        mean_pooling = True

        def __init__(self) -> None:
            super().__init__()
            self.local = threading.local()  # the mask of the forward pass running on this thread

        def forward(self, hidden: torch.Tensor) -> torch.Tensor:
            mask = getattr(self.local, "mask", None)
            if mask is None or mask.dim() != 2:
                return hidden.mean(dim=1)
            weights = mask[:, : hidden.shape[1]].unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)

    return MeanPooler()


def pooling_of(model: Any) -> str:
    """The pooling `model` uses ('mean' or 'model'): what is saved beside a trained reward model."""
    mean = getattr(getattr(_pooled_encoder(model), "pooler", None), "mean_pooling", False)
    return "mean" if mean else "model"


def apply_pooling(model: Any, pooling: str) -> Any:
    """Set `pooling` ('model' or 'mean') on `model` in place; returns the model."""
    if check_pooling(pooling) == "model":
        return model
    encoder = _pooled_encoder(model)
    if encoder is None:
        raise InvalidInput(
            f"mean pooling needs an encoder whose classifier reads a pooler (BERT-style); {type(model).__name__} "
            "has none: use --pooling model"
        )
    if pooling_of(model) == "mean":
        return model
    pooler = _mean_pooler()
    encoder.pooler = pooler

    def keep_mask(_module, args, kwargs):
        mask = kwargs.get("attention_mask")
        if mask is None and len(args) > 1:
            mask = args[1]
        pooler.local.mask = mask

    encoder.register_forward_pre_hook(keep_mask, with_kwargs=True)
    return model
