"""Arena pairing benchmark: votes needed for the same rank-interval width, adaptive pairing vs uniform pairing.

    python scripts/bench_arena_pairing.py --out bench-results/arena_pairing.json     # ~5 minutes on 2 busy cores
    python scripts/bench_arena_pairing.py --seeds 2 --budget 3000 --measure fisher   # a quick look

Simulated voters with known strengths: --models versions spaced --spacing Elo points apart (shuffled names), each
vote won by the stronger side with the Bradley-Terry probability; both methods start from --start votes per
pair. Votes are added in batches of --batch (hitl.arena_pairing.choose_pairs: adaptive with its floor of random
pairs, or uniform); every --check votes the leaderboard's own rank intervals are measured (simultaneous 95% rank
intervals from the bootstrap of hitl.ratings, hitl.rank_intervals; --measure fisher uses the fit's Gaussian
approximation instead, much faster). For each target mean rank-interval width (worst - best rank, averaged over
models) the table shows the median over seeds of the votes each method needed, and the saving; a seed that never
reached a target within --budget votes counts as the budget (and is counted in the `reached` column).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hitl.arena_pairing import PairingConfig, choose_pairs, fit_with_covariance, pairs_not_told_apart, tallies  # noqa: E402
from hitl.rank_intervals import rank_intervals  # noqa: E402
from hitl.ratings import bootstrap_samples, bradley_terry  # noqa: E402


def mean_rank_width(names: list[str], battles: list[tuple[str, str, float]], args, seed: int) -> float:
    """Mean width (worst - best) of the leaderboard's simultaneous 95% rank intervals."""
    if args.measure == "bootstrap":
        ratings = bradley_terry(battles)
        models, samples = bootstrap_samples(battles, rounds=args.rounds, seed=seed)
        ranked, _ = rank_intervals(models, ratings, samples)
        return float(np.mean([r.worst - r.best for r in ranked]))
    # The same rule on the fit's Gaussian approximation.
    theta, cov = fit_with_covariance(*tallies(names, battles))
    return 2.0 * pairs_not_told_apart(theta, cov) / len(names)  # each open pair widens both models' intervals


def run(method: str, seed: int, args) -> dict[float, int | None]:
    """Votes needed to reach each target width (None: not within the budget)."""
    rng = random.Random(seed)
    names = [f"v{i:02d}" for i in range(args.models)]
    strength = {m: i * args.spacing for i, m in enumerate(names)}
    rng.shuffle(names)  # the methods must not learn anything from the order of names

    def vote(a: str, b: str) -> tuple[str, str, float]:
        if rng.random() < 0.5:
            a, b = b, a
        p = 1.0 / (1.0 + 10.0 ** ((strength[b] - strength[a]) / 400.0))
        return (a, b, 1.0 if rng.random() < p else 0.0)

    battles = [vote(a, b) for i, a in enumerate(names) for b in names[i + 1 :] for _ in range(args.start)]
    config = PairingConfig(method=method, floor=args.floor)
    reached: dict[float, int | None] = dict.fromkeys(args.targets)
    since_check = 0
    while len(battles) < args.budget and any(v is None for v in reached.values()):
        for a, b in choose_pairs(names, battles, args.batch, rng=rng, config=config):
            battles.append(vote(a, b))
        since_check += args.batch
        if since_check < args.check:
            continue
        since_check = 0
        width = mean_rank_width(names, battles, args, seed)
        for target in args.targets:
            if reached[target] is None and width <= target:
                reached[target] = len(battles)
    return reached


def saving_interval(uniform: list[int], adaptive: list[int], draws: int = 2000) -> tuple[float, float]:
    """Percentile-bootstrap 95% interval of 1 - median(adaptive) / median(uniform), resampling seeds."""
    rng = np.random.default_rng(0)
    u, a = np.asarray(uniform, dtype=float), np.asarray(adaptive, dtype=float)
    pick_u = rng.integers(0, len(u), size=(draws, len(u)))
    pick_a = rng.integers(0, len(a), size=(draws, len(a)))
    savings = 1.0 - np.median(a[pick_a], axis=1) / np.median(u[pick_u], axis=1)
    return float(np.percentile(savings, 2.5)), float(np.percentile(savings, 97.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=16, help="Model versions on the board [16].")
    parser.add_argument("--spacing", type=float, default=60.0, help="Elo points between neighbours [60].")
    parser.add_argument("--seeds", type=int, default=20, help="Simulations per method (medians are reported) [20].")
    parser.add_argument("--start", type=int, default=1, help="Votes per pair before pairing starts [1].")
    parser.add_argument("--batch", type=int, default=25, help="Votes chosen at once [25].")
    parser.add_argument("--check", type=int, default=50, help="Votes between measurements [50].")
    parser.add_argument("--budget", type=int, default=8000, help="Most votes per simulation [8000].")
    floor = PairingConfig().floor
    parser.add_argument("--floor", type=float, default=floor, help=f"Adaptive's share of random pairs [{floor}].")
    parser.add_argument(
        "--targets", type=float, nargs="+", default=[6.0, 4.0, 3.0, 2.0], help="Mean rank widths [6 4 3 2]."
    )
    parser.add_argument("--measure", choices=("bootstrap", "fisher"), default="bootstrap", help="[bootstrap]")
    parser.add_argument("--rounds", type=int, default=200, help="Bootstrap resamples per measurement [200].")
    parser.add_argument("--out", type=Path, help="Write the results as JSON here.")
    args = parser.parse_args()

    started = time.monotonic()
    results = {m: [run(m, seed, args) for seed in range(args.seeds)] for m in ("uniform", "adaptive")}
    rows = []
    for target in args.targets:
        needed = {
            m: [r[target] if r[target] is not None else args.budget for r in runs] for m, runs in results.items()
        }
        reached = {m: sum(r[target] is not None for r in runs) for m, runs in results.items()}
        uniform, adaptive = (statistics.median(needed[m]) for m in ("uniform", "adaptive"))
        low, high = saving_interval(needed["uniform"], needed["adaptive"])
        rows.append(
            {
                "target_width": target,
                "uniform_votes": uniform,
                "adaptive_votes": adaptive,
                "saving": 1.0 - adaptive / uniform,
                "saving_low": low,
                "saving_high": high,
                "reached": reached,
                "per_seed": needed,
            }
        )
    seconds = time.monotonic() - started
    measure = f"bootstrap, {args.rounds} resamples" if args.measure == "bootstrap" else "fisher"
    print(
        f"{args.models} versions {args.spacing:g} Elo apart, {args.seeds} seeds, floor {args.floor}, rank intervals "
        f"by {measure}; medians of votes to reach a mean rank-interval width ({seconds:.0f} s)"
    )
    print(f"{'width':>6} {'uniform':>9} {'adaptive':>9} {'saving [95% CI over seeds]':>27} {'reached (u/a)':>14}")
    for r in rows:
        reached = f"{r['reached']['uniform']}/{r['reached']['adaptive']} of {args.seeds}"
        print(
            f"{r['target_width']:>6g} {r['uniform_votes']:>9.0f} {r['adaptive_votes']:>9.0f} "
            f"{r['saving']:>9.0%} [{r['saving_low']:.0%}, {r['saving_high']:.0%}]{'':>6} {reached:>14}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
