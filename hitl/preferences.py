"""Judgments -> preference pairs (chosen over rejected) and unpaired KTO-style rows, straight from the store.

    python -c "import hitl.store as s, hitl.preferences as p; print(p.build_pairs(s.open_store())[:3])"

Torch-free: `hitl.io.exports` writes these rows to files, and reward-model training builds its dataset from them.

Precedence per item: a reviewer's adjudication (the latest one) replaces the raters' votes; otherwise a gold item
gives its gold answer; otherwise the votes are used, one pair per vote or aggregated. A K-way ranking counts as
every (better, worse) pair it implies. Corrections written by raters (or the one a reviewer accepted) add pairs
of the correction over each original response.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from hitl.campaigns import Campaign, get_campaign
from hitl.errors import InvalidInput
from hitl.store import Store
from hitl.store.chunks import in_chunks
from hitl.store.schema import adjudications, items, judgments, prompts, responses

TIES = ("drop", "half")
BOTH_BAD = ("drop", "keep")
AGGREGATES = ("all", "majority", "dawid_skene")
# Gold answers and corrections carry no rater strength; 2 is the strength a rater gives by default.
DEFAULT_MARGIN = 2.0


MARGIN_PER_STRENGTH = 0.5  # the training margin per step of rater strength above "slightly better"


def training_margin(strength: float | None, per_strength: float = MARGIN_PER_STRENGTH) -> float:
    """Margin for TRL's loss -log sigmoid(r_chosen - r_rejected - margin): 0 for 'slightly better' (and ties),
    `per_strength` more for each step up the 1-3 scale, so only stronger judgments ask for a wider gap. The one
    rule: reward training and the `margin` column of exports both use it."""
    if strength is None:
        return 0.0
    return per_strength * max(0.0, float(strength) - 1.0)


@dataclass(frozen=True)
class PreferencePair:
    """One training pair. `margin` is the rater strength (1-3; 0 for a tie; the mean when aggregated); `weight`
    scales its loss (0.5 for each order of a tie, the Dawid-Skene posterior); `n_votes` counts the judgments (or
    the one reviewer / gold decision) behind it. `chosen_response_id` is None when `chosen` is a correction."""

    prompt_id: int
    prompt: str | None
    messages: list[dict] | None
    chosen: str
    rejected: str
    chosen_response_id: int | None
    rejected_response_id: int | None
    margin: float
    item_id: int
    source: str  # judgment | adjudication | gold | correction | import
    n_votes: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class UnpairedRow:
    """One completion with a desirable (True) / undesirable (False) label, for KTO-style training."""

    prompt_id: int
    prompt: str | None
    messages: list[dict] | None
    completion: str
    response_id: int | None
    label: bool
    item_id: int
    source: str


@dataclass(frozen=True)
class _Vote:
    """A judgment or an adjudication of one item."""

    ranking: list[int]
    strength: int
    tie: bool
    both_bad: bool
    source: str
    correction: str | None = None
    rater: int | None = None  # user id (None for adjudications)
    first_shown: int | None = None  # response id the rater saw first


@dataclass
class ItemData:
    """One item as build_pairs sees it: prompt, response texts by id, every vote, the latest adjudication."""

    id: int
    campaign_id: int
    prompt_id: int
    prompt: str | None
    messages: list[dict] | None
    response_ids: list[int]
    is_gold: bool
    gold_answer: int | None
    texts: dict[int, str] = field(default_factory=dict)
    votes: list[_Vote] = field(default_factory=list)
    adjudication: _Vote | None = None


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def load_items(store: Store, campaign: Campaign | str | int | None = None) -> list[ItemData]:
    """Items (of one campaign, or all) with prompt, response texts, votes and latest adjudication, by item id.

    One read transaction, so votes, adjudications and texts come from the same snapshot.
    """
    if campaign is not None and not isinstance(campaign, Campaign):
        campaign = get_campaign(store, campaign)
    query = select(items, prompts.c.text, prompts.c.messages).join(prompts, prompts.c.id == items.c.prompt_id)
    jquery = select(judgments, items.c.campaign_id).join(items, items.c.id == judgments.c.item_id)
    aquery = select(adjudications).join(items, items.c.id == adjudications.c.item_id)
    if campaign is not None:
        query = query.where(items.c.campaign_id == campaign.id)
        jquery = jquery.where(items.c.campaign_id == campaign.id)
        aquery = aquery.where(items.c.campaign_id == campaign.id)
    with store.read() as conn:
        found = {
            r.id: ItemData(
                r.id, r.campaign_id, r.prompt_id, r.text, r.messages, list(r.response_ids), r.is_gold, r.gold_answer
            )
            for r in conn.execute(query.order_by(items.c.id))
        }
        rids = sorted({rid for it in found.values() for rid in it.response_ids})
        texts = {}
        for chunk in in_chunks(rids):
            texts.update(conn.execute(select(responses.c.id, responses.c.text).where(responses.c.id.in_(chunk))).all())
        corrections = {}
        for j in conn.execute(jquery.order_by(judgments.c.id)):
            corrections[j.id] = j.correction
            source = "import" if j.source == "import" else "judgment"
            first = j.display_order[0] if j.display_order else None
            found[j.item_id].votes.append(
                _Vote(
                    list(j.ranking), j.strength, bool(j.tie), bool(j.both_bad), source, j.correction, j.user_id, first
                )
            )
        # Latest adjudication per item wins: later rows overwrite earlier ones.
        for a in conn.execute(aquery.order_by(adjudications.c.created_at, adjudications.c.id)):
            accepted = None
            if a.accepted_correction_judgment_id is not None:
                accepted = corrections.get(a.accepted_correction_judgment_id)
            found[a.item_id].adjudication = _Vote(
                list(a.ranking), a.strength, bool(a.tie), bool(a.both_bad), "adjudication", accepted
            )
    for it in found.values():
        it.texts = {rid: texts[rid] for rid in it.response_ids}
    return list(found.values())


def _pair(
    it: ItemData, chosen: int | str, rejected: int, margin: float, source: str, n: int, weight: float
) -> PreferencePair:
    """A pair of two of the item's responses, or (`chosen` given as text) of a correction over a response."""
    return PreferencePair(
        prompt_id=it.prompt_id,
        prompt=it.prompt,
        messages=it.messages,
        chosen=chosen if isinstance(chosen, str) else it.texts[chosen],
        rejected=it.texts[rejected],
        chosen_response_id=None if isinstance(chosen, str) else chosen,
        rejected_response_id=rejected,
        margin=float(margin),
        item_id=it.id,
        source=source,
        n_votes=n,
        weight=float(weight),
    )


