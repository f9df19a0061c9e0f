"""The web app in a real browser: keyboard rating with a refresh, role walls, inert model output, every page.

pytest tests/ui -q      # needs Debian's chromium (make setup installs it)
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hitl.store.schema import judgments, responses, users
from tests.ui.conftest import PAGES_FOR_SHOTS

# The rendered markdown only (not Gradio's progress overlay inside the same block).
pytestmark = pytest.mark.browser

RESPONSE_A = "#hitl-response-a .prose"
RESPONSE_B = "#hitl-response-b .prose"


def _text(page, selector: str) -> str:
    return page.inner_text(selector).strip()


def _wait_for_item(page, previous: str | None = None) -> str:
    """The text of response A once an item (a different one than `previous`) is on screen."""
    page.wait_for_function(
        "([sel, prev]) => { const el = document.querySelector(sel);"
        " return el && el.innerText.trim().length > 0 && el.innerText.trim() !== prev; }",
        arg=[RESPONSE_A, previous or ""],
    )
    return _text(page, RESPONSE_A)


def _last_judgment_id(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.max(judgments.c.id))).scalar() or 0


def _judgments_of(store, name: str, after: int = 0) -> list[tuple[str, int]]:
    """(winning response text, strength) of each judgment by `name` with an id above `after`, in order (the site is
    shared by the session's browser tests: other tests' judgments by the same rater are not this one's)."""
    with store.read() as conn:
        rows = conn.execute(
            select(judgments.c.ranking, judgments.c.strength)
            .join(users, users.c.id == judgments.c.user_id)
            .where(users.c.name == name, judgments.c.id > after)
            .order_by(judgments.c.id)
        ).all()
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
    return [(texts[r.ranking[0]], r.strength) for r in rows]


def test_rater_judges_three_items_with_the_keyboard_and_a_refresh(site, page, tmp_path):
    before = _last_judgment_id(site.store)
    site.login(page, "rita", then="/rate/")
    assert page.url.endswith("/rate/")
    first_a = _wait_for_item(page)
    page.screenshot(path=str(tmp_path / "rate.png"), full_page=True)
    assert "Keys:" in page.inner_text("body")

    page.keyboard.press("2")  # A better
    page.keyboard.press("Enter")
    second_a = _wait_for_item(page, first_a)
    second_b = _text(page, RESPONSE_B)

    page.keyboard.press("4")  # B better, submitted with a double click: one judgment
    page.dblclick("#hitl-submit")
    third_a = _wait_for_item(page, second_a)
    third_b = _text(page, RESPONSE_B)

    page.keyboard.press("5")  # chosen, then the page is refreshed mid-item: the lease (and order) is kept
    page.reload()
    assert _wait_for_item(page) == third_a and _text(page, RESPONSE_B) == third_b
    page.keyboard.press("5")  # B much better
    page.keyboard.press("Enter")
    _wait_for_item(page, third_a)

    assert _judgments_of(site.store, "rita", after=before) == [(first_a, 2), (second_b, 2), (third_b, 3)]
    page.screenshot(path=str(tmp_path / "rate-after.png"), full_page=True)


def test_a_rater_cannot_open_admin_or_review_pages_nor_call_them(site, page, tmp_path):
    site.login(page, "rita", then="/rate/")
    for name in ("admin", "review", "dashboard"):
        response = page.goto(f"{site.url}/{name}/")
        assert response.status == 403 and "Not allowed" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "forbidden.png"))
    calls = page.evaluate(
        """async () => {
            const status = async (url, init) => (await fetch(url, init)).status;
            return [
                await status('/admin/config'),
                await status('/review/gradio_api/queue/join', {method: 'POST', body: '{}',
                                                               headers: {'Content-Type': 'application/json'}}),
                await status('/admin/gradio_api/upload', {method: 'POST', body: 'x'}),
                await status('/api/v1/users'),
                await status('/api/v1/export'),
                await status('/api/v1/users', {method: 'POST', body: '{"name": "eve", "password": "12345678"}',
                                               headers: {'Content-Type': 'application/json'}}),
            ];
        }"""
    )
    assert calls == [401, 401, 401, 403, 403, 401]


def test_anonymous_visitors_are_sent_to_the_login(site, page):
    for name in ("rate", "admin"):
        page.goto(f"{site.url}/{name}/")
        assert "/login" in page.url
    assert page.evaluate("async () => (await fetch('/rate/config')).status") == 401
    assert page.evaluate("async () => (await fetch('/api/v1/me')).status") == 401


