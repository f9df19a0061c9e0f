"""Routing benchmark: label accuracy against real human preferences as a function of the human judgments spent,
all-human against reward-model routing, with simulated raters (hitl.workforce.curve).

    python scripts/bench_routing.py --data ../shared/data/hh-harmless \
        --reward bench-results/human-oracle/human-oracle/rewards/human-oracle \
        --calibration bench-results/human-oracle/human-oracle/rewards/human-oracle/data/eval.jsonl \
        --out bench-results/routing

The oracle is each HH-RLHF pair's own human label (test.jsonl.gz: never trained on). The reward model scores both
answers; its confidence is calibrated (Platt) on --calibration (held-out pairs it did not train on; without it,
on the other half of the routed pairs). Simulated raters (hitl.simulate.RaterBehaviour) are right with
--rater-accuracy on average (0.8: two of them then agree about 68% of the time, HH-RLHF's inter-rater agreement).

Thresholds are chosen on one half of the pairs (the cheapest routed policy at least as accurate as all-human at
each overlap) and the saving is reported on the other half, so the figure is not the best of many tries.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

from hitl.io.records import split_hh_dialogue
from hitl.simulate.raters import RaterBehaviour
from hitl.workforce.calibration import fit
from hitl.workforce.curve import Policy, RoutedItem, pooled, route, routing_curve, savings_at


def read_pairs(path: Path) -> list[tuple[list[dict], str, str]]:
    """(prompt messages, chosen, rejected) per line of an HH-RLHF file (.jsonl or .jsonl.gz), or of a file of
    {prompt, chosen, rejected} records whose prompt is already split off."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt") as f:
        for line in f:
            row = json.loads(line)
            if "prompt" in row:
                prompt = row["prompt"]
                messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
                chosen, rejected = row["chosen"], row["rejected"]
            else:
                messages, chosen, rejected = split_hh_dialogue(row["chosen"], row["rejected"])
            if chosen.strip() and rejected.strip() and chosen.strip() != rejected.strip():
                out.append((messages, chosen, rejected))
    return out


def reward_gaps(reward: str, pairs: list, cache: Path) -> list[float]:
    """r(chosen) - r(rejected) per pair, scored once and kept in `cache`."""
    if cache.is_file():
        kept = json.loads(cache.read_text())
        if kept.get("reward") == reward and len(kept["gaps"]) == len(pairs):
            return kept["gaps"]
    from reward.score import RewardScorer

    scorer = RewardScorer.from_pretrained(reward)
    chosen, rejected = scorer.score_pairs([p for p, _, _ in pairs], [c for _, c, _ in pairs], [r for _, _, r in pairs])
    gaps = [float(c - r) for c, r in zip(chosen, rejected, strict=True)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"reward": reward, "gaps": gaps}))
    return gaps


def fit_both_orders(gaps: list[float]):
    """Platt scaling on chosen-minus-rejected gaps: each pair once in each order, so both classes are seen and
    the fit has no side preference (a pair's order on screen is random)."""
    return fit([*gaps, *(-g for g in gaps)], [True] * len(gaps) + [False] * len(gaps))


def crowd_of(accuracy: float) -> list[RaterBehaviour]:
    """Eight honest raters around `accuracy` (0.05 either side), answering with their own noise."""
    spread = [-0.05, -0.05, 0.0, 0.0, 0.0, 0.0, 0.05, 0.05]
    return [
        RaterBehaviour(f"sim-{i}", flip=min(0.5, max(0.0, 1 - accuracy - d)), allow_tie=False)
        for i, d in enumerate(spread)
    ]


def to_items(gaps: list[float], calibration, rng: random.Random) -> list[RoutedItem]:
    """Each pair in a random canonical order: truth = the chosen answer's index; prior = P(response 0 is better)."""
    items = []
    for gap in gaps:
        if rng.random() < 0.5:
            items.append(RoutedItem(0, calibration.prob(gap)))
        else:
            items.append(RoutedItem(1, calibration.prob(-gap)))
    return items


