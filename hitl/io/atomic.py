"""Crash-safe file output: write beside the target, fsync, then rename over it, so readers see old or new, never half.

python -c "from hitl.io.atomic import write_atomic; write_atomic('out.txt', lambda p: p.write_text('hi'))"
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from hitl.errors import InvalidInput

# Files that mark a directory as written by datasets' save_to_disk: only such a directory is ever replaced.
_DATASET_MARKERS = ("state.json", "dataset_dict.json", "dataset_info.json")


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (the directory entry itself must reach the disk)."""
    if os.name == "posix":
        _fsync_path(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _temp_beside(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{uuid.uuid4().hex[:12]}")


def write_atomic(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(temp_path)` for a temp file in the target's directory, fsync it and rename it onto `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory: give a file name for the export")
    temp = _temp_beside(target, "tmp")
    try:
        write(temp)
        _fsync_path(temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(target.parent)
    return target


def write_atomic_dir(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Like write_atomic for a directory (a saved dataset): built in a temp dir, then swapped in by rename.

    An existing target is replaced only when it is empty or itself a saved dataset, so a mistyped path can never
    delete an unrelated folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if not target.is_dir():
            raise InvalidInput(f"{target} is a file: give a directory name for an hf export")
        if any(target.iterdir()) and not any((target / m).exists() for m in _DATASET_MARKERS):
            raise InvalidInput(f"{target} is a non-empty directory that is not a saved dataset: choose another path")
    temp = _temp_beside(target, "tmp")
    old = _temp_beside(target, "old")
    try:
        write(temp)
        for file in sorted(p for p in temp.rglob("*") if p.is_file()):
            _fsync_path(file)
        if target.exists():
            # Two renames: a directory cannot be renamed over a non-empty one in a single step.
            os.replace(target, old)
        os.replace(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)
    return target
