"""`hitl route apply|status|curve`: reward-model auto-labels with a human audit, and the routing curve.

    hitl score --campaign demo --model REWARD          # the model's scores of every open item
    hitl workforce rules demo --auto-label-threshold 0.9 --audit-share 0.1
    hitl route apply --campaign demo && hitl route status --campaign demo
    hitl route curve --campaign demo --oracle rule:concise --thresholds 0.7,0.8,0.9

`curve` labels nothing: it simulates raters over the campaign's scored items, with an oracle as the truth, and
prints label accuracy against human judgments spent for all-human labelling and for routing at each threshold.
"""

from __future__ import annotations

import argparse
import random

from hitl.campaigns import get_campaign
from hitl.cli.common import add_db_flag, console, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput
from hitl.stats import format_rate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("route", help="Reward-model auto-labels with a human audit; the routing curve.")
    actions = p.add_subparsers(dest="action", required=True)

    apply = actions.add_parser("apply", help="Auto-label the open items the calibrated reward model is sure of.")
    apply.add_argument("--campaign", required=True)
    apply.add_argument("--seed", type=int, default=0, help="Which items the audit draws [0].")
    add_json_flag(apply)
    apply.set_defaults(func=_apply)

    status = actions.add_parser("status", help="Auto-labelled and audited items, and the audit's agreement.")
    status.add_argument("--campaign", required=True)
    add_json_flag(status)
    status.set_defaults(func=_status)

    curve = actions.add_parser("curve", help="Label accuracy against human judgments spent, per threshold.")
    curve.add_argument("--campaign", required=True)
    curve.add_argument("--oracle", required=True, help="The truth: rule:NAME, module:function or reward:VERSION.")
    curve.add_argument("--thresholds", default="0.7,0.8,0.9,0.95", help="Calibrated confidences, 0.5-1.")
    curve.add_argument("--rater-accuracy", type=float, default=0.8, help="Simulated raters' accuracy [0.8].")
    curve.add_argument("--audit-share", type=float, default=0.1)
    curve.add_argument("--repeats", type=int, default=10, help="Simulations per policy [10].")
    add_json_flag(curve)
    curve.set_defaults(func=_curve)

    for parser in (apply, status, curve):
        add_db_flag(parser)


def parse_thresholds(text: str) -> list[float]:
    """Comma-separated confidences; each must be a number between 0 and 1 (and at least 0.5 to mean anything)."""
    out = []
    for part in (p.strip() for p in (text or "").split(",") if p.strip()):
        try:
            value = float(part)
        except ValueError:
            raise InvalidInput(f"--thresholds: {part!r} is not a number") from None
        if not 0.0 <= value <= 1.0:
            raise InvalidInput(f"--thresholds: {value:g} is outside [0, 1]: a threshold is a calibrated confidence")
        if value < 0.5:
            raise InvalidInput(
                f"--thresholds: {value:g} is below 0.5: the model would label pairs it thinks more likely wrong"
            )
        out.append(value)
    if not out:
        raise InvalidInput("--thresholds: give at least one, e.g. 0.8,0.9")
    return out


def _apply(args) -> None:
    from hitl.workforce.automation import apply_auto_labels

    store = store_from(args)
    report = apply_auto_labels(store, get_campaign(store, args.campaign), seed=args.seed)
    if args.json:
        emit_json(report)
        return
    cal = report.calibration
    console.print(
        f"calibrated on {cal.n} human-labelled items (the model was right on {cal.accuracy:.0%} of them); "
        f"of {report.considered} open scored items nobody judged yet, {report.labelled} auto-labelled and "
        f"{report.audited} sent to humans as an audit"
    )


def _status(args) -> None:
    from hitl.workforce.automation import audit_report

    store = store_from(args)
    report = audit_report(store, get_campaign(store, args.campaign))
    if args.json:
        emit_json(report)
        return
    a = report.agreement
    print_table(
        f"Auto-labels of {args.campaign}",
        ["auto-labelled", "audited", "audit agreement (humans with the model)"],
        [[report.auto_labelled, report.audited, format_rate(a.rate, a.low, a.high, a.total)]],
    )


def _curve(args) -> None:
    from hitl.loop.judges import load_judge
    from hitl.simulate.raters import RaterBehaviour
    from hitl.workforce.automation import oracle_pairs
    from hitl.workforce.calibration import MIN_PAIRS, fit
    from hitl.workforce.curve import RoutedItem, routing_curve, savings_at

    thresholds = parse_thresholds(args.thresholds)
    if not 0.5 <= args.rater_accuracy <= 1.0 or not 0.0 <= args.audit_share <= 1.0:
        raise InvalidInput("--rater-accuracy must be between 0.5 and 1, --audit-share between 0 and 1")
    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    pairs = oracle_pairs(store, campaign, load_judge(args.oracle, store))
    if len(pairs) < 2 * MIN_PAIRS:
        raise InvalidInput(
            f"campaign {campaign.name!r} has {len(pairs)} scored pairs the oracle separates; the curve needs "
            f"{2 * MIN_PAIRS} (run `hitl score --campaign {campaign.name}` on more items)"
        )
    # Calibrated by cross-fitting: each half of the pairs on the other, so no pair calibrates its own prior.
    rng = random.Random(0)
    halves = ([], [])
    for pair in pairs:
        halves[rng.random() < 0.5].append(pair)
    items = []
    for own, other in (halves, halves[::-1]):
        cal = fit([g for g, _ in other], [y for _, y in other])
        items += [RoutedItem(0 if first else 1, cal.prob(gap)) for gap, first in own]
    crowd = [RaterBehaviour(f"sim-{i}", flip=1 - args.rater_accuracy, allow_tie=False) for i in range(8)]
    human, routed = routing_curve(
        items, thresholds, crowd, args.rater_accuracy, audit_share=args.audit_share, repeats=args.repeats
    )
    saved = savings_at(human, routed)
    if args.json:
        emit_json({"campaign": campaign.name, "pairs": len(items), "human": human, "routed": routed, "savings": saved})
        return
    rows = [
        [
            p.policy,
            f"{p.per_item:.2f}",
            format_rate(p.accuracy.rate, p.accuracy.low, p.accuracy.high, p.accuracy.total),
            f"{p.auto_share:.0%}",
            format_rate(p.audit.rate, p.audit.low, p.audit.high, p.audit.total),
        ]
        for p in human + routed
    ]
    print_table(
        f"Routing curve of {campaign.name} ({len(items)} pairs, raters right {args.rater_accuracy:.0%})",
        ["policy", "human judgments / pair", "label accuracy", "auto-labelled", "audit agreement"],
        rows,
    )
    for s in saved:
        if s["saved"] is None:
            console.print(f"{s['all_human']}: no routed policy reached its accuracy ({s['accuracy']:.3f})")
        else:
            console.print(
                f"{s['all_human']} ({s['accuracy']:.3f}): {s['routed']} reaches {s['routed_accuracy']:.3f} with "
                f"{s['saved']:.0%} fewer human judgments"
            )
