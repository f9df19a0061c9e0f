"""Label efficiency of the loop's pair choice: reward-model accuracy against an oracle as a function of the human
judgments spent, informative choice vs random, same seeds.

    python scripts/bench_label_efficiency.py --out bench-results/label_efficiency.json    # make loop-demo runs it
    python scripts/bench_label_efficiency.py --oracles rule:numbered --seeds 0,1,2 --batch 64 --batches 6

A pool of candidates: the default policy's answers to the training prompts (4 per prompt, two temperatures, as a
round samples them). A test set: every pair of the default policy's answers to the held-out prompts that the oracle
does not call a tie. Then, per oracle, strategy and seed, batch after batch: choose `batch` pairs from the pool
(random: at random; informative: hitl.pair_selection over the current reward model's MC-dropout samples, the first
batch by diversity, both weighed by the chance raters decide a pair, learned from the judgments so far), a simulated
rater of the default crowd (noise, a position-biased rater, a spammer, a fatigued one) judges each pair once, a
reward model is trained from scratch on every decisive judgment so far (configs/cpu.yaml's reward settings) and
scored on the test set. Reported: the curves (a table, JSON and a plot), and how many judgments informative choice
needs to reach random choice's final accuracy.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loop_bench_common import HUMAN_ORACLE_DIR, checked_oracle, fresh_home, human_oracle, split_prompts  # noqa: E402

DEFAULT_ORACLES = "rule:list,rule:no-self,rule:plain"


def candidates(prompt_file: Path, cache: Path, max_new_tokens: int, seed: int) -> list[dict]:
    """[{prompt, answers}] of the default policy (2 answers at temperature 0.7 and 2 at 1.0), cached in `cache`."""
    if cache.is_file():
        return json.loads(cache.read_text())
    from policy.config import GenerationSettings
    from policy.generate import sample
    from policy.models import resolve
    from policy.prompts import read_prompt_file

    prompts = [r.prompt for r in read_prompt_file(prompt_file)]
    model = resolve("default", progress=False)
    answers: list[list[str]] = [[] for _ in prompts]
    for k, temperature in enumerate((0.7, 1.0)):
        settings = GenerationSettings(n=2, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed + k)
        for s in sample(model, prompts, settings):
            if s.text.strip() and s.text not in answers[s.prompt_index]:
                answers[s.prompt_index].append(s.text)
    pool = [{"prompt": p, "answers": a} for p, a in zip(prompts, answers, strict=True) if len(a) >= 2]
    cache.write_text(json.dumps(pool))
    return pool


def test_pairs(pool: list[dict], oracle) -> list[tuple[str, str, str]]:
    """(prompt, better, worse) for every pair of answers to a held-out prompt the oracle separates."""
    out = []
    for entry in pool:
        scores = oracle(entry["prompt"], entry["answers"])
        for i in range(len(scores)):
            for j in range(i + 1, len(scores)):
                if scores[i] != scores[j]:
                    hi, lo = (i, j) if scores[i] > scores[j] else (j, i)
                    out.append((entry["prompt"], entry["answers"][hi], entry["answers"][lo]))
    return out


class RewardTrainer:
    """A reward model trained from scratch on the rows so far, with the loop's settings; scored on the test set."""

    def __init__(self, config_path: str, folder: Path):
        self.config_path, self.folder = config_path, folder

    def train(self, rows: list[dict]):
        from reward.config import make_config
        from reward.data import PreferenceData
        from reward.score import RewardScorer
        from reward.train import train_reward

        out = self.folder / f"rm-{time.time_ns()}"
        config = make_config(
            {"output_dir": str(out), "save_strategy": "no", "disable_tqdm": True, "report_to": "none"},
            config_path=self.config_path,
        )
        result = train_reward(config, None, data=PreferenceData(train=rows, eval=[]), evaluate=False)
        return RewardScorer.from_pretrained(result.output_dir)

    @staticmethod
    def accuracy(scorer, pairs: list[tuple[str, str, str]]) -> float:
        better = scorer.score([p for p, _, _ in pairs], [b for _, b, _ in pairs])
        worse = scorer.score([p for p, _, _ in pairs], [w for _, _, w in pairs])
        return float(sum(int(b > w) for b, w in zip(better, worse, strict=True)) / len(pairs))


