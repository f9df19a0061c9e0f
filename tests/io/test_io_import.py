"""Imports: prompts, responses, preferences; every refusal names file and line and stores nothing."""

import pytest
from io_helpers import table_counts, write_csv, write_jsonl
from sqlalchemy import select

from hitl.catalog import add_prompt
from hitl.errors import Conflict, InvalidInput, NotFound
from hitl.io import import_preferences, import_prompts, import_responses
from hitl.store.schema import items, judgments, model_versions, prompts, responses, users

EMPTY = {"prompts": 0, "responses": 0, "items": 0, "judgments": 0}


def test_import_prompts_jsonl_with_tags(store, tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": "a", "prompt": "Explain tides.", "tags": ["science"]},
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]},
        ],
    )
    report = import_prompts(store, path, tags=["batch1"])
    assert report.counts == {"prompts": 2} and "2 prompts" in report.summary()
    with store.read() as conn:
        rows = conn.execute(select(prompts).order_by(prompts.c.id)).all()
    assert rows[0].external_id == "a" and rows[0].tags == ["batch1", "science"] and rows[0].source == "p.jsonl"
    assert rows[1].text is None and rows[1].messages[1] == {"role": "user", "content": "Hi"}


def test_import_prompts_csv(store, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["id", "prompt", "tags"], [["a", "First?", "x, y"], ["", "Second?", ""]])
    import_prompts(store, path)
    with store.read() as conn:
        rows = conn.execute(select(prompts.c.external_id, prompts.c.text, prompts.c.tags).order_by(prompts.c.id)).all()
    assert [tuple(r) for r in rows] == [("a", "First?", ["x", "y"]), (None, "Second?", [])]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"prompt": "   "}, r"p\.jsonl, line 3: prompt is empty"),
        ({"prompt": "x" * 300}, r"line 3: prompt is 300 bytes, over the limit of 200"),
        ({"id": "a", "prompt": "again"}, r"line 3: id 'a' is also used at line 1"),
        ({"prompt": "x", "messages": [{"role": "user", "content": "y"}]}, "line 3: give either"),
        ({"text": "wrong key"}, "line 3: 'prompt' is missing"),
    ],
)
def test_bad_prompt_record_refuses_the_whole_file(store, tmp_path, bad, message):
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "ok"}, {"prompt": "fine"}, bad])
    with pytest.raises(InvalidInput, match=message):
        import_prompts(store, path, max_text_bytes=200)
    assert table_counts(store) == EMPTY


def test_malformed_jsonl_stores_nothing(store, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "ok"}\n{"prompt": "broken\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"p\.jsonl, line 2"):
        import_prompts(store, path)
    assert table_counts(store) == EMPTY


def test_id_already_stored_is_refused(store, tmp_path):
    with store.write() as conn:
        add_prompt(conn, text="old", external_id="a")
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "b", "prompt": "new"}, {"id": "a", "prompt": "clash"}])
    with pytest.raises(Conflict, match=r"line 2: a prompt with id 'a' already exists"):
        import_prompts(store, path)
    assert table_counts(store)["prompts"] == 1


def test_import_responses_pairs_every_two_distinct_answers(store, make_campaign, tmp_path):
    c = make_campaign(gold_rate=0.0)
    import_prompts(store, write_jsonl(tmp_path / "p.jsonl", [{"id": "q1", "prompt": "Why?"}]))
    records = [
        {"prompt_id": "q1", "response": "A", "model": "m1", "sampling": {"temperature": 0.7}},
        {"prompt_id": "q1", "response": "B"},
        {"prompt_id": "q1", "response": " A "},  # identical to the first once stripped: never compared
        {"prompt_id": "q1", "response": "C"},
        {"prompt": "New prompt?", "response": "D"},  # a single answer: no item
    ]
    report = import_responses(store, write_jsonl(tmp_path / "r.jsonl", records), campaign=c.name, model="base")
    assert report.counts == {"responses": 5, "prompts_created": 1, "model_versions": 2, "items": 3}
    with store.read() as conn:
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
        pairs = [sorted(texts[r] for r in rids) for rids in conn.execute(select(items.c.response_ids)).scalars()]
        sampling = conn.execute(select(responses.c.sampling).where(responses.c.text == "A")).scalar()
        names = set(conn.execute(select(model_versions.c.name)).scalars())
    assert sorted(pairs) == [["A", "B"], ["A", "C"], ["B", "C"]]
    assert sampling == {"temperature": 0.7} and names == {"m1", "base"}


