"""Fixtures of the policy tests: a tiny random Llama and a word-level tokenizer with a chat template, built here.

Offline and fast: nothing is downloaded, the model has 2 layers of width 16, and torch uses one thread.
"""

from __future__ import annotations

import pytest

VOCAB_TEXT = (
    "the a is it yes no maybe good bad sky sea blue green red dog cat runs sleeps eats fast slow here there "
    "one two three four five why how what when where please thanks hello world answer question short long"
)
SPECIAL = ["<unk>", "<pad>", "<bos>", "<eos>"]
# A template in the ChatML style of SmolLM2, small enough to read.
TEMPLATE = (
    "{{ '<bos>' }}{% for m in messages %}{{ m['role'] + ' : ' + m['content'] + ' <eos> ' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'assistant : ' }}{% endif %}"
)


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def build_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    vocab = [*VOCAB_TEXT.split(), "user", "assistant", "system", ":"]
    tok.train_from_iterator([" ".join(vocab)] * 2, trainers.WordLevelTrainer(special_tokens=SPECIAL))
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>"
    )
    hf.chat_template = TEMPLATE
    hf.padding_side = "left"
    return hf


def build_model(tokenizer, seed: int = 0, context: int = 64, init_range: float = 0.02):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=context,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        initializer_range=init_range,
    )
    # Random weights give a near-uniform next-token distribution: EOS comes now and then, as in real sampling.
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_model(tiny_tokenizer):
    return build_model(tiny_tokenizer)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer, tiny_model):
    """The tiny model saved as a local folder, as `--model PATH` reads it."""
    folder = tmp_path_factory.mktemp("tiny-policy")
    tiny_model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory, tiny_tokenizer):
    """A second tiny policy (other random weights), for `--pairing versus`."""
    folder = tmp_path_factory.mktemp("other-policy")
    build_model(tiny_tokenizer, seed=1).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder
