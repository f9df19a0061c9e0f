"""Comparing two policies: generation is faked, judging and the win-rate arithmetic are real."""

from types import SimpleNamespace

import pytest
from tiny import tiny_llama, tiny_tokenizer

from hitl.errors import InvalidInput
from hitl.io import import_prompts
from hitl.simulate import load_oracle
from policy.config import GenerationSettings
from policy.evaluate import compare_policies, judge_pairs


@pytest.fixture
def two_policies(tmp_path):
    tok = tiny_tokenizer()
    dirs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        tiny_llama(tok).save_pretrained(folder)
        tok.save_pretrained(folder)
        dirs.append(str(folder))
    return dirs


CALLS = []


def fake_sampler(resolved, prompts, settings):
    """Policy "a" answers tersely, "b" rambles."""
    terse = resolved.path.endswith("a")
    CALLS.append((resolved.path, len(prompts)))
    record = {**settings.sampling_record(), "sample_index": 0}
    return [
        SimpleNamespace(
            prompt_index=i,
            text="Yes." if terse else "Well, it depends on many things, " * 3,
            sampling=lambda: record,
        )
        for i in range(len(prompts))
    ]


def test_concise_oracle_prefers_the_terse_policy(sqlite_store, tmp_path, two_policies):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(f'{{"prompt": "question {i}?", "tags": ["eval"]}}\n' for i in range(30)))
    import_prompts(sqlite_store, prompts)
    a, b = two_policies
    cmp = compare_policies(
        sqlite_store,
        a,
        b,
        "eval",
        load_oracle("rule:concise"),
        GenerationSettings(),
        bootstrap=100,
        sampler=fake_sampler,
    )
    assert cmp.result.n == 30 and cmp.result.rate == 1.0 and cmp.result.significant
    # The style control sits beside the length-controlled rate, with its n and interval.
    assert cmp.style.n == 30 and 0.5 < cmp.style.low <= cmp.style.rate < cmp.style.high == 1.0
    # The terse policy is shorter in every pair: its length cannot be told apart from the policy itself.
    assert cmp.style.confounded == ["length"]
    assert cmp.to_dict()["style_controlled"]["n"] == 30
    assert all(r["outcome"] == 1.0 for r in cmp.rows)
    reverse = compare_policies(
        sqlite_store,
        b,
        a,
        "eval",
        load_oracle("rule:concise"),
        GenerationSettings(),
        bootstrap=100,
        sampler=fake_sampler,
    )
    assert reverse.result.rate == 0.0
    # The second comparison reused every stored answer (same sampling settings) and generated nothing.
    assert [(x.reused, x.generated) for x in cmp.sides] == [(0, 30), (0, 30)]
    assert [(x.reused, x.generated) for x in reverse.sides] == [(30, 0), (30, 0)]
    assert len(CALLS) == 2 and cmp.tally == (30, 0, 0)
    assert all(r["a_id"] and r["b_id"] for r in reverse.rows)
    # Other settings are another distribution: nothing is reused.
    longer = GenerationSettings(max_new_tokens=GenerationSettings().max_new_tokens * 2)
    again = compare_policies(
        sqlite_store, a, b, "eval", load_oracle("rule:concise"), longer, bootstrap=100, sampler=fake_sampler
    )
    assert [(x.reused, x.generated) for x in again.sides] == [(0, 30), (0, 30)]


def test_same_version_twice_is_refused(sqlite_store, two_policies):
    with pytest.raises(InvalidInput, match="two different versions"):
        compare_policies(
            sqlite_store, two_policies[0], two_policies[0], "all", load_oracle("rule:concise"), GenerationSettings()
        )


def test_judge_pairs_records_ties():
    rows = judge_pairs(["q"], ["same"], ["same"], load_oracle("rule:concise"))
    assert rows[0]["outcome"] == 0.5


def test_default_names_the_embedded_policy_by_its_version_name(sqlite_store):
    """`--against default` and `--b default` find the stored answers of the default (registered under its name)."""
    from hitl.catalog import register_model_version
    from hitl.embedded import EMBEDDED
    from policy.fill import find_version

    with sqlite_store.write() as conn:
        vid = register_model_version(conn, kind="policy", name=EMBEDDED["policy"].name, path="/models/smollm2")
    with sqlite_store.read() as conn:
        assert find_version(conn, "default").id == vid
        assert find_version(conn, EMBEDDED["policy"].name).id == vid
        assert find_version(conn, "no-such-version") is None
