"""Exports: TRL pairs / unpaired / raw rows as JSONL, Parquet or a saved dataset, atomic, with a manifest."""

import hashlib
import json

import pytest
from io_helpers import make_item, rate

from hitl.errors import InvalidInput
from hitl.io import export, import_preferences
from hitl.io import exports as exports_module


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def judged_campaign(store, make_user, make_campaign, chat=False):
    """Three items judged through the queue: a 2-1 vote, a tie, and one with a correction."""
    c = make_campaign(gold_rate=0.0, overlap=5)
    messages = [{"role": "user", "content": "Name a fruit."}] if chat else None
    users = [make_user() for _ in range(3)]
    first, (a, b) = make_item(store, c, ["Apple.", "A car."], prompt="Name a fruit.", messages=messages)
    second, (x, y) = make_item(store, c, ["Yes.", "Yes!"], prompt="Is water wet?")
    third, (p, q) = make_item(store, c, ["Paris.", "Lyon."], prompt="Capital of France?")
    for u in users:
        rate(store, c, u, first, [a, b] if u is not users[2] else [b, a], strength=3)
    rate(store, c, users[0], second, tie=True, strength=0)
    rate(store, c, users[0], third, [p, q], strength=1, correction="Paris is the capital.")
    return c


def test_jsonl_pairs_are_trl_rows_and_byte_identical(store, make_user, make_campaign, tmp_path):
    c = judged_campaign(store, make_user, make_campaign)
    m1 = export(store, tmp_path / "one.jsonl", campaign=c)
    m2 = export(store, tmp_path / "two.jsonl", campaign=c.name)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    rows = read_jsonl(tmp_path / "one.jsonl")
    # strength: what the raters said; margin: what hitl trains with (TRL reads `margin` as a loss margin).
    assert [(r["prompt"], r["chosen"], r["rejected"], r["strength"], r["margin"], r["source"]) for r in rows] == [
        ("Name a fruit.", "Apple.", "A car.", 3.0, 1.0, "judgment"),
        ("Name a fruit.", "Apple.", "A car.", 3.0, 1.0, "judgment"),
        ("Name a fruit.", "A car.", "Apple.", 3.0, 1.0, "judgment"),
        ("Capital of France?", "Paris.", "Lyon.", 1.0, 0.0, "judgment"),
        ("Capital of France?", "Paris is the capital.", "Paris.", 2.0, 0.5, "correction"),
        ("Capital of France?", "Paris is the capital.", "Lyon.", 2.0, 0.5, "correction"),
    ]
    assert m1.counts == {"rows": 6, "items": 2, "by_source": {"correction": 2, "judgment": 4}}
    assert m1.sha256 == m2.sha256 == sha(tmp_path / "one.jsonl")


def test_manifest_beside_the_data_matches_it(store, make_user, make_campaign, tmp_path):
    c = judged_campaign(store, make_user, make_campaign)
    out = tmp_path / "sub" / "pairs.jsonl"
    manifest = export(store, out, campaign=c, ties="half", aggregate="majority")
    saved = json.loads((tmp_path / "sub" / ".pairs.jsonl.manifest.json").read_text())
    assert saved["sha256"] == sha(out) == manifest.sha256
    assert saved["options"] == {
        "ties": "half",
        "both_bad": "drop",
        "aggregate": "majority",
        "include_corrections": True,
        "margin_per_strength": 0.5,
    }
    assert saved["layout"] == "pairs" and saved["campaign"] == c.name and saved["hitl_version"]
    assert saved["counts"]["rows"] == len(read_jsonl(out)) == 1 + 2 + 1 + 2  # majority, tie halves, correction
    assert sorted(p.name for p in out.parent.iterdir()) == [".pairs.jsonl.manifest.json", "pairs.jsonl"]


def test_parquet_export(store, make_user, make_campaign, tmp_path):
    import pyarrow.parquet as pq

    c = judged_campaign(store, make_user, make_campaign)
    manifest = export(store, tmp_path / "pairs.parquet", fmt="parquet", campaign=c)
    table = pq.read_table(tmp_path / "pairs.parquet").to_pylist()
    export(store, tmp_path / "pairs.jsonl", campaign=c)
    assert table == read_jsonl(tmp_path / "pairs.jsonl")
    assert manifest.sha256 == sha(tmp_path / "pairs.parquet")


