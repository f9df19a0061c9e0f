"""How many torch threads a busy process should use: two processes that each use every core run many times slower.

HITL_THREADS=1 hitl train-reward ...   # a hard cap, e.g. for the loop worker beside `hitl serve`
"""

from __future__ import annotations

import os
from pathlib import Path


def free_cores(processes: int = 1) -> int:
    """Cores not already busy (by the 1-minute load average), shared among `processes`, capped by $HITL_THREADS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    free = max(1, (cores - busy_elsewhere()) // max(1, processes))
    cap = os.environ.get("HITL_THREADS", "").strip()
    return max(1, min(free, int(cap))) if cap.isdigit() and int(cap) > 0 else free


def busy_elsewhere() -> int:
    """Threads of other processes running right now.

    The instantaneous count from /proc/loadavg, not the 1-minute load average: that average still holds this
    very process's own work of the last minute (a generation step just before a training step would make
    training think the machine is busy and take one thread).
    """
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return int(os.getloadavg()[0] + 0.5) if hasattr(os, "getloadavg") else 0
    return max(0, running - 1)  # the thread asking is running too


def set_torch_threads(threads: int = 0, processes: int = 1) -> int:
    """Use `threads` torch threads (0: the free cores); returns the number set."""
    import torch

    n = threads or free_cores(processes)
    torch.set_num_threads(n)
    return n
