"""Pure record parsing: the HH-RLHF splitter and the TRL preference formats."""

import pytest

from hitl.errors import InvalidInput
from hitl.io.records import parse_preference, parse_strength, parse_tags, split_hh_dialogue

PREFIX = "\n\nHuman: How do I boil an egg?\n\nAssistant: Soft or hard?\n\nHuman: Hard."


def test_hh_split_multi_turn():
    prompt, chosen, rejected = split_hh_dialogue(
        PREFIX + "\n\nAssistant: Boil it for ten minutes.", PREFIX + "\n\nAssistant: Just microwave it."
    )
    assert prompt == [
        {"role": "user", "content": "How do I boil an egg?"},
        {"role": "assistant", "content": "Soft or hard?"},
        {"role": "user", "content": "Hard."},
    ]
    assert (chosen, rejected) == ("Boil it for ten minutes.", "Just microwave it.")


def test_hh_split_answers_sharing_a_start():
    # The common text runs into the answers ("Boil it for "): the split must still be at the last marker.
    _, chosen, rejected = split_hh_dialogue(
        PREFIX + "\n\nAssistant: Boil it for ten minutes.", PREFIX + "\n\nAssistant: Boil it for two minutes."
    )
    assert (chosen, rejected) == ("Boil it for ten minutes.", "Boil it for two minutes.")


def test_hh_split_keeps_answers_that_contain_human_turns():
    # Real HH data has answers that run on into a made-up "Human:" turn; the shared text decides the split.
    prompt, chosen, rejected = split_hh_dialogue(
        PREFIX + "\n\nAssistant: Ten minutes.\n\nHuman: Thanks!", PREFIX + "\n\nAssistant: No idea."
    )
    assert prompt[-1] == {"role": "user", "content": "Hard."}
    assert chosen == "Ten minutes.\n\nHuman: Thanks!" and rejected == "No idea."


@pytest.mark.parametrize(
    "chosen, rejected, message",
    [
        ("just text", "other text", "HH-RLHF dialogues"),
        ("\n\nHuman: a\n\nAssistant: b", "\n\nHuman: c\n\nAssistant: d", "HH-RLHF dialogues"),
        ("\n\nAssistant: a", "\n\nAssistant: b", "not an HH-RLHF dialogue"),
        (["x"], "y", "must be a dialogue string"),
    ],
)
def test_hh_split_refuses_non_dialogues(chosen, rejected, message):
    with pytest.raises(InvalidInput, match=message):
        split_hh_dialogue(chosen, rejected)


def test_hh_record_with_empty_answer_is_refused():
    with pytest.raises(InvalidInput, match="chosen is empty"):
        parse_preference({"chosen": PREFIX + "\n\nAssistant: ", "rejected": PREFIX + "\n\nAssistant: No."}, 1000)


def test_trl_explicit_conversational_record():
    value = parse_preference(
        {
            "prompt": [{"role": "user", "content": "Hi?"}],
            "chosen": [{"role": "assistant", "content": "Hello!"}],
            "rejected": [{"role": "assistant", "content": "Go away."}],
            "margin": 2.6,
        },
        1000,
    )
    assert value.prompt.messages == [{"role": "user", "content": "Hi?"}]
    assert (value.chosen, value.rejected, value.strength) == ("Hello!", "Go away.", 3)


def test_trl_implicit_prompt_record():
    turns = [{"role": "user", "content": "Hi?"}]
    value = parse_preference(
        {
            "chosen": [*turns, {"role": "assistant", "content": "Hello!"}],
            "rejected": [*turns, {"role": "assistant", "content": "No."}],
        },
        1000,
    )
    assert value.prompt.messages == turns and value.chosen == "Hello!"


@pytest.mark.parametrize(
    "record, message",
    [
        ({"prompt": "q", "chosen": "same", "rejected": " same "}, "same text"),
        ({"prompt": "q", "chosen": "", "rejected": "b"}, "chosen is empty"),
        ({"prompt": "q", "chosen": "a"}, "needs 'chosen' and 'rejected'"),
        ({"prompt": "q", "chosen": "a" * 50, "rejected": "b"}, "over the limit"),
        ({"prompt": "q", "chosen": [{"role": "user", "content": "a"}], "rejected": "b"}, "assistant message"),
        ({"prompt": "q", "chosen": "a", "rejected": "b", "strength": 7}, "strength"),
        ({"prompt": "q", "chosen": "a", "rejected": "b", "margin": "big"}, "number"),
    ],
)
def test_bad_preference_records(record, message):
    with pytest.raises(InvalidInput, match=message):
        parse_preference(record, 40)


def test_strength_from_margin_is_rounded_and_clipped():
    assert parse_strength({}) == 2
    assert parse_strength({"margin": 0.0}) == 1
    assert parse_strength({"margin": 9.0}) == 3
    assert parse_strength({"strength": 1, "margin": 3}) == 1


def test_tags_from_list_or_comma_string():
    assert parse_tags("a, b,,c") == ["a", "b", "c"]
    assert parse_tags(["x", 2]) == ["x", "2"]
    with pytest.raises(InvalidInput):
        parse_tags({"a": 1})
