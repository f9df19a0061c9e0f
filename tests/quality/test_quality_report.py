"""rater_report names the right problems for the right raters; campaign_summary gives the headline numbers."""

import math

import pytest
from quality_sim import Rater, row, simulate

from hitl.quality import RaterQuality, Thresholds, campaign_summary, make_thresholds, rater_report

HONEST = [f"honest{i}" for i in range(4)]


@pytest.fixture(scope="module")
def sim():
    raters = {name: Rater("honest", 0.9) for name in HONEST}
    raters.update(
        first=Rater("first"),
        longer=Rater("longer"),
        spam=Rater("random"),
        tired=Rater("fatigued", p_correct=0.95, p_end=0.3),
        adv=Rater("adversarial", 0.8),
        flagger=Rater("honest", 0.9, flag_share=0.5),
    )
    return simulate(raters, n_items=300, seed=0)


@pytest.fixture(scope="module")
def report(sim):
    return {q.rater: q for q in rater_report(sim.rows)}


def kinds(q: RaterQuality) -> set[str]:
    return {issue.split(":")[0].split(" ")[0] for issue in q.issues}


def test_one_record_per_rater_sorted(sim):
    names = [q.rater for q in rater_report(sim.rows)]
    assert names == sorted(sim.raters)


def test_honest_raters_have_no_issues(report):
    for name in [*HONEST, "flagger"]:
        assert report[name].issues == (), (name, report[name].issues)
        assert not report[name].flagged


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("first", {"position"}),
        ("longer", {"length"}),
        ("spam", {"too", "gold", "majority", "low"}),
        ("tired", {"fatigue"}),
        ("adv", {"gold", "majority", "low"}),
    ],
)
def test_bad_raters_get_their_issue(report, name, expected):
    assert expected <= kinds(report[name]), report[name].issues
    assert report[name].flagged


def test_issues_name_only_the_real_habit(report):
    # Habits are specific: nobody but the position-biased rater is flagged for position, and so on.
    for habit, owner in [("position", "first"), ("length", "longer"), ("too", "spam"), ("fatigue", "tired")]:
        assert [n for n, q in report.items() if habit in kinds(q)] == [owner]


def test_issue_texts_are_readable(report):
    pos = next(i for i in report["first"].issues if i.startswith("position bias"))
    assert pos.startswith("position bias: 100% first-shown where an honest rater would pick ")
    assert "q=" in pos
    assert "too fast: 100% under 3 s" in report["spam"].issues
    gold = next(i for i in report["adv"].issues if i.startswith("gold accuracy"))
    assert "< 60%" in gold


def test_metric_values(report, sim):
    honest = report["honest0"]
    assert honest.n_judgments == 300
    assert 0.8 < honest.gold.rate <= 1.0
    assert honest.competence > 0.8
    assert report["spam"].competence < 0.5
    assert report["tired"].fatigue_slope < -0.05 and report["tired"].fatigue_p < 0.01
    assert report["flagger"].flagged_share == pytest.approx(0.5, abs=0.08)
    assert honest.flagged_share == 0.0


def test_threshold_overrides(sim):
    relaxed = {q.rater: q for q in rater_report(sim.rows, too_fast_seconds=0.5, min_gold_accuracy=0.1)}
    assert "too" not in kinds(relaxed["spam"])
    assert "gold" not in kinds(relaxed["adv"])
    strict = {q.rater: q for q in rater_report(sim.rows, min_competence=0.95)}
    assert "low" in kinds(strict["honest0"])
    with pytest.raises(TypeError, match="unknown threshold"):
        rater_report(sim.rows, not_a_threshold=1)


def test_make_thresholds():
    assert make_thresholds() == Thresholds()
    assert make_thresholds(fdr=0.1).fdr == 0.1


def test_small_samples_are_not_flagged():
    # Three wrong gold answers in 2-second clicks, always the first-shown response: too little evidence to flag.
    rows = [row(i, "a", 0, first_shown=0, seconds=2.0, gold_answer=1, created_at=float(i)) for i in range(3)]
    (q,) = rater_report(rows)
    assert q.gold.rate == 0.0
    assert q.issues == ()


def test_fatigue_needs_a_significant_drop():
    # Two stretches of 20 gold judgments: 15/20 right in positions 0-9, 13/20 in positions 10-19. The slope (-0.1 per
    # bucket) is steep enough, but with 40 gold judgments it is well within noise (one-sided p ~ 0.25).
    wrong_by_stretch = ({8, 9, 16, 17, 18, 19}, {7, 8, 9, 17, 18, 19})  # bucket 0: 2 + 3 wrong; bucket 1: 4 + 3
    rows = []
    for s, (base, wrong) in enumerate(zip((0.0, 3600.0), wrong_by_stretch, strict=True)):
        for pos in range(20):
            rows.append(
                row(
                    100 * s + pos,
                    "a",
                    1 if pos in wrong else 0,
                    first_shown=pos % 2,
                    seconds=10.0,
                    created_at=base + 10.0 * pos,
                    gold_answer=0,
                )
            )
    (q,) = rater_report(rows)
    assert (q.gold.correct, q.gold.total) == (28, 40)
    assert q.fatigue_slope == pytest.approx(-0.1)
    assert 0.1 < q.fatigue_p < 0.5
    assert q.issues == ()
    (loose,) = rater_report(rows, fdr=0.9)  # its q-value counts the rater's other tests too
    assert any(i.startswith("fatigue") for i in loose.issues)


def test_campaign_summary(sim):
    summary = campaign_summary(sim.rows)
    assert summary["n_judgments"] == len(sim.rows)
    assert summary["n_items"] == 300
    assert summary["n_raters"] == len(sim.raters)
    assert -1.0 < summary["fleiss_kappa"] < 1.0
    assert 0.0 < summary["alpha_ordinal"] < 0.6
    assert 0.4 < summary["length_share"] < 0.65
    assert all(isinstance(v, int | float) for v in summary.values())

    honest = simulate({name: Rater("honest", 0.95) for name in HONEST}, n_items=100, seed=3)
    clean = campaign_summary(honest.rows)
    assert clean["alpha_ordinal"] > summary["alpha_ordinal"] + 0.3
    assert clean["fleiss_kappa"] > 0.6
    assert math.isclose(clean["fleiss_kappa"], clean["alpha_nominal"], abs_tol=0.01)
