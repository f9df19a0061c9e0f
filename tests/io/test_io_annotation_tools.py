"""Label Studio and Argilla: their exports (small fixtures in their own layouts) come in, hitl campaigns go out in
those layouts, and a round trip keeps prompts, responses, raters and labels."""

import json

import pytest
from io_helpers import make_item, rate
from sqlalchemy import select

from hitl.errors import Conflict, InvalidInput
from hitl.io.argilla import export_argilla, import_argilla, user_id
from hitl.io.labelstudio import export_labelstudio, import_labelstudio, labeling_config
from hitl.store.schema import items, judgments, prompts, responses, users


def labels_of(store, campaign):
    """{(prompt, responses in canonical order): sorted [(rater, texts best first or 'tie', strength)]}."""
    query = (
        select(items.c.id, items.c.response_ids, prompts.c.text, prompts.c.messages)
        .join(prompts, prompts.c.id == items.c.prompt_id)
        .where(items.c.campaign_id == campaign.id)
    )
    out = {}
    with store.read() as conn:
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
        for item_id, rids, text, messages in conn.execute(query):
            found = conn.execute(
                select(users.c.name, judgments.c.ranking, judgments.c.tie, judgments.c.strength)
                .join(users, users.c.id == judgments.c.user_id)
                .where(judgments.c.item_id == item_id)
            ).all()
            prompt = text if text is not None else json.dumps(messages)
            out[(prompt, tuple(texts[r] for r in rids))] = sorted(
                (name, "tie" if tie else tuple(texts[r] for r in ranking), strength)
                for name, ranking, tie, strength in found
            )
    return out


def strip_prefix(labels, prefix):
    return {k: sorted((n.removeprefix(prefix), r, s) for n, r, s in v) for k, v in labels.items()}


@pytest.fixture
def judged(store, make_user, make_campaign):
    """A pairwise campaign: two raters on one item (a 'much better' and a tie), one on another, one unrated."""
    c = make_campaign(gold_rate=0.0, overlap=2, allow_tie=True)
    alice, bob = make_user(name="alice"), make_user(name="bob")
    first, (a, b) = make_item(store, c, ["Apple.", "A car."], prompt="Name a fruit.")
    second, (x, y) = make_item(
        store, c, ["Paris.", "Lyon."], messages=[{"role": "user", "content": "Capital of France?"}]
    )
    make_item(store, c, ["Yes.", "No."], prompt="Unrated?")
    rate(store, c, alice, first, [a, b], strength=3)
    rate(store, c, bob, first, tie=True, strength=0)
    rate(store, c, alice, second, [y, x], strength=1)
    return c


# What Label Studio's "JSON" export of a Pairwise project looks like (completed_by: the user id).
LS_EXPORT = [
    {
        "id": 101,
        "data": {"prompt": "Best pet?", "text1": "A cat.", "text2": "A rock."},
        "annotations": [
            {"id": 1, "completed_by": 7, "was_cancelled": False, "lead_time": 12.5,
             "result": [{"from_name": "pw", "to_name": "text1,text2", "type": "pairwise",
                         "value": {"selected": "left"}}]},
            {"id": 2, "completed_by": {"id": 8, "email": "kim@example.org"}, "was_cancelled": False,
             "result": [{"from_name": "pw", "to_name": "text1,text2", "type": "pairwise",
                         "value": {"selected": "right"}}]},
            {"id": 3, "completed_by": 9, "was_cancelled": True, "result": []},
        ],
        "predictions": [],
    },
    {"id": 102, "data": {"prompt": "Say hi.", "response_a": "Hi!", "response_b": "Go away."}, "annotations": []},
]  # fmt: skip

LS_RANKER_EXPORT = [
    {
        "id": 5,
        "data": {"prompt": "Sort these.", "items": [{"id": "x", "title": "X", "body": "First answer."},
                                                    {"id": "y", "title": "Y", "body": "Second answer."},
                                                    {"id": "z", "title": "Z", "body": "Third answer."}]},
        "annotations": [
            {"completed_by": 1, "result": [{"from_name": "rank", "to_name": "items", "type": "ranker",
                                             "value": {"ranker": ["y", "z", "x"]}}]},
            {"completed_by": 2, "result": [{"from_name": "rank", "to_name": "items", "type": "ranker",
                                             "value": {"ranker": {"best": ["x", "y", "z"]}}}]},
        ],
    }
]  # fmt: skip


