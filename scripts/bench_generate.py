"""Generation throughput of the default policy: our batched path against a naive one-prompt-at-a-time loop.

    python scripts/bench_generate.py --out bench-results/generate.json      # make bench runs this

32 prompts of the demo set, 64 new tokens each, sampling as `hitl generate` does (temperature 0.8, top-p 0.95).
Tokens counted are the ones kept (up to EOS), so a batch that keeps finished rows busy is not flattered. Each
variant is timed `--runs` times and the median is reported, with the peak resident memory seen while it ran.
The variants change one thing at a time (batch size, static KV cache, bf16), so the table says what each bought.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policy.config import GenerationSettings  # noqa: E402

PROMPTS_FILE = Path(__file__).resolve().parents[1] / "hitl" / "data" / "demo_prompts.jsonl"


class PeakRss:
    """Highest resident set size of this process while the block runs, sampled every 20 ms."""

    def __init__(self):
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()

    def _watch(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self):
        self.peak = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def load_prompts(n: int) -> list:
    rows = [json.loads(line) for line in PROMPTS_FILE.read_text().splitlines() if line.strip()]
    return [r.get("prompt") or r["messages"] for r in rows][:n]


def naive(model, tokenizer, prompts, settings: GenerationSettings) -> int:
    """What a first script does: `model.generate` on one prompt at a time, no batching."""
    import torch

    from policy.generate import eos_ids, render, split_at_eos

    stop = eos_ids(model, tokenizer)
    tokens = 0
    torch.manual_seed(settings.seed)
    for prompt in prompts:
        enc = tokenizer(render(tokenizer, prompt), return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=settings.max_new_tokens,
                do_sample=True,
                temperature=settings.temperature,
                top_p=settings.top_p,
                top_k=0,
                pad_token_id=tokenizer.pad_token_id,
            )
        kept, _ = split_at_eos(out[0, enc["input_ids"].shape[1] :].tolist(), stop)
        tokens += len(kept)
    return tokens


def batched(model, tokenizer, prompts, settings: GenerationSettings, static_cache: bool = False) -> int:
    from policy.generate import generate

    return sum(s.n_tokens for s in generate(model, tokenizer, prompts, settings, static_cache=static_cache))


def measure(name: str, fn, runs: int, note: str) -> dict:
    times, tokens, peak = [], [], 0
    for _ in range(runs):
        with PeakRss() as rss:
            start = time.perf_counter()
            n = fn()
            times.append(time.perf_counter() - start)
        tokens.append(n)
        peak = max(peak, rss.peak)
    rates = [t / s for t, s in zip(tokens, times, strict=True)]
    row = {
        "variant": name,
        "tokens_per_s": statistics.median(rates),
        "tokens_per_s_runs": [round(r, 1) for r in rates],
        "seconds_median": statistics.median(times),
        "tokens_median": statistics.median(tokens),
        "peak_rss_mb": peak / 2**20,
        "note": note,
    }
    print(
        f"  {name:28s} {row['tokens_per_s']:7.1f} tok/s  (runs: {row['tokens_per_s_runs']}, "
        f"{row['peak_rss_mb']:.0f} MB peak RSS)",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="Policy spec [default].")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3, help="Timed runs per variant (median reported) [3].")
    parser.add_argument("--naive-runs", type=int, default=0, help="Runs of the slow naive loop [--runs].")
    parser.add_argument("--batch-sizes", default="8,16,32", help="Batch sizes tried for the batched path [8,16,32].")
    parser.add_argument("--threads", type=int, default=0, help="torch threads [0: the free cores].")
    parser.add_argument("--bf16", choices=("auto", "yes", "no"), default="auto", help="Try bf16 [auto: if native].")
    parser.add_argument("--no-static", action="store_true", help="Skip the static-cache variant.")
    parser.add_argument("--out", help="Write the results as JSON here.")
    args = parser.parse_args(argv)

    import torch

    from policy.generate import set_threads
    from policy.models import load_policy, native_bf16, resolve

    threads = set_threads(args.threads)
    prompts = load_prompts(args.prompts)
    base = GenerationSettings(n=1, max_new_tokens=args.max_new_tokens, temperature=0.8, top_p=0.95, seed=0)
    resolved = resolve(args.model)
    model, tokenizer = load_policy(resolved, dtype="float32")
    print(
        f"{resolved.name}: {len(prompts)} prompts x {args.max_new_tokens} new tokens, {threads} torch threads, "
        f"median of {args.runs} runs, {platform.processor() or platform.machine()}",
        flush=True,
    )
    # One short untimed call, so one-time costs (allocator growth, lazy imports) are not charged to the first variant.
    batched(model, tokenizer, prompts[:2], dataclasses.replace(base, max_new_tokens=4, batch_size=2))
    rows = [
        measure(
            "naive loop, fp32",
            lambda: naive(model, tokenizer, prompts, base),
            args.naive_runs or args.runs,
            "model.generate per prompt",
        )
    ]
    sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    plain = dataclasses.replace(base, loop="generate")
    for size in sizes:
        cfg = dataclasses.replace(plain, batch_size=size)
        rows.append(
            measure(
                f"generate, batch {size}",
                lambda cfg=cfg: batched(model, tokenizer, prompts, cfg),
                args.runs,
                "transformers generate; left padding, sorted by length",
            )
        )
    best_size = int(max(rows[1:], key=lambda r: r["tokens_per_s"])["variant"].split()[-1])
    if not args.no_static:
        cfg = dataclasses.replace(plain, batch_size=best_size)
        rows.append(
            measure(
                f"generate, batch {best_size}, static",
                lambda: batched(model, tokenizer, prompts, cfg, static_cache=True),
                args.runs,
                "cache_implementation='static'",
            )
        )
    for size in sizes:
        cfg = dataclasses.replace(base, batch_size=size)
        rows.append(
            measure(
                f"hitl loop, batch {size}",
                lambda cfg=cfg: batched(model, tokenizer, prompts, cfg),
                args.runs,
                "policy/decode.py: exact top-p over the top 256, exponential race, finished rows dropped",
            )
        )
    loop_rows = [r for r in rows if r["variant"].startswith("hitl loop")]
    best_size = int(max(loop_rows, key=lambda r: r["tokens_per_s"])["variant"].split()[-1])
    has_bf16 = native_bf16()
    if args.bf16 == "yes" or (args.bf16 == "auto" and has_bf16):
        cfg = dataclasses.replace(base, batch_size=best_size)
        model16 = model.to(torch.bfloat16)
        rows.append(
            measure(
                f"hitl loop, batch {best_size}, bf16",
                lambda: batched(model16, tokenizer, prompts, cfg),
                args.runs,
                "native bf16" if has_bf16 else "no native bf16 on this CPU (emulated)",
            )
        )
        model = model16.to(torch.float32)
    naive_rate = rows[0]["tokens_per_s"]
    fastest = max(rows[1:], key=lambda r: r["tokens_per_s"])
    previous = None
    print(f"\n{'variant':30s} {'tok/s':>8s} {'x naive':>8s} {'x prev':>7s} {'peak RSS':>9s}")
    for row in rows:
        row["speedup_vs_naive"] = row["tokens_per_s"] / naive_rate if naive_rate else None
        row["speedup_vs_previous"] = row["tokens_per_s"] / previous if previous else None
        prev = f"{row['speedup_vs_previous']:.2f}" if row["speedup_vs_previous"] else "-"
        print(
            f"{row['variant']:30s} {row['tokens_per_s']:8.1f} {row['speedup_vs_naive']:8.2f} {prev:>7s} "
            f"{row['peak_rss_mb']:7.0f} MB"
        )
        previous = row["tokens_per_s"]
    ratio = fastest["tokens_per_s"] / naive_rate if naive_rate else 0.0
    print(
        f"\nbest: {fastest['variant']} at {fastest['tokens_per_s']:.1f} tok/s, {ratio:.1f}x the naive loop "
        f"(targets: >= 6x and >= 150 tok/s: {'met' if ratio >= 6 and fastest['tokens_per_s'] >= 150 else 'NOT met'})"
    )
    result = {
        "model": resolved.name,
        "prompts": len(prompts),
        "max_new_tokens": args.max_new_tokens,
        "threads": threads,
        "runs": args.runs,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "native_bf16": has_bf16,
        "torch": torch.__version__,
        "variants": rows,
        "best": fastest["variant"],
        "best_tokens_per_s": fastest["tokens_per_s"],
        "ratio_vs_naive": ratio,
    }
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
