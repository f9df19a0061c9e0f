"""The pages' pieces without a browser: the rate page's updates by component (the empty queue, cut-off answers,
rank controls), one key map for every page.

pytest tests/ui/test_ui_pages.py -q
"""

from __future__ import annotations

import dataclasses

import gradio as gr
import pytest

from collection_ui import arena, rate
from collection_ui.shortcuts import CHOICE_KEYS, FLAG_KEYS, KEY_HELP, KEY_OF_CHOICE
from hitl.config import FLAGS
from hitl.errors import InvalidInput
from hitl.service.outlook import Outlook
from hitl.service.rating import CHOICE_LABELS, CampaignView, Progress, RateItem, RatingService

PAIRWISE = CampaignView("demo", "Be fair.", "pairwise", True, True, False, True)


def _item(n: int = 2, campaign: CampaignView = PAIRWISE) -> RateItem:
    return RateItem(
        lease_token="lease-1",
        item_id=7,
        campaign=campaign,
        prompt_text="Explain it",
        prompt_messages=None,
        responses=[f"response {i}" for i in range(n)],
        started_at=1234.5,
        expires_at=2000.0,
        resumed=False,
        prelabel=None,
    )


def test_the_rate_page_updates_every_output_by_name():
    with gr.Blocks():
        view = rate.layout()
    outlook = Outlook("demo", "The loop's round 2 waits for judgments.", [("calibration", 12)])
    empty = rate.render(view, None, None, "Be fair.", outlook=outlook)
    assert set(empty) == set(view.outputs)
    assert empty[view.lease] is None and empty[view.guidelines] == "Be fair." and empty[view.started] == 0.0
    assert empty[view.submit]["interactive"] is False and empty[view.skip]["interactive"] is False
    # Nothing left: the form is hidden, and the page says when more comes and where there is work.
    assert empty[view.form]["visible"] is False and empty[view.empty]["visible"] is True
    assert "round 2 waits" in empty[view.empty]["value"]
    assert "[calibration](/rate/?campaign=calibration) (12 left)" in empty[view.empty]["value"]

    shown = rate.render(view, _item(3), Progress(4, 9, 1.0, False), "ignored: the item's campaign has its own")
    assert set(shown) == set(view.outputs)
    assert shown[view.lease] == "lease-1" and shown[view.started] == 1234.5
    assert [shown[r] for r in view.responses[:4]] == ["response 0", "response 1", "response 2", ""]
    assert [shown[c]["visible"] for c in view.columns] == [True, True, True] + [False] * (len(view.columns) - 3)
    assert shown[view.guidelines] == "Be fair." and "**4**" in shown[view.progress]
    assert shown[view.prelabel]["visible"] is True and shown[view.ranking]["visible"] is False
    assert [shown[r]["visible"] for r in view.ranks[:3]] == [False] * 3  # rank controls only for ranking items
    assert shown[view.form]["visible"] is True and shown[view.empty]["visible"] is False


def test_answers_cut_at_the_token_limit_are_marked():
    with gr.Blocks():
        view = rate.layout()
    item = dataclasses.replace(_item(2), cut_off_at=(64, None))
    shown = rate.render(view, item, None, "")
    assert "cut off at the 64-token limit" in shown[view.heads[0]]
    assert shown[view.heads[1]] == "#### Response B"


def test_a_ranking_item_gets_a_rank_control_per_response():
    ranked = CampaignView("r", "", "ranking", False, True, False, False)
    with gr.Blocks():
        view = rate.layout()
    shown = rate.render(view, _item(3, ranked), None, "")
    assert [shown[r]["visible"] for r in view.ranks[:4]] == [True, True, True, False]
    assert shown[view.ranks[0]]["choices"] == ["1", "2", "3"]
    assert RatingService.ranking_from_ranks(["2", "3", "1"]) == "CAB"
    assert RatingService.ranking_from_ranks([None, None, None]) == ""
    for bad in (["1", "1", "2"], ["1", None, "2"]):
        with pytest.raises(InvalidInput):
            RatingService.ranking_from_ranks(bad)


def test_one_key_map_names_the_keys_on_every_page():
    assert set(KEY_OF_CHOICE) == set(CHOICE_LABELS) and set(FLAG_KEYS.values()) == set(FLAGS)
    assert {KEY_OF_CHOICE[choice]: choice for choice in CHOICE_KEYS.values()} == CHOICE_KEYS
    with gr.Blocks():
        view = rate.layout()
    radio = rate.render(view, _item(), None, "")[view.choice]["choices"]
    for key, choice in CHOICE_KEYS.items():
        label = CHOICE_LABELS[choice]
        assert (f"{label} [{key}]", choice) in radio
        assert (f"{label} [{key}]", choice) in arena.VOTE_CHOICES
        assert f"`{key}` {label}" in KEY_HELP
    ranked = CampaignView("r", "", "ranking", False, True, False, False)
    assert rate.render(view, _item(3, ranked), None, "")[view.choice]["choices"] == [
        (f"All bad [{KEY_OF_CHOICE['both_bad']}]", "both_bad")
    ]


def test_the_admin_form_has_one_field_per_campaign_setting():
    import dataclasses

    from collection_ui import admin
    from hitl.config import CampaignSettings

    with gr.Blocks():
        form = admin._campaign_form()
    assert list(form) == [f.name for f in dataclasses.fields(CampaignSettings)]
    defaults = {k: v for k, v in admin.NEW_CAMPAIGN.items() if k != "name"}
    assert {k: form[k].value for k in defaults} == defaults  # a new campaign's defaults until one is picked
