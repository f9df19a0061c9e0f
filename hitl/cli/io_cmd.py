"""`hitl import prompts|responses|preferences|labelstudio|argilla FILE` and `hitl export OUT`: data in and out.

hitl import preferences hf:HuggingFaceH4/ultrafeedback_binarized:train_prefs --campaign uf --as judgments
hitl export out/ds --format hf --campaign demo --push-to-hub team/prefs
"""

from __future__ import annotations

import argparse

from hitl import io
from hitl.cli.common import add_db_flag, console, store_from
from hitl.config import DEFAULT_MAX_TEXT_BYTES
from hitl.errors import InvalidInput

TOOL_FORMATS = ("labelstudio", "argilla")
SOURCES = (
    "JSONL (.jsonl, .jsonl.gz), CSV, Parquet, a saved HF dataset directory (DIR:SPLIT for one split, e.g. "
    "DIR:train_prefs), or hf:OWNER/NAME[:SPLIT] (online)"
)


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
        "preferences",
        help="Pairs: TRL prompt/chosen/rejected records, HH-RLHF dialogues, UltraFeedback-binarized, HelpSteer2.",
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

    tools = []
    for tool, what in (
        ("labelstudio", "Label Studio's JSON export of Pairwise or Ranker tasks (annotations by completed_by)"),
        ("argilla", "Argilla records as a datasets dataset (ranking or per-response rating questions)"),
    ):
        parser = kinds.add_parser(tool, help=f"{what}: one item per task, one judgment per annotator.")
        parser.add_argument("--campaign", required=True, help="Campaign the items go into.")
        parser.add_argument(
            "--rater-prefix",
            default=f"{tool}-",
            help=f"Prefix of the inactive user made for each annotator ('' keeps their names) [{tool}-].",
        )
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Skip bad tasks (reported) instead of refusing the file."
        )
        parser.set_defaults(func=_import_tool, tool=tool)
        tools.append(parser)

    for parser in (prompts, responses, prefs, *tools):
        parser.add_argument("file", help=SOURCES)
        parser.add_argument("--source", help="Where the data came from (stored with each record) [the file name].")
        parser.add_argument(
            "--max-text-bytes", type=int, default=DEFAULT_MAX_TEXT_BYTES, help="Largest accepted text [200000]."
        )
        add_db_flag(parser)

    exp = sub.add_parser("export", help="Export judgments as training data, with a manifest (counts, sha256).")
    exp.add_argument("out", help="Output path (a file for jsonl/parquet, a directory for hf).")
    exp.add_argument(
        "--format",
        dest="fmt",
        choices=(*io.FORMATS, *TOOL_FORMATS),
        default="jsonl",
        help="jsonl, parquet, hf (a saved dataset with a dataset card); labelstudio (tasks JSON + labeling config) "
        "or argilla (a saved dataset of Argilla records): every item of --campaign with its judgments [jsonl].",
    )
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
    exp.add_argument(
        "--margin-per-strength",
        type=float,
        default=io.MARGIN_PER_STRENGTH,
        help="The `margin` column (TRL's loss margin) per strength step above 'slightly better' [0.5].",
    )
    exp.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="With --format hf: also push the dataset and its card to this hub dataset (private; needs a token).",
    )
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


def _import_tool(args) -> None:
    from hitl.io.argilla import import_argilla
    from hitl.io.labelstudio import import_labelstudio

    importer = import_labelstudio if args.tool == "labelstudio" else import_argilla
    report = importer(
        store_from(args),
        args.file,
        campaign=args.campaign,
        rater_prefix=args.rater_prefix,
        source=args.source,
        max_text_bytes=args.max_text_bytes,
        skip_invalid=args.skip_invalid,
    )
    console.print(report.summary())


def _export(args) -> None:
    if args.push_to_hub and args.fmt != "hf":
        raise InvalidInput("--push-to-hub sends an hf export: add --format hf")
    if args.fmt in TOOL_FORMATS:
        manifest = _export_tool(args)
    else:
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
            margin_per_strength=args.margin_per_strength,
        )
    console.print(f"wrote {manifest.data_path} ({manifest.counts}); manifest {manifest.path}")
    if args.push_to_hub:
        from hitl.io.exports import push_to_hub

        console.print(f"pushed to {push_to_hub(manifest.data_path, args.push_to_hub)}")


def _export_tool(args) -> io.Manifest:
    from hitl.io.argilla import export_argilla
    from hitl.io.labelstudio import export_labelstudio

    shaped = (args.layout, args.ties, args.both_bad, args.aggregate, args.no_corrections, args.margin_per_strength)
    if shaped != ("pairs", "drop", "drop", "all", False, io.MARGIN_PER_STRENGTH):
        raise InvalidInput(f"--format {args.fmt} writes every item with its judgments: drop the pair options")
    if not args.campaign:
        raise InvalidInput(f"--format {args.fmt} exports one campaign: add --campaign NAME")
    exporter = export_labelstudio if args.fmt == "labelstudio" else export_argilla
    return exporter(store_from(args), args.out, campaign=args.campaign)