def test_label_studio_pairwise_export_is_imported(store, make_campaign, tmp_path):
    path = tmp_path / "project-1-at-2025.json"
    path.write_text(json.dumps(LS_EXPORT))
    c = make_campaign(overlap=1)
    report = import_labelstudio(store, path, campaign=c)
    assert report.counts == {
        "tasks": 2, "skipped": 0, "prompts_created": 2, "items": 2, "judgments": 2, "raters": 2
    }  # fmt: skip
    assert labels_of(store, c) == {
        ("Best pet?", ("A cat.", "A rock.")): [
            ("labelstudio-kim@example.org", ("A rock.", "A cat."), 2),
            ("labelstudio-user-7", ("A cat.", "A rock."), 2),
        ],
        ("Say hi.", ("Hi!", "Go away.")): [],  # no annotations yet: an item to rate
    }
    with pytest.raises(Conflict, match="already imported"):
        import_labelstudio(store, path, campaign=c)


def test_label_studio_ranker_export_is_imported(store, make_campaign, tmp_path):
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(LS_RANKER_EXPORT))
    c = make_campaign(item_kind="ranking", overlap=2)
    import_labelstudio(store, path, campaign=c, rater_prefix="ls-")
    ((key, labels),) = labels_of(store, c).items()
    assert key == ("Sort these.", ("First answer.", "Second answer.", "Third answer."))
    assert labels == [
        ("ls-user-1", ("Second answer.", "Third answer.", "First answer."), 2),
        ("ls-user-2", ("First answer.", "Second answer.", "Third answer."), 2),
    ]


def test_label_studio_bad_tasks_name_the_record(store, make_campaign, tmp_path):
    result = {"type": "pairwise", "to_name": "a,b", "value": {"selected": "left"}}
    bad = [{"id": 1, "data": {"prompt": "p", "a": "x"}, "annotations": [{"completed_by": 1, "result": [result]}]}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InvalidInput, match=r"bad.json, line 1: pairwise result names 'a,b'"):
        import_labelstudio(store, path, campaign=make_campaign())


def test_label_studio_round_trip(store, judged, make_campaign, tmp_path):
    written = export_labelstudio(store, tmp_path / "tasks.json", campaign=judged)
    assert written.counts == {"tasks": 3, "annotations": 3, "raters": 2}
    assert json.loads((tmp_path / ".tasks.json.manifest.json").read_text())["sha256"] == written.sha256
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert tasks[0]["data"] == {"prompt": "Name a fruit.", "response_a": "Apple.", "response_b": "A car."}
    assert tasks[0]["annotations"][0]["result"][0]["value"] == {"selected": "left"}
    assert tasks[1]["data"]["messages"] == [{"role": "user", "content": "Capital of France?"}]
    config = (tmp_path / "tasks.label_config.xml").read_text()
    assert config == labeling_config("pairwise") and '<Pairwise name="preference"' in config
    copy = make_campaign(overlap=1, allow_tie=True)
    import_labelstudio(store, tmp_path / "tasks.json", campaign=copy)
    assert strip_prefix(labels_of(store, copy), "labelstudio-") == labels_of(store, judged)


# Argilla 2.x `dataset.records.to_datasets()` of a preference dataset: fields prompt/response1/response2, a
# RankingQuestion "preference" over the response fields, and each record's responses flattened per question.
ARGILLA_RECORDS = [
    {"id": "rec-1", "status": "completed", "_server_id": "0b9e", "prompt": "Best pet?",
     "response1": "A cat.", "response2": "A rock.",
     "preference.responses": [["response1", "response2"], ["response2", "response1"], ["response1", "response2"]],
     "preference.responses.users": ["5a7f-u1", "5a7f-u2", "5a7f-u3"],
     "preference.responses.status": ["submitted", "submitted", "draft"]},
    {"id": "rec-2", "status": "pending", "_server_id": "0b9f", "prompt": "Say hi.",
     "response1": "Hi!", "response2": "Go away.", "preference.responses": None,
     "preference.responses.users": None, "preference.responses.status": None},
]  # fmt: skip