def _tie_pairs(it: ItemData, a: int, b: int, ties: str, source: str, n: int, weight: float) -> list[PreferencePair]:
    # "half": both orders at half weight, so a tie pulls the two rewards together without favouring either.
    if ties == "drop":
        return []
    return [_pair(it, a, b, 0.0, source, n, weight / 2), _pair(it, b, a, 0.0, source, n, weight / 2)]


def _vote_pairs(it: ItemData, vote: _Vote, ties: str, source: str) -> list[PreferencePair]:
    out = []
    # A tie's order means nothing and may be left empty (e.g. by a reviewer): it covers all the responses.
    ranking = it.response_ids if vote.tie and len(vote.ranking) < 2 else vote.ranking
    for better, worse in itertools.combinations(ranking, 2):
        if vote.tie:
            out += _tie_pairs(it, better, worse, ties, source, 1, 1.0)
        else:
            out.append(_pair(it, better, worse, vote.strength, source, 1, 1.0))
    return out


def _majority_pairs(it: ItemData, votes: list[_Vote], ties: str) -> list[PreferencePair]:
    """Per pair of responses, the outcome most votes give (a winner or a tie); an even split gives nothing."""
    tally: dict[tuple[int, int], dict[int | None, list[_Vote]]] = defaultdict(lambda: defaultdict(list))
    for vote in votes:
        for better, worse in itertools.combinations(vote.ranking, 2):
            key = tuple(sorted((better, worse), key=it.response_ids.index))
            tally[key][None if vote.tie else better].append(vote)
    out = []
    for a, b in itertools.combinations(it.response_ids, 2):
        counts = Counter({outcome: len(vs) for outcome, vs in tally.get((a, b), {}).items()})
        top = counts.most_common(2)
        if not top or (len(top) == 2 and top[0][1] == top[1][1]):
            continue
        outcome, n = top[0]
        backing = tally[(a, b)][outcome]
        source = "import" if all(v.source == "import" for v in backing) else "judgment"
        if outcome is None:
            out += _tie_pairs(it, a, b, ties, source, n, 1.0)
        else:
            margin = sum(v.strength for v in backing) / n
            out.append(_pair(it, outcome, b if outcome == a else a, margin, source, n, 1.0))
    return out


