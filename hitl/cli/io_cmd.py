"""`hitl import prompts|responses|preferences FILE` and `hitl export OUT`: data in and out of the store."""

from __future__ import annotations

import argparse

from hitl import io
from hitl.cli.common import add_db_flag, console, store_from
from hitl.config import DEFAULT_MAX_TEXT_BYTES

SOURCES = "JSONL (.jsonl, .jsonl.gz), CSV, Parquet, a saved HF dataset directory, or hf:OWNER/NAME[:SPLIT] (online)"


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import", help="Import prompts, responses or preference pairs. One file = one transaction.")
    kinds = imp.add_subparsers(dest="kind", required=True)

    prompts = kinds.add_parser(
        "prompts", help=f"Prompts: records with `prompt` or `messages`, optional `id`, `tags`. {SOURCES}."
    )
    prompts.add_argument("--tag", action="append", default=[], help="Tag added to every prompt (repeatable).")
    prompts.set_defaults(func=_import_prompts)

    responses = kinds.add_parser(
        "responses", help="Responses: `prompt_id` or `prompt`, `response`, optional `model`, `sampling`."
    )
    responses.add_argument("--campaign", help="Create comparison items in this campaign.")
    responses.add_argument("--model", help="Model version name for records without `model`.")
    responses.add_argument(
        "--pairing", choices=("all-pairs", "consecutive", "none"), default="all-pairs", help="How items are formed."
    )
    responses.set_defaults(func=_import_responses)

    prefs = kinds.add_parser(
        "preferences", help="Pairs in TRL's prompt/chosen/rejected format or HH-RLHF chosen/rejected dialogues."
    )
    prefs.add_argument("--campaign", required=True, help="Campaign the items go into.")
    prefs.add_argument(
        "--as",
        dest="as_",
        choices=("gold", "judgments"),
        default="gold",
        help="gold: gold items for rater QC; judgments: items with a prior judgment by the 'import' user [gold].",
    )
    prefs.add_argument(
        "--skip-invalid", action="store_true", help="Skip bad records (reported) instead of refusing the file."
    )
    prefs.set_defaults(func=_import_preferences)

    for parser in (prompts, responses, prefs):
        parser.add_argument("file", help=SOURCES)
        parser.add_argument("--source", help="Where the data came from (stored with each record) [the file name].")
        parser.add_argument(
            "--max-text-bytes", type=int, default=DEFAULT_MAX_TEXT_BYTES, help="Largest accepted text [200000]."
        )
        add_db_flag(parser)

    exp = sub.add_parser("export", help="Export judgments as training data, with a manifest (counts, sha256).")
    exp.add_argument("out", help="Output path (a file for jsonl/parquet, a directory for hf).")
    exp.add_argument("--format", dest="fmt", choices=io.FORMATS, default="jsonl", help="[jsonl]")
    exp.add_argument(
        "--layout",
        choices=io.LAYOUTS,
        default="pairs",
        help="pairs: prompt/chosen/rejected/margin; unpaired: prompt/completion/label; raw: every judgment [pairs].",
    )
    exp.add_argument("--campaign", help="Only this campaign.")
    exp.add_argument(
        "--ties", choices=("drop", "half"), default="drop", help="Ties: drop, or both orders at weight 0.5."
    )
    exp.add_argument("--both-bad", choices=("drop", "keep"), default="drop", help="Both-bad judgments: drop or keep.")
    exp.add_argument(
        "--aggregate",
        choices=("all", "majority", "dawid_skene"),
        default="all",
        help="all: one pair per judgment; majority / dawid_skene: one per item [all].",
    )
    exp.add_argument("--no-corrections", action="store_true", help="Leave out raters' corrected responses.")
    add_db_flag(exp)
    exp.set_defaults(func=_export)


def _import_prompts(args) -> None:
    report = io.import_prompts(
        store_from(args), args.file, tags=args.tag, source=args.source, max_text_bytes=args.max_text_bytes
    )
    console.print(report.summary())


def _import_responses(args) -> None:
    report = io.import_responses(
        store_from(args),
        args.file,
        campaign=args.campaign,
        model=args.model,
        pairing=args.pairing,
        source=args.source,
        max_text_bytes=args.max_text_bytes,
    )
    console.print(report.summary())


def _import_preferences(args) -> None:
    report = io.import_preferences(
        store_from(args),
        args.file,
        campaign=args.campaign,
        as_=args.as_,
        source=args.source,
        max_text_bytes=args.max_text_bytes,
        skip_invalid=args.skip_invalid,
    )
    console.print(report.summary())


def _export(args) -> None:
    manifest = io.export(
        store_from(args),
        args.out,
        fmt=args.fmt,
        layout=args.layout,
        campaign=args.campaign,
        ties=args.ties,
        both_bad=args.both_bad,
        aggregate=args.aggregate,
        include_corrections=not args.no_corrections,
    )
    console.print(f"wrote {manifest.data_path} ({manifest.counts}); manifest {manifest.path}")
