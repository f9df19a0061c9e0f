"""`hitl generate` end to end on a tiny local model: what is stored, pairing strategies, bad input storing nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hitl.campaigns import create_campaign
from hitl.catalog import add_prompt
from hitl.cli.main import main
from hitl.config import CampaignSettings
from hitl.store import open_store
from hitl.store.schema import items, model_versions, prompts, responses


def run(*argv) -> int:
    return main([str(a) for a in argv])


def read(db, query):
    store = open_store(db)
    try:
        with store.read() as conn:
            return conn.execute(query).all()
    finally:
        store.close()


def counts(db) -> dict[str, int]:
    tables = {"prompts": prompts, "responses": responses, "items": items, "model_versions": model_versions}
    return {name: read(db, select(func.count()).select_from(t))[0][0] for name, t in tables.items()}


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gen.db'}"
    store = open_store(url)
    create_campaign(store, CampaignSettings(name="pairs"))
    create_campaign(store, CampaignSettings(name="ranks", item_kind="ranking"))
    store.close()
    return url


@pytest.fixture
def prompt_file(tmp_path):
    path = tmp_path / "prompts.jsonl"
    rows = [
        {"id": "p1", "prompt": "why is the sky blue", "tags": ["science"]},
        {"id": "p2", "prompt": "hello there"},
        {"id": "p3", "messages": [{"role": "user", "content": "what is a dog"}]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def gen(db, model, prompts, *extra):
    return run(
        "generate", "--model", model, "--prompts", prompts, "--db", db, "--max-new-tokens", 6, "--quiet", *extra
    )


def test_generate_stores_prompts_responses_items_and_the_model_version(db, tiny_model_dir, prompt_file, capsys):
    assert gen(db, tiny_model_dir, prompt_file, "--campaign", "pairs", "--n", 2, "--seed", 5) == 0
    assert "6 responses to 3 prompts" in capsys.readouterr().out
    (version,) = read(db, select(model_versions))
    rows = read(db, select(responses))
    made = read(db, select(items))
    stored_prompts = read(db, select(prompts.c.external_id, prompts.c.tags))
    assert version.kind == "policy" and version.path == str(tiny_model_dir.resolve())
    assert {r.model_version_id for r in rows} == {version.id}
    assert all(r.sampling["seed"] == 5 and r.sampling["n"] == 2 and r.sampling["max_new_tokens"] == 6 for r in rows)
    assert sorted(p.external_id for p in stored_prompts) == ["p1", "p2", "p3"]
    assert ["science"] in [p.tags for p in stored_prompts]
    text = {r.id: r.text for r in rows}
    assert made and all(len(i.response_ids) == 2 for i in made)
    assert all(text[a].strip() != text[b].strip() for a, b in (i.response_ids for i in made))
    # Running again reuses the stored prompts and adds new samples.
    assert gen(db, tiny_model_dir, prompt_file, "--campaign", "pairs", "--seed", 6) == 0
    assert counts(db)["prompts"] == 3 and counts(db)["responses"] == 12 and counts(db)["model_versions"] == 1


def test_prompts_by_tag_or_all_and_a_limit(db, tiny_model_dir):
    store = open_store(db)
    with store.write() as conn:
        for i, words in enumerate(["the cat", "the dog", "the sea"]):
            add_prompt(conn, text=words, tags=["animals"] if i < 2 else [])
    store.close()
    assert gen(db, tiny_model_dir, "animals", "--campaign", "pairs", "--n", 1) == 0
    assert counts(db)["responses"] == 2
    assert gen(db, tiny_model_dir, "all", "--campaign", "pairs", "--n", 1, "--limit", 1) == 0
    assert counts(db)["responses"] == 3


def test_ranking_campaigns_get_k_way_items(db, tiny_model_dir, prompt_file):
    assert gen(db, tiny_model_dir, prompt_file, "--campaign", "ranks", "--n", 4) == 0
    made = read(db, select(items.c.response_ids))
    assert made and all(3 <= len(r.response_ids) <= 4 for r in made)


def test_versus_pairs_two_versions_on_the_same_prompts(db, tiny_model_dir, other_model_dir, prompt_file, capsys):
    assert gen(db, other_model_dir, prompt_file, "--campaign", "pairs", "--n", 1, "--pairing", "samples") == 0
    before = counts(db)
    assert before["items"] == 0  # one sample per prompt: nothing to pair
    argv = ["--campaign", "pairs", "--n", 2, "--pairing", "versus", "--against", other_model_dir]
    assert gen(db, tiny_model_dir, prompt_file, *argv) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "3 reused from the store" in printed
    # The other side is reported by its registered version name (the one the web app shows), as the model is.
    other_name = read(db, select(model_versions.c.name).where(model_versions.c.path == str(other_model_dir)))
    assert f"against {other_name[0].name}: 0 responses generated" in printed
    owner = dict(read(db, select(responses.c.id, responses.c.model_version_id)))
    made = read(db, select(items.c.response_ids))
    assert counts(db)["responses"] == before["responses"] + 6  # the other version's answers were reused
    assert made and all(owner[a] != owner[b] for a, b in (r.response_ids for r in made))


def test_versus_with_itself_is_refused(db, tiny_model_dir, prompt_file, capsys):
    argv = ["--campaign", "pairs", "--pairing", "versus", "--against", tiny_model_dir]
    assert gen(db, tiny_model_dir, prompt_file, *argv) == 1
    assert "is the model being sampled" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty-file", "holds no records"),
        ("empty-prompt", "prompt is empty"),
        ("unknown-model", "use 'default'"),
        ("unknown-campaign", "no campaign 'nope'"),
        ("n-zero", "--n must be at least 1"),
        ("unknown-tag", "no stored prompt tagged it"),
        ("versus-without-against", "--pairing versus needs --against"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(db, tiny_model_dir, prompt_file, tmp_path, capsys, case, message):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    blank = tmp_path / "blank.jsonl"
    blank.write_text(json.dumps({"prompt": "fine"}) + "\n" + json.dumps({"prompt": "  "}) + "\n")
    argv = {
        "empty-file": [tiny_model_dir, empty, "--campaign", "pairs"],
        "empty-prompt": [tiny_model_dir, blank, "--campaign", "pairs"],
        "unknown-model": ["no such model", prompt_file, "--campaign", "pairs"],
        "unknown-campaign": [tiny_model_dir, prompt_file, "--campaign", "nope"],
        "n-zero": [tiny_model_dir, prompt_file, "--campaign", "pairs", "--n", 0],
        "unknown-tag": [tiny_model_dir, "no-such-tag", "--campaign", "pairs"],
        "versus-without-against": [tiny_model_dir, prompt_file, "--campaign", "pairs", "--pairing", "versus"],
    }[case]
    assert gen(db, *argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert counts(db) == {"prompts": 0, "responses": 0, "items": 0, "model_versions": 0}


def test_models_list_shows_registered_versions(db, tiny_model_dir, prompt_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    assert gen(db, tiny_model_dir, prompt_file, "--campaign", "pairs", "--n", 1) == 0
    capsys.readouterr()
    assert run("models", "list", "--db", db) == 0
    out = capsys.readouterr().out
    assert "nothing cached" in out and "policy" in out and tiny_model_dir.name in out


def test_generate_has_help():
    for argv in (["generate", "--help"], ["models", "fetch", "--help"], ["models", "list", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
