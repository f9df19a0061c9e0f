"""`hitl eval-reward`: how good a reward model is on held-out pairs, in the terminal, as JSON and as PNG plots.

    hitl eval-reward --model demo-reward-20250101-120000
    hitl eval-reward --model ./my-rm --data test.jsonl.gz --skip-invalid --out eval/

By default a registered version is evaluated on its own held-out split (the eval snapshot written at training).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hitl.cli.common import add_db_flag, console, print_table, store_from, third_party_warnings_hidden
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-reward", help="Evaluate a reward model: accuracy, length bias, calibration, ceiling.")
    add_db_flag(p)
    p.add_argument("--model", required=True, help="Reward version name or id, or a model folder.")
    p.add_argument(
        "--data",
        help="store (judgments of --campaign), or a preference file [the model's own held-out split].",
    )
    p.add_argument("--campaign", help="Campaign whose judgments to evaluate on (with --data store).")
    p.add_argument("--skip-invalid", action="store_true", help="Leave out invalid file records (reported).")
    p.add_argument("--batch-size", type=int, default=32, help="Sequences per scoring batch [32].")
    p.add_argument("--out", help="Folder for report.json and the PNG plots [<model folder>/eval-<data name>].")
    add_json_flag(p)
    p.set_defaults(func=_evaluate)


def _rows(args, store, model_dir: Path) -> tuple[list[dict], str]:
    from reward.data import check_rows, file_rows, read_rows, store_rows

    if args.data is None:
        held = model_dir / "data" / "eval.jsonl"
        if not held.is_file():
            raise InvalidInput(
                f"{model_dir} has no held-out split (data/eval.jsonl): pass --data FILE or --data store"
            )
        return read_rows(held), "heldout"
    if args.data == "store":
        rows = store_rows(store, args.campaign)
        check_rows(rows, f"the judgments of campaign {args.campaign!r}" if args.campaign else "the judgments")
        return rows, args.campaign or "store"
    rows, skipped = file_rows(args.data, skip_invalid=args.skip_invalid)
    if skipped:
        console.print(f"skipped {len(skipped)} invalid record(s), e.g. {skipped[0]}")
    check_rows(rows, f"data from {args.data}")
    return rows, Path(args.data).name.split(".")[0]


def _evaluate(args) -> None:
    from reward.evaluate import evaluate_rows, small_sample_warning, summary_rows, write_report
    from reward.models import resolve_reward_ref
    from reward.score import RewardScorer

    store = store_from(args)
    path, version_id = resolve_reward_ref(store, args.model)
    model_dir = Path(path)
    rows, label = _rows(args, store, model_dir)
    with third_party_warnings_hidden():
        scorer = RewardScorer.from_pretrained(model_dir, batch_size=args.batch_size)
        report, chosen, rejected = evaluate_rows(scorer, rows, store)
    report["model"] = {"path": str(model_dir), "version_id": version_id, "data": args.data or "heldout"}
    out = Path(args.out) if args.out else model_dir / f"eval-{label}"
    files = write_report(report, out, rows, chosen, rejected)
    if args.json:
        emit_json({**report, "files": [str(f) for f in files], "warning": small_sample_warning(report)})
        return
    print_table(
        f"Reward model {args.model} on {label} ({len(rows)} pairs)",
        ["measure", "value", "95% CI", "n"],
        summary_rows(report),
    )
    warning = small_sample_warning(report)
    if warning:
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)
    console.print("written: " + ", ".join(str(f) for f in files))
