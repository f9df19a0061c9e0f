"""How many of the judgments a batch of pairs spends are decisive (not ties): pairs chosen for diversity alone vs
diversity weighed by the decisiveness model (hitl.decisiveness) fitted on the pairs judged so far; random choice
for reference. Same pool, same crowd, same seeds.

    python scripts/bench_decisive_pairs.py --out bench-results/decisive_pairs.json      # make bench runs it
    python scripts/bench_decisive_pairs.py --oracles rule:list,rule:no-self --seeds 0,1,2 --batch 128 --batches 4

The pool is the label-efficiency benchmark's (the default policy's 4 answers per training prompt, cached in
--workdir). Batch 1 is chosen by diversity for every strategy but random (no judgments yet); later batches by
each strategy, never a pair twice. A simulated rater of the default crowd judges each pair once. Reported per
oracle and strategy: decisive share of batches 2.. (medians over seeds, with the pooled Wilson 95% interval and
n), and decisive pairs in all; the JSON keeps every batch. No reward model is trained: this isolates the choice.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_label_efficiency import candidates  # noqa: E402
from loop_bench_common import checked_oracle, fresh_home, split_prompts  # noqa: E402

DEFAULT_ORACLES = "rule:list,rule:no-self,rule:example,rule:numbered,rule:plain"
STRATEGIES = ("random", "diversity", "decisive")


def run(pool: list[dict], oracle, strategy: str, seed: int, batch: int, batches: int) -> list[dict]:
    """Per batch: pairs judged, decisive judgments, and whether the decisiveness model was in use."""
    from hitl.decisiveness import fit_decisiveness
    from hitl.pair_selection import PromptCandidates, SelectionSettings, select_pairs
    from hitl.simulate import default_crowd

    rng = random.Random(seed)
    crowd = default_crowd(8)
    used: set[tuple[int, frozenset[int]]] = set()
    judged: list[tuple[str, str]] = []
    decided: list[float] = []
    options = [PromptCandidates(k, list(range(len(e["answers"]))), e["answers"]) for k, e in enumerate(pool)]
    out = []
    for b in range(batches):
        model = fit_decisiveness(judged, decided, seed=seed) if strategy == "decisive" else None
        method = "random" if strategy == "random" else "diversity"
        chosen = select_pairs(
            options,
            batch,
            SelectionSettings(method=method, per_prompt=2),
            rng,
            used,
            decisive=model.predict if model is not None else None,
        )
        hits = 0
        for n, c in enumerate(chosen):
            used.add((c.key, frozenset(c.ids)))
            entry = pool[c.key]
            texts = [entry["answers"][i] for i in c.ids]
            if rng.random() < 0.5:
                texts.reverse()
            rater = crowd[(len(judged)) % len(crowd)]
            _, _, tie, _ = rater.decide(oracle(entry["prompt"], texts), [len(t) for t in texts], n % 50, rng)
            judged.append((texts[0], texts[1]))
            decided.append(0.0 if tie else 1.0)
            hits += not tie
        out.append({"batch": b + 1, "pairs": len(chosen), "decisive": hits, "model": model is not None})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracles", default=DEFAULT_ORACLES)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--batch", type=int, default=128, help="Pairs per batch [128, a round's items].")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--workdir", help="Keeps the pool of answers between runs (the label-efficiency one).")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from hitl.loop.judges import load_judge
    from hitl.quality.stats import wilson_interval

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hitl-decisive-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    fresh_home(workdir / "home")
    train_file, _, _, _ = split_prompts(workdir)
    pool = candidates(train_file, workdir / "pool.json", args.max_new_tokens, seed=0)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    print(f"{len(pool)} prompts, {sum(len(e['answers']) for e in pool)} answers; batches of {args.batch}")
    print(f"{'oracle':<16} {'strategy':<10} {'decisive share, batches 2+':>27} {'n':>5} {'decisive pairs':>15}")
    for spec in [s.strip() for s in args.oracles.split(",") if s.strip()]:
        oracle = checked_oracle(spec, load_judge(spec, None))
        row = {"oracle": spec, "strategies": {}}
        for strategy in STRATEGIES:
            runs = [run(pool, oracle, strategy, seed, args.batch, args.batches) for seed in seeds]
            later = [(sum(b["decisive"] for b in r[1:]), sum(b["pairs"] for b in r[1:])) for r in runs]
            hits, n = sum(h for h, _ in later), sum(m for _, m in later)
            low, high = wilson_interval(hits, n)
            shares = sorted(h / m for h, m in later if m)
            totals = sorted(sum(b["decisive"] for b in r) for r in runs)
            row["strategies"][strategy] = {
                "runs": runs,
                "later_share_median": shares[len(shares) // 2],
                "later_share_pooled": hits / n,
                "later_low": low,
                "later_high": high,
                "later_n": n,
                "decisive_total_median": totals[len(totals) // 2],
            }
            print(
                f"{spec[:16]:<16} {strategy:<10} {shares[len(shares) // 2]:>10.2f} [{low:.2f}, {high:.2f}] pooled "
                f"{hits / n:.2f} {n:>5} {totals[len(totals) // 2]:>15}",
                flush=True,
            )
        div, dec = (row["strategies"][s]["decisive_total_median"] for s in ("diversity", "decisive"))
        row["decisive_vs_diversity"] = dec / div if div else float("inf")
        results.append(row)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        record = {"results": results, "batch": args.batch, "seeds": seeds, "cpu_count": os.cpu_count()}
        out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
