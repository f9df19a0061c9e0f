"""The whole loop on the embedded default models: simulated raters -> reward model -> DPO step -> new pairs, 3 rounds.

    python scripts/bench_loop.py --out bench-results/loop.json       # make loop-demo runs this

A fresh store; the demo prompts split into a training half (the loop generates for these) and a held-out half
(versions are compared on these). Round 0: the default policy answers the training prompts twice and 8 simulated
raters (noise, one position-biased, one spammer, one fatigued) judge them over a rule oracle. Then each round:
reward model -> policy step -> the new version against the previous one and two samples of the new one queued ->
the simulated raters judge what was queued. Reported per round: judgments, wall time by stage, the reward model's
held-out accuracy against the oracle, and the oracle win rate of the round's version over v0 on held-out prompts
with a bootstrap 95% interval; at the end, which simulated raters the quality numbers flag.
Targets (issue 6, 2-core machine): a round <= 15 minutes; v3 beats v0 at >= 0.65 with the interval above 0.5;
the spammer and the position-biased raters flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS_FILE = Path(__file__).resolve().parents[1] / "hitl" / "data" / "demo_prompts.jsonl"


def split_prompts(folder: Path, per_round: int, held_out: int) -> tuple[Path, Path]:
    """Training and held-out prompt files from the demo set (every other prompt, so both halves mix kinds)."""
    rows = [line for line in PROMPTS_FILE.read_text().splitlines() if line.strip()]
    train, test = rows[0::2][:per_round], rows[1::2][:held_out]
    if len(train) < per_round or len(test) < held_out:
        raise SystemExit(f"the demo set has {len(rows)} prompts: too few for {per_round} + {held_out}")
    paths = folder / "train_prompts.jsonl", folder / "heldout_prompts.jsonl"
    for path, part in zip(paths, (train, test), strict=True):
        path.write_text("\n".join(part) + "\n")
    return paths


class CachingSampler:
    """Generation for compare_policies that answers each version once (v0 is compared against every round)."""

    def __init__(self):
        self.cache: dict[str, list] = {}
        self.seconds = 0.0

    def __call__(self, resolved, prompts, settings, progress: bool = False):
        from policy.generate import sample

        key = f"{resolved.name}:{resolved.path}"
        if key not in self.cache:
            started = time.perf_counter()
            self.cache[key] = sample(resolved, prompts, settings)
            self.seconds += time.perf_counter() - started
        return self.cache[key]


def oracle_accuracy(reward_path: str, rows: list[dict], oracle) -> tuple[float, int]:
    """Share of held-out answer pairs (oracle not tied) on which the reward model prefers what the oracle does."""
    from reward.score import RewardScorer

    scorer = RewardScorer.from_pretrained(reward_path)
    decided = [(r, oracle(r["prompt"], [r["a"], r["b"]])) for r in rows]
    decided = [(r, s) for r, s in decided if s[0] != s[1]]
    if not decided:
        return float("nan"), 0
    prompts = [r["prompt"] for r, _ in decided]
    ra = scorer.score(prompts, [r["a"] for r, _ in decided])
    rb = scorer.score(prompts, [r["b"] for r, _ in decided])
    hits = [(x > y) == (s[0] > s[1]) for x, y, (_, s) in zip(ra, rb, decided, strict=True)]
    return sum(hits) / len(hits), len(hits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts-per-round", type=int, default=64)
    parser.add_argument("--held-out", type=int, default=64, help="Held-out prompts the versions are compared on.")
    parser.add_argument("--raters", type=int, default=8)
    parser.add_argument("--overlap", type=int, default=3, help="Judgments per item from distinct raters [3].")
    parser.add_argument("--oracle", default="rule:concise")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "configs" / "cpu.yaml"))
    parser.add_argument("--base", default="default", help="Policy v0 [default].")
    parser.add_argument("--workdir", help="Store and outputs here [a temporary folder].")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="Write the results as JSON here.")
    args = parser.parse_args(argv)

    from hitl.campaigns import create_campaign
    from hitl.config import CampaignSettings
    from hitl.loop import run_loop
    from hitl.loop.judges import load_judge
    from hitl.loop.runner import LoopSettings
    from hitl.loop.stages import RoundPlan, RoundStages
    from hitl.simulate import default_crowd, simulate
    from hitl.stats import collection_report
    from hitl.store import open_store
    from policy.config import GenerationSettings
    from policy.evaluate import compare_policies
    from policy.fill import fill_queue

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hitl-loop-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # Versions land under HITL_HOME/policies and /rewards, named by campaign; a fresh campaign name per run.
    campaign_name = f"loop-bench-{int(time.time())}"
    store = open_store(f"sqlite:///{workdir / 'loop.db'}")
    train_file, heldout_file = split_prompts(workdir, args.prompts_per_round, args.held_out)
    campaign = create_campaign(store, CampaignSettings(name=campaign_name, overlap=args.overlap, gold_rate=0.0))
    oracle = load_judge(args.oracle, store)
    crowd = default_crowd(args.raters)
    judge_all = 10**6  # the raters judge everything queued; `simulate` stops when the queue runs dry
    items_per_round = 2 * args.prompts_per_round
    print(
        f"loop bench: {args.rounds} rounds x {args.prompts_per_round} prompts, {args.raters} simulated raters "
        f"(overlap {args.overlap}) over {args.oracle}, {os.cpu_count()} cores; work in {workdir}",
        flush=True,
    )

    rows: list[dict] = []
    started = time.perf_counter()
    seed_fill = fill_queue(
        store,
        model=args.base,
        prompts=str(train_file),
        campaign=campaign_name,
        settings=GenerationSettings(n=2, max_new_tokens=args.max_new_tokens, seed=args.seed),
        pairing="samples",
        progress=False,
        source="bench_loop r0",
    )
    generate_seconds = time.perf_counter() - started
    t = time.perf_counter()
    report = simulate(store, campaign, crowd, oracle, judge_all, seed=args.seed)
    rows.append(
        {
            "round": 0,
            "judgments": report.total,
            "items_queued": seed_fill.items,
            "generate_seconds": generate_seconds,
            "judge_seconds": time.perf_counter() - t,
            "round_seconds": time.perf_counter() - started,
        }
    )
    print(f"round 0: {seed_fill.items} items from {args.base}, {report.total} judgments", flush=True)

    # Each round needs the previous round's judgments; the seed round gives ~overlap * items of them.
    settings = LoopSettings(min_new_judgments=max(1, items_per_round // 2), max_rounds=1)
    plan = RoundPlan(
        prompts=str(train_file),
        prompts_per_round=args.prompts_per_round,
        max_new_tokens=args.max_new_tokens,
        oracle=args.oracle,
        config_path=args.config,
    )
    stages = RoundStages(plan, base_policy=args.base)
    for number in range(1, args.rounds + 1):
        t = time.perf_counter()
        done = run_loop(store, campaign, stages, settings)[-1]
        loop_seconds = time.perf_counter() - t
        if done.status != "done":
            print(f"round {number} did not finish: {done.status} - {done.message}", flush=True)
            rows.append({"round": number, "status": done.status, "message": done.message})
            break
        t = time.perf_counter()
        report = simulate(store, campaign, crowd, oracle, judge_all, seed=args.seed + number)
        judge_seconds = time.perf_counter() - t
        m = done.metrics
        rows.append(
            {
                "round": number,
                "judgments_trained_on": m.get("new_judgments"),
                "judgments": report.total,
                "items_queued": m.get("items_queued"),
                "reward_seconds": m.get("reward_seconds"),
                "policy_seconds": m.get("policy_seconds"),
                "generate_seconds": m.get("generate_seconds"),
                "judge_seconds": judge_seconds,
                "round_seconds": loop_seconds + judge_seconds,
                "reward_accuracy_heldout_judgments": m.get("reward_accuracy"),
                "oracle_win_vs_previous": m.get("oracle_win_rate"),
                "policy_version_id": done.policy_version_id,
                "reward_version_id": done.reward_version_id,
            }
        )
        print(
            f"round {number}: done in {loop_seconds + judge_seconds:.0f} s ({report.total} new judgments)", flush=True
        )

    # Every version against v0 on the held-out prompts, judged by the oracle; the round's reward model is
    # scored on the same answer pairs against the oracle's preference.
    from hitl.loop.stages import _reward_path
    from hitl.loop.state import rounds as loop_rounds

    sampler = CachingSampler()
    settings_eval = GenerationSettings(n=1, max_new_tokens=args.max_new_tokens, seed=10_000 + args.seed)
    finished = {r.number: r for r in loop_rounds(store, campaign) if r.stage == "done"}
    for row in rows[1:]:
        round_ = finished.get(row["round"])
        if round_ is None:
            continue
        name = f"{campaign_name}-r{round_.number}-policy"
        comparison = compare_policies(
            store, name, args.base, str(heldout_file), oracle, settings_eval, bootstrap=2000, sampler=sampler
        )
        r = comparison.result
        acc, n = oracle_accuracy(_reward_path(store, round_), comparison.rows, oracle)
        mean_len = sum(len(x["a"]) for x in comparison.rows) / max(1, len(comparison.rows))
        row.update(
            {
                "version": f"v{round_.number}",
                "oracle_win_vs_v0": r.rate,
                "oracle_win_vs_v0_ci": [r.low, r.high],
                "oracle_lc_win_vs_v0": r.length_controlled,
                "reward_accuracy_vs_oracle": acc,
                "reward_oracle_pairs": n,
                "mean_answer_chars": mean_len,
                "v0_mean_answer_chars": sum(len(x["b"]) for x in comparison.rows) / max(1, len(comparison.rows)),
            }
        )
    summary, raters = collection_report(store, campaign)
    flagged = {q.rater: list(q.issues) for q in raters if q.flagged}

    print(
        f"\n{'round':>5s} {'judg':>5s} {'gen s':>6s} {'RM s':>6s} {'policy s':>8s} {'round s':>7s} "
        f"{'RM acc(oracle)':>14s} {'win vs v0':>9s} {'95% CI':>13s}"
    )

    def f(x, spec):
        return format(x, spec) if isinstance(x, int | float) else "-"

    for row in rows:
        ci = row.get("oracle_win_vs_v0_ci")
        print(
            f"{row['round']:5d} {f(row.get('judgments'), '5d')} {f(row.get('generate_seconds'), '6.0f')} "
            f"{f(row.get('reward_seconds'), '6.0f')} {f(row.get('policy_seconds'), '8.0f')} "
            f"{f(row.get('round_seconds'), '7.0f')} {f(row.get('reward_accuracy_vs_oracle'), '14.3f')} "
            f"{f(row.get('oracle_win_vs_v0'), '9.3f')} {f'{ci[0]:.3f}-{ci[1]:.3f}' if ci else '-':>13s}"
        )
    print("flagged raters: " + ", ".join(f"{k} ({'; '.join(v)})" for k, v in sorted(flagged.items())))
    last = rows[-1]
    longest = max((r.get("round_seconds") or 0) for r in rows[1:]) if len(rows) > 1 else float("nan")
    ci = last.get("oracle_win_vs_v0_ci") or [0, 0]
    met = {
        "round_under_15_min": longest <= 900,
        "last_version_win_ge_0.65": (last.get("oracle_win_vs_v0") or 0) >= 0.65,
        "last_version_ci_above_0.5": ci[0] > 0.5,
        "spammer_flagged": "sim-spammer" in flagged,
        "position_biased_flagged": "sim-position" in flagged,
    }
    print("targets: " + ", ".join(f"{k}={'met' if v else 'NOT met'}" for k, v in met.items()))
    result = {
        "rounds": rows,
        "targets": met,
        "flagged_raters": flagged,
        "campaign_summary": {k: v for k, v in summary.items() if isinstance(v, int | float | str)},
        "oracle": args.oracle,
        "prompts_per_round": args.prompts_per_round,
        "raters": args.raters,
        "eval_generate_seconds": sampler.seconds,
        "total_seconds": time.perf_counter() - started,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "workdir": str(workdir),
    }
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
