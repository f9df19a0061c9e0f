"""Simulated raters: they judge through the real queue, and quality control finds the biased ones."""

import pytest

from hitl.catalog import add_item, add_prompt, add_response
from hitl.errors import InvalidInput
from hitl.simulate import RaterBehaviour, default_crowd, load_oracle, simulate
from hitl.stats import collection_report


def add_length_pairs(store, campaign, n):
    """Items with a short and a long response; the one saying "correct" is the long one in half of them, and
    canonical order alternates, so position, length and quality are independent."""
    with store.write() as conn:
        for i in range(n):
            pid = add_prompt(conn, text=f"question {i}")
            good_is_long = (i // 2) % 2 == 0
            short = add_response(conn, prompt_id=pid, text=f"Short {'correct' if not good_is_long else 'wrong'} {i}.")
            long = add_response(
                conn, prompt_id=pid, text=f"A longer {'correct' if good_is_long else 'wrong'} answer {i} " * 3
            )
            ids = [short, long] if i % 2 else [long, short]
            add_item(conn, campaign_id=campaign.id, prompt_id=pid, response_ids=ids, item_kind="pairwise")


def test_quality_control_finds_the_position_biased_rater_and_the_spammer(store, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=8)
    add_length_pairs(store, campaign, 60)
    report = simulate(store, campaign, default_crowd(8), load_oracle("rule:contains=correct"), 480, seed=1)
    assert report.total == 480
    _, raters = collection_report(store, campaign)
    flagged = {q.rater: " ".join(q.issues) for q in raters}
    assert "position bias" in flagged["sim-position"]
    assert "too fast" in flagged["sim-spammer"]
    honest = [name for name in flagged if name.startswith("sim-honest")]
    assert len(honest) == 5 and all(not flagged[name] for name in honest)


def test_a_perfect_rater_follows_the_oracle(store, make_campaign):
    campaign = make_campaign(gold_rate=0, overlap=1)
    add_length_pairs(store, campaign, 40)
    crowd = [RaterBehaviour("sim-perfect", flip=0.0)]
    simulate(store, campaign, crowd, load_oracle("rule:concise"), max_judgments=40)
    from hitl.stats import judgment_rows

    rows = judgment_rows(store, campaign)
    assert len(rows) == 40
    assert all(r.winner != r.longer for r in rows)  # always the shorter one


def test_oracle_specs():
    assert load_oracle("rule:concise")("q", ["a b c", "a"]) == [-3, -1]
    assert load_oracle("rule:contains=paris")("q", ["Paris!", "Rome"])[0] > 0
    assert load_oracle("hitl.simulate.oracles:detailed")("q", ["a b", "a"]) == [2.0, 1.0]
    with pytest.raises(InvalidInput, match="unknown oracle rule"):
        load_oracle("rule:nope")
    with pytest.raises(InvalidInput, match="cannot load"):
        load_oracle("no.such.module:f")
    with pytest.raises(InvalidInput, match="use rule:NAME"):
        load_oracle("concise")


def test_panel_rules_score_what_their_names_say():
    assert load_oracle("rule:list")("q", ["- milk\n- eggs", "1. milk\n2. eggs", "milk and eggs"]) == [1.0, 1.0, 0.0]
    assert load_oracle("rule:no-self")("q", ["I think it rains.", "It rains.", "As an AI, no."]) == [0.0, 1.0, 0.0]
    short, long = load_oracle("rule:plain")("q", ["Cats nap. Dogs run.", "Felines habitually hibernate extensively."])
    assert short > long  # shorter sentences and words win, whatever the total length
    assert load_oracle("rule:example")("q", ["Fruit such as apples.", "Fruit."]) == [1.0, 0.0]
    assert load_oracle("rule:numbered")("q", ["1. a\n2. b", "- a\n- b"]) == [1.0, 0.0]
