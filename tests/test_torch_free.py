"""`hitl` and `collection_ui` never import a model stack at module level: each module, alone in a fresh interpreter.

HITL_THREADS=1 python -m pytest -q tests/test_torch_free.py

The modules are found on disk with pkgutil, so a new page, route, subcommand or loop step is checked without
editing this file. One interpreter per module, because in a shared one an earlier import would hide (or cause)
a later module's heavy import. The CLI parser is also built, since a subcommand's register() runs code too.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")
TORCH_FREE_PACKAGES = ("collection_ui", "hitl")
# Alembic loads these scripts itself (env.py needs its migration context); nothing in hitl imports them.
NOT_IMPORTED = ("hitl.store.migrations",)
MARK = "heavy modules loaded:"
REPORT_HEAVY = f"import sys; print({MARK!r}, ','.join(m for m in {HEAVY!r} if m in sys.modules))"


def modules_of(package: str) -> list[str]:
    """The package and every module and subpackage under it, read from the folder (nothing is imported)."""
    found = [package]
    for info in pkgutil.iter_modules([str(ROOT / package.replace(".", "/"))]):
        name = f"{package}.{info.name}"
        if name.startswith(NOT_IMPORTED):
            continue
        found.extend(modules_of(name) if info.ispkg else [name])
    return found


MODULES = [m for package in TORCH_FREE_PACKAGES for m in modules_of(package)]


def heavy_imports_after(code: str) -> list[str]:
    """The heavy packages in sys.modules after running `code` in a fresh interpreter at the repository root."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT_HEAVY}"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (report,) = [line for line in done.stdout.splitlines() if line.startswith(MARK)]  # a module may print too
    return [m for m in report.removeprefix(MARK).strip().split(",") if m]


def test_the_walk_finds_every_page_route_subcommand_and_loop_step():
    # A walk that silently found nothing would leave the parametrized test below with no cases.
    for expected in (
        "collection_ui.app",
        "collection_ui.rate",
        "collection_ui.api.deps",
        "hitl.service.sessions",
        "hitl.loop.runner",
        "hitl.simulate.raters",
        "hitl.cli.main",
        "hitl.cli.train_policy_cmd",
    ):
        assert expected in MODULES
    assert not any(m.startswith(NOT_IMPORTED) for m in MODULES)


def test_the_check_sees_a_heavy_import():
    # reward.score imports torch at module level (it is the scorer, on the heavy side by design).
    assert "torch" in heavy_imports_after("import reward.score")


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_no_model_stack(module):
    assert heavy_imports_after(f"import importlib; importlib.import_module({module!r})") == []


def test_building_the_cli_parser_imports_no_model_stack():
    assert heavy_imports_after("from hitl.cli.main import build_parser; build_parser()") == []