def test_argilla_ranking_records_are_imported(store, make_campaign, tmp_path):
    import datasets

    datasets.Dataset.from_list(ARGILLA_RECORDS).save_to_disk(str(tmp_path / "argilla"))
    c = make_campaign(overlap=1)
    report = import_argilla(store, tmp_path / "argilla", campaign=c)
    assert (report.counts["items"], report.counts["judgments"], report.counts["raters"]) == (2, 2, 2)
    assert labels_of(store, c) == {
        ("Best pet?", ("A cat.", "A rock.")): [
            ("argilla-user-5a7f-u1", ("A cat.", "A rock."), 2),
            ("argilla-user-5a7f-u2", ("A rock.", "A cat."), 2),  # the draft of u3 does not count
        ],
        ("Say hi.", ("Hi!", "Go away.")): [],
    }


def test_argilla_rating_records_are_imported(store, make_campaign, tmp_path):
    records = [
        {"id": "r1", "instruction": "Explain tides.", "response1": "Moon.", "response2": "The moon's pull.",
         "response1_rating.responses": [2, 4], "response1_rating.responses.users": ["u1", "u2"],
         "response1_rating.responses.status": ["submitted", "submitted"],
         "response2_rating.responses": [5, 4], "response2_rating.responses.users": ["u1", "u2"],
         "response2_rating.responses.status": ["submitted", "submitted"]},
    ]  # fmt: skip
    path = tmp_path / "ratings.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    c = make_campaign(overlap=1, allow_tie=True)
    import_argilla(store, path, campaign=c, rater_prefix="")
    assert labels_of(store, c) == {
        ("Explain tides.", ("Moon.", "The moon's pull.")): [
            ("user-u1", ("The moon's pull.", "Moon."), 3),  # rated 5 vs 2: the gap, clipped to 3
            ("user-u2", "tie", 0),  # rated equal
        ]
    }


def test_argilla_round_trip(store, judged, make_campaign, tmp_path):
    import datasets

    written = export_argilla(store, tmp_path / "for-argilla", campaign=judged)
    assert written.counts == {"records": 3, "responses": 3} and written.fmt == "argilla"
    ds = datasets.load_from_disk(str(tmp_path / "for-argilla"))
    assert {"id", "status", "prompt", "response1", "response2", "ranking.responses", "ranking.responses.users",
            "ranking.responses.status", "strength.responses", "hitl_raters"} <= set(ds.column_names)  # fmt: skip
    first = ds[0]
    assert first["ranking.responses"] == [["response1", "response2"]]  # alice; bob's tie is a strength label
    assert first["ranking.responses.users"] == [user_id("alice")]
    assert first["strength.responses"] == ["much better", "tie"]
    # The campaign holds a chat prompt, so every prompt is a chat (Argilla's ChatField).
    assert first["prompt"] == [{"role": "user", "content": "Name a fruit."}]
    copy = make_campaign(overlap=1, allow_tie=True)
    import_argilla(store, tmp_path / "for-argilla", campaign=copy)
    back = strip_prefix(labels_of(store, copy), "argilla-")
    original = labels_of(store, judged)
    as_chat = {(json.dumps([{"role": "user", "content": p}]) if not p.startswith("[") else p, r): v
               for (p, r), v in original.items()}  # fmt: skip
    assert back == as_chat


def test_cli_round_trip_through_label_studio(tmp_path, monkeypatch):
    from hitl.cli.main import main
    from hitl.demo import data_file

    monkeypatch.setenv("HITL_PASSWORD", "correct-horse-battery")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["campaign", "create", "gold", "--overlap", "1", "--db", db]) == 0
    prefs = ["import", "preferences", str(data_file("demo_gold.jsonl")), "--campaign", "gold", "--as", "judgments"]
    assert main([*prefs, "--db", db]) == 0
    out = tmp_path / "tasks.json"
    assert main(["export", str(out), "--format", "labelstudio", "--campaign", "gold", "--db", db]) == 0
    assert main(["export", str(out), "--format", "labelstudio", "--ties", "half", "--db", db]) == 1
    assert main(["campaign", "create", "back", "--overlap", "1", "--db", db]) == 0
    assert main(["import", "labelstudio", str(out), "--campaign", "back", "--db", db]) == 0
    tasks = json.loads(out.read_text())
    assert len(tasks) == 24 and all(t["meta"]["hitl"]["raters"] == {"1": "import"} for t in tasks)
