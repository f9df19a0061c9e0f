"""hitl.leaderboard_report on plain battle records: raw and style-controlled side by side, ranks and verdicts,
categories, and bad input (too few battles, unrated models, one model always winning)."""

from __future__ import annotations

import math
import random

import pytest

from hitl.leaderboard_report import MIN_BATTLES_TO_RANK, BattleRecord, draw, report

PLAIN = (300, 0, 0, 0, 0)


def _records(n: int, seed: int = 0, length_bias: bool = False) -> list[BattleRecord]:
    """`big` is truly strong; `long` writes twice as long as anyone on average (every answer's length varies, so
    length and model are not the same thing) and wins by length only when length_bias."""
    rng = random.Random(seed)
    strength = {"big": 1.6, "mid": 0.0, "long": 0.0, "small": -1.0}
    out = []
    for k in range(n):
        a, b = rng.sample(sorted(strength), 2)
        la, lb = (int((600 if m == "long" else 300) * rng.uniform(0.4, 1.6)) for m in (a, b))
        logit = strength[a] - strength[b] + (3.0 * (la - lb) / (la + lb) if length_bias else 0.0)
        outcome = 1.0 if rng.random() < 1 / (1 + math.exp(-logit)) else 0.0
        tags = ("code",) if k % 2 else ("chat", "hard")
        out.append(BattleRecord(a, b, outcome, (la, k % 3, 0, 0, 0), (lb, 0, 0, 0, 0), tags))
    return out


def test_raw_and_style_side_by_side_with_ranks_verdicts_and_coefficients():
    draws = draw(_records(1200, length_bias=True), known=["big", "mid", "long", "small", "fresh"])
    raw = report(draws, rounds=300, view="raw")
    style = report(draws, rounds=300, view="style")
    by_raw = {r.model: r for r in raw.rows}
    by_style = {r.model: r for r in style.rows}
    # Length flatters `long` on the raw board; the control takes it back towards `mid`.
    assert by_raw["long"].rating - by_raw["mid"].rating > 100
    assert abs(by_style["long"].style_rating - by_style["mid"].style_rating) < 60
    assert by_raw["big"].low < by_raw["big"].rating < by_raw["big"].high
    assert by_raw["big"].style_low < by_raw["big"].style_rating < by_raw["big"].style_high
    assert [r.model for r in raw.rows][0] == "big" and raw.rows[0].rank == "1"
    assert by_raw["fresh"].rank == "unrated" and by_raw["fresh"].rating is None and raw.rows[-1].model == "fresh"
    length = next(c for c in style.coefficients if c.feature == "length")
    assert length.low > 0.2 and length.n == 1200
    assert len(raw.verdicts) == 3 and raw.verdicts[0].text.startswith("big above")
    assert 1.96 < raw.critical_value < 3.5 and raw.rounds == 300
    for v, plan in zip([v for v in style.verdicts if not v.separated], style.plans, strict=True):
        assert (plan.a, plan.b) == (v.higher, v.lower) and plan.n > 0 and plan.low <= plan.rate <= plan.high
    # markdown lists vary on A's side; headers, bold and code never do
    assert style.skipped_features == ["headers", "bold", "code_blocks"]


def test_categories_rank_each_tag_and_say_when_too_few():
    records = _records(400, seed=1) + [BattleRecord("big", "small", 1.0, PLAIN, PLAIN, ("rare",))] * 3
    r = report(draw(records, known=["big", "mid", "long", "small"]), rounds=200)
    boards = {c.tag: c for c in r.categories}
    assert set(boards) == {"chat", "code", "hard", "rare"}
    assert boards["code"].n_battles == 200 and boards["code"].rows[0].rank != "unrated"
    assert sum(row.battles for row in boards["code"].rows) == 2 * 200
    assert (
        boards["rare"].rows == []
        and "too few to rank" in boards["rare"].message
        and "3 battles" in boards["rare"].message
    )


def test_too_few_battles_rank_nobody():
    records = [BattleRecord("a", "b", 1.0, PLAIN, PLAIN)] * (MIN_BATTLES_TO_RANK - 1)
    r = report(draw(records))
    assert "too few" in r.message and r.verdicts == [] and {row.rank for row in r.rows} == {"1–2"}


def test_one_model_always_winning_is_finite_and_open_ended():
    records = [BattleRecord("champ", "chump", 1.0, PLAIN, PLAIN)] * 30 + [
        BattleRecord("chump", "third", 0.5, PLAIN, PLAIN)
    ] * 10
    r = report(draw(records), rounds=200)
    rows = {row.model: row for row in r.rows}
    assert math.isfinite(rows["champ"].rating) and math.isfinite(rows["champ"].style_rating)
    assert rows["champ"].high is None and rows["champ"].style_high is None and rows["champ"].low is not None
    assert rows["chump"].low is not None and rows["third"].rating < rows["champ"].rating


def test_no_battles_lists_every_model_unrated():
    r = report(draw([], known=["x", "y"]))
    assert r.message == "no battles yet" and [row.rank for row in r.rows] == ["unrated", "unrated"]
    assert r.verdicts == [] and r.categories == [] and r.coefficients == []


def test_bad_view_and_rounds_are_refused():
    draws = draw([])
    with pytest.raises(ValueError, match="view"):
        report(draws, view="pretty")
    with pytest.raises(ValueError, match="rounds"):
        report(draws, rounds=5000)


def test_down_weighted_battles_count_less_on_every_board():
    """40 wins of `a` on one repeated prompt (weight 1/40 each, hitl.arena_integrity) against 20 wins of `b`."""
    repeated = [BattleRecord("a", "b", 1.0, PLAIN, PLAIN, ("x",), 1 / 40)] * 40
    spread = [BattleRecord("b", "a", 1.0, PLAIN, PLAIN, ("x",))] * 12 + [
        BattleRecord("a", "b", 1.0, PLAIN, PLAIN, ("x",))
    ] * 8
    r = report(draw(repeated + spread), rounds=100)
    rows = {row.model: row for row in r.rows}
    assert rows["b"].rating > rows["a"].rating and rows["b"].style_rating > rows["a"].style_rating
    assert rows["a"].wins == 48  # the counts stay whole battles
    category = {row.model: row for row in r.categories[0].rows}
    assert category["b"].rating > category["a"].rating
