"""The loop under a panel of oracles: simulated raters -> reward model -> DPO step -> new pairs, round after round,
each oracle from a fresh store, on the embedded default models.

    python scripts/bench_loop.py --out bench-results/loop.json         # make loop-demo runs this
    python scripts/bench_loop.py --oracles rule:numbered,rule:plain --rounds 2 --selection random
    python scripts/bench_loop.py --oracles rule:detailed@128        # this oracle's answers get 128 new tokens

A panel entry `SPEC@N` gives that oracle's loop and evaluation N new tokens instead of --max-new-tokens: a
preference for longer answers cannot show once nearly every answer ends at the cap (the default panel gives
rule:detailed 128; at 64, 75% of the default policy's answers already end there).

Prompts: the project's prompt sets, every third one held out; the loop generates for the rest. Round 0: the
default policy's candidates for the first prompts, pairs chosen for diversity (no reward model yet), judged by 8
simulated raters (noise, one position-biased, one spammer, one fatigued) over the oracle. Each round then: reward
model (all judgments so far) -> gate -> policy step (every human pair plus best-of-n pairs) -> candidates of the
new policy, informative pairs queued -> the raters judge them. Afterwards every version is compared with v0 on the
held-out prompts (several samples per prompt, bootstrap by prompt): raw and length-controlled oracle win rates with
95% intervals, and each round's reward model against the oracle on those answer pairs (Wilson interval).
Reported per oracle and round: judgments used, decisive share, the figures above, and wall time by stage; a table,
a JSON file and a plot. An oracle that raises or returns the wrong number of scores stops the run, naming both.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loop_bench_common import (
    HUMAN_ORACLE_DIR,
    OracleFailed,
    checked_oracle,
    fresh_home,
    human_oracle,
    slug,
    split_prompts,
)  # noqa: E402

RULE_PANEL = "rule:concise,rule:detailed@128,rule:no-self,rule:list,rule:plain"
LENGTH_ORACLES = ("rule:concise", "rule:detailed")
NAME_WIDTH = 20  # the table's oracle column


def panel_entry(entry: str) -> tuple[str, int | None]:
    """An --oracles entry as (oracle spec, its new-token budget or None): `rule:detailed@128` -> ("rule:detailed",
    128). Only a tail of digits after the last `@` is a budget, so a reward model's path may hold an `@`."""
    spec, at, tail = entry.rpartition("@")
    if not at or not tail.isdigit():
        return entry, None
    if not spec or int(tail) < 1:
        raise SystemExit(f"panel entry {entry!r}: use SPEC@N with N >= 1 new tokens")
    return spec, int(tail)


def torch_threads() -> int:
    """Threads torch uses now (the steps set them from HITL_THREADS / OMP_NUM_THREADS): wall times depend on it."""
    import torch

    return torch.get_num_threads()


def native_bf16() -> bool:
    from policy.models import native_bf16 as native

    return native()


def decisive_share(store, campaign) -> tuple[int, float]:
    from sqlalchemy import Integer, func, select

    from hitl.store.schema import items, judgments

    with store.read() as conn:
        ties = func.sum(judgments.c.tie.cast(Integer))
        q = select(func.count(), ties).join(items, items.c.id == judgments.c.item_id)
        total, ties = conn.execute(q.where(items.c.campaign_id == campaign.id)).one()
    return int(total or 0), (1 - (ties or 0) / total) if total else float("nan")


def sample_answers(store, spec: str, prompts: list, samples: int, max_new_tokens: int, seed: int) -> list[list[str]]:
    """`samples` answers of a policy to each prompt (temperature 0.7), grouped by prompt."""
    from policy.config import GenerationSettings
    from policy.fill import resolve_named
    from policy.generate import sample

    settings = GenerationSettings(n=samples, max_new_tokens=max_new_tokens, temperature=0.7, seed=seed)
    out: list[list[str]] = [[] for _ in prompts]
    for s in sample(resolve_named(store, spec, progress=False), prompts, settings):
        out[s.prompt_index].append(s.text)
    return out


