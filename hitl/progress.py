"""Progress of long work: a tqdm bar on a terminal, and plain lines with an ETA in logs (no `\\r` or cursor escapes).

    python -c "from hitl.progress import progress; bar = progress(3, 'demo'); [bar.update(1) for _ in range(3)]"

`quiet_third_party_bars()` turns off the bars of the libraries underneath (transformers, datasets, the hub,
anything on tqdm) when stderr is not a terminal, so a log or CI output holds lines, not redrawn bars.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def on_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def quiet_third_party_bars() -> None:
    """Off a terminal, silence every library's progress bars (the variables they read, set only if unset)."""
    if on_terminal():
        return
    for name in ("TQDM_DISABLE", "HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
        os.environ.setdefault(name, "1")
    try:  # already imported libraries read their setting at import time
        import datasets

        datasets.disable_progress_bars()
    except Exception:  # noqa: BLE001 - datasets is optional here; nothing to silence without it
        pass


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 90:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    return f"{minutes} min {s:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class LineProgress:
    """Progress as a line every `every` seconds (and at the end): done/total, rate, elapsed and the ETA."""

    def __init__(self, total: int, desc: str, unit: str = "it", every: float = 15.0, stream: TextIO | None = None):
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.stream = stream or sys.stderr
        self.n = 0
        self.started = self._last = time.monotonic()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        text = f"{self.desc}: {self.n}/{self.total} {self.unit}s"
        if self.total:
            text += f" ({self.n / self.total:.0%})"
        text += f", {_duration(elapsed)} elapsed"
        if 0 < self.n < self.total:
            text += f", about {_duration(elapsed / self.n * (self.total - self.n))} left"
        return text

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.every and self.n < self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        print(self.line(), file=self.stream, flush=True)


def progress(total: int, desc: str, unit: str = "it"):
    """A bar with an ETA on a terminal (tqdm), else a LineProgress; both have update(n) and close()."""
    if on_terminal():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, disable=False)
    return LineProgress(total, desc, unit)


def quiet_trainer(trainer) -> None:
    """Give a transformers Trainer hitl's progress instead of its own: a bar with an ETA on a terminal, a line
    with the ETA every few seconds in a log, and no printed log dicts (they stay in `trainer.state.log_history`,
    which the CLI summarises). transformers is imported here, only by callers that already train."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    class StepProgress(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = progress(int(state.max_steps or 0), "training", unit="step")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(1)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(StepProgress())
