"""Aspect scores on the rate page in a real browser: a campaign with aspects shows a 0-4 picker per aspect under
each response (none elsewhere), the preference still goes by key, and the store holds both; screenshots at 1400
and 390 px.

pytest tests/ui/test_ui_aspects.py -q      # needs Debian's chromium (make setup installs it)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from hitl.store.schema import judgments, users

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("HITL_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-results" / "screens")


@pytest.fixture(scope="module")
def scored(site) -> str:
    from hitl.campaigns import create_campaign
    from hitl.catalog import add_item, add_prompt, add_response
    from hitl.config import CampaignSettings

    c = create_campaign(
        site.store, CampaignSettings(name="scored", overlap=1, gold_rate=0.0, aspects="helpfulness,verbosity")
    )
    with site.store.write() as conn:
        for i in range(3):
            pid = add_prompt(conn, text=f"Scored question {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"Scored answer {k} to {i}") for k in range(2)]
            add_item(conn, campaign_id=c.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")
    return c.name


def test_aspects_are_scored_beside_a_keyboard_preference(site, browser, scored):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(45_000)
        try:
            site.login(page, "rita", then=f"/rate/?campaign={scored}")
            page.goto(f"{site.url}/rate/?campaign={scored}")
            page.wait_for_function("() => document.body.innerText.includes('helpfulness of A (0-4)')")
            assert "verbosity of B (0-4)" in page.inner_text("body")
            page.wait_for_timeout(500)
            page.screenshot(path=str(SHOTS / f"rate-aspects-{width}.png"), full_page=True)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 2, f"rate page with aspects at {width} px is {overflow} px too wide"
            shown = page.inner_text("#hitl-response-a")
            page.locator("#hitl-aspect-a-0").get_by_label("3", exact=True).check()
            page.locator("#hitl-aspect-b-1").get_by_label("1", exact=True).check()
            page.locator("#hitl-prompt").click()  # focus back on the page: keys answer, as without aspects
            page.keyboard.press("2")  # A better
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.querySelector('#hitl-status').innerText.includes('Saved')")
            with site.store.read() as conn:
                uid = conn.execute(select(users.c.id).where(users.c.name == "rita")).scalar_one()
                row = conn.execute(
                    select(judgments).where(judgments.c.user_id == uid).order_by(judgments.c.id.desc())
                ).first()
            a, b = (str(r) for r in row.display_order)
            assert row.aspects == {a: {"helpfulness": 3}, b: {"verbosity": 1}}
            assert row.ranking[0] == row.display_order[0] and row.strength == 2
            assert shown  # the pickers sit under the response they score
            # The next item starts with blank pickers.
            page.wait_for_function("() => !document.querySelector('#hitl-aspect-a-0 input:checked')")
        finally:
            context.close()
