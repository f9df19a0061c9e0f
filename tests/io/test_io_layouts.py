"""Published preference sets in their own layouts: UltraFeedback-binarized (saved with its split names),
HH-RLHF, HelpSteer2 (aspects kept) and HelpSteer2's preference config, written here as small fixtures."""

import json

import pytest
from io_helpers import write_jsonl
from sqlalchemy import select

from hitl.errors import InvalidInput
from hitl.io import import_preferences
from hitl.io.records import parse_preference, strength_from_gap
from hitl.store.schema import items, judgments, prompts, responses


def _uf_row(prompt, chosen, rejected, score_chosen, score_rejected):
    """A row as HuggingFaceH4/ultrafeedback_binarized writes it (train_prefs / test_prefs)."""
    conversation = [{"role": "user", "content": prompt}]
    return {
        "prompt": prompt,
        "prompt_id": f"id-{len(prompt)}",
        "chosen": [*conversation, {"role": "assistant", "content": chosen}],
        "rejected": [*conversation, {"role": "assistant", "content": rejected}],
        "messages": [*conversation, {"role": "assistant", "content": chosen}],
        "score_chosen": score_chosen,
        "score_rejected": score_rejected,
    }


UF_TRAIN = [
    _uf_row("Name a prime.", "7 is prime.", "9.", 9.0, 2.0),
    _uf_row("Say hi.", "Hi there!", "Hello.", 8.0, 7.5),
    _uf_row("Two plus two?", "Four.", "Five.", 7.0, 3.0),
]
UF_TEST = [_uf_row("Capital of Peru?", "Lima.", "Cusco.", 8.0, 8.0)]  # a tie, as the set holds a few


@pytest.fixture
def ultrafeedback(tmp_path):
    import datasets

    folder = tmp_path / "ultrafeedback_binarized"
    datasets.DatasetDict(
        {
            "train_prefs": datasets.Dataset.from_list(UF_TRAIN),
            "test_prefs": datasets.Dataset.from_list(UF_TEST),
            "train_sft": datasets.Dataset.from_list(UF_TRAIN[:1]),
        }
    ).save_to_disk(str(folder))
    return folder


def _stored(store, campaign):
    """(prompt text, chosen text, rejected text, strength, chosen response's sampling) per imported judgment."""
    query = (
        select(prompts.c.text, prompts.c.messages, judgments.c.ranking, judgments.c.strength)
        .join(items, items.c.id == judgments.c.item_id)
        .join(prompts, prompts.c.id == items.c.prompt_id)
        .where(items.c.campaign_id == campaign.id)
        .order_by(judgments.c.id)
    )
    with store.read() as conn:
        found = conn.execute(query).all()
        out = []
        for text, messages, ranking, strength in found:
            chosen, rejected = (
                conn.execute(select(responses.c.text, responses.c.sampling).where(responses.c.id == rid)).one()
                for rid in ranking
            )
            out.append((text, messages, chosen.text, rejected.text, strength, chosen.sampling, rejected.sampling))
    return out


def test_a_row_with_prompt_and_messages_is_read_not_refused():
    # Fails before this layout was known: "give either 'prompt' or 'messages', not both".
    value = parse_preference(UF_TRAIN[0], 10_000)
    assert value.prompt.text == "Name a prime." and value.prompt.messages is None
    assert (value.chosen, value.rejected, value.strength) == ("7 is prime.", "9.", 3)
    assert value.chosen_scores == {"score": 9.0} and value.rejected_scores == {"score": 2.0}


def test_ultrafeedback_split_by_name_with_strength_from_scores(store, make_campaign, ultrafeedback):
    c = make_campaign(overlap=1)
    report = import_preferences(store, f"{ultrafeedback}:train_prefs", campaign=c, as_="judgments")
    assert report.counts["judgments"] == 3 and report.counts["prompts_created"] == 3
    rows = _stored(store, c)
    # Gaps 7, 0.5 and 4 on the 1-10 scale: much better, slightly better, clearly better.
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("Name a prime.", "7 is prime.", "9.", 3),
        ("Say hi.", "Hi there!", "Hello.", 1),
        ("Two plus two?", "Four.", "Five.", 2),
    ]
    assert rows[0][5] == {"scores": {"score": 9.0}} and rows[0][6] == {"scores": {"score": 2.0}}


def test_ultrafeedback_ties_refused_or_skipped_and_splits_named(store, make_campaign, ultrafeedback):
    c = make_campaign(overlap=1)
    with pytest.raises(InvalidInput, match="row 0: .*a tie"):
        import_preferences(store, f"{ultrafeedback}:test_prefs", campaign=c, as_="judgments")
    with pytest.raises(InvalidInput, match="every record was invalid"):
        import_preferences(store, f"{ultrafeedback}:test_prefs", campaign=c, skip_invalid=True)
    with pytest.raises(InvalidInput, match="no split 'train'; its splits: train_prefs, test_prefs, train_sft"):
        import_preferences(store, f"{ultrafeedback}:train", campaign=c)
    with pytest.raises(InvalidInput, match=r"import one of them, e.g. .*:train_prefs"):
        import_preferences(store, ultrafeedback, campaign=c)


