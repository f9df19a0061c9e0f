"""How good a reward model is on held-out preference pairs: accuracy (overall, by rater strength, on gold items),
length bias, calibration, and the raters' own agreement on the same items as the ceiling.

    hitl eval-reward --model reward-demo-20250101-120000 --out eval/

`pair_metrics` is pure (rows + rewards -> numbers) and tested on synthetic rewards; `evaluate_rows` scores the
rows with the one scorer; `rater_agreement` reads the votes behind store items; `write_report` writes JSON + PNGs.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hitl.io.atomic import write_atomic
from hitl.preferences import load_items
from hitl.store import Store

ECE_BINS = 10


def _accuracy(correct: np.ndarray) -> float | None:
    return float(correct.mean()) if len(correct) else None


def _group(correct: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    return {"n": int(mask.sum()), "accuracy": _accuracy(correct[mask])}


def calibration(diff: np.ndarray, bins: int = ECE_BINS) -> dict[str, Any]:
    """Expected calibration error of sigmoid(r_chosen - r_rejected): the model's confidence in the response it
    prefers (0.5..1) against how often that preference is right, in equal-width confidence bins."""
    p = 1.0 / (1.0 + np.exp(-diff))
    confidence = np.maximum(p, 1 - p)
    right = (p > 0.5).astype(float) + 0.5 * (p == 0.5)
    edges = np.linspace(0.5, 1.0, bins + 1)
    table, ece = [], 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (confidence >= lo) & ((confidence < hi) | (hi == 1.0))
        if not mask.any():
            continue
        conf, acc = float(confidence[mask].mean()), float(right[mask].mean())
        ece += mask.sum() / len(diff) * abs(acc - conf)
        table.append({"low": float(lo), "high": float(hi), "n": int(mask.sum()), "confidence": conf, "accuracy": acc})
    return {"ece": float(ece) if len(diff) else None, "bins": table}


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def pair_metrics(rows: Sequence[dict[str, Any]], chosen: np.ndarray, rejected: np.ndarray) -> dict[str, Any]:
    """Every number of the report from rows and their rewards. Tie rows (both orders of a tie) are left out of
    accuracy and calibration; they are summarised by how close their two rewards are."""
    chosen, rejected = np.asarray(chosen, dtype=float), np.asarray(rejected, dtype=float)
    tie = np.array([bool(r.get("tie")) for r in rows], dtype=bool)
    decisive = ~tie
    diff = (chosen - rejected)[decisive]
    correct = (diff > 0).astype(float) + 0.5 * (diff == 0)
    kept = [r for r, d in zip(rows, decisive, strict=True) if d]
    strengths = np.array([-1.0 if r.get("strength") is None else float(r["strength"]) for r in kept])
    sources = np.array([r.get("source", "") for r in kept])
    len_c = np.array([len(r["chosen"]) for r in kept])
    len_r = np.array([len(r["rejected"]) for r in kept])
    by_strength = {
        ("unknown" if s < 0 else f"{s:g}"): _group(correct, strengths == s) for s in sorted(set(strengths.tolist()))
    }
    lengths = np.concatenate([len_c, len_r]).astype(float)
    rewards = np.concatenate([chosen[decisive], rejected[decisive]])
    longer_picked = np.sign(diff) == np.sign(len_c - len_r)
    unequal = len_c != len_r
    return {
        "pairs": len(rows),
        "decisive_pairs": int(decisive.sum()),
        "accuracy": _accuracy(correct),
        "by_strength": by_strength,
        "gold": _group(correct, sources == "gold"),
        "by_source": {s: _group(correct, sources == s) for s in sorted(set(sources.tolist()))},
        "length": {
            "chosen_longer": _group(correct, len_c > len_r),
            "chosen_shorter": _group(correct, len_c < len_r),
            "data_chosen_longer_rate": _accuracy((len_c > len_r)[unequal].astype(float)),
            "model_prefers_longer_rate": _accuracy(longer_picked[unequal].astype(float)),
            "unequal_pairs": int(unequal.sum()),
            "reward_length_spearman": _spearman(rewards, lengths),
        },
        "calibration": calibration(diff),
        "reward": {
            "mean": float(rewards.mean()) if len(rewards) else None,
            "std": float(rewards.std()) if len(rewards) else None,
            "mean_margin": float(diff.mean()) if len(diff) else None,
        },
        "ties": {
            "pairs": int(tie.sum()),
            "mean_abs_gap": float(np.abs(chosen - rejected)[tie].mean()) if tie.any() else None,
        },
    }


def rater_agreement(store: Store, item_ids: Sequence[int]) -> dict[str, Any]:
    """How often two raters of the same item agree which response is better (a tie is an answer too), over the
    items with at least two votes; and, comparable with a reward model's accuracy on decisive pairs, how often two
    decisive votes pick the same response (the ceiling a model trained on these votes can be held to)."""
    wanted = set(item_ids)
    agree, total, items = 0, 0, []
    decisive_agree, decisive = 0, 0
    by_item = {it.id: it for it in load_items(store) if it.id in wanted}
    for item_id, it in by_item.items():
        votes = [v for v in it.votes if v.ranking or v.tie]
        if len(votes) < 2:
            continue
        items.append(item_id)
        for a, b in itertools.combinations(it.response_ids, 2):
            outcomes = []
            for v in votes:
                if v.tie or a not in v.ranking or b not in v.ranking:
                    outcomes.append("tie")
                else:
                    outcomes.append(a if v.ranking.index(a) < v.ranking.index(b) else b)
            for x, y in itertools.combinations(outcomes, 2):
                agree += x == y
                total += 1
                if "tie" not in (x, y):  # two decisive votes: the measure a reward model's accuracy compares with
                    decisive_agree += x == y
                    decisive += 1
    return {
        "items": len(items),
        "item_ids": items,
        "pairwise_agreement": agree / total if total else None,
        "vote_pairs": total,
        "decisive_agreement": decisive_agree / decisive if decisive else None,
        "decisive_vote_pairs": decisive,
    }


def evaluate_rows(
    scorer: Any, rows: Sequence[dict[str, Any]], store: Store | None = None
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """(report, chosen rewards, rejected rewards) of `rows`; with a store, the raters' agreement on the same
    items and the model's accuracy on just those items sit beside each other."""
    prompts = [r["prompt"] for r in rows]
    chosen, rejected = scorer.score_pairs(prompts, [r["chosen"] for r in rows], [r["rejected"] for r in rows])
    report = pair_metrics(rows, chosen, rejected)
    item_ids = sorted({r["item_id"] for r in rows if r.get("item_id") is not None})
    if store is not None and item_ids:
        ceiling = rater_agreement(store, item_ids)
        same = set(ceiling.pop("item_ids"))
        mask = np.array([r.get("item_id") in same and not r.get("tie") for r in rows], dtype=bool)
        diff = (chosen - rejected)[mask]
        ceiling["model_accuracy"] = float(((diff > 0) + 0.5 * (diff == 0)).mean()) if mask.any() else None
        ceiling["model_pairs"] = int(mask.sum())  # the model's accuracy there is a share of these pairs
        report["rater_ceiling"] = ceiling
    return report, chosen, rejected


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_report(
    report: dict[str, Any],
    out_dir: str | Path,
    rows: Sequence[dict[str, Any]] | None = None,
    chosen: np.ndarray | None = None,
    rejected: np.ndarray | None = None,
) -> list[Path]:
    """report.json, plus PNG plots when the rows and rewards are given; returns the files written."""
    out = Path(out_dir)
    written = [write_atomic(out / "report.json", lambda p: p.write_text(json.dumps(_clean(report), indent=2)))]
    if rows is not None and chosen is not None and rejected is not None:
        from reward.plots import plot_report

        written += plot_report(report, rows, chosen, rejected, out)
    return written


