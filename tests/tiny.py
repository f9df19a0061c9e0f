"""Tiny random models and tokenizers built inside tests: offline, fast, and real transformers classes."""

from __future__ import annotations

WORDS = [
    "hello",
    "world",
    "good",
    "bad",
    "answer",
    "question",
    "the",
    "a",
    "is",
    "yes",
    "no",
    "blue",
    "red",
    "green",
    "sky",
    "sea",
    "cat",
    "dog",
    "please",
    "thanks",
    "sorry",
    "maybe",
    "fine",
    "great",
    "awful",
    "short",
    "long",
    "marker",
    "word",
    "one",
    "two",
    "three",
]
SPECIAL = ["<unk>", "<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|> ' + m['content'] + ' </s> ' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|> ' }}{% endif %}"
)


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([" ".join(WORDS)] * 4, trainers.WordLevelTrainer(special_tokens=SPECIAL))
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>", eos_token="</s>"
    )
    hf.chat_template = CHAT_TEMPLATE
    return hf


def tiny_llama(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(config)


def save_tiny_policy(folder) -> str:
    """A tiny random Llama and its tokenizer saved in `folder`, usable wherever a policy path is: returns the path."""
    tok = tiny_tokenizer()
    tiny_llama(tok).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)
