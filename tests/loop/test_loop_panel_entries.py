"""The loop benchmark's panel entries: `SPEC@N` gives one oracle its own token budget (scripts/bench_loop.py)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_loop.py"


@pytest.fixture(scope="module")
def bench_loop():
    spec = importlib.util.spec_from_file_location("bench_loop_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_loop_under_test", None)


def test_an_entry_without_a_budget_is_the_spec_itself(bench_loop):
    assert bench_loop.panel_entry("rule:plain") == ("rule:plain", None)
    assert bench_loop.panel_entry("reward:/models/rm@v2/final") == ("reward:/models/rm@v2/final", None)


def test_a_trailing_number_after_at_is_the_token_budget(bench_loop):
    assert bench_loop.panel_entry("rule:detailed@128") == ("rule:detailed", 128)
    assert bench_loop.panel_entry("reward:/models/rm@v2@96") == ("reward:/models/rm@v2", 96)


@pytest.mark.parametrize("entry", ["@128", "rule:detailed@0"])
def test_a_budget_without_an_oracle_or_of_no_tokens_stops_the_run(bench_loop, entry):
    with pytest.raises(SystemExit, match="SPEC@N"):
        bench_loop.panel_entry(entry)


def test_the_default_panel_gives_the_long_answer_preference_room_to_grow(bench_loop):
    entries = dict(bench_loop.panel_entry(e) for e in bench_loop.RULE_PANEL.split(","))
    assert entries["rule:detailed"] > 64
    assert entries["rule:concise"] is None


def test_the_table_names_an_entry_by_its_oracle_and_its_own_budget(bench_loop):
    plain = {"oracle": "rule:plain", "entry": "rule:plain", "max_new_tokens": 64}
    long = {"oracle": "rule:detailed", "entry": "rule:detailed@128", "max_new_tokens": 128}
    human = {"oracle": "reward:/x/human-oracle-long-name", "entry": "reward:/x/human-oracle-long-name@96"}
    assert bench_loop.short_name(plain) == "rule:plain"
    assert bench_loop.short_name(long) == "rule:detailed@128"
    # A long reward-model name is cut, never its budget.
    named = bench_loop.short_name({**human, "max_new_tokens": 96})
    assert named.startswith("reward:human-") and named.endswith("@96")
    assert len(named) == bench_loop.NAME_WIDTH


def test_a_round_that_never_finished_waiting_is_not_under_15_minutes(bench_loop):
    """A round still waiting when the benchmark gave up counts every attempt it spent as waiting time; the
    time target is judged on it too (a round that never ends is no faster than 15 minutes)."""
    waiting = {"round": 1, "status": "waiting", "attempt_seconds": [400.0, 300.0, 350.0], "round_seconds": 1060.0}
    result = {"oracle": "rule:example", "rows": [{"round": 0, "round_seconds": 90.0}, waiting]}
    assert bench_loop.waiting_seconds(waiting) == 1050.0
    assert bench_loop.targets(result, rounds=3) == {"round_under_15_min": False, "all_rounds_done": False}
    done = {**waiting, "status": "done", "round_seconds": 800.0}
    assert bench_loop.waiting_seconds(done) == 700.0  # the last attempt trained the policy
