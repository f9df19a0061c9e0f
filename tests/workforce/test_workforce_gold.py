"""Gold grows, on both stores: a competent crowd's unanimous items are proposed, a reviewer confirms some (they
become gold items with their raters' answer) and declines others (never proposed again); refusals say why and
change nothing."""

import pytest
from sqlalchemy import select
from workforce_helpers import add_tagged_items

from hitl.errors import Conflict, Forbidden, InvalidInput
from hitl.service import Service
from hitl.simulate import RaterBehaviour, load_oracle, simulate
from hitl.store.schema import gold_decisions, items
from hitl.workforce.gold import GoldParams, decide_by_id, proposals

ORACLE = load_oracle("rule:contains=correct")


def _judged(store, make_campaign):
    c = make_campaign(overlap=3, gold_rate=0.0)
    add_tagged_items(store, c, 40)
    crowd = [RaterBehaviour(f"sim-{i}", flip=0.03, allow_tie=False) for i in range(4)]
    simulate(store, c, crowd, ORACLE, 120, seed=1)
    return c


def _item(store, item_id):
    with store.read() as conn:
        return conn.execute(select(items).where(items.c.id == item_id)).first()


def _right_answer(store, item_id) -> int:
    """The 1-based number of the response saying 'correct' (what the oracle prefers)."""
    from hitl.store.schema import responses

    ids = list(_item(store, item_id).response_ids)
    with store.read() as conn:
        texts = dict(conn.execute(select(responses.c.id, responses.c.text).where(responses.c.id.in_(ids))).all())
    return next(k + 1 for k, rid in enumerate(ids) if "correct" in texts[rid])


def test_unanimous_items_are_proposed_and_a_reviewer_confirms_or_declines(store, make_campaign, make_user):
    c = _judged(store, make_campaign)
    found = proposals(store, c)
    assert len(found) >= 10
    assert all(len(p.raters) == 3 and p.posterior >= 0.95 for p in found)
    assert all(p.answer == _right_answer(store, p.item_id) for p in found)
    service, reviewer = Service(store), make_user("reviewer")
    assert service.workforce.gold_proposals(reviewer, c.name) == found
    first, second = found[0], found[1]
    said = service.workforce.decide_gold(reviewer, first.item_id, True, note="clear case")
    assert f"item {first.item_id} is a gold item now" in said
    it = _item(store, first.item_id)
    assert (it.is_gold, it.gold_answer, it.status) == (True, first.answer - 1, "open")
    assert "declined" in service.workforce.decide_gold(reviewer, second.item_id, False)
    assert not _item(store, second.item_id).is_gold
    left = {p.item_id for p in service.workforce.gold_proposals(reviewer, c.name)}
    assert first.item_id not in left and second.item_id not in left
    with store.read() as conn:
        rows = conn.execute(select(gold_decisions.c.item_id, gold_decisions.c.accepted, gold_decisions.c.note)).all()
    assert sorted(tuple(r) for r in rows) == sorted([(first.item_id, True, "clear case"), (second.item_id, False, "")])
    review = service.review.item(reviewer, first.item_id)
    assert review.gold_answer == first.answer


def test_refusals_say_why_and_change_nothing(store, make_campaign, make_user):
    c = _judged(store, make_campaign)
    service, reviewer, rater = Service(store), make_user("reviewer"), make_user("rater")
    first, second = proposals(store, c)[:2]
    with pytest.raises(Forbidden):
        service.workforce.decide_gold(rater, first.item_id, True)
    decide_by_id(store, first.item_id, True)
    with pytest.raises(InvalidInput, match="not proposed as gold: it is a gold item already; nothing was changed"):
        decide_by_id(store, first.item_id, False)
    # Adjudicated after it was proposed: the reviewer's label wins, the proposal goes.
    service.review.adjudicate(reviewer, second.item_id, ranking=[3 - second.answer])
    with pytest.raises(InvalidInput, match="it has an adjudication"):
        service.workforce.decide_gold(reviewer, second.item_id, True)
    assert not _item(store, second.item_id).is_gold
    with pytest.raises(InvalidInput, match="min_competence must be between 0 and 1"):
        proposals(store, c, GoldParams(min_competence=1.5))
    with store.read() as conn:
        assert conn.execute(select(gold_decisions.c.item_id)).scalars().all() == [first.item_id]


def test_a_proposal_that_went_stale_is_refused_inside_the_write(store, make_campaign, make_user):
    from hitl.workforce.gold import decide

    c = _judged(store, make_campaign)
    reviewer = make_user("reviewer")
    stale = proposals(store, c)[0]
    Service(store).review.adjudicate(reviewer, stale.item_id, ranking=[stale.answer])
    with pytest.raises(Conflict, match="changed since it was proposed"):
        decide(store, stale, stale.item_id, True)
    assert not _item(store, stale.item_id).is_gold