def test_import_responses_consecutive_and_ranking(store, make_campaign, tmp_path):
    records = [{"prompt": "Why?", "response": t} for t in "ABCD"]
    path = write_jsonl(tmp_path / "r.jsonl", records)
    chain = make_campaign(gold_rate=0.0)
    assert import_responses(store, path, campaign=chain, pairing="consecutive").counts["items"] == 3
    ranking = make_campaign(gold_rate=0.0, item_kind="ranking")
    assert import_responses(store, path, campaign=ranking).counts["items"] == 1
    with store.read() as conn:
        sizes = conn.execute(select(items.c.response_ids).where(items.c.campaign_id == ranking.id)).scalars().all()
        n_prompts = conn.execute(select(prompts.c.id)).scalars().all()
    assert [len(s) for s in sizes] == [4]
    assert len(n_prompts) == 1  # the second import found the prompt by its text


def test_unknown_prompt_id_refuses_the_file(store, make_campaign, tmp_path):
    path = write_jsonl(
        tmp_path / "r.jsonl", [{"prompt": "Known", "response": "A"}, {"prompt_id": "nope", "response": "B"}]
    )
    with pytest.raises(NotFound, match=r"r\.jsonl, line 2: no stored prompt has id 'nope'"):
        import_responses(store, path, campaign=make_campaign())
    assert table_counts(store) == EMPTY


def test_empty_response_is_refused(store, tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [{"prompt": "Q", "response": "A"}, {"prompt": "Q", "response": ""}])
    with pytest.raises(InvalidInput, match="line 2: response is empty"):
        import_responses(store, path)
    assert table_counts(store) == EMPTY


PREFS = [
    {"prompt": f"Question {i}?", "chosen": f"Good answer {i}.", "rejected": f"Bad answer {i}."} for i in range(12)
]


def test_preferences_as_gold_point_at_the_chosen_response_in_mixed_positions(store, make_campaign, tmp_path):
    c = make_campaign()
    report = import_preferences(store, write_jsonl(tmp_path / "g.jsonl", PREFS), campaign=c, as_="gold", seed=3)
    assert report.counts["gold_items"] == 12 and report.counts["items"] == 12
    with store.read() as conn:
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
        rows = conn.execute(select(items.c.response_ids, items.c.gold_answer, items.c.is_gold)).all()
    assert all(r.is_gold and texts[r.response_ids[r.gold_answer]].startswith("Good") for r in rows)
    assert 0 < sum(r.gold_answer for r in rows) < 12  # the chosen one is not always first (or always second)


def test_preferences_as_judgments_by_the_system_user(store, make_campaign, tmp_path):
    c = make_campaign(overlap=1)
    path = write_jsonl(tmp_path / "j.jsonl", [{**PREFS[0], "margin": 3.0}, PREFS[1], PREFS[1]])
    report = import_preferences(store, path, campaign=c, as_="judgments")
    assert report.counts["judgments"] == 3
    with store.read() as conn:
        rows = conn.execute(
            select(judgments, users.c.name, users.c.active, items.c.judgment_count, items.c.status)
            .join(users, users.c.id == judgments.c.user_id)
            .join(items, items.c.id == judgments.c.item_id)
            .order_by(judgments.c.id)
        ).all()
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
    assert [r.strength for r in rows] == [3, 2, 2]
    assert all(r.name == "import" and not r.active and r.source == "import" for r in rows)
    assert all(r.judgment_count == 1 and r.status == "done" for r in rows)
    assert all(texts[r.ranking[0]].startswith("Good") for r in rows)
    assert len({r.idempotency_key for r in rows}) == 3  # a repeated record gets its own key
    # Importing the same file into the same campaign again is caught by those keys.
    with pytest.raises(Conflict, match=r"j\.jsonl, line 1: this record was already imported"):
        import_preferences(store, path, campaign=c, as_="judgments")
    assert table_counts(store)["judgments"] == 3