def _dawid_skene_labels(loaded: list[ItemData], both_bad: str) -> dict[int, tuple[int, float]]:
    """Item -> (MAP class, its posterior), fitted per campaign on the same votes as the pairs (gold items' votes
    too: they show how reliable each rater is). Class = the winner's canonical index; the last class is a tie."""
    from hitl.quality import JudgmentRow, dawid_skene

    per_campaign: dict[int, list[JudgmentRow]] = defaultdict(list)
    for it in loaded:
        for v in it.votes:
            if (v.both_bad and both_bad == "drop") or not v.ranking:
                continue
            winner = None if v.tie else it.response_ids.index(v.ranking[0])
            score = 0 if winner is None or len(it.response_ids) != 2 else (v.strength if winner == 0 else -v.strength)
            first = it.response_ids.index(v.first_shown) if v.first_shown in it.response_ids else 0
            row = JudgmentRow(it.id, str(v.rater), winner, score, first, both_bad=v.both_bad)
            per_campaign[it.campaign_id].append(row)
    labels = {}
    for rows in per_campaign.values():
        result = dawid_skene(rows)
        for item_id, label in result.labels.items():
            labels[item_id] = (label, float(result.posteriors[item_id][label]))
    return labels


def _dawid_skene_pairs(
    it: ItemData, votes: list[_Vote], label: int, posterior: float, ties: str
) -> list[PreferencePair]:
    if label >= len(it.response_ids):  # the tie class
        out = []
        for a, b in itertools.combinations(it.response_ids, 2):
            out += _tie_pairs(it, a, b, ties, "judgment", sum(v.tie for v in votes), posterior)
        return out
    winner = it.response_ids[label]
    backing = [v for v in votes if not v.tie and v.ranking[0] == winner]
    margin = sum(v.strength for v in backing) / len(backing) if backing else DEFAULT_MARGIN
    source = "import" if backing and all(v.source == "import" for v in backing) else "judgment"
    return [_pair(it, winner, r, margin, source, len(backing), posterior) for r in it.response_ids if r != winner]


def _corrections(it: ItemData) -> Counter[str]:
    """Correction texts of an item with how many raters wrote each; an adjudication keeps only the one it accepted."""
    if it.adjudication is not None:
        texts = [it.adjudication.correction] if it.adjudication.correction else []
    else:
        texts = [v.correction for v in it.votes if v.correction]
    return Counter(t.strip() for t in texts if t.strip())


def _correction_pairs(it: ItemData) -> list[PreferencePair]:
    return [
        _pair(it, text, rid, DEFAULT_MARGIN, "correction", n, 1.0)
        for text, n in _corrections(it).items()
        for rid in it.response_ids
        if it.texts[rid].strip() != text
    ]


