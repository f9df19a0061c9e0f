"""`hitl leaderboard`: the arena leaderboard in the terminal (or `--json`): raw and style-controlled ratings with
95% intervals, rank intervals, the style coefficients, a verdict per adjacent pair, the planner and the
per-category boards.

    hitl leaderboard --judge human --view style
    hitl leaderboard --judge oracle --category code --json | jq '.categories[0].rows'

The numbers are the web page's and the API's (hitl.leaderboard_report over the store's counted battles).
"""

from __future__ import annotations

import argparse
import dataclasses

from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput
from hitl.leaderboard_report import VIEWS, ModelRow, Report, interval_text, report
from hitl.ratings import MAX_ROUNDS
from hitl.stats import BOOTSTRAP_ROUNDS, format_rate
from hitl.store.schema import ARENA_JUDGES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="Arena ratings: raw and style-controlled, ranks, verdicts, categories.")
    add_db_flag(p)
    p.add_argument(
        "--judge", choices=ARENA_JUDGES, default="human", help="Whose battles: human votes, reward, oracle."
    )
    p.add_argument(
        "--view",
        choices=VIEWS,
        default="raw",
        help="What orders the board, its rank intervals and verdicts: raw ratings or style-controlled ones [raw].",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=BOOTSTRAP_ROUNDS,
        help=f"Bootstrap resamples (at most {MAX_ROUNDS}) [%(default)s].",
    )
    p.add_argument("--category", help="Only this prompt tag's board (default: every category).")
    p.add_argument("--seed", type=int, default=0, help="Seed of the bootstrap [0].")
    add_json_flag(p)
    p.set_defaults(func=_leaderboard)


def _leaderboard(args) -> None:
    from hitl.service.leaderboard import report_draws

    if not 0 <= args.rounds <= MAX_ROUNDS:
        raise InvalidInput(f"--rounds must be between 0 and {MAX_ROUNDS}")
    r = report(report_draws(store_from(args), args.judge, args.seed), args.rounds, args.view)
    if args.category is not None:
        known = [c.tag for c in r.categories]
        if args.category not in known:
            raise InvalidInput(
                f"no battles on prompts tagged {args.category!r} (tags with battles: {known or 'none'})"
            )
        r = dataclasses.replace(r, categories=[c for c in r.categories if c.tag == args.category])
    if args.json:
        emit_json({"judge": args.judge, **dataclasses.asdict(r)})
        return
    show(r, args.judge)


def _rows(rows: list[ModelRow], style: bool = True) -> list[list]:
    out = []
    for m in rows:
        row = [m.rank, m.model, "–" if m.rating is None else round(m.rating), interval_text(m.low, m.high, m.rated)]
        if style:
            row += [
                "–" if m.style_rating is None else round(m.style_rating),
                interval_text(m.style_low, m.style_high, m.style_rating is not None),
            ]
        out.append([*row, m.battles, f"{m.wins} / {m.losses} / {m.ties}"])
    return out


def show(r: Report, judge: str) -> None:
    view = "style-controlled" if r.view == "style" else "raw"
    console.print(f"{judge} battles: {r.message}; ordered and ranked by the {view} rating ({r.rounds} resamples)")
    print_table(
        f"Leaderboard ({judge}, {view})",
        ["rank", "model", "rating", "95% interval", "style-controlled", "95% interval", "battles", "W / L / T"],
        _rows(r.rows),
    )
    if r.coefficients:
        print_table(
            "Style coefficients (log-odds of winning per sd of the normalised difference)",
            ["feature", "coefficient [95% CI]", "rating points", "1 sd", "n"],
            [
                [c.feature, format_rate(c.coefficient, c.low, c.high), round(c.elo), f"{c.sd:.2f}", c.n]
                for c in r.coefficients
            ],
        )
    for note in r.notes:
        console.print(note)
    for line in r.integrity:
        console.print(f"integrity: {line}")
    for v in r.verdicts:
        console.print(f"verdict: {v.text} (gap {v.gap:.0f}, corrected 95% band {v.low:.0f} to {v.high:.0f})")
    for plan in r.plans:
        console.print(f"planner: {plan.text}")
    for c in r.categories:
        if not c.rows:
            console.print(f"category {c.tag}: {c.message}")
            continue
        print_table(
            f"Category {c.tag} ({c.message})",
            ["rank", "model", "rating", "95% interval", "battles", "W / L / T"],
            _rows(c.rows, style=False),
        )
    if r.hidden_categories:
        console.print(f"{r.hidden_categories} more categories with fewer battles are not shown")
