"""Skills and the expert queue on both stores: expert-only items never reach a non-expert, escalated items get their
expert's label, and the review page shows what waits, why and for how long."""

import pytest
from sqlalchemy import select
from workforce_helpers import add_tagged_items, answer

from hitl.errors import Forbidden, InvalidInput, NotFound
from hitl.preferences import build_pairs
from hitl.queue import JudgmentInput, next_item, submit
from hitl.service import Service
from hitl.simulate import RaterBehaviour, default_crowd, load_oracle, simulate
from hitl.store.schema import items, judgments, prompts, users
from hitl.users import get_user
from hitl.workforce.manage import set_rules
from hitl.workforce.skills import set_skills

ORACLE = load_oracle("rule:contains=correct")


def _judged_tags(store) -> dict[str, list[list[str]]]:
    with store.read() as conn:
        rows = conn.execute(
            select(users.c.name, prompts.c.tags)
            .join(judgments, judgments.c.user_id == users.c.id)
            .join(items, items.c.id == judgments.c.item_id)
            .join(prompts, prompts.c.id == items.c.prompt_id)
        ).all()
    out: dict[str, list[list[str]]] = {}
    for name, tags in rows:
        out.setdefault(name, []).append(list(tags))
    return out


def test_expert_only_items_never_reach_a_non_expert(store, make_campaign, make_user):
    c = make_campaign(overlap=2, gold_rate=0.2)
    add_tagged_items(store, c, 30, gold=4)
    add_tagged_items(store, c, 20, tags=["medical", "dosage"], gold=4, start=100)
    make_user(name="sim-doctor")
    set_skills(store, "sim-doctor", add=["medical"])
    c = set_rules(store, c.name, skills={"medical": "medical"})
    crowd = [*default_crowd(5), RaterBehaviour("sim-doctor", flip=0.05)]
    simulate(store, c, crowd, ORACLE, 400, seed=2)
    judged = _judged_tags(store)
    for name, tags in judged.items():
        if name != "sim-doctor":
            assert all("medical" not in t for t in tags), name
    assert sum("medical" in t for t in judged["sim-doctor"]) >= 20  # the expert got them (and gold among them)
    # Removing the skill takes effect at once, and a lease held meanwhile cannot be submitted.
    doctor = get_user(store, "sim-doctor")
    add_tagged_items(store, c, 1, tags=["medical"], start=500)
    a = next_item(store, doctor, c)
    set_skills(store, "sim-doctor", remove=["medical"])
    store.route_cache.clear()
    with pytest.raises(Forbidden, match="no longer have"):
        submit(store, a.lease_token, "k", JudgmentInput(ranking=[r.response_id for r in a.responses]), user=doctor)


def test_unsure_answers_go_to_the_expert_whose_answer_is_the_label(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0)
    ids = add_tagged_items(store, c, 3, tags=["legal"])
    lawyer = make_user(name="lawyer")
    set_skills(store, "lawyer", add=["law"])
    c = set_rules(store, c.name, skills={"legal": "law"}, escalate_unsure=True)
    service = Service(store)
    rater = make_user()
    set_skills(store, rater.name, add=["law"])
    answer(store, rater, c, right=False, flags=["unsure"])  # the rater is unsure, and wrong
    waiting = service.workforce.escalations(lawyer)
    assert [(e.reason, e.skill) for e in waiting] == [("unsure", "law")]
    item_id = waiting[0].item_id
    assert item_id in ids
    # A reviewer without the skill sees it on the review page, with why and since when, but cannot answer it.
    reviewer = make_user("reviewer")
    (row,) = service.review.queue(reviewer, c.name, reason="escalated")
    assert row.item_id == item_id and "unsure" in row.escalation and "needs law" in row.escalation
    assert row.waiting_seconds() >= 0
    assert service.workforce.escalations(reviewer) == []
    with pytest.raises(Forbidden, match="skill 'law'"):
        service.review.adjudicate_choice(reviewer, item_id, winner="1")
    # The expert answers (the response saying 'correct'); that is the item's label from now on.
    view = service.workforce.escalated_item(lawyer, item_id)
    good = next(i for i, t in enumerate(view.responses) if "correct" in t) + 1
    service.workforce.answer(lawyer, item_id, winner=str(good), strength=3, note="clear case")
    assert service.workforce.escalations(lawyer) == []
    (pair,) = [p for p in build_pairs(store, c) if p.item_id == item_id]
    assert "correct" in pair.chosen and pair.source == "adjudication"
    with pytest.raises(NotFound):
        service.workforce.answer(lawyer, item_id, winner="1")


def test_low_agreement_after_the_overlap_escalates(store, make_campaign, make_user):
    c = make_campaign(overlap=3, gold_rate=0.0)
    (item_id,) = add_tagged_items(store, c, 1)
    c = set_rules(store, c.name, escalate_below_agreement=0.7)
    for right in (True, False, True):  # 2 of 3 agree: below 70%
        answer(store, make_user(), c, right=right)
    service = Service(store)
    reviewer = make_user("reviewer")
    (e,) = service.workforce.escalations(reviewer)
    assert (e.item_id, e.reason, e.skill) == (item_id, "low_agreement", None)
    assert "2 of 3" in e.detail
    service.review.adjudicate_choice(reviewer, item_id, winner="1")  # any reviewer answers a skill-less one
    assert service.workforce.escalations(reviewer) == []


def test_a_reviewer_can_send_an_item_to_the_expert_queue(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0)
    (item_id,) = add_tagged_items(store, c, 1)
    answer(store, make_user(), c)
    service = Service(store)
    reviewer = make_user("reviewer")
    service.workforce.escalate(reviewer, item_id, "please check")
    with pytest.raises(Exception, match="already waits"):
        service.workforce.escalate(reviewer, item_id)
    (e,) = service.workforce.escalations(reviewer)
    assert (e.reason, e.detail) == ("requested", "please check")


def test_a_skill_map_naming_a_skill_nobody_has_is_refused(store, make_campaign, make_user):
    c = make_campaign()
    service = Service(store)
    admin = make_user("admin")
    with pytest.raises(InvalidInput, match="no active user has the skill 'code'.*nothing was changed"):
        service.workforce.set_rules(admin, c.name, {"skills": {"python": "code"}})
    with pytest.raises(InvalidInput, match="skill 'bad skill!'"):
        service.workforce.set_skills(admin, admin.name, add=["bad skill!"])
    assert service.workforce.rules(admin, c.name).skills == {}
