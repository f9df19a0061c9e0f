"""Helpers of the reward tests: a tiny random BERT backbone and word-level tokenizer built offline, planted-preference
data, and judgments made through the real queue."""

from __future__ import annotations

import random

import torch

# Items and judgments through the real queue: the store-level helpers the import/export tests use.
from tests.io.io_helpers import adjudicate as io_adjudicate
from tests.io.io_helpers import make_item as add_item  # noqa: F401 (re-exported)
from tests.io.io_helpers import rate as judge  # noqa: F401 (re-exported)

WORDS = (
    "the a is and of to it on why how what who where when please tell me explain answer question sky sea cat dog "
    "blue red green good bad fine great awful yes no maybe sure sorry thanks hello world one two three four five "
    "six seven eight nine ten apple river stone cloud light dark fast slow marker"
)
VOCAB = WORDS.split()
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
FILLER = [w for w in VOCAB if w != "marker"]


def bert_tokenizer():
    """A word-level tokenizer with BERT's layout ([CLS] a [SEP] b [SEP]) and no EOS, like all-MiniLM-L6-v2's."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(SPECIAL + VOCAB)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


def tiny_bert(vocab_size: int, seed: int = 0):
    """A 2-layer BERT with hidden size 16 and no head (the backbone gets its head when loaded for rewards)."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=96,
        pad_token_id=0,
    )
    return BertModel(config)


def planted_rows(n: int, seed: int = 0) -> list[dict]:
    """Pairs whose chosen response contains the word 'marker' and whose rejected one does not."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        prompt = " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 12))) + f" {i}"
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 10))]
        chosen = list(words)
        chosen.insert(rng.randrange(len(chosen) + 1), "marker")
        rejected = [rng.choice(FILLER) for _ in range(len(chosen))]
        rows.append(
            {
                "prompt": prompt,
                "chosen": " ".join(chosen),
                "rejected": " ".join(rejected),
                "margin": 0.0,
                "weight": 1.0,
                "strength": 2.0,
                "tie": False,
                "source": "file",
                "item_id": None,
            }
        )
    return rows


def adjudicate(store, item_id, reviewer, ranking, strength=2) -> None:
    """A reviewer's final label, recorded now (tests.io.io_helpers.adjudicate with the current time)."""
    import time

    io_adjudicate(store, item_id, reviewer, ranking, strength=strength, at=time.time())
