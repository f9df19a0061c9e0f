"""Rating 20 items by keyboard alone in a real browser, and the store holds exactly what was typed.

pytest tests/ui/test_ui_rating_keys.py -q      # needs Debian's chromium (make setup installs it)

Every key a rater uses is in the script: answers 1-5/0, flags u/f/o/n, `r` into the rationale, Ctrl+Enter from
it, Esc out of it, `s` to skip, a page refresh mid-item, bursts typed faster than the server answers, and a
double Enter. The expected judgments are written down as the keys are pressed and compared with the store one
for one, and the page must say what each action did.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hitl.store.schema import judgments, leases, users

pytestmark = pytest.mark.browser

# What the store's answer of each choice key is (winner in display order, strength, tie, both bad).
ANSWER_OF_KEY = {
    "1": ("A", 3, False, False),
    "2": ("A", 2, False, False),
    "3": (None, 0, True, False),
    "4": ("B", 2, False, False),
    "5": ("B", 3, False, False),
    "0": (None, 0, True, True),
}
FLAG_OF_KEY = {"u": "unsafe", "f": "factually_wrong", "o": "off_topic", "n": "unsure"}


def _ack(page) -> str:
    return page.input_value("#hitl-ack input")


def _wait_for_answer(page, before: str) -> str:
    """Wait until the server has answered the last action (a fresh ack); the new ack."""
    page.wait_for_function("prev => document.querySelector('#hitl-ack input').value !== prev", arg=before)
    return _ack(page)


def _status(page) -> str:
    return page.inner_text("#hitl-status").strip()


def _stored(store, name: str) -> tuple[list[tuple], int]:
    """(answer, flags, rationale) of each judgment of `name` in order, and how many items they skipped."""
    with store.read() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.name == name)).scalar_one()
        rows = conn.execute(select(judgments).where(judgments.c.user_id == uid).order_by(judgments.c.id)).all()
        skipped = conn.execute(select(leases.c.id).where(leases.c.user_id == uid, leases.c.state == "skipped")).all()
    out = []
    for j in rows:
        winner = None if j.tie else "AB"[list(j.display_order).index(j.ranking[0])]
        out.append(((winner, j.strength, bool(j.tie), bool(j.both_bad)), sorted(j.flags or []), j.rationale or ""))
    return out, len(skipped)


def test_twenty_items_by_keyboard_are_stored_keystroke_for_keystroke(site, page, tmp_path):
    site.login(page, "kira", then="/rate/?campaign=keys")
    page.goto(f"{site.url}/rate/?campaign=keys")
    page.wait_for_function("() => document.querySelector('#hitl-response-a .prose')?.innerText.includes('Keyboard')")
    ack = _ack(page)
    expected: list[tuple] = []
    kb = page.keyboard

    def judge(choice: str, flags: str = "", rationale: str = "", via: str = "enter") -> None:
        """One item: flags, the answer, maybe a rationale (submitted with Ctrl+Enter, or left with Esc)."""
        nonlocal ack
        for key in flags:
            kb.press(key)
        if via == "ctrl" and rationale:
            kb.press(choice)
            kb.press("r")
            kb.type(rationale)
            kb.press("Control+Enter")
        elif via == "esc" and rationale:
            kb.press("r")
            kb.type(rationale)
            kb.press("Escape")
            kb.press(choice)  # after Esc the key answers, it is not typed into the box
            kb.press("Enter")
        else:
            kb.press(choice)
            kb.press("Enter")
        expected.append((ANSWER_OF_KEY[choice], sorted(FLAG_OF_KEY[f] for f in flags), rationale))
        ack = _wait_for_answer(page, ack)
        assert _status(page).startswith("✓ Saved — next: item"), _status(page)

    judge("2")
    judge("4", flags="uf")
    judge("1", rationale="A answers the question", via="ctrl")
    judge("4")  # right after Ctrl+Enter: focus left the box, so this 4 answers instead of being typed
    judge("3", rationale="first thoughts", via="esc")
    judge("0", flags="n")

    kb.press("s")  # skip: no judgment, and the page says so
    ack = _wait_for_answer(page, ack)
    assert _status(page).startswith("Skipped — next: item")

    kb.press("5")  # chosen, then the page is refreshed mid-item: the same item comes back, unanswered
    before = page.inner_text("#hitl-response-a .prose")
    page.reload()
    page.wait_for_function("t => document.querySelector('#hitl-response-a .prose')?.innerText === t", arg=before)
    ack = _ack(page)
    judge("5", flags="o")

    page.wait_for_timeout(1600)  # (an Enter at once would be the tail of a double press, see below)
    kb.press("Enter")  # no answer picked: nothing is stored, and the page says why
    ack = _wait_for_answer(page, ack)
    assert "Pick an answer first" in _status(page)
    judge("2")  # ... and the stale warning is gone once the next item is saved

    kb.press("3")  # a double Enter is one judgment, like a double click
    kb.press("Enter")
    kb.press("Enter")
    expected.append((ANSWER_OF_KEY["3"], [], ""))
    ack = _wait_for_answer(page, ack)
    page.wait_for_timeout(1500)  # give a wrongly counted second Enter the time to arrive
    ack = _ack(page)

    # A burst typed faster than the server answers: every key lands on the item it was meant for.
    burst = ["2", "4", "1", "5", "0", "3"]
    for key in burst:
        kb.press(key)
        kb.press("Enter")
        expected.append((ANSWER_OF_KEY[key], [], ""))
    page.wait_for_function(
        "n => document.querySelector('#hitl-progress').innerText.includes('Judged today: ' + n)",
        arg=str(len(expected)),
    )
    ack = _ack(page)
    for choice in ("4", "2", "1"):
        judge(choice, flags="f" if choice == "2" else "")
    judge("5", flags="un", rationale="B is safer; unsure about A", via="ctrl")
    judge("0", rationale="neither answers", via="esc")

    stored, skipped = _stored(site.store, "kira")
    assert len(expected) == 20
    assert stored == expected
    assert skipped == 1
    page.screenshot(path=str(tmp_path / "rate-keys-done.png"), full_page=True)


def test_a_ranking_item_is_ranked_with_a_control_per_response(site, page):
    """K-way items: a rank per response (clicks), submitted with Enter; the stored ranking follows the picks."""
    from hitl.store.schema import campaigns, items, responses

    site.login(page, "kira", then="/rate/?campaign=ranked")
    page.goto(f"{site.url}/rate/?campaign=ranked")
    page.wait_for_function("() => document.querySelector('#hitl-rank-c')?.innerText.includes('Rank of C')")
    shown = [page.inner_text(f"#hitl-response-{x} .prose").strip() for x in "abc"]
    for letter, rank in zip("abc", ("2", "3", "1"), strict=True):
        page.locator(f"#hitl-rank-{letter}").get_by_label(rank, exact=True).check()
    ack = _ack(page)
    page.keyboard.press("Enter")
    _wait_for_answer(page, ack)
    assert _status(page).startswith("✓ Saved")
    with site.store.read() as conn:
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
        row = conn.execute(
            select(judgments.c.ranking)
            .join(users, users.c.id == judgments.c.user_id)
            .join(items, items.c.id == judgments.c.item_id)
            .join(campaigns, campaigns.c.id == items.c.campaign_id)
            .where(users.c.name == "kira", campaigns.c.name == "ranked")
        ).one()
    assert [texts[r] for r in row.ranking] == [shown[2], shown[0], shown[1]]  # C first, then A, then B
    # Nothing left here now: the form is gone, the page says where there is work, and keys say why they do nothing.
    page.wait_for_function("() => document.querySelector('#hitl-empty')?.innerText.includes('Nothing left for you')")
    assert "keys" in page.inner_text("#hitl-empty")  # kira still has items in the keys campaign
    page.keyboard.press("2")
    page.wait_for_function("() => document.querySelector('#hitl-keyhint').innerText.includes('No item on screen')")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#hitl-keyhint').innerText.includes('Nothing to submit')")
