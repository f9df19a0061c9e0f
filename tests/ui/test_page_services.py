"""The services behind the pages, on a real store: what the rate page says when nothing is left, cut-off answers,
where the rater is, the review queue's triage (counts, order, who missed gold) and adjudication by verdict.

pytest tests/ui/test_page_services.py -q
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from hitl.errors import InvalidInput
from hitl.queue import JudgmentInput, next_item, submit
from hitl.service import Service
from hitl.store.schema import responses
from tests.factories import add_items


def _judge(store, user, campaign, winner) -> None:
    """`user` prefers response `winner(item_id)` (0: the item's first response, as tests.factories stores them)."""
    a = next_item(store, user, campaign)
    ranking = sorted(r.response_id for r in a.responses)
    if winner(a.item_id):
        ranking.reverse()
    submit(store, a.lease_token, f"k-{a.lease_token}", JudgmentInput(ranking=ranking), user=user)


def test_the_rate_page_knows_cut_answers_position_and_what_comes_next(store, make_user, make_campaign):
    service = Service(store)
    rater = make_user("rater")
    here, other = make_campaign(overlap=1), make_campaign(overlap=1)
    add_items(store, here, 2)
    add_items(store, other, 3)
    with store.write() as conn:
        conn.execute(update(responses).values(sampling={"finish_reason": "length", "max_new_tokens": 64}))

    item = service.rating.next_item(rater, here.name)
    assert item.cut_off_at == (64, 64)
    assert service.rating.progress(rater, here.name).position() == "item 1 of 2"
    service.rating.submit_choice(rater, item.lease_token, "a")
    assert service.rating.progress(rater, here.name).position() == "item 2 of 2"
    service.rating.skip(rater, service.rating.next_item(rater, here.name).lease_token)
    assert service.rating.next_item(rater, here.name) is None

    outlook = service.rating.outlook(rater, here.name)
    assert outlook.elsewhere == [(other.name, 3)]
    assert "No loop runs on this campaign" in outlook.when


def test_the_review_queue_counts_reasons_sorts_and_names_who_missed_gold(store, make_user, make_campaign):
    from hitl.service.review import reason_counts

    service = Service(store)
    reviewer = make_user("reviewer")
    campaign = make_campaign(overlap=3, gold_rate=1.0)
    unanimous, split = add_items(store, campaign, 0, gold=2)  # gold answer: the first response
    raters = [make_user(), make_user(), make_user()]
    # Everyone misses the first gold item; one rater of three misses the second.
    for k, user in enumerate(raters):
        for _ in range(2):
            _judge(store, user, campaign, lambda item, k=k: item == unanimous or k == 2)
    rows = service.review.queue(reviewer, campaign.name, sort="disagreement")
    assert [r.item_id for r in rows] == [split, unanimous]
    assert rows[0].disagreement == pytest.approx(1 / 3) and rows[1].disagreement == 0
    assert [len(r.missed_gold) for r in rows] == [1, 3]
    assert reason_counts(rows) == {"disagreement": 1, "flags": 0, "failed_gold": 2, "correction": 0}
    newest = service.review.queue(reviewer, campaign.name)
    assert [r.item_id for r in newest] == sorted([split, unanimous], reverse=True)
    with pytest.raises(InvalidInput):
        service.review.queue(reviewer, campaign.name, sort="sideways")

    first = rows[0].item_id
    service.review.adjudicate_choice(reviewer, first, winner="2", strength=3, note="checked")
    assert service.review.item(reviewer, first).adjudications[0].startswith(f"{reviewer.name}: 2 better (3)")
    assert [r.item_id for r in service.review.queue(reviewer, campaign.name, open_only=True)] == [rows[1].item_id]
    with pytest.raises(InvalidInput, match="verdict"):
        service.review.adjudicate_choice(reviewer, first, winner="3")


def test_a_ranking_item_is_adjudicated_by_a_rank_per_response(store, make_user, make_campaign):
    service = Service(store)
    reviewer = make_user("reviewer")
    campaign = make_campaign(item_kind="ranking", overlap=1, allow_tie=False)
    (item_id,) = add_items(store, campaign, 1, k=3)
    service.review.adjudicate_choice(reviewer, item_id, ranks=["2", "3", "1"], all_bad=True)
    assert service.review.item(reviewer, item_id).adjudications == [f"{reviewer.name}: 3 > 1 > 2 · both bad"]
    for bad in (["1", None, "2"], ["1", "1", "2"]):
        with pytest.raises(InvalidInput):
            service.review.adjudicate_choice(reviewer, item_id, ranks=bad)
