"""Reward data: judgments made through the real queue -> rows (ties, K-way, adjudication, weights), files in TRL and
HH-RLHF formats, the split by prompt, dataset snapshots, and clear errors for unusable input."""

import gzip
import json
from pathlib import Path

import pytest
from reward_helpers import add_item, adjudicate, judge
from sqlalchemy import select

from hitl.errors import InvalidInput
from hitl.store.schema import dataset_snapshots
from reward.data import build_preference_data, check_rows, file_rows, split_by_prompt, store_rows
from reward.encoding import prompt_key


def _pairs(rows):
    return sorted((r["chosen"], r["rejected"], r["margin"], r["weight"], r["tie"], r["source"]) for r in rows)


def test_ties_follow_the_option(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=3)
    item, (a, b) = add_item(store, c, ["A", "B"])
    judge(store, c, make_user(), item, [a, b], strength=3)
    judge(store, c, make_user(), item, tie=True, strength=0)
    assert _pairs(store_rows(store, c)) == [("A", "B", 1.0, 1.0, False, "judgment")]
    half = _pairs(store_rows(store, c, ties="half"))
    assert half == [("A", "B", 0.0, 0.5, True, "judgment"), ("A", "B", 1.0, 1.0, False, "judgment"),
                    ("B", "A", 0.0, 0.5, True, "judgment")]  # fmt: skip


def test_kway_ranking_expands_with_margin_from_strength(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=1, item_kind="ranking")
    item, (r0, r1, r2) = add_item(store, c, ["zero", "one", "two"])
    judge(store, c, make_user(), item, [r2, r0, r1], strength=3)
    rows = store_rows(store, c, margin_per_strength=0.25)
    assert sorted((r["chosen"], r["rejected"]) for r in rows) == [("two", "one"), ("two", "zero"), ("zero", "one")]
    assert {r["margin"] for r in rows} == {0.5} and {r["strength"] for r in rows} == {3.0}


def test_adjudication_and_gold_override_votes(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=2)
    item, (a, b) = add_item(store, c, ["A", "B"])
    judge(store, c, make_user(), item, [a, b])
    judge(store, c, make_user(), item, [a, b])
    adjudicate(store, item, make_user("reviewer"), [b, a], strength=1)
    rows = store_rows(store, c)
    assert _pairs(rows) == [("B", "A", 0.0, 1.0, False, "adjudication")]


def test_dawid_skene_weights_come_from_rater_competence(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=3)
    raters = [make_user() for _ in range(3)]
    for i in range(6):
        item, (a, b) = add_item(store, c, [f"good {i}", f"bad {i}"], prompt=f"prompt {i}")
        for n, rater in enumerate(raters):
            # The third rater disagrees on half the items: those items' posteriors are lower.
            judge(store, c, rater, item, [b, a] if n == 2 and i % 2 else [a, b])
    rows = store_rows(store, c, aggregate="dawid_skene")
    assert len(rows) == 6 and all(r["chosen"].startswith("good") for r in rows)
    assert all(0.5 < r["weight"] <= 1.0 for r in rows)
    assert min(r["weight"] for r in rows) < max(r["weight"] for r in rows)


def test_split_keeps_each_prompt_on_one_side_and_in_place():
    rows = [{"prompt": f"p{i % 40}", "chosen": f"a{i}", "rejected": f"b{i}"} for i in range(200)]
    train, held = split_by_prompt(rows, 0.25, seed=3)
    assert len(train) + len(held) == 200 and held and train
    assert not {prompt_key(r["prompt"]) for r in train} & {prompt_key(r["prompt"]) for r in held}
    more = rows + [{"prompt": f"new{i}", "chosen": "x", "rejected": "y"} for i in range(50)]
    _, held_more = split_by_prompt(more, 0.25, seed=3)
    assert {r["prompt"] for r in held} <= {r["prompt"] for r in held_more}
    tiny_train, tiny_held = split_by_prompt(rows[:2], 0.01)
    assert len(tiny_train) == len(tiny_held) == 1
    # The windows of a cross-validation: fold 0 is the split above, and the four folds hold every prompt out once.
    folds = [split_by_prompt(rows, 0.25, seed=3, start=k * 0.25)[1] for k in range(4)]
    assert folds[0] == held
    assert sorted(r["prompt"] for fold in folds for r in fold) == sorted(r["prompt"] for r in rows)
    with pytest.raises(InvalidInput):
        split_by_prompt(rows, 0.25, start=0.8)