def plot(human, routed, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([p.per_item for p in human], [p.accuracy.rate for p in human], "ko-", label="all human (overlap 1, 3, 5)")
    for kind, marker in (("auto ", "s"), ("auto+stop", "^")):
        pts = sorted((p for p in routed if p.policy.startswith(kind)), key=lambda p: p.per_item)
        ax.plot([p.per_item for p in pts], [p.accuracy.rate for p in pts], marker, alpha=0.7, label=kind.strip())
    ax.set_xlabel("human judgments per pair")
    ax.set_ylabel("label accuracy against the HH-RLHF label")
    ax.set_title("Routing with a reward model against all-human labelling")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="Folder with test.jsonl.gz (HH-RLHF pairs).")
    parser.add_argument("--reward", required=True, help="Folder of a reward model `hitl train-reward` wrote.")
    parser.add_argument("--calibration", help="Held-out pairs to calibrate on (default: the other half).")
    parser.add_argument("--rater-accuracy", type=float, default=0.8)
    parser.add_argument("--thresholds", default="0.6,0.65,0.7,0.75,0.8,0.82,0.84,0.86,0.88,0.9,0.92,0.94,0.96,0.98")
    parser.add_argument("--audit-share", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=20, help="Simulations of the raters per policy.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-results/routing")
    args = parser.parse_args()
    started = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = read_pairs(Path(args.data) / "test.jsonl.gz")
    gaps = reward_gaps(args.reward, pairs, out / "test_gaps.json")
    rng = random.Random(args.seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    tune, report = order[: len(order) // 2], order[len(order) // 2 :]
    if args.calibration:
        held = read_pairs(Path(args.calibration))
        held_gaps = reward_gaps(args.reward, held, out / "calibration_gaps.json")
        cal_tune = cal_report = fit_both_orders(held_gaps)
        where = f"{len(held)} held-out pairs of {args.calibration}"
    else:  # each half is calibrated on the other
        cal_tune = fit_both_orders([gaps[i] for i in report])
        cal_report = fit_both_orders([gaps[i] for i in tune])
        where = "the other half of the routed pairs"
    crowd = crowd_of(args.rater_accuracy)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    tune_items = to_items([gaps[i] for i in tune], cal_tune, random.Random(args.seed + 1))
    report_items = to_items([gaps[i] for i in report], cal_report, random.Random(args.seed + 2))
    common = {"accuracy": args.rater_accuracy, "audit_share": args.audit_share, "repeats": args.repeats}
    human_t, routed_t = routing_curve(tune_items, thresholds, crowd, seed=args.seed, **common)
    chosen = savings_at(human_t, routed_t)
    policies = {p.policy: p for p in routed_t}
    results = []
    for pick, human in zip(chosen, human_t, strict=True):
        k = int(human.policy.split("-")[1])
        h = pooled(
            [
                route(report_items, Policy("human", overlap=k), crowd, args.rater_accuracy, seed=100 + r)
                for r in range(args.repeats)
            ]
        )
        row = {
            "all_human": h.policy,
            "accuracy": h.accuracy.rate,
            "low": h.accuracy.low,
            "high": h.accuracy.high,
            "n": h.accuracy.total,
            "per_item": h.per_item,
            "routed": pick["routed"],
        }
        if pick["routed"]:
            tuned = policies[pick["routed"]]
            kind = "auto+stop" if pick["routed"].startswith("auto+stop") else "auto"
            overlap = int(pick["routed"].split(" k=")[1].split()[0])
            policy = Policy(kind, tuned.threshold, overlap, args.audit_share)
            r = pooled(
                [route(report_items, policy, crowd, args.rater_accuracy, seed=100 + i) for i in range(args.repeats)]
            )
            row.update(
                routed_accuracy=r.accuracy.rate,
                routed_low=r.accuracy.low,
                routed_high=r.accuracy.high,
                routed_per_item=r.per_item,
                saved=1 - r.per_item / h.per_item,
                auto_share=r.auto_share,
                audit_agreement=r.audit.rate,
                audit_n=r.audit.total,
            )
            # The same policy with no model (every prior 0.5): how much of the saving the stop rule makes alone.
            flat = [RoutedItem(i.truth, 0.5) for i in report_items]
            f = pooled([route(flat, policy, crowd, args.rater_accuracy, seed=100 + i) for i in range(args.repeats)])
            row.update(no_model_accuracy=f.accuracy.rate, no_model_per_item=f.per_item)
        results.append(row)
    human_all, routed_all = routing_curve(tune_items + report_items, thresholds, crowd, seed=args.seed, **common)
    plot(human_all, routed_all, out / "routing_curve.png")
    model_acc = sum(g > 0 for g in gaps) / len(gaps)
    summary = {
        "pairs": len(pairs),
        "reward_model_accuracy": model_acc,
        "calibrated_on": where,
        "calibration": {"a": cal_report.a, "b": cal_report.b, "n": cal_report.n},
        "rater_accuracy": args.rater_accuracy,
        "report_half": results,
        "curve": [vars(p) | {"accuracy": vars(p.accuracy), "audit": vars(p.audit)} for p in human_all + routed_all],
        "seconds": time.time() - started,
    }
    (out / "routing.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"{len(pairs)} pairs; reward model right on {model_acc:.1%}; calibrated on {where}")
    print(
        f"raters right {args.rater_accuracy:.0%} on average; {args.repeats} simulations per policy; "
        f"thresholds chosen on {len(tune)} pairs, reported on {len(report)}"
    )
    for row in results:
        line = (
            f"{row['all_human']:8s} acc {row['accuracy']:.3f} [{row['low']:.3f}, {row['high']:.3f}] "
            f"n={row['n']} at {row['per_item']:.2f}/pair"
        )
        if row.get("saved") is not None:
            line += (
                f" | {row['routed']}: acc {row['routed_accuracy']:.3f} [{row['routed_low']:.3f}, "
                f"{row['routed_high']:.3f}] at {row['routed_per_item']:.2f}/pair, {row['saved']:.0%} fewer "
                f"human judgments; auto-labelled {row['auto_share']:.0%}, audit agreement "
                f"{row['audit_agreement']:.2f} n={row['audit_n']}; the same rule without the model: acc "
                f"{row['no_model_accuracy']:.3f} at {row['no_model_per_item']:.2f}/pair"
            )
        else:
            line += " | no routed policy reached it on the tuning half"
        print(line)
    print(f"wrote {out / 'routing.json'} and {out / 'routing_curve.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
