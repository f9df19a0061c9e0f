"""Checking a rater's judgment against its item and its campaign's rules, before anything is written.

    python -c "from hitl.queue.validate import validate_judgment; help(validate_judgment)"

Submits and imports both pass through it (hitl.queue.record.judgment_row), so every stored judgment has the same
canonical form whichever way it came in.
"""

from __future__ import annotations

from hitl.config import ASPECT_MAX, FLAGS
from hitl.errors import InvalidInput
from hitl.queue.types import JudgmentInput, JudgmentRules

MAX_RATIONALE_CHARS = 5_000
MAX_CORRECTION_BYTES = 200_000


def validate_judgment(j: JudgmentInput, response_ids: list[int], rules: JudgmentRules) -> JudgmentInput:
    """Check a judgment against its item's responses and its campaign's rules (InvalidInput); return it in
    canonical form: the ranking filled in for a tie, flags sorted and unique, texts stripped."""
    pairwise = rules.item_kind == "pairwise"
    if not isinstance(j.strength, int) or not 0 <= j.strength <= 3:
        raise InvalidInput("strength must be 0 (tie), 1, 2 or 3 (much better)")
    if j.tie and not (rules.allow_tie or (j.both_bad and rules.allow_both_bad)):
        raise InvalidInput("this campaign does not allow ties: pick the better response")
    if j.both_bad and not rules.allow_both_bad:
        raise InvalidInput("this campaign does not allow 'both bad': pick the better response")
    if j.tie and not pairwise:
        raise InvalidInput("ties are only for pairwise items: rank every response")
    ranking = [int(r) for r in j.ranking]
    if j.tie:
        if j.strength != 0:
            raise InvalidInput("a tie has strength 0")
        ranking = ranking or list(response_ids)
    elif pairwise and j.strength == 0:
        raise InvalidInput("strength 0 means a tie: set tie, or give strength 1-3")
    if sorted(ranking) != sorted(response_ids):
        raise InvalidInput(f"ranking must list each of the item's responses {sorted(response_ids)} once")
    unknown = set(j.flags) - set(FLAGS)
    if unknown:
        raise InvalidInput(f"unknown flag(s) {', '.join(sorted(unknown))}: use {', '.join(FLAGS)}")
    if len(j.rationale or "") > MAX_RATIONALE_CHARS:
        raise InvalidInput(f"rationale is longer than {MAX_RATIONALE_CHARS} characters")
    if rules.require_rationale and (j.tie or j.both_bad) and not (j.rationale or "").strip():
        raise InvalidInput("this campaign asks for a rationale with ties and 'both bad'")
    correction = j.correction.strip() if j.correction else None
    if correction and len(correction.encode()) > MAX_CORRECTION_BYTES:
        raise InvalidInput(f"the corrected response is over {MAX_CORRECTION_BYTES:,} bytes")
    if j.seconds_on_item is not None and not 0 <= j.seconds_on_item < 10**7:
        raise InvalidInput("seconds_on_item must be a non-negative number of seconds")
    aspects = validate_aspects(j.aspects, response_ids, rules.aspects)
    return JudgmentInput(
        ranking=ranking,
        strength=j.strength,
        tie=j.tie,
        both_bad=j.both_bad,
        flags=sorted(set(j.flags)),
        rationale=(j.rationale or "").strip(),
        correction=correction or None,
        seconds_on_item=j.seconds_on_item,
        aspects=aspects,
    )


def validate_aspects(
    scores: dict | None, response_ids: list[int], aspects: tuple[str, ...]
) -> dict[int, dict[str, int]]:
    """Aspect scores in canonical form ({response id: {aspect: score}}, responses and aspects in order, empty ones
    left out); InvalidInput for a response not on the item, an aspect the campaign does not score, or a score
    outside 0..ASPECT_MAX."""
    if not scores:
        return {}
    if not aspects:
        raise InvalidInput("this campaign scores no aspects: send the preference alone")
    if not isinstance(scores, dict):
        raise InvalidInput("aspects must map response ids to {aspect: score}")
    out: dict[int, dict[str, int]] = {}
    for key, given in scores.items():
        try:
            rid = int(key)
        except (TypeError, ValueError):
            raise InvalidInput(f"aspects: {key!r} is not a response id") from None
        if rid not in response_ids:
            raise InvalidInput(f"aspects: response {rid} is not one of the item's responses {sorted(response_ids)}")
        if not isinstance(given, dict):
            raise InvalidInput(f"aspects of response {rid} must map aspect names to scores")
        unknown = sorted(set(given) - set(aspects))
        if unknown:
            raise InvalidInput(
                f"unknown aspect(s) {', '.join(map(str, unknown))}: this campaign scores {', '.join(aspects)}"
            )
        for name, score in given.items():
            if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= ASPECT_MAX:
                raise InvalidInput(
                    f"aspect {name} of response {rid} must be a whole number 0-{ASPECT_MAX}, not {score!r}"
                )
        if given:
            out[rid] = {name: int(given[name]) for name in aspects if name in given}
    return {rid: out[rid] for rid in response_ids if rid in out}