def run_curve(pool, tests, oracle, strategy: str, seed: int, args, trainer: RewardTrainer) -> list[dict]:
    """One curve: accuracy on the test set after each batch of judgments."""
    import numpy as np

    from hitl.decisiveness import fit_decisiveness
    from hitl.pair_selection import PromptCandidates, SelectionSettings, reward_samples_by_prompt, select_pairs
    from hitl.preferences import training_margin
    from hitl.simulate import default_crowd

    rng = random.Random(seed)
    crowd = default_crowd(8)
    used: set[tuple[int, frozenset[int]]] = set()
    rows: list[dict] = []
    judged: list[tuple[str, str]] = []
    decided: list[float] = []
    curve, spent, scorer = [], 0, None
    for batch in range(args.batches):
        method = strategy if (strategy == "random" or scorer is not None) else "diversity"
        samples: list[np.ndarray | None] = [None] * len(pool)
        if method == "informative":
            # One scoring of the whole pool (as the loop's queue step does): batches by length, not by prompt.
            groups = [(entry["prompt"], entry["answers"]) for entry in pool]
            samples = reward_samples_by_prompt(functools.partial(scorer.mc_scores, samples=8), groups)
        options = [
            PromptCandidates(k, list(range(len(entry["answers"]))), entry["answers"], samples[k])
            for k, entry in enumerate(pool)
        ]
        # As in the loop: informative choice weighs pairs by the chance raters decide them, learned from the
        # judgments so far (hitl.decisiveness). A pair already judged is not offered again.
        model = fit_decisiveness(judged, decided, seed=seed) if strategy != "random" else None
        chosen = select_pairs(
            options,
            args.batch,
            SelectionSettings(method=method, per_prompt=2),
            rng,
            used,
            decisive=model.predict if model is not None else None,
        )
        for n, c in enumerate(chosen):
            used.add((c.key, frozenset(c.ids)))
            entry = pool[c.key]
            texts = [entry["answers"][i] for i in c.ids]
            if rng.random() < 0.5:
                texts.reverse()  # the order shown: position carries no information
            rater = crowd[(spent + n) % len(crowd)]
            order, strength, tie, _ = rater.decide(
                oracle(entry["prompt"], texts), [len(t) for t in texts], (spent + n) % 50, rng
            )
            judged.append((texts[0], texts[1]))
            decided.append(0.0 if tie else 1.0)
            if not tie:
                margin = training_margin(strength, 0.5)
                rows.append(
                    {
                        "prompt": entry["prompt"],
                        "chosen": texts[order[0]],
                        "rejected": texts[order[1]],
                        "margin": margin,
                        "weight": 1.0,
                    }
                )
        spent += len(chosen)
        scorer = trainer.train(rows) if rows else None
        acc = trainer.accuracy(scorer, tests) if scorer is not None else 0.5
        curve.append({"judgments": spent, "decisive": len(rows), "accuracy": acc})
        print(f"  {strategy:<11} seed {seed} batch {batch + 1}: {spent} judgments, accuracy {acc:.3f}", flush=True)
    return curve


