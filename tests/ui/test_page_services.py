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
    counts = reason_counts(rows)
    assert (counts.pop("disagreement"), counts.pop("failed_gold")) == (1, 2) and not any(counts.values())
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


def test_models_whose_intervals_overlap_share_a_rank():
    from hitl.ratings import Rating, shared_ranks

    def r(name, rating, low, high):
        return Rating(name, rating, low, high, 5, 0, 0, 0)

    # Two models at one rating and interval (the case of five votes): both are first, the clearly worse one third.
    board = [r("a", 1010, 950, 1070), r("b", 1010, 950, 1070), r("c", 800, 760, 900)]
    assert shared_ranks(board) == [1, 1, 3]
    assert shared_ranks([r("a", 1100, 1050, 1150), r("b", 1000, 990, 1040)]) == [1, 2]


def test_eval_policy_pairs_reach_the_comparisons_once(store, make_user):
    from hitl.catalog import add_prompt, add_response, register_model_version
    from hitl.loop import state
    from hitl.service.comparisons import JudgedPair, record_pairs

    service = Service(store)
    viewer = make_user("rater")
    with store.write() as conn:
        base, tuned = (register_model_version(conn, kind="policy", name=n) for n in ("base", "tuned"))
        pairs = []
        for i in range(10):
            pid = add_prompt(conn, text=f"question {i}")
            a = add_response(conn, prompt_id=pid, text=f"tuned answer {i}", model_version_id=tuned)
            b = add_response(conn, prompt_id=pid, text=f"base answer {i} is longer", model_version_id=base)
            pairs.append(JudgedPair(a, b, 1.0 if i < 8 else 0.5))
    assert record_pairs(store, pairs, "oracle", "rule:concise") == 10
    assert record_pairs(store, pairs, "oracle", "rule:concise") == 0  # the same run again stores nothing twice
    (row,) = service.comparisons.rows(viewer, rounds=200)
    assert (row.a, row.b, row.judge, row.n, row.wins, row.ties, row.losses) == (
        "tuned",
        "base",
        "oracle rule:concise",
        10,
        8,
        2,
        0,
    )
    assert row.rate == pytest.approx(0.9) and row.low > 0.5 and "tuned is better than base" in row.verdict
    # Beside the length-controlled rate, the style-controlled one with its interval (hitl.style_control).
    assert row.style_low <= row.style_controlled <= row.style_high and row.style_low >= 0 and row.style_high <= 1
    assert service.arena.board(viewer, "oracle").n_battles == 10

    from hitl.campaigns import create_campaign
    from hitl.config import CampaignSettings

    campaign = create_campaign(store, CampaignSettings(name="looped"))
    first = state.current_round(store, campaign, base)
    metrics = {"rm_win_rate": 0.55, "rm_win_low": 0.41, "rm_win_high": 0.69, "eval_pairs": 40}
    state.save(store, first, stage="done", status="done", policy_version_id=tuned, metrics=metrics)
    # A fresh service: a cached result may be served for a while after its data changed (hitl.service.heavy).
    looped = Service(store).comparisons.rows(viewer, rounds=200)[-1]
    assert (looped.source, looped.n, looped.rate) == ("loop round 1 (looped)", 40, 0.55)
    assert "no significant difference" in looped.verdict


def test_throughput_counts_calendar_hours_and_rates_read_with_their_interval(sqlite_store, make_user):
    import time as clock

    from hitl.stats import format_rate, hour_start, win_verdict

    now = clock.time()
    assert hour_start(now) <= now < hour_start(now) + 3600 and hour_start(hour_start(now) + 59) == hour_start(now)
    assert format_rate(0.625, 0.5, 0.74, 24) == "0.62 [0.50, 0.74] n=24"
    assert format_rate(None, n=0) == "– n=0"
    assert "no significant difference" in win_verdict("a", "b", 0.45, 0.6, 40)
    assert win_verdict("a", "b", 0.2, 0.4, 40).startswith("b is better")


def test_throughput_buckets_start_at_the_top_of_the_hour(store, make_user, make_campaign):
    from hitl.stats import hour_start, throughput

    campaign = make_campaign(overlap=1)
    add_items(store, campaign, 2)
    user = make_user()
    _judge(store, user, campaign, lambda item: 0)
    buckets = throughput(store, campaign, 3600, 24)
    assert len(buckets) == 24 and buckets[-1][0] == hour_start(buckets[-1][0] + 1)
    assert buckets[-1][1] == 1 and sum(n for _, n in buckets) == 1


def test_chart_labels_are_plain_text():
    import io

    from collection_ui.charts import heatmap_figure, hourly_figure, rater_bars

    evil = r"mt$\notacommand{$x"
    fig = rater_bars([evil, "plain"], [0.5, None], [10, 0], "Gold accuracy")
    fig.savefig(io.BytesIO(), format="png")  # mathtext would raise here
    assert evil in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert fig.axes[0].get_xlim()[0] == 0  # bars from zero
    import numpy as np

    heatmap_figure([evil, "b"], np.array([[np.nan, 0.5], [0.5, np.nan]]), np.array([[0, 2], [2, 0]])).savefig(
        io.BytesIO(), format="png"
    )
    empty = hourly_figure([(0.0, 0)] * 24)
    assert "No judgments" in empty.axes[0].texts[0].get_text()
