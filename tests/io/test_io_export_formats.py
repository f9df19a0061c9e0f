"""Exports as the Hugging Face stack reads them: load_dataset on the export folder, TRL's margin column, the hf
dataset card, and push_to_hub (against a stand-in hub: tests never reach the network)."""

import json

import pytest
from io_helpers import make_item, rate
from sqlalchemy import update

from hitl.io import export
from hitl.io import exports as exports_module
from hitl.store.schema import responses


def judged(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=3)
    raters = [make_user() for _ in range(3)]
    first, (a, b) = make_item(store, c, ["Apple.", "A car."], prompt="Name a fruit.")
    second, (x, y) = make_item(store, c, ["Paris.", "Lyon."], prompt="Capital of France?")
    for r in raters:
        rate(store, c, r, first, [a, b], strength=3)
        rate(store, c, r, second, [x, y] if r is not raters[2] else [y, x], strength=1)
    return c, (a, b, x, y)


def test_load_dataset_json_reads_the_export_folder(store, make_user, make_campaign, tmp_path):
    import datasets

    c, _ = judged(store, make_user, make_campaign)
    manifest = export(store, tmp_path / "out" / "pairs.jsonl", campaign=c)
    # The manifest's hidden name keeps it out of datasets' data files (a visible *.json* file breaks the load).
    assert manifest.path == str(tmp_path / "out" / ".pairs.jsonl.manifest.json")
    loaded = datasets.load_dataset("json", data_dir=str(tmp_path / "out"), split="train")
    assert loaded.num_rows == manifest.counts["rows"] == 6
    assert {"prompt", "chosen", "rejected", "margin", "strength"} <= set(loaded.column_names)


@pytest.mark.parametrize("per_strength", [0.5, 1.0])
def test_margin_is_what_hitl_trains_with(store, make_user, make_campaign, tmp_path, per_strength):
    from hitl.preferences import training_margin
    from reward.data import store_rows

    c, _ = judged(store, make_user, make_campaign)
    out = tmp_path / "pairs.jsonl"
    export(store, out, campaign=c, ties="half", margin_per_strength=per_strength)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["strength"] for r in rows} == {1.0, 3.0}
    for r in rows:
        assert r["margin"] == training_margin(r["strength"], per_strength)
    trained = store_rows(store, c, ties="half", margin_per_strength=per_strength)
    assert sorted(r["margin"] for r in rows) == sorted(r["margin"] for r in trained)
    assert [training_margin(s, per_strength) for s in (0.0, 1.0, 2.0, 3.0)] == [
        0.0,
        0.0,
        per_strength,
        2 * per_strength,
    ]


def test_hf_export_has_a_dataset_card(store, make_user, make_campaign, tmp_path):
    import datasets

    from hitl.catalog import register_model_version

    c, (a, b, x, y) = judged(store, make_user, make_campaign)
    with store.write() as conn:
        version = register_model_version(conn, kind="policy", name="policy-v3")
        conn.execute(update(responses).where(responses.c.id == a).values(model_version_id=version))
    manifest = export(store, tmp_path / "ds", fmt="hf", campaign=c, aggregate="majority")
    card = (tmp_path / "ds" / "README.md").read_text()
    assert card.startswith("---\ntags:\n- hitl\n") and "size_categories:\n- n<1K" in card
    assert f"# hitl export of campaign {c.name}" in card
    assert "- rows: 2" in card and "- items: 2" in card
    assert "- n_judgments: 6" in card and "- n_raters: 3" in card and "alpha_ordinal" in card
    assert "- aggregate: majority" in card and "- margin_per_strength: 0.5" in card
    assert "- model versions compared: policy-v3" in card and "`margin` is what hitl trains with" in card
    assert datasets.load_from_disk(str(tmp_path / "ds")).num_rows == 2
    assert manifest.sha256["README.md"]


def test_push_to_hub_sends_the_dataset_and_our_card(store, make_user, make_campaign, tmp_path, monkeypatch):
    import datasets
    import huggingface_hub

    c, _ = judged(store, make_user, make_campaign)
    export(store, tmp_path / "ds", fmt="hf", campaign=c)
    sent = {}

    def fake_push(self, repo_id, private=None, **kwargs):
        sent["rows"], sent["repo"], sent["private"] = self.num_rows, repo_id, private

    class FakeHubCard(huggingface_hub.DatasetCard):
        @classmethod
        def load(cls, repo_id, repo_type=None, **kwargs):
            # What datasets' own push leaves on the hub: its YAML (configs) and a stub body.
            return cls("---\nconfigs:\n- config_name: default\ntags:\n- from-datasets\n---\nstub body\n")

        def push_to_hub(self, repo_id, repo_type=None, **kwargs):
            sent["card"], sent["card_repo"] = str(self), repo_id

    monkeypatch.setattr(datasets.Dataset, "push_to_hub", fake_push)
    monkeypatch.setattr(huggingface_hub, "DatasetCard", FakeHubCard)
    url = exports_module.push_to_hub(tmp_path / "ds", "team/prefs")
    assert url == "https://huggingface.co/datasets/team/prefs"
    assert (sent["rows"], sent["repo"], sent["private"], sent["card_repo"]) == (6, "team/prefs", True, "team/prefs")
    assert "config_name: default" in sent["card"] and "- from-datasets" in sent["card"] and "- hitl" in sent["card"]
    assert "stub body" not in sent["card"] and "## Rater agreement" in sent["card"]