def test_hf_export_is_loadable_and_every_file_hashed(store, make_user, make_campaign, tmp_path):
    import datasets

    c = judged_campaign(store, make_user, make_campaign, chat=True)
    out = tmp_path / "ds"
    export(store, out, fmt="hf", campaign=c)
    manifest = export(store, out, fmt="hf", campaign=c, layout="unpaired")  # replaces the first one
    loaded = datasets.load_from_disk(str(out))
    assert set(loaded.column_names) >= {"prompt", "completion", "label"}
    # One chat prompt makes every row conversational (TRL wants one form per dataset).
    assert loaded[0]["prompt"] == [{"role": "user", "content": "Name a fruit."}]
    assert loaded[0]["completion"] == [{"role": "assistant", "content": "Apple."}]
    assert any(r["prompt"] == [{"role": "user", "content": "Capital of France?"}] for r in loaded)
    assert manifest.sha256 == {f: sha(out / f) for f in manifest.sha256} and "state.json" in manifest.sha256
    assert "README.md" in manifest.sha256  # the dataset card is part of the export
    # No temp or old copies left: only the data and its manifest.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "hitl.db" and "hitl.db" not in p.name) == [
        ".ds.manifest.json",
        "ds",
    ]


def test_raw_rows_carry_every_stored_field(store, make_user, make_campaign, tmp_path):
    c = judged_campaign(store, make_user, make_campaign)
    export(store, tmp_path / "raw.jsonl", layout="raw", campaign=c)
    rows = read_jsonl(tmp_path / "raw.jsonl")
    assert len(rows) == 5
    fields = {"user", "item_id", "ranking", "strength", "tie", "both_bad", "flags", "rationale", "correction"}
    assert fields | {"seconds_on_item", "display_order", "created_at", "source", "responses"} <= set(rows[0])
    assert rows[3]["tie"] is True and rows[4]["correction"] == "Paris is the capital."
    assert rows[0]["responses"] == ["Apple.", "A car."] and rows[0]["user"].startswith("rater")


def test_failed_write_keeps_the_old_file(store, make_user, make_campaign, tmp_path, monkeypatch):
    c = judged_campaign(store, make_user, make_campaign)
    out = tmp_path / "out" / "pairs.jsonl"
    export(store, out, campaign=c)
    before = out.read_bytes()

    def crash(rows, path):
        path.write_text("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(exports_module, "_write_jsonl", crash)
    with pytest.raises(InvalidInput, match="cannot write the export .* disk full"):  # one line, no traceback
        export(store, out, campaign=c, ties="half")
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == [".pairs.jsonl.manifest.json", "pairs.jsonl"]


def test_refusals(store, make_user, make_campaign, tmp_path):
    c = make_campaign()
    with pytest.raises(InvalidInput, match="nothing to export"):
        export(store, tmp_path / "x.jsonl", campaign=c)
    with pytest.raises(InvalidInput, match="apply to the pairs layout"):
        export(store, tmp_path / "x.jsonl", layout="raw", margin_per_strength=1.0)
    with pytest.raises(InvalidInput, match="apply to the pairs layout"):
        export(store, tmp_path / "x.jsonl", layout="raw", aggregate="majority")
    with pytest.raises(InvalidInput, match="format must be"):
        export(store, tmp_path / "x.csv", fmt="csv")
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    judged = judged_campaign(store, make_user, make_campaign)
    with pytest.raises(InvalidInput, match="not a saved dataset"):
        export(store, tmp_path / "precious", fmt="hf", campaign=judged)
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("as_", ["gold", "judgments"])
@pytest.mark.parametrize("chat", [False, True])
def test_round_trip_through_another_campaign(store, make_user, make_campaign, tmp_path, as_, chat):
    source = judged_campaign(store, make_user, make_campaign, chat=chat)
    export(store, tmp_path / "a.jsonl", campaign=source)
    copy = make_campaign(overlap=1)
    report = import_preferences(store, tmp_path / "a.jsonl", campaign=copy, as_=as_)
    # The prompts are found again, not duplicated; with a chat in the export, the text prompt was written as a
    # one-message chat, which comes back as a new (chat) prompt.
    assert report.counts["prompts_created"] == (1 if chat else 0)
    export(store, tmp_path / "b.jsonl", campaign=copy)

    def key(rows):
        return [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]

    first, second = read_jsonl(tmp_path / "a.jsonl"), read_jsonl(tmp_path / "b.jsonl")
    assert key(second) == key(first) and len(first) == 6
    assert {r["source"] for r in second} == {"gold" if as_ == "gold" else "import"}