def test_a_failure_mid_file_takes_back_the_judgments_already_written(store, make_campaign, tmp_path, monkeypatch):
    """The judgment write runs inside the import's one transaction (on PostgreSQL too: not in autocommit)."""
    from hitl.io import preference_import
    from hitl.queue import record

    written = []

    def record_then_fail(conn, dialect, row):
        written.append(record.record_judgment(conn, dialect, row))
        if len(written) == 2:
            raise RuntimeError("disk full")
        return written[-1]

    monkeypatch.setattr(preference_import, "record_judgment", record_then_fail)
    path = write_jsonl(tmp_path / "j.jsonl", PREFS[:3])
    with pytest.raises(RuntimeError, match="disk full"):
        import_preferences(store, path, campaign=make_campaign(), as_="judgments")
    assert len(written) == 2 and all(isinstance(j, int) for j in written)  # both were written before the failure
    assert table_counts(store) == EMPTY  # and neither survived it


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"prompt": "Q", "chosen": "Same", "rejected": "Same"}, "line 2: chosen and rejected are the same text"),
        ({"prompt": "Q", "chosen": "", "rejected": "B"}, "line 2: chosen is empty"),
        ({"prompt": "", "chosen": "A", "rejected": "B"}, "line 2: prompt is empty"),
    ],
)
def test_bad_preference_refuses_the_file(store, make_campaign, tmp_path, bad, message):
    path = write_jsonl(tmp_path / "g.jsonl", [PREFS[0], bad])
    with pytest.raises(InvalidInput, match=message):
        import_preferences(store, path, campaign=make_campaign(), as_="judgments")
    assert table_counts(store) == EMPTY


def test_skip_invalid_leaves_bad_records_out(store, make_campaign, tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", [PREFS[0], {"prompt": "Q", "chosen": "", "rejected": "B"}])
    report = import_preferences(store, path, campaign=make_campaign(), skip_invalid=True)
    assert report.counts["skipped"] == 1 and report.counts["items"] == 1
    assert "line 2: chosen is empty" in report.skipped[0] and "skipped 1" in report.summary()


def test_hh_dialogues_from_a_saved_dataset(store, make_campaign, tmp_path):
    import datasets

    prefix = "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke."
    rows = [
        {"chosen": prefix + "\n\nAssistant: Why did the chicken...", "rejected": prefix + "\n\nAssistant: No."},
        {"chosen": "\n\nHuman: 2+2?\n\nAssistant: 4", "rejected": "\n\nHuman: 2+2?\n\nAssistant: 5"},
    ]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hh"))
    report = import_preferences(store, tmp_path / "hh", campaign=make_campaign(), as_="gold")
    assert report.counts["items"] == 2 and report.counts["prompts_created"] == 2
    with store.read() as conn:
        chats = conn.execute(select(prompts.c.messages).order_by(prompts.c.id)).scalars().all()
    assert chats[0][-1] == {"role": "user", "content": "Tell me a joke."} and len(chats[0]) == 3
    assert chats[1] == [{"role": "user", "content": "2+2?"}]


def test_dataset_row_is_named_in_errors(store, make_campaign, tmp_path):
    import datasets

    rows = [{"prompt": "Q", "chosen": "A", "rejected": "B"}, {"prompt": "Q", "chosen": "A", "rejected": "A"}]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(InvalidInput, match=r"ds, row 1: chosen and rejected are the same"):
        import_preferences(store, tmp_path / "ds", campaign=make_campaign())


def test_seeded_order_is_reproducible(store, make_campaign, tmp_path):
    path = write_jsonl(tmp_path / "g.jsonl", PREFS)

    def gold_answers(seed):
        c = make_campaign()
        import_preferences(store, path, campaign=c, seed=seed)
        with store.read() as conn:
            query = select(items.c.gold_answer).where(items.c.campaign_id == c.id).order_by(items.c.id)
            return conn.execute(query).scalars().all()

    assert gold_answers(7) == gold_answers(7) != gold_answers(8)
