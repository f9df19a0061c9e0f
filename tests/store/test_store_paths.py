"""HITL_HOME resolves in one place: the default store, the models folder and the demo all follow `hitl_home()`.

HITL_THREADS=1 python -m pytest -q tests/store/test_store_paths.py
"""

from __future__ import annotations

from pathlib import Path

from hitl import embedded
from hitl.paths import hitl_home
from hitl.store import default_url


def test_default_store_and_models_live_under_hitl_home(tmp_path, monkeypatch):
    monkeypatch.delenv("HITL_DB", raising=False)
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    assert hitl_home() == tmp_path / "home"
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'hitl.db'}"
    assert (tmp_path / "home").is_dir()  # default_url makes the folder the SQLite file goes in
    assert embedded.models_home() == tmp_path / "home" / "models"


def test_unset_or_empty_hitl_home_means_the_user_cache(monkeypatch):
    monkeypatch.delenv("HITL_HOME", raising=False)
    assert hitl_home() == Path.home() / ".cache" / "hitl"
    # An empty value (HITL_HOME= in a shell or a .env file) is "unset", not the current directory.
    monkeypatch.setenv("HITL_HOME", "")
    assert hitl_home() == Path.home() / ".cache" / "hitl"


def test_a_tilde_in_hitl_home_is_expanded(monkeypatch):
    monkeypatch.setenv("HITL_HOME", "~/elsewhere")
    assert hitl_home() == Path.home() / "elsewhere"


def test_hitl_db_overrides_the_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HITL_DB", "postgresql+psycopg://hitl@db/hitl")
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "never-made"))
    assert default_url() == "postgresql+psycopg://hitl@db/hitl"
    assert not (tmp_path / "never-made").exists()