def build_pairs(
    store: Store,
    campaign: Campaign | str | int | None = None,
    *,
    ties: str = "drop",
    both_bad: str = "drop",
    aggregate: str = "all",
    include_corrections: bool = True,
) -> list[PreferencePair]:
    """Preference pairs of a campaign (or of all), ordered by item id, then response ids (corrections last).

    ties: "drop" leaves ties out; "half" emits both orders at weight 0.5 each (margin 0).
    both_bad: "drop" leaves out judgments marked both bad; "keep" treats them like any other (a preference given
    with it counts, a both-bad tie follows `ties`).
    aggregate: "all" = a pair per judgment (K-way rankings: every (better, worse) pair); "majority" = per item
    and pair of responses the outcome most raters gave (even splits skipped; margin = mean strength of that
    side); "dawid_skene" = per item the Dawid-Skene MAP winner over each other response, weight = its posterior.
    """
    _check("ties", ties, TIES)
    _check("both_bad", both_bad, BOTH_BAD)
    _check("aggregate", aggregate, AGGREGATES)
    loaded = load_items(store, campaign)
    ds_labels = {}
    if aggregate == "dawid_skene":
        ds_labels = _dawid_skene_labels(loaded, both_bad)
    pairs: list[PreferencePair] = []
    for it in loaded:
        adj = it.adjudication
        if adj is not None:
            if not (adj.both_bad and both_bad == "drop"):
                pairs += _vote_pairs(it, adj, ties, "adjudication")
        elif it.is_gold and it.gold_answer is not None:
            winner = it.response_ids[it.gold_answer]
            pairs += [_pair(it, winner, r, DEFAULT_MARGIN, "gold", 1, 1.0) for r in it.response_ids if r != winner]
        else:
            votes = [v for v in it.votes if not (v.both_bad and both_bad == "drop")]
            if aggregate == "all":
                for vote in votes:
                    pairs += _vote_pairs(it, vote, ties, vote.source)
            elif aggregate == "majority":
                pairs += _majority_pairs(it, votes, ties)
            elif it.id in ds_labels:
                pairs += _dawid_skene_pairs(it, votes, *ds_labels[it.id], ties)
        if include_corrections:
            pairs += _correction_pairs(it)
    # sorted() is stable: pairs with equal keys (several raters agreeing) keep judgment order.
    return sorted(
        pairs,
        key=lambda p: (p.item_id, p.chosen_response_id is None, p.chosen_response_id or 0, p.rejected_response_id),
    )


def _labelled(it: ItemData, winner: int | None, bad: bool, source: str) -> list[UnpairedRow]:
    out = []
    for rid in it.response_ids:
        label = not bad and rid == winner
        out.append(UnpairedRow(it.prompt_id, it.prompt, it.messages, it.texts[rid], rid, label, it.id, source))
    return out


def unpaired_rows(
    store: Store, campaign: Campaign | str | int | None = None, *, include_corrections: bool = True
) -> list[UnpairedRow]:
    """KTO-style rows, one set per judgment (same precedence as build_pairs): the top-ranked response of a
    decisive judgment is desirable, every other response undesirable; a both-bad judgment marks all responses
    undesirable; a tie that is not both-bad says nothing. Gold answers and corrections are desirable."""
    rows: list[UnpairedRow] = []
    for it in load_items(store, campaign):
        if it.adjudication is not None:
            decisions = [it.adjudication]
        elif it.is_gold and it.gold_answer is not None:
            decisions = [_Vote([it.response_ids[it.gold_answer]], 0, False, False, "gold")]
        else:
            decisions = it.votes
        for vote in decisions:
            if vote.tie and not vote.both_bad:
                continue
            rows += _labelled(it, None if vote.tie else vote.ranking[0], vote.both_bad, vote.source)
        if include_corrections:
            for text in _corrections(it):
                rows.append(UnpairedRow(it.prompt_id, it.prompt, it.messages, text, None, True, it.id, "correction"))
    return rows
