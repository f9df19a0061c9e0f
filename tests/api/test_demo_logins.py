"""`hitl demo` prints a login for each role the README's tour uses, and each login works.

pytest tests/api/test_demo_logins.py -q
"""

from __future__ import annotations

import re

from hitl import demo
from hitl.cli.main import main
from hitl.store import open_store
from hitl.users import authenticate


def test_the_demo_prints_working_admin_reviewer_and_rater_logins(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HITL_HOME", str(tmp_path))
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--db", db, "--no-models"]) == 0
    logins = dict(re.findall(r"^\s+(admin|reviewer|rater)\s+(\S+)\s*$", capsys.readouterr().out, re.MULTILINE))
    assert set(logins) == {"admin", "reviewer", "rater"}
    store = open_store(db)
    try:
        assert {name: authenticate(store, name, pw).role for name, pw in logins.items()} == {
            "admin": "admin",
            "reviewer": "reviewer",
            "rater": "rater",
        }
    finally:
        store.close()


def test_an_older_demo_home_gains_a_reviewer_and_keeps_its_passwords(tmp_path):
    (tmp_path / "demo-credentials.txt").write_text("admin:old-admin-pw\nrater:old-rater-pw\n")
    creds = demo.credentials(tmp_path)
    assert creds["admin"] == "old-admin-pw" and creds["rater"] == "old-rater-pw" and len(creds["reviewer"]) >= 8
    assert demo.credentials(tmp_path) == creds  # written back: the next run prints the same reviewer login