def test_snapshots_record_hash_counts_parents_and_are_reused(store, make_user, make_campaign, tmp_path):
    c = make_campaign(gold_rate=0.0, overlap=1)
    for i in range(10):
        item, (a, b) = add_item(store, c, [f"yes {i}", f"no {i}"], prompt=f"question {i}")
        judge(store, c, make_user(), item, [a, b])
    data = build_preference_data(store, campaign=c.name, eval_fraction=0.3, out_dir=tmp_path)
    with store.read() as conn:
        snaps = {r.id: r for r in conn.execute(select(dataset_snapshots))}
    full, train, held = (snaps[data.snapshot_ids[k]] for k in ("full", "train", "eval"))
    assert full.counts["pairs"] == 10 and train.counts["pairs"] + held.counts["pairs"] == 10
    assert train.parent_ids == [full.id] == held.parent_ids and full.parent_ids == []
    assert full.params["campaign"] == c.name and full.params["max_judgment_id"] > 0
    assert len(full.content_hash) == 64
    assert [json.loads(line) for line in Path(held.path).read_text().splitlines()] == data.eval
    again = build_preference_data(store, campaign=c.name, eval_fraction=0.3, out_dir=tmp_path)
    assert again.snapshot_ids == data.snapshot_ids


def _write(path, records, gz=False):
    text = "".join(json.dumps(r) + "\n" for r in records)
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return str(path)


def test_hh_dialogues_are_split_into_prompt_and_last_answers(tmp_path):
    dialogue = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why?\n\nHuman: I am locked out.\n\nAssistant:"
    record = {"chosen": dialogue + " Call a locksmith.", "rejected": dialogue + " Use a pin."}
    path = _write(tmp_path / "hh.jsonl.gz", [record], gz=True)
    (row,), skipped = file_rows(path)
    assert row["prompt"][-1] == {"role": "user", "content": "I am locked out."} and len(row["prompt"]) == 3
    assert (row["chosen"], row["rejected"], row["margin"], skipped) == ("Call a locksmith.", "Use a pin.", 0.0, [])


def test_trl_text_and_conversational_records(tmp_path):
    records = [
        {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away.", "margin": 1.5},
        {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}],
         "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "No"}]},
    ]  # fmt: skip
    rows, _ = file_rows(_write(tmp_path / "trl.jsonl", records))
    assert rows[0]["prompt"] == "Hi" and rows[0]["margin"] == 1.5
    assert rows[1]["prompt"] == [{"role": "user", "content": "Hi"}] and rows[1]["chosen"] == "Hey"


def test_saved_hf_dataset(tmp_path):
    from datasets import Dataset

    Dataset.from_list([{"prompt": "Q", "chosen": "good", "rejected": "bad"}]).save_to_disk(tmp_path / "ds")
    rows, _ = file_rows(str(tmp_path / "ds"))
    assert rows[0]["chosen"] == "good"


def test_bad_input_says_how_to_fix_it(tmp_path, store, make_campaign):
    with pytest.raises(InvalidInput, match="no usable preference pairs: collect judgments"):
        build_preference_data(store, campaign=make_campaign().name)
    same = _write(tmp_path / "same.jsonl", [{"prompt": "Q", "chosen": "A", "rejected": "A"}])
    with pytest.raises(InvalidInput, match=r"same\.jsonl, line 1: .*same text.*--skip-invalid"):
        file_rows(same)
    records = [{"prompt": "Q", "chosen": "", "rejected": "B"}, {"prompt": "Q", "chosen": "A", "rejected": "B"}]
    empty = _write(tmp_path / "empty.jsonl", records)
    with pytest.raises(InvalidInput, match="line 1: chosen is empty"):
        file_rows(empty)
    rows, skipped = file_rows(empty, skip_invalid=True)
    assert len(rows) == 1 and "chosen is empty" in skipped[0]
    layout = _write(tmp_path / "layout.jsonl", [{"text": "a", "label": 1}])
    with pytest.raises(InvalidInput, match="needs 'chosen' and 'rejected'.*Expected TRL preference records"):
        file_rows(layout)
    with pytest.raises(InvalidInput, match="row 0: chosen == rejected"):
        check_rows([{"prompt": "Q", "chosen": "A ", "rejected": "A"}])
    with pytest.raises(InvalidInput, match="row 0: no rejected column"):
        check_rows([{"prompt": "Q", "chosen": "A"}])
