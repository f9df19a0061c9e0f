"""`hitl workforce rules|status|reinstate|skills|rationale|escalations|escalate|gold`: run a rater workforce.

hitl workforce rules demo --qualification-items 5 --min-seconds 4 --fast-warn 3 --fast-pause 6
hitl workforce skills alice --add medical && hitl workforce rules demo --skill-map medical=medical
hitl workforce status demo          # who is in training, passed, failed, paused, warned
hitl workforce gold demo --confirm 12 --decline 14   # gold grows: confirm items proposed as gold
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from hitl.campaigns import get_campaign
from hitl.cli.common import add_dataclass_flags, add_db_flag, console, dataclass_flag_values, print_table, store_from
from hitl.cli.jsonout import add_json_flag, emit_json
from hitl.errors import InvalidInput
from hitl.workforce import escalation, gold, manage, skills
from hitl.workforce.rules import WorkforceRules


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("workforce", help="Qualification, attention checks, work limits, skills and the expert queue.")
    actions = p.add_subparsers(dest="action", required=True)

    rules = actions.add_parser("rules", help="Show a campaign's workforce rules, or change the ones given.")
    rules.add_argument("campaign")
    add_dataclass_flags(rules, WorkforceRules, skip=("skills",))
    rules.add_argument(
        "--skill-map",
        help="Prompt tags and the skill their items need, e.g. medical=medical,contract=legal ('' clears it).",
    )
    add_json_flag(rules)
    rules.set_defaults(func=_rules)

    status = actions.add_parser("status", help="Who is in training, passed, failed, paused or warned.")
    status.add_argument("campaign")
    add_json_flag(status)
    status.set_defaults(func=_status)

    back = actions.add_parser("reinstate", help="End a rater's pause, or grant a failed rater new attempts.")
    back.add_argument("campaign")
    back.add_argument("rater")
    back.add_argument("--note", default="", help="Why (kept with the reinstatement).")
    back.set_defaults(func=_reinstate)

    sk = actions.add_parser("skills", help="Show a user's skills, or add and remove some.")
    sk.add_argument("name")
    sk.add_argument("--add", action="append", default=[], metavar="SKILL", help="A skill to add (repeatable).")
    sk.add_argument("--remove", action="append", default=[], metavar="SKILL", help="A skill to remove (repeatable).")
    sk.set_defaults(func=_skills)

    why = actions.add_parser("rationale", help="Why a gold item's answer is right (shown in training).")
    why.add_argument("item", type=int)
    why.add_argument("text")
    why.set_defaults(func=_rationale)

    esc = actions.add_parser("escalations", help="Items waiting in the expert queue: why, for which skill, how long.")
    esc.add_argument("--campaign", help="Only this campaign.")
    esc.add_argument("--all", action="store_true", help="Answered ones too.")
    add_json_flag(esc)
    esc.set_defaults(func=_escalations)

    send = actions.add_parser("escalate", help="Send an item to the expert queue.")
    send.add_argument("item", type=int)
    send.add_argument("--note", default="", help="What the expert should look at.")
    send.set_defaults(func=_escalate)

    grow = actions.add_parser(
        "gold", help="Items judged unanimously by competent raters, proposed as gold; confirm or decline them."
    )
    grow.add_argument("campaign")
    grow.add_argument("--confirm", type=int, action="append", default=[], metavar="ITEM", help="Make it gold.")
    grow.add_argument(
        "--decline", type=int, action="append", default=[], metavar="ITEM", help="Never propose it again."
    )
    grow.add_argument("--note", default="", help="Why (kept with each decision).")
    defaults = gold.GoldParams()
    grow.add_argument("--min-raters", type=int, default=defaults.min_raters, help="Raters who all agree [3].")
    grow.add_argument(
        "--min-competence",
        type=float,
        default=defaults.min_competence,
        help="Dawid-Skene competence each of them needs (0-1) [0.8].",
    )
    grow.add_argument(
        "--competence-min-n", type=int, default=defaults.competence_min_n, help="Items each must have judged [10]."
    )
    grow.add_argument(
        "--min-posterior", type=float, default=defaults.min_posterior, help="Posterior of the answer (0-1) [0.95]."
    )
    add_json_flag(grow)
    grow.set_defaults(func=_gold)

    for parser in (rules, status, back, sk, why, esc, send, grow):
        add_db_flag(parser)


def parse_skill_map(text: str) -> dict[str, str]:
    """'tag=skill,tag2=skill2' as a dict; '' is the empty map."""
    out = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        tag, sep, skill = part.partition("=")
        if not sep or not tag.strip() or not skill.strip():
            raise InvalidInput(f"--skill-map: {part!r} is not TAG=SKILL")
        out[tag.strip()] = skill.strip()
    return out


def _rules(args) -> None:
    store = store_from(args)
    changes = {k: v for k, v in dataclass_flag_values(args, WorkforceRules).items() if v is not None}
    if args.skill_map is not None:
        changes["skills"] = parse_skill_map(args.skill_map)
    campaign = manage.set_rules(store, args.campaign, **changes) if changes else get_campaign(store, args.campaign)
    values = dataclasses.asdict(campaign.rules)
    if args.json:
        emit_json({"campaign": campaign.name, "rules": values, "changed": sorted(changes)})
        return
    if changes:
        console.print(f"updated the workforce rules of {campaign.name}: {', '.join(sorted(changes))}")
    default = dataclasses.asdict(WorkforceRules())
    rows = [[k, v, "" if v == default[k] else "set"] for k, v in values.items()]
    print_table(f"Workforce rules of {campaign.name}", ["rule", "value", ""], rows)


def _status(args) -> None:
    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    rows = manage.roster(store, campaign)
    if args.json:
        emit_json({"campaign": campaign.name, "raters": rows})
        return
    table = [
        [
            r.rater,
            r.qualification,
            r.attempt or "",
            f"{r.correct}/{r.total}" if r.total else "",
            r.paused or "",
            r.warning or "",
            r.judgments,
        ]
        for r in rows
    ]
    headers = ["rater", "qualification", "attempt", "score", "paused", "latest warning", "judgments"]
    print_table(f"Raters of {campaign.name}", headers, table)
    if not rows:
        console.print("nobody has judged here yet")


def _reinstate(args) -> None:
    store = store_from(args)
    console.print(manage.reinstate(store, get_campaign(store, args.campaign), args.rater, None, args.note))


def _skills(args) -> None:
    store = store_from(args)
    if args.add or args.remove:
        now = skills.set_skills(store, args.name, args.add, args.remove)
    else:
        now = skills.user_skill_names(store, args.name)
    console.print(f"{args.name}: {', '.join(now) if now else 'no skills'}")
    warning = skills.unheld_warning(store, args.remove) if args.remove else None
    if warning:
        console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)


def _rationale(args) -> None:
    manage.set_rationale(store_from(args), args.item, args.text)
    console.print(f"rationale of gold item {args.item} saved")


def _escalations(args) -> None:
    store = store_from(args)
    campaign_id = get_campaign(store, args.campaign).id if args.campaign else None
    with store.read() as conn:
        found = escalation.list_escalations(conn, campaign_id, open_only=not args.all)
    now = time.time()
    if args.json:
        emit_json([{**dataclasses.asdict(e), "waited_seconds": e.waited(now)} for e in found])
        return
    rows = [
        [
            e.item_id,
            e.campaign,
            e.reason,
            e.detail,
            e.skill or "(reviewers)",
            f"{e.waited(now) / 3600:.1f}",
            e.resolved_by or "",
        ]
        for e in found
    ]
    print_table("Expert queue", ["item", "campaign", "reason", "detail", "skill", "waited (h)", "answered by"], rows)


def _escalate(args) -> None:
    from hitl.service.review import ReviewService

    store = store_from(args)
    review = ReviewService(store).item_view(args.item)
    rules = get_campaign(store, review.campaign).rules
    with store.write() as conn:
        made = escalation.escalate(conn, review.item_id, rules, "requested", args.note)
    if made is None:
        raise InvalidInput(f"item {args.item} already waits in the expert queue")
    console.print(f"item {args.item} sent to the expert queue (escalation {made})")


def _gold(args) -> None:
    store = store_from(args)
    campaign = get_campaign(store, args.campaign)
    params = gold.GoldParams(args.min_raters, args.min_competence, args.competence_min_n, args.min_posterior)
    found = {p.item_id: p for p in gold.proposals(store, campaign, params)}
    wanted = [(item, True) for item in args.confirm] + [(item, False) for item in args.decline]
    both = sorted(set(args.confirm) & set(args.decline))
    if both:
        raise InvalidInput(f"item {both[0]} is both confirmed and declined: pick one; nothing was changed")
    for item, _ in wanted:
        if item not in found:  # every one is checked before the first is written: all or nothing
            gold.decide(store, None, item, False)
    done = [gold.decide(store, found[item], item, accept, None, args.note) for item, accept in wanted]
    if args.json:
        left = [p for p in found.values() if p.item_id not in {i for i, _ in wanted}]
        emit_json({"campaign": campaign.name, "decided": done, "proposals": left})
        return
    for line in done:
        console.print(line)
    if wanted:
        return
    rows = [
        [p.item_id, f"response {p.answer}", ", ".join(p.raters), f"{p.min_competence:.2f}", f"{p.posterior:.3f}"]
        for p in found.values()
    ]
    headers = ["item", "answer", "raters (all agree)", "lowest competence", "posterior"]
    print_table(f"Proposed as gold in {campaign.name}", headers, rows)
    if not rows:
        console.print("no item is proposed: none was judged the same way by enough raters of proven competence")
