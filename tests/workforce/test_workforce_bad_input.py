"""Issue 14's bad input, at the CLI and in the store: a qualification with no gold items, a skill no rater has,
thresholds outside [0, 1], a rater removed mid-lease, and gold decisions, each refused with a clear message and
nothing changed half-way; `hitl stats --by-tag` and `hitl workforce gold` as people and scripts read them."""

import json

import pytest
from sqlalchemy import select
from workforce_helpers import add_tagged_items

from hitl.campaigns import create_campaign, get_campaign
from hitl.cli.main import main
from hitl.config import CampaignSettings
from hitl.errors import LeaseError
from hitl.queue import JudgmentInput, next_item, submit
from hitl.simulate import RaterBehaviour, load_oracle, simulate
from hitl.store import open_store
from hitl.store.schema import items, judgments, leases
from hitl.users import set_active
from hitl.workforce.gold import proposals


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("HITL_HOME", str(tmp_path / "home"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    c = create_campaign(store, CampaignSettings(name="work", overlap=3, gold_rate=0.0))
    add_tagged_items(store, c, 20, tags=("code",))
    add_tagged_items(store, c, 20, tags=("chat",), start=100)
    crowd = [RaterBehaviour(f"sim-{i}", flip=0.03, allow_tie=False) for i in range(4)]
    simulate(store, c, crowd, load_oracle("rule:contains=correct"), 120, seed=1)
    store.close()
    return url


def _run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bad_rules_at_the_cli_exit_1_naming_the_fix_and_change_nothing(db, capsys):
    for flags, message in (
        (["--qualification-items", "3"], "has no gold items to qualify raters with"),
        (["--skill-map", "med=medical"], "no active user has the skill 'medical'"),
        (["--audit-share", "1.5"], "audit_share must be between 0 and 1"),
        (["--qualification-pass", "-0.2", "--min-seconds", "3"], "qualification_pass must be between 0 and 1"),
    ):
        code, _, err = _run(capsys, "workforce", "rules", "work", *flags, "--db", db)
        assert code == 1 and message in err and "Traceback" not in err, (flags, err)
    code, out, _ = _run(capsys, "workforce", "rules", "work", "--json", "--db", db)
    rules = json.loads(out)["rules"]
    assert code == 0 and (rules["min_seconds"], rules["qualification_items"], rules["skills"]) == (0.0, 0, {})
    code, _, err = _run(capsys, "workforce", "skills", "sim-0", "--add", "medical", "--db", db)
    assert code == 0
    assert _run(capsys, "workforce", "rules", "work", "--skill-map", "med=medical", "--db", db)[0] == 0
    code, out, _ = _run(capsys, "workforce", "skills", "sim-0", "--remove", "medical", "--db", db)
    assert code == 0 and "no active user holds 'medical' (campaign(s) work) any more" in " ".join(out.split())
    assert _run(capsys, "workforce", "skills", "sim-1", "--add", "medical", "--db", db)[0] == 0
    code, out, _ = _run(capsys, "users", "disable", "sim-1", "--db", db)
    assert code == 0 and "no active user holds 'medical' (campaign(s) work) any more" in " ".join(out.split())
    code, _, err = _run(
        capsys, "route", "curve", "--campaign", "work", "--oracle", "rule:contains=correct", "--thresholds", "1.5",
        "--db", db,
    )  # fmt: skip
    assert code == 1 and "outside [0, 1]" in err


def test_gold_at_the_cli_lists_confirms_all_or_nothing_and_as_json(db, capsys):
    store = open_store(db)
    found = proposals(store, get_campaign(store, "work"))
    assert len(found) >= 10
    first, second = found[0].item_id, found[1].item_id
    code, out, _ = _run(capsys, "workforce", "gold", "work", "--db", db)
    assert code == 0 and "Proposed as gold in work" in out and str(first) in out
    code, _, err = _run(capsys, "workforce", "gold", "work", "--min-competence", "1.5", "--db", db)
    assert code == 1 and "min_competence must be between 0 and 1" in err
    with store.read() as conn:
        not_proposed = conn.execute(select(items.c.id).where(items.c.id.notin_([p.item_id for p in found]))).scalar()
    code, _, err = _run(capsys, "workforce", "gold", "work", "--confirm", first, "--confirm", not_proposed, "--db", db)
    assert code == 1 and f"item {not_proposed} is not proposed as gold" in err and "nothing was changed" in err
    with store.read() as conn:
        assert not conn.execute(select(items.c.is_gold).where(items.c.id == first)).scalar()  # all or nothing
    code, out, _ = _run(
        capsys, "workforce", "gold", "work", "--confirm", first, "--decline", second, "--json", "--db", db
    )
    body = json.loads(out)
    assert code == 0 and len(body["decided"]) == 2 and "gold item now" in body["decided"][0]
    assert {p["item_id"] for p in body["proposals"]}.isdisjoint({first, second})
    with store.read() as conn:
        assert conn.execute(select(items.c.is_gold).where(items.c.id == first)).scalar()
    store.close()


def test_stats_by_tag_as_tables_and_json(db, capsys):
    code, out, _ = _run(capsys, "stats", "--campaign", "work", "--by-tag", "--db", db)
    assert code == 0 and "By prompt tag" in out and "Raters by prompt tag" in out and "n=60" in out
    code, out, _ = _run(capsys, "stats", "--campaign", "work", "--by-tag", "--json", "--db", db)
    body = json.loads(out)
    assert [t["tag"] for t in body["tags"]] == ["chat", "code"]
    assert all(t["judgments"] == 60 and t["first_shown n"] > 0 for t in body["tags"])
    assert {r["rater"] for r in body["rater_tags"]} == {f"sim-{i}" for i in range(4)}
    code, out, _ = _run(capsys, "stats", "--campaign", "work", "--json", "--db", db)
    assert "tags" not in json.loads(out)  # only when asked


def test_a_rater_disabled_mid_lease_records_nothing_and_the_item_returns_at_once(store, make_campaign, make_user):
    c = make_campaign(overlap=1, gold_rate=0.0)
    add_tagged_items(store, c, 1)
    rater, other = make_user(), make_user()
    a = next_item(store, rater, c)
    assert next_item(store, other, c) is None  # the only item is leased
    set_active(store, rater.name, False)
    ranking = [r.response_id for r in a.responses]
    with pytest.raises(LeaseError, match="already released"):
        submit(store, a.lease_token, "k1", JudgmentInput(ranking=ranking, strength=2), user=rater)
    with store.read() as conn:
        assert conn.execute(select(judgments.c.id)).first() is None
        assert conn.execute(select(leases.c.state).where(leases.c.token == a.lease_token)).scalar() == "released"
    assert next_item(store, other, c).item_id == a.item_id


def test_removing_the_last_holder_s_routed_skill_is_said_out_loud(store, make_campaign, make_user):
    from hitl.workforce.manage import set_rules
    from hitl.workforce.skills import set_skills, unheld_warning

    c = make_campaign()
    alice, bob = make_user(), make_user()
    set_skills(store, alice.name, add=["medical", "legal"])
    set_skills(store, bob.name, add=["medical"])
    set_rules(store, c.name, skills={"med": "medical"})
    assert set_skills(store, alice.name, remove=["medical", "legal"]) == []  # never refused
    assert unheld_warning(store, ["medical", "legal"]) is None  # bob still has it; no campaign needs legal
    set_skills(store, bob.name, remove=["medical"])
    warning = unheld_warning(store, ["medical"])
    assert f"no active user holds 'medical' (campaign(s) {c.name}) any more" in warning
