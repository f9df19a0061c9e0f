"""Judgments made through the real queue -> preference pairs and unpaired rows."""

import pytest
from io_helpers import adjudicate, judgment_id, make_item, rate

from hitl.errors import InvalidInput
from hitl.preferences import build_pairs, unpaired_rows


def triples(pairs):
    return [(p.chosen, p.rejected, p.margin, p.weight, p.source) for p in pairs]


def test_ties_dropped_or_halved(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, make_user(), item, [b, a], strength=1)
    rate(store, c, make_user(), item, tie=True, strength=0)
    rate(store, c, make_user(), item, [a, b], strength=3)
    assert triples(build_pairs(store, c)) == [("A", "B", 3.0, 1.0, "judgment"), ("B", "A", 1.0, 1.0, "judgment")]
    half = triples(build_pairs(store, c, ties="half"))
    assert sorted(half) == sorted(
        [
            ("A", "B", 3.0, 1.0, "judgment"),
            ("A", "B", 0.0, 0.5, "judgment"),
            ("B", "A", 0.0, 0.5, "judgment"),
            ("B", "A", 1.0, 1.0, "judgment"),
        ]
    )
    assert [p.chosen_response_id for p in build_pairs(store, c, ties="half")] == [a, a, b, b]


def test_both_bad_dropped_or_kept(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, make_user(), item, [a, b], strength=1, both_bad=True)
    rate(store, c, make_user(), item, tie=True, strength=0, both_bad=True)
    assert build_pairs(store, c) == []
    assert triples(build_pairs(store, c, both_bad="keep")) == [("A", "B", 1.0, 1.0, "judgment")]
    assert len(build_pairs(store, c, both_bad="keep", ties="half")) == 3


def test_ranking_expands_to_every_better_worse_pair(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5, item_kind="ranking")
    item, (r0, r1, r2) = make_item(store, c, ["zero", "one", "two"])
    rate(store, c, make_user(), item, [r2, r0, r1], strength=2)
    pairs = build_pairs(store, c)
    assert [(p.chosen, p.rejected) for p in pairs] == [("zero", "one"), ("two", "zero"), ("two", "one")]
    assert all(p.item_id == item and p.margin == 2.0 for p in pairs)