def judgments_to_reach(curve: list[dict], target: float) -> float:
    """Judgments at which a curve first reaches `target` (linear between batches; inf when it never does)."""
    prev = None
    for point in curve:
        if point["accuracy"] >= target:
            if prev is None:
                return float(point["judgments"])
            span = point["accuracy"] - prev["accuracy"]
            frac = (target - prev["accuracy"]) / span if span > 0 else 1.0
            return prev["judgments"] + frac * (point["judgments"] - prev["judgments"])
        prev = point
    return float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracles", default=DEFAULT_ORACLES)
    parser.add_argument("--human-data", help="Real preference pairs: a reward model trained on them is an oracle.")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--batch", type=int, default=64, help="Judgments per batch [64].")
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "configs" / "cpu.yaml"))
    parser.add_argument("--workdir")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from hitl.loop.judges import load_judge

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hitl-label-eff-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    fresh_home(workdir / "home")
    train_file, heldout_file, _, _ = split_prompts(workdir)
    pool = candidates(train_file, workdir / "pool.json", args.max_new_tokens, seed=0)
    held = candidates(heldout_file, workdir / "heldout.json", args.max_new_tokens, seed=100)
    specs = [s.strip() for s in args.oracles.split(",") if s.strip()]
    if args.human_data:
        specs.append(human_oracle(args.human_data, HUMAN_ORACLE_DIR, args.config))
    seeds = [int(s) for s in args.seeds.split(",")]
    trainer = RewardTrainer(args.config, workdir / "models")
    results = []
    for spec in specs:
        oracle = checked_oracle(spec, load_judge(spec, None))
        tests = test_pairs(held, oracle)
        print(f"{spec}: {len(pool)} pool prompts, {len(tests)} decisive test pairs", flush=True)
        curves = {
            s: [run_curve(pool, tests, oracle, s, seed, args, trainer) for seed in seeds]
            for s in ("random", "informative")
        }
        savings = []
        for rand, info in zip(curves["random"], curves["informative"], strict=True):
            target = rand[-1]["accuracy"]
            savings.append(1 - judgments_to_reach(info, target) / rand[-1]["judgments"])
        savings.sort()
        results.append(
            {
                "oracle": spec,
                "test_pairs": len(tests),
                "curves": curves,
                "savings": savings,
                "median_saving": savings[len(savings) // 2],
            }
        )
        print(f"{spec}: informative reaches random's final accuracy with {savings} fewer judgments (per seed)")
    print(f"\n{'oracle':<22} {'judgments':>9} {'random acc':>11} {'informative acc':>16}")
    for res in results:
        for b in range(args.batches):
            r = [c[b]["accuracy"] for c in res["curves"]["random"]]
            i = [c[b]["accuracy"] for c in res["curves"]["informative"]]
            print(
                f"{res['oracle'][:22]:<22} {res['curves']['random'][0][b]['judgments']:>9} "
                f"{sorted(r)[len(r) // 2]:>11.3f} {sorted(i)[len(i) // 2]:>16.3f}"
            )
        print(
            f"{'':<22} median saving {res['median_saving']:.0%} (target >= 30%: "
            f"{'met' if res['median_saving'] >= 0.30 else 'NOT met'}); per seed {[f'{s:.0%}' for s in res['savings']]}"
        )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {"results": results, "batch": args.batch, "seeds": seeds, "cpu_count": os.cpu_count()},
                indent=1,
                default=str,
            )
            + "\n"
        )
        plot(results, out.with_suffix(".png"))
        print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(3.6 * len(results), 3.2), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        for strategy, style in (("random", "--o"), ("informative", "-s")):
            curves = res["curves"][strategy]
            xs = [p["judgments"] for p in curves[0]]
            for c in curves:
                ax.plot(
                    xs, [p["accuracy"] for p in c], style, alpha=0.35, color="C0" if strategy == "random" else "C1"
                )
            med = [sorted(c[b]["accuracy"] for c in curves)[len(curves) // 2] for b in range(len(xs))]
            ax.plot(
                xs,
                med,
                style,
                lw=2,
                label=f"{strategy} (median of {len(curves)})",
                color="C0" if strategy == "random" else "C1",
            )
        ax.axhline(0.5, color="grey", lw=0.8)
        ax.set_title(res["oracle"], fontsize=9)
        ax.set_xlabel("human judgments")
        ax.set_ylim(0.4, 1.0)
    axes[0][0].set_ylabel("reward model accuracy vs oracle")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
