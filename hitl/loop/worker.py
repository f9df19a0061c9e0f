"""The loop as a background worker of `hitl serve`: raters get fresh pairs without anyone typing commands.

    hitl serve --loop-campaign demo --loop-config configs/cpu.yaml

The worker is a child process running `hitl loop --watch` on the same store, so training never blocks the
web server's event loop or holds its GIL, and a crash in training cannot take the raters' pages down. Its
state lives in the store (hitl.loop.state): a restarted server's worker continues the unfinished round.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class LoopWorkerSettings:
    """What the background loop of `hitl serve` runs (nothing unless a campaign is named)."""

    loop_campaign: str | None = field(
        default=None, metadata={"help": "Run `hitl loop` on this campaign in a background worker process."}
    )
    loop_config: str | None = field(
        default=None, metadata={"help": "YAML with reward: and policy: sections for the worker (configs/cpu.yaml)."}
    )
    loop_base: str = field(default="default", metadata={"help": "Policy of the worker's first round."})
    loop_check_seconds: float = field(
        default=60.0, metadata={"help": "While a round waits for judgments, check again this often (seconds)."}
    )
    loop_min_new_judgments: int = field(
        default=100, metadata={"help": "New judgments a round of the worker needs before it trains."}
    )
    loop_log: str | None = field(default=None, metadata={"help": "Append the worker's output to this file."})


def worker_command(settings: LoopWorkerSettings) -> list[str]:
    """The `hitl loop` command line the worker runs (every round, waiting when judgments are short)."""
    cmd = [sys.executable, "-m", "hitl.cli.main", "loop", "--campaign", str(settings.loop_campaign)]
    cmd += ["--base", settings.loop_base, "--watch", str(settings.loop_check_seconds), "--max-rounds", "0"]
    cmd += ["--min-new-judgments", str(settings.loop_min_new_judgments)]
    if settings.loop_config:
        cmd += ["--config", str(Path(settings.loop_config).resolve())]
    return cmd


class LoopWorker:
    """Starts the worker process, and stops it (with its children) when the server stops."""

    def __init__(self, settings: LoopWorkerSettings, db_url: str):
        self.command = worker_command(settings)
        self.db_url = db_url  # passed in the environment: a password in a URL must not show in `ps`
        self.log_path = settings.loop_log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "HITL_DB": self.db_url}
        # The server keeps one core for raters; training takes the rest (two busy processes that each use
        # every thread run many times slower).
        env.setdefault("HITL_THREADS", str(max(1, (os.cpu_count() or 2) - 1)))
        out = open(self.log_path, "a") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 (lives with the child)
        self.process = subprocess.Popen(
            self.command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.info("loop worker started (pid %d): %s", self.process.pid, " ".join(self.command))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running():
            return
        assert self.process is not None
        # Its own session: the signal reaches the worker and anything it started (e.g. dataloader workers).
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
