"""Big imports never hold raters up: prompts are stored in bounded batches that let other writers in between,
and published at once, so a failure (or a crash) before the end leaves nothing.

pytest tests/security/test_imports.py -q
"""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, insert, select

from hitl.errors import Conflict, InvalidInput
from hitl.io import import_prompts
from hitl.io import staging as staging_module
from hitl.store.schema import login_attempts, prompts


def _count(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(prompts)).scalar()


def _write_prompts(path, n: int, bad_at: int | None = None) -> None:
    with path.open("w") as f:
        for i in range(n):
            record = {"id": f"p{i}", "prompt": f"prompt number {i}"} if i != bad_at else {"prompt": "   "}
            f.write(json.dumps(record) + "\n")


def test_other_writers_get_in_between_the_batches_and_see_nothing_until_the_end(store, tmp_path, monkeypatch):
    path = tmp_path / "many.jsonl"
    _write_prompts(path, 3 * staging_module.BATCH + 10)
    seen: list[tuple[bool, int]] = []
    original = staging_module.PromptStage.flush

    def flush_then_let_a_rater_write(self):
        original(self)
        done = threading.Event()

        def rater():  # any short write transaction, as a rater's submit is
            with store.write() as conn:
                conn.execute(insert(login_attempts).values(user_name="r", client="c", succeeded=True, created_at=0))
            done.set()

        thread = threading.Thread(target=rater)
        thread.start()
        thread.join(timeout=30)
        seen.append((done.is_set(), _count(store)))

    monkeypatch.setattr(staging_module.PromptStage, "flush", flush_then_let_a_rater_write)
    report = import_prompts(store, path)
    assert report.counts["prompts"] == 3 * staging_module.BATCH + 10 == _count(store)
    assert len(seen) >= 3 and all(wrote for wrote, _ in seen)  # the writer got in after every batch
    if store.is_sqlite:
        assert all(n == 0 for _, n in seen[:-1])  # nothing visible before the publish


def test_a_bad_record_after_many_batches_stores_nothing(store, tmp_path):
    path = tmp_path / "late-error.jsonl"
    _write_prompts(path, 2 * staging_module.BATCH + 5, bad_at=2 * staging_module.BATCH + 3)
    with pytest.raises(InvalidInput, match=rf"line {2 * staging_module.BATCH + 4}: prompt is empty"):
        import_prompts(store, path)
    assert _count(store) == 0


def test_an_id_already_stored_in_a_late_batch_names_its_line(store, tmp_path):
    last = 2 * staging_module.BATCH + 1
    import_prompts(store, _one(tmp_path / "one.jsonl", f"p{last}"))
    path = tmp_path / "clash.jsonl"
    _write_prompts(path, last + 1)
    with pytest.raises(Conflict, match=rf"line {last + 1}: a prompt with id 'p{last}' already exists"):
        import_prompts(store, path)
    assert _count(store) == 1


def _one(path, external_id: str):
    path.write_text(json.dumps({"id": external_id, "prompt": "already here"}) + "\n")
    return path


def test_an_id_reused_batches_later_names_both_lines(store, tmp_path):
    path = tmp_path / "reused.jsonl"
    _write_prompts(path, staging_module.BATCH + 5)
    with path.open("a") as f:
        f.write(json.dumps({"id": "p0", "prompt": "the first id again"}) + "\n")
    with pytest.raises(
        InvalidInput, match=rf"reused.jsonl, line {staging_module.BATCH + 6}: id 'p0' is also used at line 1"
    ):
        import_prompts(store, path)
    assert _count(store) == 0
