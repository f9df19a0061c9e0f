"""`hitl leaderboard`: the table and `--json` over a store with known battles, and its bad input."""

from __future__ import annotations

import json

from hitl.cli.main import main
from tests.arena_helpers import seed_length_battles


def _db(tmp_path):
    from hitl.store import open_store

    url = f"sqlite:///{tmp_path / 'hitl.db'}"
    store = open_store(url)
    seed_length_battles(store, n=60)
    store.close()
    return url


def test_leaderboard_table_and_json(tmp_path, capsys):
    db = _db(tmp_path)
    assert main(["leaderboard", "--db", db, "--rounds", "200"]) == 0
    out = capsys.readouterr().out
    assert "Leaderboard (human, raw)" in out and "style-controlled" in out and "unrated" in out
    assert "verdict: wordy above brief with 95% confidence" in out and "Style coefficients" in out
    assert "Category chat" in out and "Category code" in out
    assert main(["leaderboard", "--db", db, "--view", "style", "--category", "code", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["judge"] == "human" and body["view"] == "style" and body["n_battles"] == 60
    assert [c["tag"] for c in body["categories"]] == ["code"] and body["categories"][0]["n_battles"] == 30
    rows = {r["model"]: r for r in body["rows"]}
    assert rows["idle"]["rank"] == "unrated" and rows["wordy"]["style_rating"] is not None
    assert body["coefficients"][0]["feature"] == "length" and body["coefficients"][0]["n"] == 60


def test_leaderboard_bad_input(tmp_path, capsys):
    db = _db(tmp_path)
    assert main(["leaderboard", "--db", db, "--category", "nope"]) == 1
    assert "no battles on prompts tagged 'nope'" in capsys.readouterr().err
    assert main(["leaderboard", "--db", db, "--rounds", "5000"]) == 1
    assert main(["leaderboard", "--db", db, "--judge", "oracle", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["message"] == "no battles yet"
