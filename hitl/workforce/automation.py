"""Hybrid labelling: the reward model labels the pairs it is sure of, humans the rest, and a share of the automatic
labels still goes to humans as an audit whose agreement is reported.

    hitl score --campaign demo --model REWARD && hitl route apply --campaign demo && hitl route status --campaign demo

The confidence is calibrated first (hitl.workforce.calibration) on the campaign's items that have both the
model's scores (item_prelabels, from `hitl score`) and a human label (an adjudication, a gold answer, or a strict
majority of two or more judgments). An open item nobody has judged yet whose calibrated confidence reaches the
campaign's auto_label_threshold gets the model's label as a judgment of the system user `auto-reward` (source
"auto", through the one judgment write) and is done; unless the audit draws it, in which case the label is only
kept (auto_labels) and the item stays in the queue for humans at the campaign's overlap.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from hitl.errors import InvalidInput
from hitl.quality.stats import RateStat, rate_stat
from hitl.queue.record import judgment_row, record_judgment
from hitl.queue.types import JudgmentInput, JudgmentRules
from hitl.store import Store
from hitl.store.schema import adjudications, auto_labels, item_prelabels, items, judgments
from hitl.users import ensure_system_user
from hitl.workforce.calibration import MIN_PAIRS, Calibration, fit
from hitl.workforce.manage import AUTO_USER

BATCH = 200  # items per write transaction: a long SQLite write would block every rater


@dataclass(frozen=True)
class AutoReport:
    calibration: Calibration
    considered: int  # open, unjudged, scored items
    labelled: int  # given the model's label and done
    audited: int  # given the model's label and sent to humans as well


@dataclass(frozen=True)
class AuditReport:
    auto_labelled: int
    audited: int
    agreement: RateStat  # audited items whose human majority agrees with the model (n: audits judged so far)


def _audit_draw(item_id: int, seed: int) -> float:
    """A fixed pseudo-random number in [0, 1) per item and seed: the same items are audited on every run."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def human_labels(conn, campaign_id: int) -> dict[int, int]:
    """item -> response id humans prefer: the latest adjudication, else the gold answer, else a strict majority of
    two or more decisive human judgments (auto-labels never count)."""
    out: dict[int, int] = {}
    votes: dict[int, Counter] = defaultdict(Counter)
    rows = conn.execute(
        select(judgments.c.item_id, judgments.c.ranking, judgments.c.tie)
        .join(items, items.c.id == judgments.c.item_id)
        .where(items.c.campaign_id == campaign_id, judgments.c.source != "auto")
    )
    for item_id, ranking, tie in rows:
        if not tie:
            votes[item_id][ranking[0]] += 1
    for item_id, counts in votes.items():
        top = counts.most_common(2)
        if sum(counts.values()) >= 2 and (len(top) == 1 or top[0][1] > top[1][1]):
            out[item_id] = top[0][0]
    gold = conn.execute(
        select(items.c.id, items.c.response_ids, items.c.gold_answer).where(
            items.c.campaign_id == campaign_id, items.c.is_gold.is_(True)
        )
    )
    out.update({i: ids[g] for i, ids, g in gold if g is not None})
    adj = conn.execute(
        select(adjudications.c.item_id, adjudications.c.ranking, adjudications.c.tie)
        .join(items, items.c.id == adjudications.c.item_id)
        .where(items.c.campaign_id == campaign_id)
        .order_by(adjudications.c.created_at, adjudications.c.id)
    )
    out.update({i: ranking[0] for i, ranking, tie in adj if not tie})
    return out


def _scored(conn, campaign_id: int) -> list:
    return conn.execute(
        select(
            items.c.id,
            items.c.response_ids,
            items.c.status,
            items.c.is_gold,
            items.c.judgment_count,
            item_prelabels.c.rewards,
            item_prelabels.c.confidence,
            item_prelabels.c.model_version_id,
        )
        .join(item_prelabels, item_prelabels.c.item_id == items.c.id)
        .where(items.c.campaign_id == campaign_id)
        .order_by(items.c.id)
    ).all()


def calibrate(store: Store, campaign) -> Calibration:
    """Fit the campaign's calibration (InvalidInput when too few items have both scores and a human label)."""
    return calibrate_campaign(store, campaign.id, campaign.name)


def calibrate_campaign(store: Store, campaign_id: int, name: str) -> Calibration:
    with store.read() as conn:
        labels = human_labels(conn, campaign_id)
        scored = _scored(conn, campaign_id)
    pairs = [
        (r.rewards[0] - r.rewards[1], labels[r.id] == r.response_ids[0])
        for r in scored
        if r.id in labels and len(r.rewards) == 2
    ]
    if len(pairs) < MIN_PAIRS:
        raise InvalidInput(
            f"calibrating the reward model needs {MIN_PAIRS} items of campaign {name!r} with both its "
            f"scores (hitl score) and a human label; there are {len(pairs)}: let raters judge scored items first"
        )
    return fit([g for g, _ in pairs], [y for _, y in pairs])