def test_latest_adjudication_overrides_the_votes(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    other, (x, y) = make_item(store, c, ["X", "Y"])
    rate(store, c, u1 := make_user(), item, [a, b])
    rate(store, c, make_user(), item, [a, b])
    rate(store, c, u1, other, [x, y])
    reviewer = make_user("reviewer")
    adjudicate(store, item, reviewer, [a, b], strength=1, at=1.0)
    adjudicate(store, item, reviewer, [b, a], strength=3, at=2.0)
    assert triples(build_pairs(store, c)) == [("B", "A", 3.0, 1.0, "adjudication"), ("X", "Y", 2.0, 1.0, "judgment")]
    assert triples(build_pairs(store, c, aggregate="majority"))[0] == ("B", "A", 3.0, 1.0, "adjudication")


def test_gold_answer_is_used_instead_of_votes(store, make_user, make_campaign):
    c = make_campaign(gold_rate=1.0, overlap=5)
    item, (a, b) = make_item(store, c, ["wrong", "right"], gold_answer=1)
    rate(store, c, make_user(), item, [a, b], strength=3)  # a rater failing the gold item
    pairs = build_pairs(store, c)
    assert [(p.chosen, p.rejected, p.source, p.chosen_response_id) for p in pairs] == [("right", "wrong", "gold", b)]


def test_corrections_beat_every_original_response(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, make_user(), item, [a, b], strength=1, both_bad=True, correction="A much better answer.")
    pairs = build_pairs(store, c)
    assert [(p.chosen, p.rejected, p.source, p.chosen_response_id, p.rejected_response_id) for p in pairs] == [
        ("A much better answer.", "A", "correction", None, a),
        ("A much better answer.", "B", "correction", None, b),
    ]
    assert build_pairs(store, c, include_corrections=False) == []


def test_adjudication_keeps_only_the_accepted_correction(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, u1 := make_user(), item, [a, b], correction="Correction one.")
    rate(store, c, make_user(), item, [a, b], correction="Correction two.")
    adjudicate(store, item, make_user("reviewer"), [a, b], accepted=judgment_id(store, item, u1))
    chosen = [p.chosen for p in build_pairs(store, c) if p.source == "correction"]
    assert chosen == ["Correction one.", "Correction one."]


def test_majority_one_pair_per_item_and_even_splits_skipped(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    clear, (a, b) = make_item(store, c, ["A", "B"])
    split, (x, y) = make_item(store, c, ["X", "Y"])
    users = [make_user() for _ in range(3)]
    for u, strength in zip(users, (3, 2, 1), strict=True):
        rate(store, c, u, clear, [a, b] if strength > 1 else [b, a], strength=strength)
    rate(store, c, users[0], split, [x, y])
    rate(store, c, users[1], split, [y, x])
    pairs = build_pairs(store, c, aggregate="majority")
    assert [(p.item_id, p.chosen, p.margin, p.n_votes) for p in pairs] == [(clear, "A", 2.5, 2)]
    assert len(build_pairs(store, c, aggregate="all")) == 5


def test_majority_tie_follows_the_ties_option(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, make_user(), item, tie=True, strength=0)
    rate(store, c, make_user(), item, tie=True, strength=0)
    rate(store, c, make_user(), item, [a, b])
    assert build_pairs(store, c, aggregate="majority") == []
    assert [p.weight for p in build_pairs(store, c, aggregate="majority", ties="half")] == [0.5, 0.5]


def test_dawid_skene_trusts_the_reliable_rater(store, make_user, make_campaign):
    pytest.importorskip("hitl.quality.dawid_skene")
    c = make_campaign(gold_rate=0.0, overlap=5)
    made = [make_item(store, c, [f"good {i}", f"bad {i}"]) for i in range(6)]
    good1, good2, contrarian = make_user(), make_user(), make_user()
    for n, (item, (good, bad)) in enumerate(made):
        rate(store, c, good1, item, [good, bad])
        rate(store, c, contrarian, item, [bad, good])
        if n < 5:
            rate(store, c, good2, item, [good, bad])
    # The last item is a 1-1 split: majority skips it, Dawid-Skene knows whom to believe.
    assert [p.item_id for p in build_pairs(store, c, aggregate="majority")] == [m[0] for m in made[:5]]
    pairs = build_pairs(store, c, aggregate="dawid_skene")
    assert [p.item_id for p in pairs] == [m[0] for m in made]
    assert all(p.chosen.startswith("good") and 0.5 < p.weight < 1.0 for p in pairs)
    assert pairs[-1].weight < min(p.weight for p in pairs[:-1])  # the contested item is the least certain
    assert pairs[-1].n_votes == 1 and pairs[0].n_votes == 2


def test_unpaired_labels(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    item, (a, b) = make_item(store, c, ["A", "B"])
    rate(store, c, make_user(), item, [a, b])
    rate(store, c, make_user(), item, tie=True, strength=0)  # says nothing
    rate(store, c, make_user(), item, [b, a], strength=1, both_bad=True, correction="Fixed.")
    rows = [(r.completion, r.label, r.source) for r in unpaired_rows(store, c)]
    assert rows == [
        ("A", True, "judgment"),
        ("B", False, "judgment"),
        ("A", False, "judgment"),
        ("B", False, "judgment"),
        ("Fixed.", True, "correction"),
    ]


def test_pairs_carry_chat_prompts_and_bad_options_are_refused(store, make_user, make_campaign):
    c = make_campaign(gold_rate=0.0, overlap=5)
    chat = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
    item, (a, b) = make_item(store, c, ["Hello!", "Go away."], messages=chat)
    rate(store, c, make_user(), item, [a, b])
    (pair,) = build_pairs(store, c.name)
    assert pair.messages == chat and pair.prompt is None
    with pytest.raises(InvalidInput, match="ties must be one of"):
        build_pairs(store, c, ties="both")
