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
