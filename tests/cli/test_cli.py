"""The `hitl` command: a newcomer's path (init, users, campaign, import, export, stats) and clear errors."""

import json

import pytest

from hitl.cli.main import build_parser, main
from hitl.demo import data_file


def _subcommands() -> list[str]:
    import argparse

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(sub.choices)


COMMANDS_FOR_HELP = _subcommands()


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("HITL_PASSWORD", "correct-horse-battery")
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(*argv) -> int:
    return main([str(a) for a in argv])


def test_newcomer_path(db, tmp_path, capsys):
    assert run("init", "--db", db) == 0
    assert run("users", "add", "alice", "--role", "rater", "--db", db) == 0
    assert run("campaign", "create", "helpful", "--overlap", "2", "--no-allow-tie", "--db", db) == 0
    assert run("import", "prompts", data_file("demo_prompts.jsonl"), "--db", db) == 0
    assert (
        run(
            "import",
            "preferences",
            data_file("demo_gold.jsonl"),
            "--campaign",
            "helpful",
            "--as",
            "judgments",
            "--db",
            db,
        )
        == 0
    )
    out = tmp_path / "pairs.jsonl"
    assert run("export", out, "--campaign", "helpful", "--db", db) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 24 and {"prompt", "chosen", "rejected", "margin", "strength"} <= set(rows[0])
    manifest = json.loads((tmp_path / ".pairs.jsonl.manifest.json").read_text())
    assert manifest["counts"]
    assert run("stats", "--campaign", "helpful", "--db", db) == 0
    assert run("campaign", "show", "helpful", "--db", db) == 0
    text = capsys.readouterr().out
    assert "allow_tie" in text and "helpful" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "add", "bob", "--role", "rater"], None),  # first one succeeds; the repeat below conflicts
        (["users", "add", "bob", "--role", "rater"], "already exists"),
        (["users", "disable", "nobody"], "no user named"),
        (["campaign", "show", "nope"], "no campaign"),
        (["campaign", "create", "bad name!"], "campaign name"),
        (["campaign", "create", "x", "--overlap", "0"], "overlap must be"),
        (["import", "prompts", "/does/not/exist.jsonl"], "does not exist"),
    ],
)
def test_user_errors_are_one_line_without_traceback(db, capsys, argv, message):
    if message is None:
        assert run(*argv, "--db", db) == 0
        return
    run("users", "add", "bob", "--db", db)
    capsys.readouterr()
    assert run(*argv, "--db", db) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_malformed_jsonl_names_file_and_line_and_stores_nothing(db, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": "also fine"}\n{not json\n')
    assert run("import", "prompts", bad, "--db", db) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and "3" in err
    assert run("export", tmp_path / "o.jsonl", "--layout", "raw", "--db", db) == 1  # nothing to export


def test_every_command_has_help():
    for argv in (
        ["--help"],
        ["users", "--help"],
        ["campaign", "create", "--help"],
        ["import", "prompts", "--help"],
        ["export", "--help"],
        ["stats", "--help"],
        ["init", "--help"],
        ["demo", "--help"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0


def test_demo_runs_twice_and_flags_the_scripted_bad_raters(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HITL_HOME", str(tmp_path))
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    # --no-models: the model part (fetch + generation) has its own slow test in tests/policy.
    assert run("demo", "--db", db, "--no-models") == 0
    first = capsys.readouterr().out
    assert run("demo", "--db", db, "--no-models") == 0
    second = capsys.readouterr().out
    assert "recorded 120 new judgments" in first and "recorded 0 new judgments" in second
    assert "sim-left-clicker: position bias" in first
    assert "sim-spammer: too fast" in first
    assert "sim-careful-1:" not in first


@pytest.mark.parametrize("command", COMMANDS_FOR_HELP)
def test_every_subcommand_prints_its_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0 and "usage: hitl" in capsys.readouterr().out
