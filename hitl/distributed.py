"""The end of a command run under `accelerate launch` / torchrun, where every process is one rank of a process
group.

Only the main process evaluates and registers a trained model; the others would otherwise leave at once, and a
rank that exits with its (gloo) process group still alive can abort in the group's destructor ("terminate called
without an active exception", SIGABRT), failing the whole launch after the training succeeded. So at the end
every rank waits for the others, then the group is torn down in order.
"""

from __future__ import annotations

import sys


def end_process_group(succeeded: bool) -> None:
    """Wait for every rank (when this one succeeded) and destroy the default process group, if there is one.

    After a failure there is no barrier: the other ranks may never reach it, and the launcher stops them anyway.
    """
    if "torch.distributed" not in sys.modules:  # never started: commands that do not train stay torch-free
        return
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    try:
        if succeeded:
            dist.barrier()
    finally:
        dist.destroy_process_group()