def apply_auto_labels(store: Store, campaign, seed: int = 0) -> AutoReport:
    """Auto-label the open items the calibrated model is sure of, per the campaign's rules; nothing is written
    when the rules or the calibration refuse."""
    rules = campaign.rules
    if not rules.auto_label_threshold:
        raise InvalidInput(
            f"campaign {campaign.name!r} does not auto-label: set a threshold first "
            f"(hitl workforce rules {campaign.name} --auto-label-threshold 0.9)"
        )
    if campaign.settings.item_kind != "pairwise":
        raise InvalidInput("auto-labels are for pairwise campaigns")
    cal = calibrate(store, campaign)
    with store.read() as conn:
        done = set(
            conn.execute(select(auto_labels.c.item_id).where(auto_labels.c.campaign_id == campaign.id)).scalars()
        )
        scored = _scored(conn, campaign.id)
    fresh = [r for r in scored if r.status == "open" and not r.is_gold and r.judgment_count == 0 and r.id not in done]
    chosen = [(r, cal.confidence(r.rewards[0] - r.rewards[1])) for r in fresh]
    chosen = [(r, c) for r, c in chosen if c >= rules.auto_label_threshold]
    user = ensure_system_user(store, AUTO_USER)
    labelled = audited = 0
    judge_rules = JudgmentRules.of(campaign.settings)
    for start in range(0, len(chosen), BATCH):
        with store.write() as conn:
            for r, confidence in chosen[start : start + BATCH]:
                gap = r.rewards[0] - r.rewards[1]
                preferred = r.response_ids[0] if gap >= 0 else r.response_ids[1]
                audit = _audit_draw(r.id, seed) < rules.audit_share
                judgment_id = None
                if not audit:
                    other = r.response_ids[1] if preferred == r.response_ids[0] else r.response_ids[0]
                    row = judgment_row(
                        JudgmentInput(ranking=[preferred, other], strength=2 if confidence < 0.95 else 3),
                        judge_rules,
                        response_ids=list(r.response_ids),
                        item_id=r.id,
                        user_id=user.id,
                        lease_id=None,
                        display_order=list(r.response_ids),
                        overlap=campaign.settings.overlap,
                        key=f"auto:{r.id}",
                        source="auto",
                        now=time.time(),
                    )
                    judgment_id = record_judgment(conn.connection.driver_connection, store.dialect, row)
                    conn.execute(update(items).where(items.c.id == r.id).values(status="done"))
                conn.execute(
                    insert(auto_labels).values(
                        item_id=r.id,
                        campaign_id=campaign.id,
                        preferred_response_id=preferred,
                        confidence=float(r.confidence),
                        calibrated=confidence,
                        audit=audit,
                        judgment_id=judgment_id,
                        model_version_id=r.model_version_id,
                        created_at=time.time(),
                    )
                )
                labelled += not audit
                audited += audit
    return AutoReport(cal, len(fresh), labelled, audited)


def audit_report(store: Store, campaign) -> AuditReport:
    """How many items the model labelled, how many went to humans as an audit, and how often the humans agreed."""
    with store.read() as conn:
        rows = conn.execute(
            select(auto_labels.c.item_id, auto_labels.c.preferred_response_id, auto_labels.c.audit).where(
                auto_labels.c.campaign_id == campaign.id
            )
        ).all()
        labels = human_labels(conn, campaign.id) if any(r.audit for r in rows) else {}
        single = {}
        for item_id, ranking, tie in conn.execute(
            select(judgments.c.item_id, judgments.c.ranking, judgments.c.tie).where(
                judgments.c.item_id.in_([r.item_id for r in rows if r.audit]), judgments.c.source != "auto"
            )
        ):
            if not tie:
                single.setdefault(item_id, ranking[0])
    judged = [r for r in rows if r.audit and (r.item_id in labels or r.item_id in single)]
    agreed = sum(labels.get(r.item_id, single.get(r.item_id)) == r.preferred_response_id for r in judged)
    return AuditReport(sum(not r.audit for r in rows), sum(r.audit for r in rows), rate_stat(agreed, len(judged)))


def oracle_pairs(store: Store, campaign, oracle) -> list[tuple[float, bool]]:
    """(reward gap r0 - r1, whether the oracle prefers response 0) for every scored pairwise item of the campaign
    the oracle separates (its ties are left out): what `hitl route curve` simulates routing on."""
    from hitl.catalog import prompt_display_text
    from hitl.store.schema import prompts, responses

    with store.read() as conn:
        scored = _scored(conn, campaign.id)
        ids = [r.id for r in scored]
        texts = (
            dict(
                conn.execute(
                    select(responses.c.id, responses.c.text)
                    .join(items, items.c.prompt_id == responses.c.prompt_id)
                    .where(items.c.id.in_(ids))
                ).all()
            )
            if ids
            else {}
        )
        shown = (
            dict(
                (row.id, prompt_display_text(row.text, row.messages))
                for row in conn.execute(
                    select(items.c.id, prompts.c.text, prompts.c.messages)
                    .join(prompts, prompts.c.id == items.c.prompt_id)
                    .where(items.c.id.in_(ids))
                )
            )
            if ids
            else {}
        )
    out = []
    for r in scored:
        if len(r.response_ids) != 2 or len(r.rewards) != 2:
            continue
        a, b = (float(s) for s in oracle(shown[r.id], [texts[i] for i in r.response_ids]))
        if a != b:
            out.append((r.rewards[0] - r.rewards[1], a > b))
    return out
