"""Changing a campaign's settings: the overlap re-decides which items are done, the item kind is fixed once items
exist, and the admin page's form changes only what the admin changed.

    HITL_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test pytest tests/api/test_campaign_settings.py -q
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select, update

from hitl.campaigns import changed_settings, get_campaign, update_campaign
from hitl.config import CampaignSettings
from hitl.errors import Conflict, Forbidden
from hitl.queue import JudgmentInput, next_item, submit
from hitl.store.schema import items
from tests.factories import add_items


def _judge_everything(store, campaign, rater) -> int:
    """`rater` judges every item the queue hands them (the first shown response wins); returns how many."""
    n = 0
    while (a := next_item(store, rater, campaign)) is not None:
        ranking = [r.response_id for r in a.responses]
        submit(store, a.lease_token, uuid.uuid4().hex, JudgmentInput(ranking=ranking), user=rater)
        n += 1
    return n


def _statuses(store, campaign) -> dict[int, str]:
    with store.read() as conn:
        return dict(conn.execute(select(items.c.id, items.c.status).where(items.c.campaign_id == campaign.id)).all())


def test_raising_the_overlap_reopens_done_items_and_lowering_closes_them(store, make_user, make_campaign):
    campaign = make_campaign(overlap=1, gold_rate=0.0)
    regular = add_items(store, campaign, 3)
    gold = add_items(store, campaign, 0, gold=1)
    retired = add_items(store, campaign, 1)
    with store.write() as conn:
        conn.execute(update(items).where(items.c.id.in_(retired)).values(status="retired"))
    first, second = make_user(), make_user()
    assert _judge_everything(store, campaign, first) == 3  # gold_rate 0: the gold item is never drawn
    assert [_statuses(store, campaign)[i] for i in regular] == ["done"] * 3

    raised = update_campaign(store, campaign.name, overlap=2)
    after = _statuses(store, campaign)
    assert [after[i] for i in regular] == ["open"] * 3  # one judgment each, two wanted now
    assert after[gold[0]] == "open" and after[retired[0]] == "retired"
    assert _judge_everything(store, raised, second) == 3  # the reopened items reach the queue again
    assert [_statuses(store, campaign)[i] for i in regular] == ["done"] * 3

    update_campaign(store, campaign.name, overlap=3)
    assert [_statuses(store, campaign)[i] for i in regular] == ["open"] * 3
    update_campaign(store, campaign.name, overlap=2)  # lowering back: two judgments each are enough again
    after = _statuses(store, campaign)
    assert [after[i] for i in regular] == ["done"] * 3
    assert after[gold[0]] == "open" and after[retired[0]] == "retired"  # gold stays open, retired stays retired


def test_lowering_the_overlap_closes_only_items_that_have_enough(store, make_user, make_campaign):
    campaign = make_campaign(overlap=3, gold_rate=0.0)
    judged, untouched = add_items(store, campaign, 2)
    with store.write() as conn:
        conn.execute(update(items).where(items.c.id == judged).values(judgment_count=2))
    update_campaign(store, campaign.name, overlap=2)
    assert _statuses(store, campaign) == {judged: "done", untouched: "open"}
    update_campaign(store, campaign.name, guidelines="Read twice.")  # no overlap change: statuses stay
    assert _statuses(store, campaign) == {judged: "done", untouched: "open"}


def test_the_item_kind_is_fixed_once_a_campaign_has_items(store, make_campaign):
    empty = make_campaign(item_kind="ranking")
    assert update_campaign(store, empty.name, item_kind="pairwise").settings.item_kind == "pairwise"
    ranked = make_campaign(item_kind="ranking", overlap=2)
    add_items(store, ranked, 1, k=3)
    with pytest.raises(Conflict, match="item_kind"):
        update_campaign(store, ranked.name, item_kind="pairwise", overlap=1)
    kept = get_campaign(store, ranked.name).settings
    assert kept.item_kind == "ranking" and kept.overlap == 2  # nothing of the refused change was stored


def test_the_rest_api_refuses_an_item_kind_change_with_409(client, world):
    admin = world.headers("admin")
    refused = client.post("/api/v1/campaigns", json={"name": "demo", "item_kind": "ranking"}, headers=admin)
    assert refused.status_code == 409 and "item_kind" in refused.json()["error"]
    assert get_campaign(world.store, "demo").settings.item_kind == "pairwise"


def test_the_form_sends_only_what_differs_from_the_stored_campaign():
    stored = CampaignSettings(name="ranked", item_kind="ranking", overlap=3, guidelines="Rank by helpfulness.")
    form = {
        "name": "ranked",
        "item_kind": "ranking",
        "overlap": 5,
        "gold_rate": 0.1,
        "lease_ttl_seconds": 600,  # a Number field gives an int; stored is 600.0: the same
        "allow_tie": True,
        "allow_both_bad": True,
        "require_rationale": False,
        "show_prelabel": False,
        "guidelines": "Rank by helpfulness.",
    }
    assert changed_settings(stored, form) == {"overlap": 5}
    assert changed_settings(stored, {**form, "overlap": 3}) == {}


def test_saving_a_changed_overlap_from_the_form_keeps_a_ranking_campaign_whole(world):
    """What the admin page's save does: the form's values, of which only the overlap was edited."""
    admin = world.service.admin
    admin.save_campaign(world.admin, {"name": "ranked", "item_kind": "ranking", "guidelines": "Rank them all."})
    add_items(world.store, get_campaign(world.store, "ranked"), 1, k=3)
    form = dataclasses.asdict(admin.campaign(world.admin, "ranked"))  # what fills the form
    assert form["item_kind"] == "ranking" and form["guidelines"] == "Rank them all."
    saved, changed = admin.save_campaign_form(world.admin, {**form, "overlap": 4}, new=False)
    assert changed == ["overlap"]
    assert (saved.item_kind, saved.guidelines, saved.overlap) == ("ranking", "Rank them all.", 4)
    assert (
        admin.save_campaign_form(world.admin, {**form, "overlap": 4}, new=False)[1] == []
    )  # saved twice: nothing new
    with pytest.raises(Conflict, match="already exists"):
        admin.save_campaign_form(world.admin, {**form, "overlap": 4}, new=True)  # a new campaign needs a new name
    with pytest.raises(Forbidden):
        admin.campaign(world.reviewer, "ranked")
