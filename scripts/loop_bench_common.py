"""Pieces the loop benchmarks share (scripts/bench_loop.py, scripts/bench_label_efficiency.py): the prompt split,
a checked oracle, a fresh HITL_HOME per run that reuses the cached default models, and the human-preference
oracle (a reward model trained once on real preference data).

    python scripts/bench_loop.py --help
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT_FILES = (ROOT / "hitl" / "data" / "demo_prompts.jsonl", ROOT / "hitl" / "data" / "loop_prompts.jsonl")


def split_prompts(folder: Path, held_out_every: int = 3) -> tuple[Path, Path, int, int]:
    """Training and held-out prompt files from the project's prompt sets: every `held_out_every`-th prompt is held
    out (so both halves mix kinds). Returns the two paths and their sizes."""
    rows = [line for path in PROMPT_FILES for line in path.read_text().splitlines() if line.strip()]
    test = rows[held_out_every - 1 :: held_out_every]
    train = [r for i, r in enumerate(rows) if i % held_out_every != held_out_every - 1]
    paths = folder / "train_prompts.jsonl", folder / "heldout_prompts.jsonl"
    for path, part in zip(paths, (train, test), strict=True):
        path.write_text("\n".join(part) + "\n")
    return paths[0], paths[1], len(train), len(test)


class OracleFailed(SystemExit):
    """An oracle raised or answered with the wrong number of scores: the benchmark stops, naming both."""


def checked_oracle(name: str, oracle: Callable) -> Callable[[str, Sequence[str]], list[float]]:
    """`oracle`, refusing to go on when it raises or returns anything but one number per answer."""

    def judge(prompt: str, answers: Sequence[str]) -> list[float]:
        where = f"oracle {name} on prompt {str(prompt)[:80]!r} with {len(answers)} answers"
        try:
            scores = [float(s) for s in oracle(prompt, list(answers))]
        except Exception as exc:  # noqa: BLE001 - any failure of user code stops the run with its context
            raise OracleFailed(f"{where} raised {type(exc).__name__}: {exc}") from exc
        if len(scores) != len(answers) or any(math.isnan(s) for s in scores):
            raise OracleFailed(f"{where} returned {len(scores)} scores (need {len(answers)} numbers): {scores}")
        return scores

    judge.__name__ = name
    return judge


_shared_models: Path | None = None


def fresh_home(folder: Path) -> Path:
    """A HITL_HOME of its own (versions land in it) whose models/ is the machine's cache of the default models."""
    from hitl import embedded

    global _shared_models
    if _shared_models is None:  # the cache of the HITL_HOME the benchmark was started with
        _shared_models = embedded.models_home().resolve()
        _shared_models.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    models = folder / "models"
    if not models.exists():
        models.symlink_to(_shared_models, target_is_directory=True)
    os.environ["HITL_HOME"] = str(folder)
    return folder


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "oracle"


HUMAN_ORACLE_DIR = ROOT / "bench-results" / "human-oracle"


def human_oracle(train_file: str, workdir: Path, config: str) -> str:
    """`reward:FOLDER` of a reward model trained on real human preferences, e.g.
    ../shared/data/hh-harmless/train.jsonl.gz: the panel's stand-in for people whose taste is not a rule. Trained
    once into `workdir` (both loop benchmarks pass HUMAN_ORACLE_DIR, so they judge by the same model)."""
    from hitl.loop.steps import RewardStep, train_reward_step
    from hitl.store import open_store
    from hitl.trainer_config import TrainerSource

    folder = workdir / "human-oracle"
    done = folder / "oracle.json"
    if done.is_file():
        return json.loads(done.read_text())["spec"]
    fresh_home(folder)
    store = open_store(f"sqlite:///{folder / 'oracle.db'}")
    # Public sets hold a few empty answers (HH-RLHF does): left out and counted, not fatal.
    step = RewardStep(
        name="human-oracle", trainer=TrainerSource(config, overrides={"skip_invalid": True}), data=train_file
    )
    result = train_reward_step(store, None, step)
    spec = f"reward:{result.path}"
    done.write_text(json.dumps({"spec": spec, "accuracy": result.accuracy, "eval_pairs": result.eval_pairs}))
    store.close()
    return spec
