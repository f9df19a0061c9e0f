"""The CLI for scripts: `--json` documents on stdout (nothing else there), exit status 1 for domain errors and 2 for
usage errors, `python -m hitl`, and every subcommand's --help opening with what it does."""

import argparse
import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import insert

from hitl.cli.main import build_parser, main
from hitl.demo import data_file
from hitl.store import open_store
from hitl.store.schema import loop_rounds


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("HITL_PASSWORD", "correct-horse-battery")
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["campaign", "create", "gold", "--overlap", "2", "--db", url]) == 0
    prefs = ["import", "preferences", str(data_file("demo_gold.jsonl")), "--campaign", "gold", "--as", "judgments"]
    assert main([*prefs, "--db", url]) == 0
    return url


def run_json(capsys, *argv):
    capsys.readouterr()
    assert main([*map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # stdout holds the document and nothing else


def test_stats_campaigns_models_and_loop_status_as_json(db, capsys):
    stats = run_json(capsys, "stats", "--campaign", "gold", "--db", db)
    assert stats["campaign"] == "gold" and stats["summary"]["n_judgments"] == 24
    assert stats["queue"] == {"open_items": 24, "judgments_needed": 24, "done_items": 0, "gold_items": 0}
    assert len(stats["throughput"]) == 12 and sum(h["judgments"] for h in stats["throughput"]) == 24
    assert stats["raters"][0]["rater"] == "import" and stats["raters"][0]["n_judgments"] == 24
    assert stats["summary"]["alpha_ordinal"] is None  # undefined (one rater) is null, not NaN

    listed = run_json(capsys, "campaign", "list", "--db", db)
    assert [(c["name"], c["settings"]["overlap"], c["items"]["open"]) for c in listed] == [("gold", 2, 24)]
    shown = run_json(capsys, "campaign", "show", "gold", "--db", db)
    assert shown["settings"]["item_kind"] == "pairwise" and shown["items"]["done"] == 0

    models = run_json(capsys, "models", "list", "--db", db)
    assert models == {"cached": [], "versions": []}

    store = open_store(db)
    with store.write() as conn:
        conn.execute(
            insert(loop_rounds).values(
                campaign_id=shown["id"], number=1, stage="wait", status="waiting", judgments_at_start=24,
                metrics={"new_judgments": 0}, message="waiting for judgments", created_at=time.time(),
                updated_at=time.time(),
            )
        )  # fmt: skip
    store.close()
    status = run_json(capsys, "loop", "--campaign", "gold", "--status", "--db", db)
    assert status["campaign"] == "gold"
    assert [(r["number"], r["status"], r["message"]) for r in status["rounds"]] == [
        (1, "waiting", "waiting for judgments")
    ]


def test_eval_policy_as_json(db, tmp_path, capsys):
    from tiny import save_tiny_policy

    a, b = save_tiny_policy(tmp_path / "a"), save_tiny_policy(tmp_path / "b")
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"q{i}?"}) + "\n" for i in range(3)))
    argv = ["eval-policy", "--a", a, "--b", b, "--prompts", prompts, "--oracle", "rule:concise"]
    argv += ["--max-new-tokens", 3, "--bootstrap", 20, "--db", db]
    out = run_json(capsys, *argv)
    assert out["result"]["n"] == 3 and len(out["rows"]) == 3 and out["style_controlled"]["n"] == 3
    assert out["stored"] and "oracle-judged battles" in out["stored"]


def test_exit_status_one_for_domain_errors_two_for_usage(db, capsys):
    assert main(["campaign", "show", "nope", "--db", db]) == 1
    assert capsys.readouterr().err.startswith("error: no campaign")
    with pytest.raises(SystemExit) as usage:
        main(["campaign", "show"])  # the name is missing: argparse's usage error
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as unknown:
        main(["stats", "--no-such-flag"])
    assert unknown.value.code == 2
    assert main(["loop", "--campaign", "gold", "--json", "--db", db]) == 2  # --json needs --status
    assert main(["export", "x.jsonl", "--push-to-hub", "a/b", "--db", db]) == 1


def _parsers(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _parsers(child, (*path, name))


def test_every_help_opens_with_its_description():
    found = dict(_parsers(build_parser()))
    assert ("webhooks", "run") in found and ("campaign", "list") in found and ("import", "labelstudio") in found
    for path, parser in found.items():
        help_text = parser.format_help()
        assert parser.description, path
        assert help_text.split("\n\n")[1].strip().startswith(parser.description.split()[0]), path


def test_python_dash_m_hitl():
    done = subprocess.run([sys.executable, "-m", "hitl", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: hitl") and "webhooks" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "hitl", "nonsense"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
