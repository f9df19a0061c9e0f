"""The background loop of `hitl serve`: the command it runs, and that stopping the server stops it."""

from __future__ import annotations

import sys
import time

from hitl.loop.worker import LoopWorker, LoopWorkerSettings, worker_command


def test_the_worker_runs_hitl_loop_on_every_round_with_the_store_in_its_environment(tmp_path):
    config = tmp_path / "cpu.yaml"
    config.write_text("reward: {}\n")
    settings = LoopWorkerSettings(loop_campaign="demo", loop_config=str(config), loop_min_new_judgments=40)
    cmd = worker_command(settings)
    assert cmd[:4] == [sys.executable, "-m", "hitl.cli.main", "loop"]
    flags = dict(zip(cmd[4::2], cmd[5::2], strict=True))
    assert flags["--campaign"] == "demo" and flags["--max-rounds"] == "0" and flags["--min-new-judgments"] == "40"
    assert flags["--config"] == str(config.resolve()) and float(flags["--watch"]) > 0
    assert "--db" not in flags  # a password in the URL must not show in `ps`


def test_stopping_the_worker_ends_its_process_group(tmp_path):
    worker = LoopWorker(LoopWorkerSettings(loop_campaign="demo", loop_log=str(tmp_path / "w.log")), "sqlite://")
    marker = tmp_path / "env"
    # A stand-in child that records its environment, then sleeps the way a waiting loop does.
    worker.command = [
        sys.executable,
        "-c",
        f"import os, time; open({str(marker)!r}, 'w').write(os.environ['HITL_DB'] + ' ' + os.environ['HITL_THREADS']);"
        " time.sleep(60)",
    ]
    worker.start()
    deadline = time.time() + 20
    while not (marker.exists() and marker.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    assert worker.running()
    db, threads = marker.read_text().split()
    assert db == "sqlite://" and int(threads) >= 1
    worker.stop(timeout=5)
    assert not worker.running() and worker.process.returncode != 0