# Fewer held-out decisive pairs than this and every figure is an anecdote: the table says so.
SMALL_SAMPLE = 30


def _rate_row(measure: str, rate: float | None, n: int | None) -> list[Any]:
    """[measure, rate, its 95% Wilson interval, n] (ties count half a success, rounded for the interval)."""
    from hitl.quality.stats import wilson_interval

    if rate is None or not n:
        return [measure, rate, "-", n]
    low, high = wilson_interval(int(round(rate * n)), int(n))
    return [measure, rate, f"{low:.2f}-{high:.2f}", n]


def small_sample_warning(report: dict[str, Any]) -> str | None:
    """A sentence when the held-out set is too small for its figures to mean much, else None."""
    n = report["decisive_pairs"]
    if n >= SMALL_SAMPLE:
        return None
    step = f"one pair moves the accuracy by {1 / n:.0%}" if n else "there is nothing to measure"
    return (
        f"only {n} held-out decisive pairs (fewer than {SMALL_SAMPLE}): {step}; read these figures as anecdotes "
        "and collect more judgments"
    )


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    """(measure, value, 95% interval, n) rows for a terminal table, in the order a reader needs them. Every rate
    has its n (pairs, or vote pairs for the raters) and a Wilson interval."""
    rows: list[list[Any]] = [_rate_row("pairwise accuracy", report["accuracy"], report["decisive_pairs"])]
    for strength, group in report["by_strength"].items():
        rows.append(_rate_row(f"  strength {strength}", group["accuracy"], group["n"]))
    if report["gold"]["n"]:
        rows.append(_rate_row("  on gold items", report["gold"]["accuracy"], report["gold"]["n"]))
    length = report["length"]
    rows.append(
        _rate_row("  chosen is the longer one", length["chosen_longer"]["accuracy"], length["chosen_longer"]["n"])
    )
    rows.append(
        _rate_row("  chosen is the shorter one", length["chosen_shorter"]["accuracy"], length["chosen_shorter"]["n"])
    )
    unequal = length.get("unequal_pairs")
    rows.append(_rate_row("model prefers the longer of a pair", length["model_prefers_longer_rate"], unequal))
    rows.append(_rate_row("raters chose the longer of a pair", length["data_chosen_longer_rate"], unequal))
    rho = length["reward_length_spearman"]
    # Across every response of every prompt, unlike the two rows above: long answers to long questions count too.
    rows.append(["reward vs length, all responses (Spearman)", rho, "-", 2 * report["decisive_pairs"]])
    rows.append(["calibration error (ECE)", report["calibration"]["ece"], "-", report["decisive_pairs"]])
    ceiling = report.get("rater_ceiling")
    if ceiling and ceiling.get("decisive_agreement") is not None:
        rows.append(
            _rate_row(
                "raters agree (two decisive votes)", ceiling["decisive_agreement"], ceiling["decisive_vote_pairs"]
            )
        )
        rows.append(_rate_row("  model accuracy, same items", ceiling["model_accuracy"], ceiling.get("model_pairs")))
    if report["ties"]["pairs"]:
        rows.append(["tie pairs: mean reward gap", report["ties"]["mean_abs_gap"], "-", report["ties"]["pairs"]])
    return rows
