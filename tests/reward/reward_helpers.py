"""Helpers of the reward tests: a tiny random BERT backbone and word-level tokenizer built offline, planted-preference
data, and judgments made through the real queue."""

from __future__ import annotations

import random

import torch

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


def add_item(store, campaign, answers, prompt="Explain tides.", gold_answer=None) -> tuple[int, list[int]]:
    """One item of `campaign` over new responses with these texts; (item id, response ids in canonical order)."""
    from hitl.catalog import add_item as catalog_add_item
    from hitl.catalog import add_prompt, add_response

    with store.write() as conn:
        pid = add_prompt(conn, text=prompt)
        rids = [add_response(conn, prompt_id=pid, text=t) for t in answers]
        iid = catalog_add_item(
            conn,
            campaign_id=campaign.id,
            prompt_id=pid,
            response_ids=rids,
            item_kind=campaign.settings.item_kind,
            gold_answer=gold_answer,
        )
    return iid, rids


def judge(store, campaign, user, item_id, ranking=(), **fields) -> None:
    """`user` leases `item_id` from the real queue and submits a judgment (ranking: response ids, best first)."""
    import uuid

    from hitl.queue import JudgmentInput, next_item, submit

    lease = next_item(store, user, campaign)
    assert lease is not None and lease.item_id == item_id, "the queue served another item"
    submit(store, lease.lease_token, uuid.uuid4().hex, JudgmentInput(ranking=list(ranking), **fields), user=user)


def adjudicate(store, item_id, reviewer, ranking, strength=2) -> None:
    import time

    from sqlalchemy import insert

    from hitl.store.schema import adjudications

    with store.write() as conn:
        conn.execute(
            insert(adjudications).values(
                item_id=item_id,
                reviewer_id=reviewer.id,
                ranking=list(ranking),
                strength=strength,
                tie=False,
                both_bad=False,
                note="",
                created_at=time.time(),
            )
        )