def test_ultrafeedback_parquet_as_the_hub_stores_it(store, make_campaign, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "train_prefs-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(UF_TRAIN), path)
    c = make_campaign(overlap=1)
    assert import_preferences(store, path, campaign=c, as_="gold").counts["gold_items"] == 3


def test_hh_rlhf_layout(store, make_campaign, tmp_path):
    # Anthropic/hh-rlhf: two whole dialogues per record, nothing else.
    shared = "\n\nHuman: How do I boil an egg?\n\nAssistant: Soft or hard?\n\nHuman: Hard."
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {"chosen": shared + "\n\nAssistant: Ten minutes.", "rejected": shared + "\n\nAssistant: No idea."},
            {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."},
        ],
    )
    c = make_campaign(overlap=1)
    import_preferences(store, path, campaign=c, as_="judgments")
    rows = _stored(store, c)
    assert rows[0][1][-1] == {"role": "user", "content": "Hard."} and len(rows[0][1]) == 3
    assert [(r[2], r[3], r[4]) for r in rows] == [("Ten minutes.", "No idea.", 2), ("Hello!", "Go away.", 2)]


def _hs2(prompt, response, helpfulness, correctness=3, coherence=4, complexity=1, verbosity=2):
    """A row of nvidia/HelpSteer2 (one response per row, five aspects on 0-4)."""
    return dict(
        prompt=prompt,
        response=response,
        helpfulness=helpfulness,
        correctness=correctness,
        coherence=coherence,
        complexity=complexity,
        verbosity=verbosity,
    )


def test_helpsteer2_pairs_consecutive_responses_and_keeps_aspects(store, make_campaign, tmp_path):
    path = write_jsonl(
        tmp_path / "helpsteer2.jsonl",
        [
            _hs2("Explain tides.", "The moon pulls the sea.", 1, correctness=2),
            _hs2("Explain tides.", "The moon's gravity raises bulges of water.", 4),
            _hs2("Define an atom.", "Small.", 2),
            _hs2("Define an atom.", "The smallest unit of an element.", 3),
            _hs2("Say hi.", "Hi.", 2),
            _hs2("Say hi.", "Hello.", 2),  # equally helpful: a tie
        ],
    )
    c = make_campaign(overlap=1)
    report = import_preferences(store, path, campaign=c, as_="judgments", skip_invalid=True)
    assert report.counts["judgments"] == 2 and report.counts["skipped"] == 1
    assert "line 5" in report.skipped[0] and "a tie" in report.skipped[0]
    rows = _stored(store, c)
    assert [(r[0], r[2], r[4]) for r in rows] == [
        ("Explain tides.", "The moon's gravity raises bulges of water.", 3),  # helpfulness 4 vs 1
        ("Define an atom.", "The smallest unit of an element.", 1),  # 3 vs 2
    ]
    aspects = {"helpfulness": 1.0, "correctness": 2.0, "coherence": 4.0, "complexity": 1.0, "verbosity": 2.0}
    assert rows[0][6] == {"scores": aspects}
    assert rows[0][5]["scores"]["helpfulness"] == 4.0


def test_helpsteer2_lone_response_is_named(store, make_campaign, tmp_path):
    path = write_jsonl(tmp_path / "hs2.jsonl", [_hs2("A?", "a", 1), _hs2("A?", "b", 2), _hs2("B?", "c", 3)])
    with pytest.raises(InvalidInput, match="line 3: a HelpSteer2 prompt needs at least two responses"):
        import_preferences(store, path, campaign=make_campaign())


def test_helpsteer2_preference_config(store, make_campaign, tmp_path):
    # nvidia/HelpSteer2, data_dir="preference": preference_strength -3..3, negative when response_1 is better.
    path = write_jsonl(
        tmp_path / "preference.jsonl",
        [
            {"split": "train", "prompt": "Pick a colour.", "response_1": "Blue.", "response_2": "Hmm.",
             "preference_strength": -3, "preference_statement": "@Response 1 is much better."},
            {"split": "train", "prompt": "Pick a number.", "response_1": "Um.", "response_2": "Seven.",
             "preference_strength": 1, "preference_statement": "@Response 2 is slightly better."},
        ],
    )  # fmt: skip
    c = make_campaign(overlap=1)
    import_preferences(store, path, campaign=c, as_="judgments")
    assert [(r[0], r[2], r[3], r[4]) for r in _stored(store, c)] == [
        ("Pick a colour.", "Blue.", "Hmm.", 3),
        ("Pick a number.", "Seven.", "Um.", 1),
    ]


def test_strength_from_gap_steps_by_quarters_of_the_scale():
    assert [strength_from_gap(g, 10) for g in (0.5, 2.5, 2.6, 5.0, 9.0)] == [1, 1, 2, 2, 3]
    assert [strength_from_gap(g, 4) for g in (1, 2, 3, 4)] == [1, 2, 3, 3]


def test_whole_conversations_must_share_the_prompt():
    row = _uf_row("Say hi.", "Hi!", "Yo.", 5, 1)
    row["rejected"] = [{"role": "user", "content": "Something else."}, {"role": "assistant", "content": "Yo."}]
    with pytest.raises(InvalidInput, match="share every turn before the answer"):
        parse_preference(row, 1000)
    other = _uf_row("Say hi.", "Hi!", "Yo.", 5, 1) | {"prompt": "Not the turn."}
    with pytest.raises(InvalidInput, match="not the last user turn"):
        parse_preference(other, 1000)
    backwards = _uf_row("Say hi.", "Hi!", "Yo.", 1, 5)
    with pytest.raises(InvalidInput, match="higher than 'score_chosen'"):
        parse_preference(backwards, 1000)
    assert json.dumps(parse_preference(_uf_row("Say hi.", "Hi!", "Yo.", 5, 1), 1000).prompt.text) == '"Say hi."'