def test_wrong_password_then_login_and_logout(site, page):
    site.login(page, "vera", password="not-the-password")
    assert "wrong user name or password" in page.inner_text("body")
    site.login(page, "vera")
    assert page.url.endswith("/review/")
    page.goto(f"{site.url}/logout")  # a GET only asks: logging out is the form's POST (with its CSRF token)
    page.goto(f"{site.url}/review/")
    assert page.url.endswith("/review/")
    page.goto(f"{site.url}/logout")
    page.click("#logout")
    page.wait_for_load_state("load")
    assert "/login" in page.url
    page.goto(f"{site.url}/review/")
    assert "/login" in page.url


def test_model_output_renders_as_inert_text(site, page, tmp_path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    site.login(page, "rita", then="/rate/?campaign=xss")
    page.goto(f"{site.url}/rate/?campaign=xss")
    previous = None
    for k in range(3):
        previous = _wait_for_item(page, previous)
        page.wait_for_timeout(500)  # give any injected handler (onerror, onload) time to fire
        page.screenshot(path=str(tmp_path / f"xss-{k}.png"), full_page=True)
        found = page.evaluate(
            """() => {
                const area = [...document.querySelectorAll('#hitl-prompt, .hitl-response')];
                const all = area.flatMap(el => [...el.querySelectorAll('*')]);
                return {
                    pwned: window.__pwned || null,
                    scripts: all.filter(e => e.tagName === 'SCRIPT').length,
                    frames: all.filter(e => ['IFRAME', 'OBJECT', 'EMBED'].includes(e.tagName)).length,
                    handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                    jsLinks: all.filter(e => (e.getAttribute('href') || e.getAttribute('src') || '')
                                              .trim().toLowerCase().startsWith('javascript')).length,
                    text: area.map(el => el.innerText).join(' '),
                };
            }"""
        )
        assert found["pwned"] is None and dialogs == []
        assert found["scripts"] == found["frames"] == found["handlers"] == found["jsLinks"] == 0
        assert "payload" in found["text"] or "Plain words" in found["text"] or "link" in found["text"]
        for link in page.query_selector_all(".hitl-response a"):
            link.click(modifiers=["Alt"])  # a click on whatever links remain runs nothing
        assert page.evaluate("() => window.__pwned || null") is None
        page.keyboard.press("3")
        page.keyboard.press("Enter")


def test_every_page_draws_for_an_admin(site, page, tmp_path):
    site.login(page, "ada")
    for name, expected in PAGES_FOR_SHOTS:
        page.goto(f"{site.url}/{name}/")
        for text in ("logged in as", expected):  # the menu is drawn by the page's load event, with the data
            page.wait_for_function("t => document.body.innerText.includes(t)", arg=text)
        if name == "arena":
            page.click("#hitl-skip")  # new battle
            page.wait_for_function("() => document.querySelector('#hitl-arena-a').innerText.includes('Arena answer')")
            page.keyboard.press("1")
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.body.innerText.includes('Vote counted')")
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_admin_edits_a_ranking_campaign_from_its_stored_settings(site, page, tmp_path):
    """The form is filled from the stored campaign, and saving an overlap change changes nothing else."""
    from hitl.campaigns import get_campaign
    from tests.ui.conftest import RANKED_GUIDE

    site.login(page, "ada", then="/admin/")
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="API tokens")
    page.get_by_role("tab", name="Campaigns").click()
    page.click("#hitl-campaign-pick input")
    page.get_by_role("option", name="ranked", exact=True).click()
    page.wait_for_function(
        "t => document.querySelector('#hitl-campaign-guidelines textarea').value === t", arg=RANKED_GUIDE
    )
    assert page.input_value("#hitl-campaign-kind input") == "ranking"
    assert page.input_value("#hitl-campaign-name input") == "ranked"
    page.fill("#hitl-campaign-overlap input", "4")
    page.click("#hitl-campaign-save")
    page.wait_for_function("() => document.querySelector('#hitl-campaign-status').innerText.includes('Saved')")
    assert "overlap changed" in _text(page, "#hitl-campaign-status")
    page.screenshot(path=str(tmp_path / "admin-campaign.png"), full_page=True)
    stored = get_campaign(site.store, "ranked").settings
    assert (stored.item_kind, stored.guidelines, stored.overlap) == ("ranking", RANKED_GUIDE, 4)


def test_a_reviewer_opens_review_and_dashboard_with_their_campaigns(site, page):
    site.login(page, "vera")
    page.goto(f"{site.url}/dashboard/")
    for text in ("logged in as", "Krippendorff"):  # the headline of the first campaign: the list reached the page
        page.wait_for_function("t => document.body.innerText.includes(t)", arg=text)
    page.goto(f"{site.url}/review/")
    page.wait_for_function("t => document.body.innerText.includes(t)", arg="logged in as")
    page.click("#hitl-review-campaign input")
    assert page.get_by_role("option", name="ranked", exact=True).count() == 1
