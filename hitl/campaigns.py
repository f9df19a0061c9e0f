"""Rating campaigns: guidelines, item kind, overlap, gold rate, lease TTL, what answers are allowed.

hitl campaign create helpfulness --overlap 3 --gold-rate 0.1 --guidelines-file guide.md

A campaign also carries its workforce rules (hitl.workforce.rules, set with `hitl workforce rules`) and the version
number of its guidelines: every change of the guidelines text is a new version, kept in guideline_versions, and
each judgment records the version it was made under.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update

from hitl.config import CampaignSettings
from hitl.errors import Conflict, NotFound
from hitl.store import Store
from hitl.store.schema import auto_labels, campaigns, guideline_versions, items
from hitl.workforce.rules import WorkforceRules, rules_from_json


@dataclass(frozen=True)
class Campaign:
    id: int
    settings: CampaignSettings
    rules: WorkforceRules = field(default_factory=WorkforceRules)
    guidelines_version: int = 1

    @property
    def name(self) -> str:
        return self.settings.name


_SETTING_NAMES = [f.name for f in dataclasses.fields(CampaignSettings)]


def _row_to_campaign(row) -> Campaign:
    return Campaign(
        id=row.id,
        settings=CampaignSettings(**{k: getattr(row, k) for k in _SETTING_NAMES}),
        rules=rules_from_json(row.workforce),
        guidelines_version=row.guidelines_version,
    )


def create_campaign(store: Store, settings: CampaignSettings) -> Campaign:
    settings.validate()
    with store.write() as conn:
        if conn.execute(select(campaigns.c.id).where(campaigns.c.name == settings.name)).first():
            raise Conflict(f"campaign {settings.name!r} already exists (see `hitl campaign list`)")
        now = time.time()
        cid = conn.execute(
            insert(campaigns).values(**dataclasses.asdict(settings), created_at=now, guidelines_version=1)
        ).inserted_primary_key[0]
        conn.execute(
            insert(guideline_versions).values(
                campaign_id=cid, version=1, guidelines=settings.guidelines, requalify=False, created_at=now
            )
        )
    return Campaign(id=cid, settings=settings)


def get_campaign(store: Store, name_or_id: str | int) -> Campaign:
    column = campaigns.c.id if isinstance(name_or_id, int) else campaigns.c.name
    with store.read() as conn:
        row = conn.execute(select(campaigns).where(column == name_or_id)).first()
    if row is None:
        raise NotFound(
            f"no campaign {name_or_id!r} (see `hitl campaign list`, or create it with `hitl campaign create`)"
        )
    return _row_to_campaign(row)


def list_campaigns(store: Store) -> list[Campaign]:
    with store.read() as conn:
        return [_row_to_campaign(r) for r in conn.execute(select(campaigns).order_by(campaigns.c.id))]


def campaign_names(store: Store) -> list[str]:
    """Every campaign's name, oldest first (what the pages' campaign pickers list)."""
    with store.read() as conn:
        return list(conn.execute(select(campaigns.c.name).order_by(campaigns.c.id)).scalars())


def changed_settings(current: CampaignSettings, values: dict) -> dict:
    """The settings in `values` that differ from `current` (a form sends every field; only edits are changes)."""
    return {k: v for k, v in values.items() if k != "name" and v is not None and v != getattr(current, k)}


def update_campaign(store: Store, name: str, **changes) -> Campaign:
    """Change settings of the campaign called `name`; its item kind is fixed once it has items (Conflict).

    A new overlap re-decides, in the same transaction, which items are done: "done" is written at submit time
    under the overlap then in force, so raising it reopens done items that now lack judgments and lowering it
    closes open items that have enough. Gold items stay open (they are never done) and retired items stay retired.
    """
    with store.write() as conn:
        # Read under the write lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE holds it already), so two
        # admins saving at once apply one change after the other instead of one overwriting the other.
        row = conn.execute(select(campaigns).where(campaigns.c.name == name).with_for_update()).first()
        if row is None:
            raise NotFound(
                f"no campaign {name!r} (see `hitl campaign list`, or create it with `hitl campaign create`)"
            )
        current = _row_to_campaign(row)
        new = dataclasses.replace(current.settings, **changes)
        new.validate()
        if new.item_kind != current.settings.item_kind:
            n_items = conn.execute(select(func.count()).where(items.c.campaign_id == current.id)).scalar_one()
            if n_items:
                raise Conflict(
                    f"item_kind of campaign {name!r} cannot change from {current.settings.item_kind} to "
                    f"{new.item_kind}: it has {n_items} items of that kind; create a new campaign instead"
                )
        version = current.guidelines_version
        if new.guidelines != current.settings.guidelines:
            # New guidelines are a new version: judgments from now on record it, and the rules may ask every rater
            # to qualify again under it (hitl.workforce.standing).
            version += 1
            conn.execute(
                insert(guideline_versions).values(
                    campaign_id=current.id,
                    version=version,
                    guidelines=new.guidelines,
                    requalify=current.rules.requalify_on_new_guidelines,
                    created_at=time.time(),
                )
            )
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == current.id)
            .values(**dataclasses.asdict(new), guidelines_version=version)
        )
        if new.overlap != current.settings.overlap:
            _redecide_done(conn, current.id, new.overlap)
    return dataclasses.replace(current, settings=new, guidelines_version=version)


def _redecide_done(conn, campaign_id: int, overlap: int) -> None:
    regular = (items.c.campaign_id == campaign_id, items.c.is_gold.is_(False))
    # An item the reward model labelled (and not sent to humans as an audit) is done whatever the overlap.
    automated = select(auto_labels.c.item_id).where(
        auto_labels.c.campaign_id == campaign_id, auto_labels.c.audit.is_(False)
    )
    conn.execute(
        update(items)
        .where(*regular, items.c.status == "done", items.c.judgment_count < overlap, items.c.id.not_in(automated))
        .values(status="open")
    )
    conn.execute(
        update(items)
        .where(*regular, items.c.status == "open", items.c.judgment_count >= overlap)
        .values(status="done")
    )


def item_counts(store: Store, campaign: Campaign) -> dict[str, int]:
    """Items by status (open / done / retired) plus the number of gold items."""
    with store.read() as conn:
        rows = conn.execute(
            select(items.c.status, items.c.is_gold, func.count())
            .where(items.c.campaign_id == campaign.id)
            .group_by(items.c.status, items.c.is_gold)
        ).all()
    counts = {"open": 0, "done": 0, "retired": 0, "gold": 0}
    for status, is_gold, n in rows:
        if is_gold:
            counts["gold"] += n
        else:
            counts[status] = counts.get(status, 0) + n
    return counts
