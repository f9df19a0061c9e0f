"""The README's terminal tour, run as written: its commands in order on a fresh demo store (the embedded default
models, no hub), each checked to do what the README says, and none printing redrawn progress bars into a log.

pytest tests/cli/test_readme_tour.py -q -m slow      # 15-40 minutes on 2 CPU cores (37 on 1 busy core)
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hitl.campaigns import get_campaign
from hitl.loop.state import judgment_count
from hitl.loop.worker import LoopWorkerSettings
from hitl.store import open_store
from hitl.store.schema import arena_battles, item_prelabels, items, model_versions, responses

ROOT = Path(__file__).resolve().parents[2]
# What a log must never hold: carriage returns and cursor-up escapes of redrawn bars, Trainer log dicts.
BAR_DEBRIS = re.compile(r"\r|\x1b\[A|\{'loss': '")


def tour_commands(readme: str) -> list[list[str]]:
    """The `hitl ...` commands of the README's terminal tour, in order (continuations joined, comments dropped)."""
    block = readme.split("From a terminal", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands, current = [], ""
    for raw in block.splitlines():
        line = re.sub(r"\s#.*$", "", raw).rstrip()
        if not line.strip():
            continue
        if current:
            current += " " + line.strip()
        elif line.startswith("hitl "):
            current = line
        if current and current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        if current:
            commands.append(shlex.split(current))
            current = ""
    return commands


def test_the_tour_block_parses_into_its_commands():
    commands = tour_commands((ROOT / "README.md").read_text())
    assert [c[1] for c in commands] == [
        "stats",
        "simulate",
        "train-reward",
        "eval-reward",
        "train-policy",
        "generate",
        "score",
        "eval-policy",
        "loop",
    ]
    generate = commands[5]
    assert generate[-4:] == ["--pairing", "versus", "--against", "default"]  # the continuation line is kept


def _run(argv: list[str], home: Path) -> str:
    env = {**os.environ, "HITL_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("HITL_DB", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "hitl.cli.main", *argv[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = done.stdout + done.stderr
    print(f"$ {shlex.join(argv)}  ({time.monotonic() - started:.0f} s)\n{out[-3000:]}")
    assert done.returncode == 0, out[-4000:]
    assert not BAR_DEBRIS.search(out), f"progress-bar debris in the log of {argv[1]}"
    assert "FutureWarning" not in out, f"third-party warnings in the log of {argv[1]}"
    return " ".join(out.split())  # the console wraps long lines: checks read the words, not the layout


def _count(store, query) -> int:
    with store.read() as conn:
        return conn.execute(query).scalar_one()


@pytest.mark.slow
def test_the_readme_tour_runs_in_order_and_does_what_it_says(home_with_default_models):
    home = home_with_default_models
    commands = tour_commands((ROOT / "README.md").read_text())
    demo = _run(["hitl", "demo"], home)
    assert re.search(r" reviewer \S+ ", demo), "the demo prints a reviewer login"
    store = open_store(f"sqlite:///{home / 'hitl.db'}")
    try:
        campaign = get_campaign(store, "demo")
        queued = select(func.count()).where(items.c.campaign_id == campaign.id, items.c.is_gold.is_(False))
        gold = select(func.count()).where(items.c.campaign_id == campaign.id, items.c.is_gold.is_(True))
        assert _count(store, queued) >= 40 and _count(store, gold) > 0  # the gold rate has gold to serve
        outputs = {}
        for argv in commands:
            outputs[argv[1]] = out = _run(argv, home)
            check = CHECKS.get(argv[1])
            if check:
                check(out, store, campaign, home)
    finally:
        store.close()


def _stats(out, store, campaign, home):
    assert "sim-left-clicker: position bias" in out and "sim-spammer: too fast" in out


def _simulate(out, store, campaign, home):
    # The background loop's first round is reachable: it needs the worker's minimum of new judgments.
    assert judgment_count(store, campaign) >= LoopWorkerSettings().loop_min_new_judgments


def _train_reward(out, store, campaign, home):
    assert _count(store, select(func.count()).where(model_versions.c.name == "demo-rm")) == 1


def _eval_reward(out, store, campaign, home):
    assert "95% CI" in out and "pairwise accuracy" in out
    assert "raters agree (two decisive votes)" in out or "only" in out


def _train_policy(out, store, campaign, home):
    for line in ("pairs: ", "steps: ", "loss: ", "reward margin: ", "verdict: ", "loss plot: "):
        assert line in out
    assert "training-loss.png" in out and (home / "policies" / "demo-dpo-1" / "training-loss.png").is_file()


def _generate(out, store, campaign, home):
    new = select(func.count()).where(
        responses.c.model_version_id
        == select(model_versions.c.id).where(model_versions.c.name == "demo-dpo-1").scalar_subquery()
    )
    assert _count(store, new) > 0
    # The default's answers to these prompts are in the store since the demo: reused, none generated again.
    assert "against smollm2-135m-instruct: 0 responses generated, 96 reused from the store" in out


def _score(out, store, campaign, home):
    assert "scored" in out and _count(store, select(func.count()).select_from(item_prelabels)) > 0


def _eval_policy(out, store, campaign, home):
    # Both sides' answers come from the store (generate's and the demo's, same sampling settings).
    assert re.search(r"demo-dpo-1: 48 stored answers reused .* 0 generated", out)
    assert re.search(r"smollm2-135m-instruct \(default\): 48 stored answers reused .* 0 generated", out)
    assert "verdict:" in out and "ties" in out
    assert _count(store, select(func.count()).where(arena_battles.c.judge == "oracle")) == 48


def _loop(out, store, campaign, home):
    assert "Rounds of demo" in out


CHECKS = {
    "stats": _stats,
    "simulate": _simulate,
    "train-reward": _train_reward,
    "eval-reward": _eval_reward,
    "train-policy": _train_policy,
    "generate": _generate,
    "score": _score,
    "eval-policy": _eval_policy,
    "loop": _loop,
}
