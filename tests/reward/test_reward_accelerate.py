"""The same `hitl train-reward` entry point under `accelerate launch` with two CPU processes (gloo): it trains,
the main process alone saves, records the snapshots and registers the version."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reward_helpers import planted_rows
from sqlalchemy import select

from hitl.store import open_store
from hitl.store.schema import dataset_snapshots, model_versions

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_cpu_processes(tmp_path, backbone_dir):
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        "".join(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}) + "\n" for r in planted_rows(64))
    )
    url = f"sqlite:///{tmp_path / 'hitl.db'}"
    open_store(url).close()  # migrate once, before two processes open it
    launcher = Path(sys.executable).with_name("accelerate")
    cmd = [str(launcher), "launch", "--config_file", str(ROOT / "configs/accelerate/cpu_2proc.yaml")]
    cmd += ["--main_process_port", "29533", "-m", "hitl.cli.main", "train-reward", "--db", url, "--data", str(data)]
    cmd += ["--model", backbone_dir, "--name", "ddp", "--output-dir", str(tmp_path / "rm"), "--threads", "1"]
    cmd += ["--num-train-epochs", "1", "--max-length", "48", "--per-device-train-batch-size", "8"]
    cmd += ["--save_strategy", "no", "--disable_tqdm", "true"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "registered reward version ddp" in done.stdout
    store = open_store(url)
    with store.read() as conn:
        versions = conn.execute(select(model_versions.c.name)).scalars().all()
        snapshots = conn.execute(select(dataset_snapshots)).all()
    store.close()
    assert versions == ["ddp"] and len(snapshots) == 3  # recorded once, by the main process
    assert (tmp_path / "rm" / "model.safetensors").is_file()
