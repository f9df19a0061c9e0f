"""Calibration of the rater flags: how often an honest crowd is flagged, and whether bad raters are still caught.

    python scripts/bench_quality_flags.py --campaigns 100 --raters 300 --picks 60 --out bench-results/flags.json

Each simulated campaign (hitl.simulate.rows: pairwise items, shown in random order, overlap 3) is scored by
hitl.quality.rater_report, whose tests form one Benjamini-Hochberg family at fdr 0.05, and by the rules it replaced
(each test at its own 1% level; position and length against 50%; fatigue on gold alone) for comparison.

* Honest crowds, under a neutral taste and under one where the better answer is the shorter one 80% of the time:
  the share of campaigns that flag anyone, with its 95% interval and n (target: <= 5%).
* Mixed crowds: honest raters plus the calibration demo's kinds of bad rater (always the first-shown answer, always
  the longer one, a fast random spammer) and a fatigued one, each judging --bad-picks items (a working session;
  60 judgments hold too little evidence of fatigue for a family of 1,500 tests), and two raters with a weaker
  habit (first-shown or longer half of the time) for the power at partial habits: the share of campaigns in which
  each is caught, and the honest raters' false flags.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from hitl.quality import (
    fatigue,
    fatigue_slope,
    fatigue_trend_p,
    gold_accuracy,
    length_bias,
    loo_agreement,
    position_bias,
    rate_stat,
    rater_report,
)
from hitl.simulate.rows import Rater, simulate

BAD = {
    "bad-position": Rater("first"),
    "bad-length": Rater("longer"),
    "bad-spammer": Rater("random"),
    "bad-fatigued": Rater("fatigued", p_correct=0.95, p_end=0.4, fatigue_len=40),
    "bad-position-half": Rater("first", habit=0.5),
    "bad-length-half": Rater("longer", habit=0.5),
}


def old_flagged(rows) -> set[str]:
    """Raters the rules before Benjamini-Hochberg flagged (1% per test, against 50%, fatigue on gold only)."""
    out = set()
    for rater, s in position_bias(rows, alpha=0.01).items():
        out |= {rater} if s.flagged else set()
    for rater, s in length_bias(rows, alpha=0.01).items():
        out |= {rater} if s.flagged else set()
    for rater, g in gold_accuracy(rows).items():
        out |= {rater} if g.total >= 5 and g.rate < 0.6 else set()
    for rater, a in loo_agreement(rows).items():
        out |= {rater} if a.total >= 10 and a.rate < 0.5 else set()
    for rater, buckets in fatigue(rows).items():
        n = sum(b.total for b in buckets)
        if n >= 30 and fatigue_slope(buckets) < -0.05 and fatigue_trend_p(buckets) < 0.01:
            out.add(rater)
    return out


def crowd(rng: np.random.Generator, n_raters: int, bad: bool) -> dict[str, Rater]:
    n_honest = n_raters - (len(BAD) if bad else 0)
    raters = {f"honest-{i:03d}": Rater("honest", float(rng.uniform(0.8, 0.95))) for i in range(n_honest)}
    if bad:
        raters.update(BAD)
    return raters


def assign(rng: np.random.Generator, raters: dict[str, Rater], n_items: int, args) -> dict[int, list[str]]:
    """Overlap-many honest raters per item; each bad rater joins --bad-picks random items on top."""
    honest = [name for name in raters if not name.startswith("bad-")]
    out = {i: [honest[j] for j in rng.choice(len(honest), size=args.overlap, replace=False)] for i in range(n_items)}
    for name in raters:
        if name.startswith("bad-"):
            for i in rng.choice(n_items, size=min(args.bad_picks, n_items), replace=False).tolist():
                out[i].append(name)
    return out


def run_campaign(seed: int, args, bad: bool, longer_better: float | None) -> dict:
    rng = np.random.default_rng(seed)
    raters = crowd(rng, args.raters, bad)
    n_items = (args.raters - (len(BAD) if bad else 0)) * args.picks // args.overlap
    sim = simulate(
        raters,
        n_items=n_items,
        gold_share=args.gold_share,
        seed=seed,
        longer_better=longer_better,
        assignment=assign(rng, raters, n_items, args),
    )
    new = {q.rater for q in rater_report(sim.rows) if q.issues}
    old = old_flagged(sim.rows)
    return {"new": sorted(new), "old": sorted(old)}


def share(hits: int, n: int) -> dict:
    s = rate_stat(hits, n)
    return {"share": s.rate, "low": s.low, "high": s.high, "n": n}


def line(label: str, s: dict) -> str:
    return f"{label:52s} {s['share']:6.1%} [{s['low']:.1%}, {s['high']:.1%}] n={s['n']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=100, help="Campaigns per crowd kind.")
    parser.add_argument("--raters", type=int, default=300)
    parser.add_argument("--picks", type=int, default=60, help="Judgments per rater.")
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--gold-share", type=float, default=0.1)
    parser.add_argument("--bad-picks", type=int, default=200, help="Judgments of each bad rater in mixed crowds.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-results/flags.json")
    args = parser.parse_args()
    started = time.time()
    results: dict = {"args": vars(args)}
    for taste, longer_better in (("neutral", None), ("concise", 0.2)):
        runs = [run_campaign(args.seed + c, args, False, longer_better) for c in range(args.campaigns)]
        for rule in ("old", "new"):
            results[f"honest {taste} {rule}"] = share(sum(bool(r[rule]) for r in runs), len(runs))
        print(f"honest crowds, {taste} taste, done ({time.time() - started:.0f} s)", file=sys.stderr)
    mixed = [run_campaign(10_000 + args.seed + c, args, True, None) for c in range(args.campaigns)]
    for rule in ("old", "new"):
        for name in BAD:
            results[f"mixed {rule} catches {name}"] = share(sum(name in r[rule] for r in mixed), len(mixed))
        honest_flags = [sum(not n.startswith("bad-") for n in r[rule]) for r in mixed]
        results[f"mixed {rule} campaigns flagging an honest rater"] = share(
            sum(f > 0 for f in honest_flags), len(mixed)
        )
    results["seconds"] = time.time() - started
    size = f"{args.raters} raters x {args.picks} judgments, overlap {args.overlap}"
    print(f"\n{args.campaigns} campaigns per kind, {size}")
    for key, value in results.items():
        if isinstance(value, dict) and "share" in value and not math.isnan(value["share"]):
            print(line(key, value))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
