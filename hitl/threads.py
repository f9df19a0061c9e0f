"""How many torch threads a busy step (generation, training, scoring) uses: two processes that each use every core
run many times slower, so by default a step takes the cores that are not busy right now.

    HITL_THREADS=1 hitl train-reward ...          # the project's own cap, e.g. the loop worker beside `hitl serve`
    OMP_NUM_THREADS=4 hitl generate ...           # respected, as torch users expect

Who decides, first match wins: an explicit `threads` argument (a config's `threads` field); $HITL_THREADS; the
user's own choice for torch ($OMP_NUM_THREADS, or `torch.set_num_threads` called by the program that imports
hitl), left as it is; else the free cores.
"""

from __future__ import annotations

import os
from pathlib import Path

_last_set: int | None = None  # what this module last gave torch, so a later step can tell it from a user's choice


def cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _positive_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def free_cores(processes: int = 1) -> int:
    """Cores not busy right now, shared among `processes`, capped by $HITL_THREADS."""
    free = max(1, (cores() - busy_elsewhere()) // max(1, processes))
    cap = _positive_int("HITL_THREADS")
    return max(1, min(free, cap)) if cap else free


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


def _user_chose(current: int) -> bool:
    """Whether torch's thread count is the user's choice rather than torch's default or ours."""
    if _positive_int("OMP_NUM_THREADS"):
        return True
    if _last_set is not None:
        return current != _last_set
    # torch starts with one thread per physical core (at most the cores we may use): anything else was set.
    return current != cores() and current != max(1, cores() // 2)


def set_torch_threads(threads: int = 0, processes: int = 1) -> int:
    """Give torch `threads` threads, or decide (see the module docstring); returns the number torch now uses."""
    global _last_set
    import torch

    cap = _positive_int("HITL_THREADS")
    current = torch.get_num_threads()
    if threads > 0:
        n = threads
    elif cap:
        n = min(cap, free_cores(processes))
    elif _user_chose(current):
        return current
    else:
        n = free_cores(processes)
    torch.set_num_threads(n)
    _last_set = n
    return n
