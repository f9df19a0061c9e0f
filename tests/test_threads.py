"""Thread counts for busy processes: never zero, shared among processes, capped by $HITL_THREADS."""

from hitl import threads


def test_free_cores_counts_only_other_busy_threads_and_respects_the_cap(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda _: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 1)
    monkeypatch.delenv("HITL_THREADS", raising=False)
    assert threads.free_cores() == 3 and threads.free_cores(processes=2) == 1
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 9)
    assert threads.free_cores() == 1  # a saturated machine still gets one thread
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)
    monkeypatch.setenv("HITL_THREADS", "2")
    assert threads.free_cores() == 2
    monkeypatch.setenv("HITL_THREADS", "junk")
    assert threads.free_cores() == 4


def test_busy_elsewhere_never_counts_the_caller():
    assert threads.busy_elsewhere() >= 0


def _fresh(monkeypatch, cores: int = 2):
    import torch

    monkeypatch.setattr(threads, "_last_set", None)
    monkeypatch.setattr(threads, "cores", lambda: cores)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)
    for name in ("HITL_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    monkeypatch.setattr(torch, "set_num_threads", lambda n: setattr(_fresh, "now", n))
    monkeypatch.setattr(torch, "get_num_threads", lambda: getattr(_fresh, "now", before))
    return torch


def test_a_users_own_torch_setting_is_respected(monkeypatch):
    torch = _fresh(monkeypatch, cores=8)
    _fresh.now = 3  # the program called torch.set_num_threads(3) before using hitl
    assert threads.set_torch_threads() == 3 and torch.get_num_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    _fresh.now = 8
    assert threads.set_torch_threads() == 8


def test_hitl_decides_when_nobody_else_did_and_hitl_threads_caps_it(monkeypatch):
    torch = _fresh(monkeypatch, cores=8)
    _fresh.now = 8  # torch's default
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 2)
    assert threads.set_torch_threads() == 6
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)
    assert threads.set_torch_threads() == 8  # its own earlier choice is not mistaken for the user's
    monkeypatch.setenv("HITL_THREADS", "1")
    _fresh.now = 5  # even over a user's torch setting: the project's own override
    assert threads.set_torch_threads() == 1 and torch.get_num_threads() == 1
    assert threads.set_torch_threads(threads=4) == 4  # an explicit config value wins
