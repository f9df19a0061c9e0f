"""HITL_HOME resolves in one place: the default store, the models folder and the demo all follow `hitl_home()`;
without it the store lives in the user data dir and an old store in the cache dir is moved there once.

HITL_THREADS=1 python -m pytest -q tests/store/test_store_paths.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from hitl import embedded
from hitl.paths import hitl_home, move_legacy_store
from hitl.store import default_url, open_store
from hitl.users import create_user, get_user


def test_default_store_and_models_live_under_hitl_home(tmp_path, monkeypatch):
    monkeypatch.delenv("HITL_DB", raising=False)
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    assert hitl_home() == tmp_path / "home"
    assert default_url() == f"sqlite:///{tmp_path / 'home' / 'hitl.db'}"
    assert (tmp_path / "home").is_dir()  # default_url makes the folder the SQLite file goes in
    assert embedded.models_home() == tmp_path / "home" / "models"


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    """platformdirs' user data and cache dirs moved under tmp_path (it follows the XDG variables on Linux)."""
    monkeypatch.delenv("HITL_DB", raising=False)
    monkeypatch.delenv("HITL_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.skipif(sys.platform != "linux", reason="XDG variables steer platformdirs on Linux")
def test_unset_or_empty_hitl_home_means_the_user_data_dir(xdg, monkeypatch):
    assert hitl_home() == xdg / "data" / "hitl"
    assert embedded.models_home() == xdg / "cache" / "hitl" / "models"  # models are a cache: fetched again
    # An empty value (HITL_HOME= in a shell or a .env file) is "unset", not the current directory.
    monkeypatch.setenv("HITL_HOME", "")
    assert hitl_home() == xdg / "data" / "hitl"
    assert default_url() == f"sqlite:///{xdg / 'data' / 'hitl' / 'hitl.db'}"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG variables steer platformdirs on Linux")
def test_a_store_in_the_old_cache_location_is_moved_once_with_a_notice(xdg, caplog):
    old = xdg / "cache" / "hitl" / "hitl.db"
    store = open_store(f"sqlite:///{old}")
    user = create_user(store, "alice", "rater", "correct-horse-battery")
    store.close()
    assert old.is_file()
    with caplog.at_level(logging.WARNING, logger="hitl.paths"):
        url = default_url()
    new = xdg / "data" / "hitl" / "hitl.db"
    assert url == f"sqlite:///{new}" and new.is_file()
    assert "moved the hitl store from" in caplog.text and str(new) in caplog.text
    assert not old.exists() and (old.parent / "hitl.db.moved-to-data-dir").is_file()  # kept, never opened again
    moved = open_store(url)
    assert get_user(moved, "alice").id == user.id  # every row came along (the WAL was folded in first)
    moved.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hitl.paths"):
        assert default_url() == url
    assert "moved" not in caplog.text  # once


def test_an_existing_store_in_the_data_dir_is_never_overwritten(tmp_path):
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for path, name in ((old, "old"), (new, "new")):
        s = open_store(f"sqlite:///{path}")
        create_user(s, name, "rater", "correct-horse-battery")
        s.close()
    assert move_legacy_store(old, new) is False
    kept = open_store(f"sqlite:///{new}")
    assert get_user(kept, "new") and old.is_file()
    kept.close()


def test_a_tilde_in_hitl_home_is_expanded(monkeypatch):
    monkeypatch.setenv("HITL_HOME", "~/elsewhere")
    assert hitl_home() == Path.home() / "elsewhere"


def test_hitl_db_overrides_the_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HITL_DB", "postgresql+psycopg://hitl@db/hitl")
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "never-made"))
    assert default_url() == "postgresql+psycopg://hitl@db/hitl"
    assert not (tmp_path / "never-made").exists()
