"""The service layer: logins (sessions, throttling), role checks, page submits, breaks, review and arena rules."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hitl.campaigns import create_campaign
from hitl.catalog import add_item, add_prompt, add_response
from hitl.config import CampaignSettings
from hitl.errors import AuthError, Forbidden, InvalidInput, LeaseError
from hitl.service import RateLimited, record_battle
from hitl.store.schema import arena_battles, judgments, responses
from tests.api.conftest import PASSWORD, add_versus


def test_login_session_logout(world):
    svc = world.service
    user, token = svc.login("rita", PASSWORD, "10.0.0.1")
    assert svc.user_for_session(token) == user
    svc.logout(token)
    assert svc.user_for_session(token) is None
    assert svc.user_for_session("forged") is None and svc.user_for_session(None) is None


def test_disabling_a_user_ends_their_sessions(world):
    _, token = world.service.login("rita", PASSWORD, "c")
    world.service.admin.set_active(world.admin, "rita", False)
    assert world.service.user_for_session(token) is None
    with pytest.raises(AuthError):
        world.service.login("rita", PASSWORD, "c")


def test_failed_logins_are_throttled_per_name_and_reset_by_success(world):
    svc = world.service  # max_failed_logins=3 in the fixture
    for _ in range(2):
        with pytest.raises(AuthError, match="wrong user name or password"):
            svc.login("rob", "wrong-password", "c1")
    svc.login("rob", PASSWORD, "c1")  # a success resets the count
    for _ in range(3):
        with pytest.raises(AuthError):
            svc.login("rob", "wrong-password", "c2")
    with pytest.raises(RateLimited, match="too many failed logins"):
        svc.login("rob", PASSWORD, "c3")  # even the right password waits now
    svc.login("vera", PASSWORD, "c2")  # another name from the same client still works


def test_every_area_checks_the_role(world):
    svc = world.service
    with pytest.raises(Forbidden):
        svc.admin.users(world.rater)
    with pytest.raises(Forbidden):
        svc.review.queue(world.rater)
    with pytest.raises(Forbidden):
        svc.dashboard.dashboard(world.rater, "demo")
    with pytest.raises(Forbidden):
        svc.admin.export(world.reviewer)
    with pytest.raises(AuthError):
        svc.rating.next_item(None, "demo")


def test_page_submit_maps_buttons_to_judgments_and_a_double_click_records_once(world):
    rating = world.service.rating
    item = rating.next_item(world.rater, "demo")
    assert [label for label, _ in item.campaign.choices()][0] == "A much better"
    first = rating.submit_choice(world.rater, item.lease_token, "b_much", flags=["unsafe"], rationale="B wins")
    second = rating.submit_choice(world.rater, item.lease_token, "a")  # the second click of a double click
    assert second.duplicate and second.judgment_id == first.judgment_id
    with world.store.read() as conn:
        row = conn.execute(select(judgments)).one()
        texts = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
    assert texts[row.ranking[0]] == item.responses[1]  # "B" is the second response shown
    assert row.strength == 3 and list(row.flags) == ["unsafe"] and row.seconds_on_item >= 0


def test_hidden_values_from_the_page_get_no_more_than_the_user_has(world):
    rating = world.service.rating
    theirs = rating.next_item(world.rater2, "demo")
    with pytest.raises(LeaseError, match="another user"):
        rating.submit_choice(world.rater, theirs.lease_token, "a")
    with pytest.raises(LeaseError):
        rating.submit_choice(world.rater, "made-up-token", "a")
    mine = rating.next_item(world.rater, "demo")
    with pytest.raises(InvalidInput, match="pick an answer"):
        rating.submit_choice(world.rater, mine.lease_token, "a_lot")
    with pytest.raises(InvalidInput, match="unknown flag"):
        rating.submit_choice(world.rater, mine.lease_token, "a", flags=["<script>"])


def test_campaign_rules_apply_to_page_answers(world):
    create_campaign(world.store, CampaignSettings(name="strict", allow_tie=False, require_rationale=True, gold_rate=0))
    from hitl.campaigns import get_campaign
    from tests.api.conftest import add_pairs

    add_pairs(world.store, get_campaign(world.store, "strict"), 1, prefix="strict")
    item = world.service.rating.next_item(world.rater, "strict")
    assert "tie" not in [key for _, key in item.campaign.choices()]
    with pytest.raises(InvalidInput, match="does not allow ties"):
        world.service.rating.submit_choice(world.rater, item.lease_token, "tie")
    with pytest.raises(InvalidInput, match="rationale"):
        world.service.rating.submit_choice(world.rater, item.lease_token, "both_bad")


def test_ranking_items_take_letters(world):
    campaign = create_campaign(world.store, CampaignSettings(name="rank", item_kind="ranking", gold_rate=0))
    with world.store.write() as conn:
        pid = add_prompt(conn, text="rank these")
        rids = [add_response(conn, prompt_id=pid, text=f"option {i}") for i in range(3)]
        add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="ranking")
    item = world.service.rating.next_item(world.rater, "rank")
    with pytest.raises(InvalidInput, match="letters A, B, C"):
        world.service.rating.submit_choice(world.rater, item.lease_token, None, ranking="AB")
    world.service.rating.submit_choice(world.rater, item.lease_token, None, ranking="C > A > B")
    with world.store.read() as conn:
        ranking = conn.execute(select(judgments.c.ranking)).scalar()
    texts = [item.responses[2], item.responses[0], item.responses[1]]
    with world.store.read() as conn:
        by_id = dict(conn.execute(select(responses.c.id, responses.c.text)).all())
    assert [by_id[r] for r in ranking] == texts


def test_break_reminder_after_a_long_stretch(world):
    rating = world.service.rating  # break after 50 minutes; a pause of 10 minutes is a break
    now = 1_000_000.0
    minutes = [now - m * 60 for m in (1, 9, 17, 25, 33, 41, 49, 55)]  # newest first, gaps under 10 minutes
    assert rating._stretch_seconds(minutes, now) == pytest.approx(55 * 60)
    assert rating._stretch_seconds(minutes[:5], now) == pytest.approx(33 * 60)
    assert rating._stretch_seconds([now - 12 * 60, *minutes[2:]], now) == 0.0  # just had a break
    assert rating._stretch_seconds([now - 60, now - 20 * 60, now - 25 * 60], now) == pytest.approx(60)
    item = rating.next_item(world.rater, "demo")
    rating.submit_choice(world.rater, item.lease_token, "a")
    progress = rating.progress(world.rater, "demo")
    assert progress.judged_today == 1 and not progress.take_break and progress.stretch_minutes < 1


def test_review_finds_flags_and_failed_gold(world):
    gold = create_campaign(world.store, CampaignSettings(name="gold", overlap=1, gold_rate=1.0))
    with world.store.write() as conn:
        pid = add_prompt(conn, text="gold prompt")
        rids = [add_response(conn, prompt_id=pid, text=t) for t in ("right", "wrong")]
        add_item(conn, campaign_id=gold.id, prompt_id=pid, response_ids=rids, item_kind="pairwise", gold_answer=0)
    item = world.service.rating.next_item(world.rater, "gold")
    wrong = "a" if item.responses[0] == "wrong" else "b"
    world.service.rating.submit_choice(world.rater, item.lease_token, wrong)
    item = world.service.rating.next_item(world.rater, "demo")
    world.service.rating.submit_choice(world.rater, item.lease_token, "tie", flags=["off_topic"])
    rows = {r.campaign: r for r in world.service.review.queue(world.reviewer)}
    assert rows["gold"].reasons == ("failed_gold",) and rows["demo"].reasons == ("flags",)
    assert [r.campaign for r in world.service.review.queue(world.reviewer, flag="off_topic")] == ["demo"]
    assert world.service.review.queue(world.reviewer, rater="nobody") == []
    detail = world.service.review.item(world.reviewer, rows["gold"].item_id)
    assert detail.gold_answer == 1 and detail.judgments[0].answer == "2 better (2)"
    with pytest.raises(InvalidInput, match="numbers 1 to 2"):
        world.service.review.adjudicate(world.reviewer, rows["gold"].item_id, ranking=[3])
    with pytest.raises(InvalidInput, match="correction"):
        world.service.review.adjudicate(world.reviewer, rows["gold"].item_id, ranking=[1], accept_correction=999)


def test_accepted_correction_becomes_training_data(world):
    from hitl.preferences import build_pairs

    item = world.service.rating.next_item(world.rater, "demo")
    world.service.rating.submit_choice(world.rater, item.lease_token, "both_bad", correction="A much better answer.")
    row = world.service.review.queue(world.reviewer)[0]
    judgment_id = world.service.review.item(world.reviewer, row.item_id).judgments[0].id
    world.service.review.adjudicate(world.reviewer, row.item_id, ranking=[1, 2], accept_correction=judgment_id)
    pairs = [p for p in build_pairs(world.store, "demo") if p.item_id == row.item_id]
    assert {p.source for p in pairs} == {"adjudication", "correction"}
    assert any(p.chosen == "A much better answer." for p in pairs)


def test_arena_reveal_before_vote_never_counts(world):
    add_versus(world.store, 2)
    arena = world.service.arena
    battle = arena.new_battle(world.rater, "m-small", "m-large")
    assert arena.open_battle(world.rater).id == battle.id  # a refresh shows the same battle
    reveal = arena.reveal(world.rater, battle.id)
    assert not reveal.counted and "revealed before a vote" in reveal.message
    assert not arena.vote(world.rater, battle.id, "a").counted
    assert arena.open_battle(world.rater) is None
    with pytest.raises(InvalidInput, match="two different"):
        arena.new_battle(world.rater, "m-small", "m-small")
    with world.store.read() as conn:
        assert conn.execute(select(func.count()).where(arena_battles.c.counted.is_(True))).scalar() == 0


def test_reward_judged_battles_have_their_own_board(world):
    add_versus(world.store, 4)
    with world.store.read() as conn:
        rows = conn.execute(select(responses.c.id, responses.c.prompt_id).order_by(responses.c.id)).all()
    pairs = [(a.id, b.id) for a, b in zip(rows[::2], rows[1::2], strict=True) if a.prompt_id == b.prompt_id]
    for a, b in pairs[-4:]:
        record_battle(world.store, a, b, "b")
    board = world.service.arena.board(world.rater, "reward", rounds=10)
    assert board.n_battles == 4 and board.ratings[0].model == "m-large"
    assert world.service.arena.board(world.rater, "human").n_battles == 0
    with pytest.raises(InvalidInput, match="same prompt"):
        record_battle(world.store, pairs[-1][0], pairs[-2][1], "a")


def test_the_dashboard_shows_the_loop_rounds_newest_first(world):
    from hitl.campaigns import get_campaign
    from hitl.loop import state

    campaign = get_campaign(world.store, "demo")
    assert world.service.dashboard.dashboard(world.reviewer, "demo").rounds == []
    first = state.current_round(world.store, campaign, None)
    state.save(world.store, first, stage="done", status="done", metrics={"reward_accuracy": 0.71, "new_judgments": 40})
    second = state.current_round(world.store, campaign, None)
    state.save(world.store, second, status="waiting", message="waiting for judgments: 3 new of the 100")
    rounds = world.service.dashboard.dashboard(world.reviewer, "demo").rounds
    assert [r["round"] for r in rounds] == [2, 1]
    assert rounds[1]["reward accuracy"] == 0.71 and rounds[1]["new judgments"] == 40
    assert rounds[0]["status"] == "waiting" and "3 new" in rounds[0]["message"]
    assert rounds[0]["reward accuracy"] is None


def test_the_prelabel_hint_follows_the_display_order_and_is_off_by_default(world):
    from hitl.campaigns import update_campaign
    from reward.prelabel import ItemScore, store_prelabels

    rating = world.service.rating
    item = rating.next_item(world.rater, "demo")
    assert item.prelabel is None  # campaigns do not show hints unless asked
    update_campaign(world.store, "demo", show_prelabel=True)
    assert rating.next_item(world.rater, "demo").prelabel is None  # asked, but nothing scored yet
    with world.store.read() as conn:
        stored = conn.execute(select(responses.c.id).order_by(responses.c.id)).scalars().all()
        from hitl.store.schema import items as items_table

        response_ids = conn.execute(
            select(items_table.c.response_ids).where(items_table.c.id == item.item_id)
        ).scalar_one()
    assert set(response_ids) <= set(stored)
    preferred = response_ids[1]
    store_prelabels(world.store, [ItemScore(item.item_id, response_ids, [0.1, 0.9], preferred, 0.73, 0.2)])
    again = rating.next_item(world.rater, "demo")  # the same lease, so the same display order
    assert again.lease_token == item.lease_token
    shown = rating.lease(world.rater, "demo").responses
    letter = "AB"[[r.response_id for r in shown].index(preferred)]
    assert f"prefers **{letter}** (73% sure)" in again.prelabel


def test_adjudication_takes_the_ranking_as_the_reviewer_typed_it(world):
    """The review page hands the typed text to the service, which parses it once (as the rate page's letters)."""
    from hitl.store.schema import adjudications, items

    with world.store.read() as conn:
        item_id, canonical = conn.execute(select(items.c.id, items.c.response_ids).order_by(items.c.id)).first()
    review = world.service.review
    for typed in ("2 1", "2 > 1", "2,1", " 2 "):
        review.adjudicate(world.reviewer, item_id, ranking=typed)
    with world.store.read() as conn:
        stored = conn.execute(select(adjudications.c.ranking).order_by(adjudications.c.id)).scalars().all()
    assert stored == [[canonical[1], canonical[0]]] * 4
    for typed in ("2 x 1", "first", "21"):
        with pytest.raises(InvalidInput, match="best first"):
            review.adjudicate(world.reviewer, item_id, ranking=typed)
