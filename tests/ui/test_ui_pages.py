"""The pages' pieces without a browser: the rate page's updates by component, one key map for every page.

pytest tests/ui/test_ui_pages.py -q
"""

from __future__ import annotations

import gradio as gr

from collection_ui import arena, rate
from collection_ui.shortcuts import CHOICE_KEYS, FLAG_KEYS, KEY_HELP, KEY_OF_CHOICE
from hitl.config import FLAGS
from hitl.service.rating import CHOICE_LABELS, CampaignView, Progress, RateItem

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
    empty = rate.render(view, None, None, "Be fair.")
    assert set(empty) == set(view.outputs)
    assert empty[view.lease] is None and empty[view.guidelines] == "Be fair." and empty[view.started] == 0.0
    assert empty[view.submit]["interactive"] is False and "Nothing left" in empty[view.progress]

    shown = rate.render(view, _item(3), Progress(4, 9, 1.0, False), "ignored: the item's campaign has its own")
    assert set(shown) == set(view.outputs)
    assert shown[view.lease] == "lease-1" and shown[view.started] == 1234.5
    assert [shown[r] for r in view.responses[:4]] == ["response 0", "response 1", "response 2", ""]
    assert [shown[c]["visible"] for c in view.columns] == [True, True, True] + [False] * (len(view.columns) - 3)
    assert shown[view.guidelines] == "Be fair." and "**4**" in shown[view.progress]
    assert shown[view.prelabel]["visible"] is True and shown[view.ranking]["visible"] is False


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
