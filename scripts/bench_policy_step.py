"""The policy step's cost: seconds per pair and peak memory of DPO (LoRA, the default policy) at several splits of
the same effective batch into per-device batch x gradient accumulation, on answers as long as the demo's.

    python scripts/bench_policy_step.py --splits 8x1,4x2,2x4 --steps 3 --runs 3 --out bench-results/policy_step.json

Each run trains in its own process (peak RSS is the process's high-water mark, so one run cannot hide another's)
on the same pairs: demo prompts, each answer a run of text cut to --answer-words words, so every sequence fills
max_length as the tour's 256-token answers do. The splits run interleaved, run after run, so a busy machine slows
them alike; the table gives medians and the ratio to the first split.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pairs(n: int, words: int, seed: int) -> list[dict]:
    """Pairs on the demo's prompts with long answers (random word runs from the prompt set itself)."""
    rng = random.Random(seed)
    records = [json.loads(line) for line in (ROOT / "hitl/data/demo_prompts.jsonl").open()]
    prompts = [r["prompt"] for r in records if "prompt" in r]  # single-turn prompts; conversations aside
    vocab = " ".join(prompts).split()

    def answer() -> str:
        return " ".join(rng.choice(vocab) for _ in range(words))

    return [{"prompt": rng.choice(prompts), "chosen": answer(), "rejected": answer()} for _ in range(n)]


def one_run(batch: int, accumulation: int, steps: int, args: argparse.Namespace) -> dict:
    """Train `steps` optimizer steps in this process and report seconds per pair and the peak RSS."""
    import tempfile

    from hitl.threads import set_torch_threads
    from policy.models import resolve
    from policy.train import load_for_training, train_policy
    from policy.train_config import make_config

    threads = set_torch_threads(args.threads)
    pairs = _pairs(batch * accumulation * steps, args.answer_words, args.seed)
    model, tokenizer = load_for_training(resolve(args.policy, progress=False))
    with tempfile.TemporaryDirectory() as out:
        values = {
            "output_dir": out,
            "per_device_train_batch_size": batch,
            "gradient_accumulation_steps": accumulation,
            "max_steps": steps,
            "max_length": args.max_length,
            "disable_tqdm": True,
        }
        config = make_config("dpo", values, config_path=args.config)
        started = time.perf_counter()
        train_policy(model, tokenizer, "dpo", config, pairs=pairs, threads=threads)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "seconds_per_pair": seconds / len(pairs), "peak_mb": peak_mb, "threads": threads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", default="8x1,4x2,2x4", help="per-device batch x accumulation, comma-separated.")
    parser.add_argument("--steps", type=int, default=3, help="Optimizer steps per run [3].")
    parser.add_argument("--runs", type=int, default=3, help="Runs per split, interleaved [3].")
    parser.add_argument("--max-length", type=int, default=256, help="Tokens per sequence (configs/cpu.yaml: 256).")
    parser.add_argument("--answer-words", type=int, default=220, help="Words per answer (fills max_length).")
    parser.add_argument("--policy", default="default")
    parser.add_argument("--config", default=str(ROOT / "configs" / "cpu.yaml"))
    parser.add_argument("--threads", type=int, default=0, help="Torch threads [0: the free cores].")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="Write the results as JSON here.")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: BxA, run in a child process
    args = parser.parse_args(argv)
    if args.one:
        batch, accumulation = (int(x) for x in args.one.split("x"))
        print(json.dumps(one_run(batch, accumulation, args.steps, args)))
        return 0

    splits = [s.strip() for s in args.splits.split(",") if s.strip()]
    sizes = {int(b) * int(a) for b, a in (s.split("x") for s in splits)}
    if len(sizes) != 1:
        print(f"the splits must share one effective batch, got {sorted(sizes)}", file=sys.stderr)
        return 2
    passthrough = ["--steps", str(args.steps), "--max-length", str(args.max_length), "--policy", args.policy]
    passthrough += ["--answer-words", str(args.answer_words), "--config", args.config, "--threads", str(args.threads)]
    passthrough += ["--seed", str(args.seed)]
    runs: dict[str, list[dict]] = {s: [] for s in splits}
    for run in range(args.runs):
        for split in splits:
            cmd = [sys.executable, __file__, "--one", split, *passthrough]
            done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            if done.returncode != 0:
                print(f"split {split} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
                return 1
            runs[split].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"run {run + 1}/{args.runs} {split}: {runs[split][-1]}", flush=True)

    first = splits[0]
    base = statistics.median(r["seconds_per_pair"] for r in runs[first])
    print(f"\nDPO + LoRA on {args.policy}, max_length {args.max_length}, {args.steps} steps of {sizes.pop()} pairs")
    print(f"{'split (batch x accum.)':<24}{'s/pair':>8}{'x ' + first:>10}{'peak MB':>10}  n")
    table = []
    for split in splits:
        per_pair = statistics.median(r["seconds_per_pair"] for r in runs[split])
        peak = statistics.median(r["peak_mb"] for r in runs[split])
        table.append({"split": split, "seconds_per_pair": per_pair, "ratio": per_pair / base, "peak_mb": peak})
        print(f"{split:<24}{per_pair:>8.2f}{per_pair / base:>10.2f}{peak:>10.0f}  {len(runs[split])}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        meta = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count()}
        out.write_text(json.dumps({"table": table, "runs": runs, "args": vars(args), **meta}, indent=1) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
