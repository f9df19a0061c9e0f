"""Reward-model benchmark on real human preferences: held-out accuracy, training pairs/s, peak RSS and wall time of
hitl's wrapper, beside TRL's RewardTrainer with its defaults made CPU-safe, and what each speed setting bought.

    python scripts/bench_reward.py --train ../shared/data/hh-harmless/train.jsonl.gz \
        --test ../shared/data/hh-harmless/test.jsonl.gz --out bench-results/reward.json

Every measurement runs in its own process (peak RSS is per process; threads start fresh). The baseline is
`RewardTrainer` with TRL's defaults and only what it needs to run on a CPU with this BERT-style backbone:
bf16 off, eos_token "[SEP]" (BERT has none; TRL appends it), max_length 512 (TRL's 1024 overflows the model's
positions; longer pairs are dropped by TRL), no checkpoints, no trackers. A full default baseline run (3 epochs) would
take hours on two cores, so its speed is measured over --baseline-steps steps. The ladder re-measures speed on one
subset of pairs adding one setting at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LADDER = [
    ("trl-defaults", "TRL defaults (text path, max 512, batch 8, grad. checkpointing, random order)"),
    ("pretokenized", "+ pre-tokenized, truncated to max_length, batch 16 (still checkpointing, random order)"),
    ("no-checkpointing", "+ no gradient checkpointing"),
    ("length-grouped", "+ length-grouped batches"),
    ("threads", "+ torch threads = free cores (all of the above: the hitl config)"),
]


def _rows(path: str):
    from reward.data import file_rows

    return file_rows(path, skip_invalid=True)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ours_config(args, out_dir: str, **changes):
    from reward.config import make_config

    values = {
        "model": args.model,
        "output_dir": out_dir,
        "learning_rate": args.lr,
        "num_train_epochs": args.epochs,
        "per_device_train_batch_size": args.batch,
        "max_length": args.max_length,
        "threads": args.threads,
        "save_strategy": "no",
        "logging_steps": 20,
        "seed": args.seed,
    }
    return make_config({**values, **changes})


def phase_ours(args) -> dict:
    """The hitl config on the whole training set, then held-out accuracy with the one scorer."""
    from reward.data import PreferenceData
    from reward.evaluate import pair_metrics
    from reward.score import RewardScorer
    from reward.train import train_reward

    started = time.perf_counter()
    train, skipped_train = _rows(args.train)
    test, skipped_test = _rows(args.test)
    with tempfile.TemporaryDirectory() as out:
        config = _ours_config(args, out)
        result = train_reward(config, data=PreferenceData(train, []), evaluate=False)
        import torch

        threads = torch.get_num_threads()
        scorer = RewardScorer(result.trainer.model, result.trainer.processing_class, max_length=args.max_length)
        scored = time.perf_counter()
        chosen, rejected = scorer.score_pairs(
            [r["prompt"] for r in test], [r["chosen"] for r in test], [r["rejected"] for r in test]
        )
        score_seconds = time.perf_counter() - scored
    report = pair_metrics(test, chosen, rejected)
    seconds = result.metrics["train_seconds"]
    return {
        "held_out_accuracy": report["accuracy"],
        "held_out_pairs": len(test),
        "ece": report["calibration"]["ece"],
        "reward_length_spearman": report["length"]["reward_length_spearman"],
        "train_pairs": len(train),
        "skipped_invalid": len(skipped_train) + len(skipped_test),
        "epochs": args.epochs,
        "train_seconds": seconds,
        "pairs_per_second": len(train) * args.epochs / seconds,
        "truncated_sequences": result.metrics["truncated"],
        "score_seconds": score_seconds,
        "threads": threads,
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _trl_baseline(args, rows: list, steps: int) -> dict:
    """TRL's RewardTrainer on text pairs with its defaults, CPU-safe; speed over `steps` optimizer steps."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from reward.encoding import render_prompt
    from reward.models import resolve_backbone

    data = Dataset.from_list(
        [{"prompt": render_prompt(r["prompt"]) + " ", "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]
    )
    with tempfile.TemporaryDirectory() as out:
        config = RewardConfig(
            output_dir=out,
            bf16=False,
            eos_token="[SEP]",
            max_length=512,
            max_steps=steps,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
        )
        trainer = RewardTrainer(model=resolve_backbone(args.model), args=config, train_dataset=data)
        kept = len(trainer.train_dataset)
        output = trainer.train()
    pairs = min(steps * config.per_device_train_batch_size, kept * config.num_train_epochs)
    return {
        "pairs_kept": kept,
        "pairs_dropped_by_max_length": len(rows) - kept,
        "steps": steps,
        "batch_size": config.per_device_train_batch_size,
        "gradient_checkpointing": config.gradient_checkpointing,
        "train_seconds": output.metrics["train_runtime"],
        "pairs_per_second": pairs / output.metrics["train_runtime"],
    }


def phase_baseline(args) -> dict:
    started = time.perf_counter()
    train, _ = _rows(args.train)
    result = _trl_baseline(args, train, args.baseline_steps)
    return {**result, "wall_seconds": time.perf_counter() - started, "peak_rss_mb": _peak_rss_mb()}


def phase_ladder(args) -> dict:
    """Speed of one ladder rung on the first --ladder-pairs training pairs, one epoch."""
    import torch

    from reward.data import PreferenceData
    from reward.train import train_reward

    train, _ = _rows(args.train)
    subset = train[: args.ladder_pairs]
    if args.rung == "trl-defaults":
        return _trl_baseline(args, subset, len(subset) // 8)
    changes = {"num_train_epochs": 1}
    rung = [name for name, _ in LADDER].index(args.rung)
    if rung < 2:
        changes["activation_checkpointing"] = True
    if rung < 3:
        changes["train_sampling_strategy"] = "random"
    if rung < 4:
        changes["threads"] = torch.get_num_threads()  # torch's own default: every core
    with tempfile.TemporaryDirectory() as out:
        result = train_reward(_ours_config(args, out, **changes), data=PreferenceData(subset, []), evaluate=False)
    seconds = result.metrics["train_seconds"]
    return {"pairs_per_second": len(subset) / seconds, "train_seconds": seconds, "threads": torch.get_num_threads()}


def _child(args, phase: str, rung: str | None = None, seed: int = 0) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    cmd = [sys.executable, __file__, "--phase", phase, "--phase-out", out, "--seed", str(seed), *sys.argv[1:]]
    if rung:
        cmd += ["--rung", rung]
    print(f"[bench_reward] {phase} {rung or ''} ...", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"{phase} failed (exit {done.returncode})")
    result = json.loads(Path(out).read_text())
    os.unlink(out)
    return result


def _median(runs: list[dict]) -> dict:
    """Per-field median over repeated runs (numbers); other fields from the first run."""
    import statistics

    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = statistics.median(r[key] for r in runs)
    out["runs"] = len(runs)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", required=True, help="HH-RLHF (or TRL) preference pairs to train on.")
    p.add_argument("--test", required=True, help="Held-out pairs; never trained on.")
    p.add_argument("--out", help="Write the results as JSON here.")
    p.add_argument("--model", default="default", help="Backbone [default: embedded all-MiniLM-L6-v2].")
    p.add_argument("--epochs", type=float, default=2.0, help="Training epochs of the hitl run [2].")
    p.add_argument("--lr", type=float, default=1e-4, help="Peak learning rate of the hitl run [1e-4].")
    p.add_argument("--batch", type=int, default=16, help="Pairs per batch of the hitl run [16].")
    p.add_argument("--max-length", type=int, default=128, help="Tokens per sequence of the hitl run [128].")
    p.add_argument("--threads", type=int, default=0, help="torch threads of the hitl run; 0 = free cores [0].")
    p.add_argument("--baseline-steps", type=int, default=12, help="Optimizer steps the baseline is timed over [12].")
    p.add_argument("--ladder-pairs", type=int, default=96, help="Pairs each ladder rung trains on (0: skip) [96].")
    p.add_argument(
        "--repeats", type=int, default=1, help="Runs of the hitl config (seeds 0, 1, ...) and baseline; medians [1]."
    )
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("--phase-out", help=argparse.SUPPRESS)
    p.add_argument("--rung", help=argparse.SUPPRESS)
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.phase:
        result = {"ours": phase_ours, "baseline": phase_baseline, "ladder": phase_ladder}[args.phase](args)
        Path(args.phase_out).write_text(json.dumps(result))
        return
    started = time.perf_counter()
    # Each hitl run has its own seed (head initialisation, data order): accuracy varies by about 0.01 between seeds
    # on 512 held-out pairs, so the median over seeds is the figure, and every run's accuracy is kept.
    ours_runs = [_child(args, "ours", seed=seed) for seed in range(args.repeats)]
    ours = {**_median(ours_runs), "accuracy_per_seed": [r["held_out_accuracy"] for r in ours_runs]}
    baseline = _median([_child(args, "baseline") for _ in range(args.repeats)])
    ladder = []
    if args.ladder_pairs:
        ladder = [{"rung": name, "what": what, **_child(args, "ladder", name)} for name, what in LADDER]
    results = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()[0]},
        "settings": {k: getattr(args, k) for k in ("model", "epochs", "lr", "batch", "max_length", "threads")},
        "hitl": ours,
        "trl_baseline": baseline,
        "speedup_vs_baseline": ours["pairs_per_second"] / baseline["pairs_per_second"],
        "ladder": ladder,
        "bench_seconds": time.perf_counter() - started,
    }
    print(f"{'':34} {'hitl':>12} {'TRL baseline':>14}")
    print(f"{'held-out accuracy':34} {ours['held_out_accuracy']:>12.3f} {'(not run)':>14}")
    print(f"{'training pairs/s':34} {ours['pairs_per_second']:>12.2f} {baseline['pairs_per_second']:>14.2f}")
    print(f"{'training time (s)':34} {ours['train_seconds']:>12.0f} {baseline['train_seconds']:>14.0f}")
    print(f"{'wall time of the phase (s)':34} {ours['wall_seconds']:>12.0f} {baseline['wall_seconds']:>14.0f}")
    print(f"{'peak RSS (MB)':34} {ours['peak_rss_mb']:>12.0f} {baseline['peak_rss_mb']:>14.0f}")
    print(f"speedup: {results['speedup_vs_baseline']:.2f}x pairs/s; held-out pairs {ours['held_out_pairs']}")
    print("held-out accuracy per seed: " + ", ".join(f"{a:.3f}" for a in ours["accuracy_per_seed"]))
    for rung in ladder:
        print(f"  {rung['pairs_per_second']:6.2f} pairs/s  {rung['what']}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
