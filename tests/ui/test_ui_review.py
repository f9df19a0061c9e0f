"""The review page in a real browser: the queue counts its reasons, one click opens an item, and an adjudication
made with the verdict and strength controls (no typing) is stored as the final label.

pytest tests/ui/test_ui_review.py -q      # needs Debian's chromium (make setup installs it)
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hitl.store.schema import adjudications
from tests.ui.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def disputed(site) -> int:
    """An item two raters answered opposite ways; its id."""
    from hitl.campaigns import create_campaign
    from hitl.catalog import add_item, add_prompt, add_response
    from hitl.config import CampaignSettings
    from hitl.queue import JudgmentInput, next_item, submit
    from hitl.users import create_user, get_user

    campaign = create_campaign(site.store, CampaignSettings(name="disputed", overlap=2, gold_rate=0.0))
    with site.store.write() as conn:
        pid = add_prompt(conn, text="Which answer is kinder?")
        rids = [add_response(conn, prompt_id=pid, text=f"Disputed answer {j}") for j in range(2)]
        item = add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    for k, name in enumerate(("dora", "dana")):
        create_user(site.store, name, "rater", PASSWORD)
        user = get_user(site.store, name)
        a = next_item(site.store, user, campaign)
        ranking = rids if k == 0 else rids[::-1]
        submit(site.store, a.lease_token, f"disputed-{name}", JudgmentInput(ranking=ranking), user=user)
    return item


def test_one_click_opens_an_item_and_the_controls_adjudicate_it(site, page, disputed):
    site.login(page, "vera", then="/review/")
    page.goto(f"{site.url}/review/")
    page.wait_for_function("() => document.querySelector('#hitl-review-counts')?.innerText.includes('items')")
    assert "disagreement" in page.inner_text("#hitl-review-counts")
    page.wait_for_function("() => document.querySelector('#hitl-review-queue').innerText.includes('disputed')")
    page.locator("#hitl-review-queue >> text=disputed >> visible=true").first.click()
    page.wait_for_function(
        "id => document.querySelector('#hitl-review-header')?.innerText.includes('Item ' + id)", arg=str(disputed)
    )
    assert "Disputed answer 1" in page.inner_text("body")
    page.get_by_label("Response 2 is better").check()
    page.get_by_label("much better").check()
    page.click("#hitl-review-save")
    page.wait_for_function("() => document.querySelector('#hitl-review-status').innerText.includes('Saved')")
    with site.store.read() as conn:
        row = conn.execute(select(adjudications).where(adjudications.c.item_id == disputed)).one()
    assert (row.strength, row.tie) == (3, False)
    assert "2 better (3)" in page.inner_text("body")  # the earlier adjudications now list it


@pytest.fixture(scope="module")
def grown(site) -> str:
    """Campaign 'grown': 30 pairs judged by four careful simulated raters (overlap 3), so items are proposed as
    gold; its name."""
    from hitl.campaigns import create_campaign
    from hitl.catalog import add_item, add_prompt, add_response
    from hitl.config import CampaignSettings
    from hitl.simulate import RaterBehaviour, load_oracle, simulate

    campaign = create_campaign(site.store, CampaignSettings(name="grown", overlap=3, gold_rate=0.0))
    with site.store.write() as conn:
        for i in range(30):
            pid = add_prompt(conn, text=f"Grown question {i}")
            rids = [add_response(conn, prompt_id=pid, text=t) for t in (f"The correct answer {i}", f"Wrong {i}")]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    crowd = [RaterBehaviour(f"grow-{i}", flip=0.02, allow_tie=False) for i in range(4)]
    simulate(site.store, campaign, crowd, load_oracle("rule:contains=correct"), 90, seed=3)
    return campaign.name


def test_a_proposed_gold_item_is_opened_and_confirmed(site, page, grown):
    from hitl.store.schema import items

    site.login(page, "vera", then="/review/")
    page.goto(f"{site.url}/review/")
    page.wait_for_function("() => document.querySelector('#hitl-review-counts')?.innerText.includes('items')")
    page.get_by_text("Proposed gold", exact=True).click()
    page.click("#hitl-review-gold-find")
    page.wait_for_function("() => document.querySelector('#hitl-review-gold').innerText.includes('grown')")
    assert "proposed as gold" in page.inner_text("#hitl-review-gold-count")
    page.locator("#hitl-review-gold >> text=grown >> visible=true").first.click()
    page.wait_for_function("() => document.querySelector('#hitl-review-header')?.innerText.includes('grown')")
    first = int(page.inner_text("#hitl-review-header").split("Item ")[1].split()[0])
    page.click("#hitl-review-gold-confirm")
    page.wait_for_function("() => document.querySelector('#hitl-review-status').innerText.includes('gold item now')")
    assert "gold answer: response 1" in page.inner_text("#hitl-review-header")
    with site.store.read() as conn:
        assert conn.execute(select(items.c.is_gold).where(items.c.id == first)).scalar()
