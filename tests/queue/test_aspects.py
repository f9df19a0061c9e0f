"""Multi-attribute ratings, on both stores: a campaign's aspects, scores recorded with the judgment in the one write
(or refused whole), exported beside the pairs (and per judgment in the raw layout), shown on the review page."""

import json

import pytest
from sqlalchemy import select

from hitl.catalog import add_item, add_prompt, add_response
from hitl.config import CampaignSettings
from hitl.errors import InvalidInput
from hitl.io.exports import export
from hitl.queue import JudgmentInput, next_item, submit
from hitl.service import Service
from hitl.store.schema import judgments

ASPECTS = "helpfulness,correctness,verbosity"


def _items(store, campaign, n: int = 2) -> None:
    with store.write() as conn:
        for i in range(n):
            pid = add_prompt(conn, text=f"question {i}")
            rids = [add_response(conn, prompt_id=pid, text=f"answer {k} to {i}" + "!" * k) for k in range(2)]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=rids, item_kind="pairwise")


def test_campaign_aspects_are_checked():
    assert CampaignSettings(name="x", aspects=" helpfulness, verbosity ").aspect_names() == [
        "helpfulness",
        "verbosity",
    ]
    for bad, message in (("Help!", "lowercase"), ("a,a", "each aspect once"), ("a,b,c,d,e,f", "at most 5")):
        with pytest.raises(InvalidInput, match=message):
            CampaignSettings(name="x", aspects=bad).validate()


def test_scores_are_recorded_with_the_judgment_exported_and_reviewed(store, make_campaign, make_user, tmp_path):
    c = make_campaign(overlap=2, gold_rate=0.0, aspects=ASPECTS)
    _items(store, c, 1)
    raters = [make_user(), make_user()]
    for k, rater in enumerate(raters):
        a = next_item(store, rater, c)
        first, second = sorted(r.response_id for r in a.responses)  # the stored order, whatever was shown
        scores = {first: {"helpfulness": 3 + k, "verbosity": 1}, second: {"helpfulness": 1}}
        submit(store, a.lease_token, f"k{k}", JudgmentInput(ranking=[first, second], aspects=scores), user=rater)
    with store.read() as conn:
        stored = conn.execute(select(judgments.c.aspects).order_by(judgments.c.id)).scalars().all()
    assert all(set(s) == {str(first), str(second)} for s in stored)
    assert stored[0][str(first)] == {"helpfulness": 3, "verbosity": 1}  # the campaign's order, not the sender's

    manifest = export(store, tmp_path / "pairs.jsonl", campaign=c)
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert manifest.counts["rows"] == 2
    row = rows[0]
    assert row["chosen_response_id"] == first
    assert row["chosen_aspects"] == {"helpfulness": 3.5, "verbosity": 1.0} and row["chosen_aspects_n"] == 2
    assert row["rejected_aspects"] == {"helpfulness": 1.0} and row["rejected_aspects_n"] == 2
    export(store, tmp_path / "raw.jsonl", campaign=c, layout="raw")
    raw = json.loads((tmp_path / "raw.jsonl").read_text().splitlines()[0])
    assert raw["aspects"][str(first)]["helpfulness"] == 3

    reviewer = make_user("reviewer")
    view = Service(store).review.item(reviewer, rows[0]["item_id"])
    number = 1 + view.responses.index(next(t for t in view.responses if t == row["chosen"]))
    assert f"{number}: helpfulness 3, verbosity 1" in view.judgments[0].aspects


def test_bad_scores_are_refused_and_nothing_is_recorded(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0, aspects=ASPECTS)
    plain = make_campaign(overlap=1, gold_rate=0.0)
    _items(store, c, 1)
    _items(store, plain, 1)
    rater = make_user()
    a = next_item(store, rater, c)
    ids = [r.response_id for r in a.responses]
    for scores, message in (
        ({ids[0]: {"helpfulness": 5}}, "whole number 0-4"),
        ({ids[0]: {"humour": 2}}, "unknown aspect"),
        ({999_999: {"helpfulness": 2}}, "not one of the item's responses"),
        ({ids[0]: {"helpfulness": True}}, "whole number 0-4"),
    ):
        with pytest.raises(InvalidInput, match=message):
            submit(store, a.lease_token, "k", JudgmentInput(ranking=ids, aspects=scores), user=rater)
    b = next_item(store, rater, plain)
    other = [r.response_id for r in b.responses]
    with pytest.raises(InvalidInput, match="scores no aspects"):
        submit(store, b.lease_token, "k2", JudgmentInput(ranking=other, aspects={other[0]: {"x": 1}}), user=rater)
    with store.read() as conn:
        assert conn.execute(select(judgments.c.id)).first() is None
    submit(store, a.lease_token, "k", JudgmentInput(ranking=ids, aspects={ids[1]: {"correctness": 0}}), user=rater)
    with store.read() as conn:
        assert conn.execute(select(judgments.c.aspects)).scalar() == {str(ids[1]): {"correctness": 0}}