def compare(rows_a: list[list[str]], rows_b: list[list[str]], prompts: list[str], oracle) -> dict:
    """Oracle win rate of A over B (raw and length-controlled), bootstrapped by prompt, and the comparison rows."""
    from hitl.winrate import outcome_from_scores, win_rate

    rows = []
    for p, (answers_a, answers_b) in enumerate(zip(rows_a, rows_b, strict=True)):
        for a, b in zip(answers_a, answers_b, strict=False):
            sa, sb = oracle(prompts[p], [a, b])
            rows.append({"prompt": p, "a": a, "b": b, "outcome": outcome_from_scores(sa, sb)})
    wr = win_rate(
        [r["outcome"] for r in rows],
        [len(r["a"]) for r in rows],
        [len(r["b"]) for r in rows],
        bootstrap=1000,
        groups=[r["prompt"] for r in rows],
    )
    return {"win": wr, "rows": rows}


def decided_wins(rows: list[dict]) -> tuple[float, float, float, int]:
    """A's win rate (Wilson 95% interval, n) over the comparisons the oracle decided. Under a sparse oracle most
    comparisons tie and the raw rate (ties count half) can reach at most 0.5 + decided share / 2; this says how
    often the new version wins where the rule has something to say."""
    from hitl.quality.stats import wilson_interval

    decided = [r for r in rows if r["outcome"] != 0.5]
    if not decided:
        return float("nan"), float("nan"), float("nan"), 0
    wins = sum(r["outcome"] == 1.0 for r in decided)
    low, high = wilson_interval(wins, len(decided))
    return wins / len(decided), low, high, len(decided)


def reward_vs_oracle(reward_path: str, rows: list[dict], prompts: list[str]) -> tuple[float, float, float, int]:
    """Accuracy (Wilson 95% interval, n) of a reward model on the answer pairs the oracle did not call a tie."""
    from hitl.quality.stats import wilson_interval
    from reward.score import RewardScorer

    decided = [r for r in rows if r["outcome"] != 0.5]
    if not decided:
        return float("nan"), float("nan"), float("nan"), 0
    scorer = RewardScorer.from_pretrained(reward_path)
    ra = scorer.score([prompts[r["prompt"]] for r in decided], [r["a"] for r in decided])
    rb = scorer.score([prompts[r["prompt"]] for r in decided], [r["b"] for r in decided])
    hits = sum(int((x > y) == (r["outcome"] == 1.0)) for x, y, r in zip(ra, rb, decided, strict=True))
    low, high = wilson_interval(hits, len(decided))
    return hits / len(decided), low, high, len(decided)


