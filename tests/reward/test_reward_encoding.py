"""Encoding: the tokenizer's own pair layout, our truncation (end of the prompt and the whole completion kept), the
chat-template path, and HH rendering of chats for tokenizers without a template."""

from reward_helpers import bert_tokenizer
from tiny import tiny_tokenizer

from reward.encoding import PairEncoder, fit, render_prompt


def test_fit_keeps_the_end_of_the_prompt_and_the_whole_completion():
    prompt, completion = list(range(100, 120)), list(range(5))
    assert fit(prompt, completion, 30) == (prompt, completion)
    assert fit(prompt, completion, 10) == (prompt[-5:], completion)
    long = list(range(40))
    kept_prompt, kept_completion = fit(prompt, long, 20)
    assert kept_prompt == prompt[-5:] and kept_completion == long[:15]
    assert fit([], long, 8) == ([], long[:8])


def test_bert_layout_and_length_budget():
    tok = bert_tokenizer()
    enc = PairEncoder(tok, max_length=8)
    (ids,) = enc.encode(["tell me why the sky is blue"], ["it is light"])
    assert len(ids) == 8
    assert tok.convert_ids_to_tokens(ids) == ["[CLS]", "is", "blue", "[SEP]", "it", "is", "light", "[SEP]"]
    assert enc.stats.prompt_cut == 1 and enc.stats.completion_cut == 0


def test_chat_prompts_render_as_hh_text_without_a_template():
    chat = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yes"},
        {"role": "user", "content": "why"},
    ]
    assert render_prompt(chat) == "Human: hi\n\nAssistant: yes\n\nHuman: why\n\nAssistant:"
    tok = bert_tokenizer()
    (ids,) = PairEncoder(tok, 64).encode([chat], [[{"role": "assistant", "content": "because"}]])
    assert tok.convert_ids_to_tokens(ids)[-2:] == ["[UNK]", "[SEP]"]  # "because" is not in the tiny vocabulary


def test_chat_template_path_matches_the_template():
    tok = tiny_tokenizer()
    enc = PairEncoder(tok, 64)
    assert enc.use_chat_template
    chat = [{"role": "user", "content": "hello world"}]
    (ids,) = enc.encode([chat], ["good answer"])
    expected = tok.apply_chat_template([*chat, {"role": "assistant", "content": "good answer"}], tokenize=False)
    assert ids == tok(expected, add_special_tokens=False)["input_ids"]
    (text_ids,) = enc.encode(["hello"], ["good"])
    assert text_ids[-1] == tok.eos_token_id  # no pair layout: EOS closes the sequence, as TRL does