def run_oracle(entry: str, args, workdir: Path) -> dict:
    """One loop run under one panel entry (an oracle, perhaps with its own token budget), from a fresh store;
    returns its rows (one per round)."""
    from hitl.campaigns import create_campaign
    from hitl.config import CampaignSettings
    from hitl.loop import LoopSettings, run_loop
    from hitl.loop.judges import load_judge
    from hitl.loop.stages import RoundPlan, RoundStages, candidate_parts
    from hitl.loop.state import rounds as loop_rounds
    from hitl.loop.steps import QueueStep, queue_step
    from hitl.pair_selection import SelectionSettings
    from hitl.simulate import default_crowd, simulate
    from hitl.stats import collection_report
    from hitl.store import open_store
    from policy.config import GenerationSettings
    from policy.prompts import read_prompt_file

    spec, budget = panel_entry(entry)
    max_new_tokens = budget or args.max_new_tokens
    home = fresh_home(workdir / slug(entry))
    store = open_store(f"sqlite:///{home / 'loop.db'}")
    campaign = create_campaign(store, CampaignSettings(name="panel", overlap=args.overlap, gold_rate=0.0))
    oracle = checked_oracle(spec, load_judge(spec, store))
    crowd = default_crowd(args.raters)
    plan = RoundPlan(
        prompts=str(args.train_file),
        prompts_per_round=args.prompts_per_round,
        selection=args.selection,
        items_per_round=args.items_per_round,
        max_new_tokens=max_new_tokens,
        oracle=spec,
        config_path=args.config,
    )
    plan.validate()
    started = time.perf_counter()
    seed_step = QueueStep(
        candidate_parts(args.base, args.base, RoundPlan(**{**plan.__dict__, "include_base": False})),
        prompts=plan.prompts,
        limit=plan.prompts_per_round,
        settings=GenerationSettings(n=plan.candidates, max_new_tokens=plan.max_new_tokens, seed=args.seed),
        source="bench r0",
        progress=False,
        selection=SelectionSettings(method="random" if args.selection == "random" else "diversity"),
        budget=plan.items_per_round,
        selection_seed=args.seed,
    )
    seeded = queue_step(store, campaign, seed_step)
    t = time.perf_counter()
    judged = simulate(store, campaign, crowd, oracle, 10**6, seed=args.seed)
    rows = [
        {
            "round": 0,
            "judgments": judged.total,
            "items_queued": seeded.items,
            "generate_seconds": seeded.seconds,
            "judge_seconds": time.perf_counter() - t,
            "round_seconds": time.perf_counter() - started,
        }
    ]
    print(f"[{spec}] round 0: {seeded.items} items, {judged.total} judgments", flush=True)
    settings = LoopSettings(min_new_judgments=max(1, plan.items_per_round // 2), max_rounds=1)
    stages = RoundStages(plan, base_policy=args.base)
    for number in range(1, args.rounds + 1):
        waits, judge_seconds, attempts = 0, 0.0, []
        t = time.perf_counter()
        done = run_loop(store, campaign, stages, settings)[-1]
        attempts.append(time.perf_counter() - t)
        # A waiting round queued more pairs for raters (the gate wants more decisive judgments): they judge them,
        # and the round tries again, a bounded number of times.
        while done.status == "waiting" and waits < args.max_waits:
            waits += 1
            print(f"[{spec}] round {number} waits ({done.message}); the raters judge more", flush=True)
            tj = time.perf_counter()
            simulate(store, campaign, crowd, oracle, 10**6, seed=args.seed + 100 * number + waits)
            judge_seconds += time.perf_counter() - tj
            t = time.perf_counter()
            done = run_loop(store, campaign, stages, settings)[-1]
            attempts.append(time.perf_counter() - t)
        loop_seconds = sum(attempts)
        m = done.metrics
        row = {"round": number, "status": done.status, "message": done.message, "waits": waits}
        # The time a round took counts whether or not it finished (a round still waiting is no faster than 15 min).
        # The loop's own time per attempt: the last one of a finished round trained the policy; the others ended
        # waiting for judgments (a reward model that failed the gate, and the pairs queued for raters).
        last_reward = (m.get("reward_seconds") or 0.0) + (m.get("reward_cv_seconds") or 0.0)
        finished = done.status == "done"
        row.update(
            attempt_seconds=attempts,
            round_seconds=loop_seconds + judge_seconds,
            waiting_queue_seconds=m.get("waiting_queue_seconds") or 0.0,
            waiting_reward_seconds=(m.get("reward_seconds_all") or 0.0) - (last_reward if finished else 0.0),
        )
        if not finished:
            rows.append(row)
            print(f"[{spec}] round {number} {done.status}: {done.message}", flush=True)
            break
        t = time.perf_counter()
        judged = simulate(store, campaign, crowd, oracle, 10**6, seed=args.seed + number)
        judge_seconds += time.perf_counter() - t
        row.update(
            judgments_used=done.judgments_at_start + (m.get("new_judgments") or 0),
            judgments=judged.total,
            items_queued=m.get("items_queued"),
            human_pairs=m.get("human_pairs"),
            best_of_n_pairs=m.get("best_of_n_pairs"),
            reward_heldout=[m.get(k) for k in ("reward_accuracy", "reward_accuracy_low", "reward_accuracy_high")],
            reward_heldout_pairs=m.get("reward_eval_pairs"),
            reward_attempts=m.get("reward_attempt", 1),
            policy_precision=m.get("policy_precision"),
            policy_loss_terms=m.get("policy_loss_terms"),
            policy_steps=m.get("policy_steps"),
            policy_epochs=m.get("policy_epochs"),
            **{
                k: m.get(k)
                for k in ("reward_seconds", "reward_cv_seconds", "policy_seconds", "generate_seconds", "score_seconds")
            },
            reward_heldout_split=[m.get("reward_heldout_accuracy"), m.get("reward_heldout_pairs")],
            judge_seconds=judge_seconds,
            round_seconds=loop_seconds + judge_seconds,  # now with the judging of the pairs the round queued
        )
        rows.append(row)
        print(f"[{spec}] round {number}: {row['round_seconds']:.0f} s, {judged.total} new judgments", flush=True)
        if waits:
            print(
                f"[{spec}] round {number} waited {waiting_seconds(row):.0f} s: reward models that failed the gate "
                f"{row['waiting_reward_seconds']:.0f} s, pairs queued for raters {row['waiting_queue_seconds']:.0f} s",
                flush=True,
            )
    # Every version against v0 on the held-out prompts.
    records = read_prompt_file(args.heldout_file)[: args.eval_prompts or None]
    prompts = [r.prompt for r in records]
    v0 = sample_answers(store, args.base, prompts, args.eval_samples, plan.max_new_tokens, 10_000 + args.seed)
    finished = {r.number: r for r in loop_rounds(store, campaign) if r.status == "done"}
    for row in rows[1:]:
        round_ = finished.get(row["round"])
        if round_ is None:
            continue
        name = f"panel-r{round_.number}-policy"
        mine = sample_answers(store, name, prompts, args.eval_samples, plan.max_new_tokens, 10_000 + args.seed)
        result = compare(mine, v0, prompts, oracle)
        wr = result["win"]
        from hitl.loop.steps.versions import version_by_id

        acc = reward_vs_oracle(version_by_id(store, round_.reward_version_id).path, result["rows"], prompts)
        answers = [a for group in mine for a in group]
        decided_rate = decided_wins(result["rows"])
        row.update(
            win_vs_v0=[wr.rate, wr.low, wr.high],
            lc_win_vs_v0=[wr.length_controlled, wr.lc_low, wr.lc_high],
            comparisons=wr.n,
            decided_win_vs_v0=list(decided_rate[:3]),
            decided_comparisons=decided_rate[3],
            reward_vs_oracle=list(acc[:3]),
            reward_vs_oracle_pairs=acc[3],
            mean_chars=sum(map(len, answers)) / max(1, len(answers)),
        )
    v0_answers = [a for group in v0 for a in group]
    total, share = decisive_share(store, campaign)
    _, raters = collection_report(store, campaign)
    store.close()
    return {
        "oracle": spec,
        "entry": entry,
        "max_new_tokens": max_new_tokens,
        "rows": rows,
        "judgments": total,
        "decisive_share": share,
        "v0_mean_chars": sum(map(len, v0_answers)) / max(1, len(v0_answers)),
        "flagged_raters": sorted(q.rater for q in raters if q.flagged),
        "seconds": time.perf_counter() - started,
    }


def targets(result: dict, rounds: int) -> dict[str, bool]:
    done = [r for r in result["rows"][1:] if "win_vs_v0" in r]
    last = done[-1] if done and done[-1]["round"] == rounds else None
    longest = max((r.get("round_seconds") or 0 for r in result["rows"][1:]), default=float("inf"))
    met = {"round_under_15_min": longest <= 900, "all_rounds_done": last is not None}
    if last is not None:
        rate, low, high = last["lc_win_vs_v0"] if result["oracle"] not in LENGTH_ORACLES else last["win_vs_v0"]
        if result["oracle"] in LENGTH_ORACLES:
            met["raw_win_ge_0.75"] = rate >= 0.75
        else:
            met["lc_win_ge_0.60"] = rate >= 0.60
            met["lc_low_above_0.5"] = low > 0.5
        met["half_width_le_0.08"] = (high - low) / 2 <= 0.08
    return met


def rm_seconds(row: dict) -> float | None:
    """The last reward model's training, plus its cross-validation folds when the gate needed them."""
    if row.get("reward_seconds") is None:
        return None
    return row["reward_seconds"] + (row.get("reward_cv_seconds") or 0.0)


def decided(row: dict) -> str:
    n = row.get("decided_comparisons")
    return f"{ci(row.get('decided_win_vs_v0'))} ({n})" if n else "-"


def short_name(result: dict) -> str:
    """An oracle's name for the table and the plot: a reward model's folder name, not its whole path, and the
    entry's own token budget where it has one."""
    spec = result["oracle"]
    kind, _, rest = spec.partition(":")
    name = f"{kind}:{Path(rest).name}" if kind == "reward" else spec
    budget = "" if result.get("entry", spec) == spec else f"@{result['max_new_tokens']}"
    return name[: NAME_WIDTH - len(budget)] + budget


def waiting_seconds(row: dict) -> float | None:
    """The loop's time in the attempts that ended waiting for more judgments (their reward models and the pairs
    they queued), without the raters' time; the rest of the round is its last attempt and the judging."""
    attempts = row.get("attempt_seconds")
    if not attempts:
        return None
    return sum(attempts[:-1]) if row.get("status") == "done" else sum(attempts)  # unfinished: every attempt waited


def fmt(x, spec: str) -> str:
    """`x` formatted by `spec` ("6.0f"), or a dash as wide when there is no number (a column stays aligned)."""
    if isinstance(x, int | float) and x == x:
        return format(x, spec)
    width = spec.split(".")[0].rstrip("dfs")
    return "-".rjust(int(width) if width.isdigit() else 1)


def ci(v) -> str:
    return f"{v[0]:.2f} [{v[1]:.2f},{v[2]:.2f}]" if v and v[0] is not None and v[0] == v[0] else "-"


def print_table(results: list[dict]) -> None:
    head = f"{'oracle':<{NAME_WIDTH}} {'rnd':>3} {'judg':>5} {'decis':>5} {'RM vs oracle':>17} {'win vs v0':>17} "
    head += f"{'LC win vs v0':>17} {'decided win (n)':>22} "
    print("\n" + head + f"{'gen s':>6} {'RM s':>5} {'pol s':>6} {'wait s':>6} {'rnd s':>6}")
    for res in results:
        for r in res["rows"]:
            print(
                f"{short_name(res):<{NAME_WIDTH}} {r['round']:>3} "
                f"{fmt(r.get('judgments_used', r.get('judgments')), '5d')} "
                f"{fmt(res['decisive_share'], '5.2f') if r['round'] == 0 else '':>5} "
                f"{ci(r.get('reward_vs_oracle')):>17} {ci(r.get('win_vs_v0')):>17} {ci(r.get('lc_win_vs_v0')):>17} "
                f"{decided(r):>22} "
                f"{fmt(r.get('generate_seconds'), '6.0f')} {fmt(rm_seconds(r), '5.0f')} "
                f"{fmt(r.get('policy_seconds'), '6.0f')} {fmt(waiting_seconds(r), '6.0f')} "
                f"{fmt(r.get('round_seconds'), '6.0f')}"
                + (f"  {r['status']}: {r['message']}" if r.get("status") not in (None, "done") else "")
            )
        print(
            f"{'':<{NAME_WIDTH}} targets: "
            + ", ".join(f"{k}={'met' if v else 'NOT met'}" for k, v in res["targets"].items())
        )


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.4), sharey=True, squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        done = [r for r in res["rows"] if "win_vs_v0" in r]
        for key, label, style in (("lc_win_vs_v0", "length-controlled", "-o"), ("win_vs_v0", "raw", "--s")):
            xs = [r["round"] for r in done]
            ys = [r[key][0] for r in done]
            err = [[r[key][0] - r[key][1] for r in done], [r[key][2] - r[key][0] for r in done]]
            ax.errorbar(xs, ys, yerr=err, fmt=style, capsize=3, label=label)
        ax.axhline(0.5, color="grey", lw=0.8)
        # A label, never markup: set via text, no $...$ in our names.
        ax.set_title(short_name(res), fontsize=9)
        ax.set_xlabel("round")
        ax.set_xticks(sorted({r["round"] for r in done}))  # whole rounds, never 1.5
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("oracle win rate vs v0 (95% CI)")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--oracles",
        default=RULE_PANEL,
        help=f"Comma-separated oracle specs, each optionally SPEC@N (N new tokens for its answers); `human` places "
        f"the --human-data oracle [{RULE_PANEL}].",
    )
    parser.add_argument(
        "--human-data",
        help="Real preference pairs (e.g. ../shared/data/hh-harmless/train.jsonl.gz): a reward "
        "model trained on them joins the panel as an oracle.",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompts-per-round", type=int, default=96)
    parser.add_argument("--items-per-round", type=int, default=128)
    parser.add_argument("--selection", default="informative", choices=("informative", "diversity", "random"))
    parser.add_argument("--max-waits", type=int, default=3, help="Times a waiting round is fed more judgments [3].")
    parser.add_argument("--raters", type=int, default=8)
    parser.add_argument("--overlap", type=int, default=3, help="Judgments per item from distinct raters [3].")
    parser.add_argument("--eval-samples", type=int, default=2, help="Answers per held-out prompt and version [2].")
    parser.add_argument("--eval-prompts", type=int, default=0, help="Use only this many held-out prompts [0: all].")
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="New tokens per answer, unless an entry says SPEC@N [64]."
    )
    parser.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "configs" / "cpu.yaml"))
    parser.add_argument("--base", default="default", help="Policy v0 [default].")
    parser.add_argument("--workdir", help="Stores and outputs here [a temporary folder].")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="Write the results as JSON here (the plot beside it, .png).")
    args = parser.parse_args(argv)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hitl-loop-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    args.train_file, args.heldout_file, n_train, n_test = split_prompts(workdir)
    specs = [s.strip() for s in args.oracles.split(",") if s.strip()]
    bare = [panel_entry(s)[0] for s in specs]  # a malformed entry stops here, not after hours of other oracles
    if "human" in bare and not args.human_data:
        parser.error("`human` in --oracles needs --human-data")
    if args.human_data:
        human = human_oracle(args.human_data, HUMAN_ORACLE_DIR, args.config)
        # `human` in --oracles places the human-preference oracle (`human@N` with its own budget); otherwise it
        # runs last.
        specs = [human + s.removeprefix("human") if b == "human" else s for s, b in zip(specs, bare, strict=True)]
        specs += [] if "human" in bare else [human]
    print(
        f"loop panel: {len(specs)} oracles x {args.rounds} rounds, {n_train} training / {n_test} held-out prompts, "
        f"{args.raters} simulated raters (overlap {args.overlap}), selection {args.selection}, "
        f"{os.cpu_count()} cores ({torch_threads()} torch threads, native bf16: {native_bf16()}); work in {workdir}",
        flush=True,
    )
    results = []
    for spec in specs:
        try:
            result = run_oracle(spec, args, workdir)
        except OracleFailed as exc:
            print(f"stopped: {exc}", file=sys.stderr)
            return 1
        result["targets"] = targets(result, args.rounds)
        results.append(result)
        print_table([result])
    print_table(results)
    summary = {
        "results": results,
        "selection": args.selection,
        "rounds": args.rounds,
        "prompts": {"train": n_train, "held_out": n_test},
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch_threads(),
        "native_bf16": native_bf16(),
        "workdir": str(workdir),
    }
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(summary, indent=1, default=str) + "\n")
        plot(results, out.with_suffix(".png"))
        print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
