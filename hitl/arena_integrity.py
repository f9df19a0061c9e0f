"""Integrity rules for arena votes, applied before the leaderboard is fitted; each rule reports what it removed.

    hitl leaderboard --judge human          # the "integrity" lines under the board say what each rule did

Pure functions over plain vote rows (hitl.service.leaderboard builds them from the store). The rules, in order:

1. identity: a vote is void when a shown answer names a model (a configurable list of patterns, case-insensitive;
   `{model}` stands for the version's own name): the voter could know which side was which.
2. caps: at most `votes_per_day` counted votes per voter per UTC day and `votes_per_pair` per voter and pair of
   versions (over all time); the voter's later votes past a cap are removed, so a script cannot swamp the board.
3. outliers: a voter whose votes run against everyone else's on the same pairs is flagged. For each of the
   voter's votes, p = the other voters' share of wins for that side (with one win and one loss added, so a
   pair nobody else voted on says 1/2); the voter's agreement score is z = sum (y - p) * sign(p - 1/2) /
   sqrt(sum p (1 - p)). A voter with at least `outlier_min_votes` votes and z below the Bonferroni-corrected
   one-sided 5% level is flagged; their votes are listed, and removed when `exclude_outliers` is set.
4. repeats: battles on the same prompt text (case and spacing ignored) share one battle's weight, 1/k each for k
   battles, so a prompt asked a hundred times does not decide the board.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from statistics import NormalDist

DEFAULT_IDENTITY_PATTERNS = (
    r"\b{model}\b",
    r"\b(?:I am|I'm|as) (?:an AI )?(?:model )?(?:called |named )?(?:ChatGPT|GPT-?\d|Claude|Gemini|Llama|Qwen|Mistral|"
    r"SmolLM\d?)\b",
    r"\b(?:developed|created|made|trained) by (?:OpenAI|Anthropic|Google|Meta|Alibaba|Mistral AI|Hugging ?Face)\b",
)


@dataclass(frozen=True)
class IntegrityConfig:
    """The rules' settings; 0 turns a cap off."""

    votes_per_day: int = field(default=200, metadata={"help": "Most counted votes per voter per UTC day (0: no cap)."})
    votes_per_pair: int = field(
        default=50, metadata={"help": "Most counted votes per voter on one pair of versions (0: no cap)."}
    )
    identity_patterns: tuple[str, ...] = field(
        default=DEFAULT_IDENTITY_PATTERNS,
        metadata={"help": "Regexes (case-insensitive; {model} = the version's name): a match in a shown answer voids"},
    )
    outlier_min_votes: int = field(default=10, metadata={"help": "Votes a voter needs before the outlier test."})
    outlier_level: float = field(
        default=0.05, metadata={"help": "False-flag rate of the outlier test over all voters (Bonferroni)."}
    )
    exclude_outliers: bool = field(default=False, metadata={"help": "Remove a flagged voter's votes from the board."})
    downweight_repeats: bool = field(
        default=True, metadata={"help": "Battles on one prompt text share one battle's weight."}
    )

    def validate(self) -> None:
        if self.votes_per_day < 0 or self.votes_per_pair < 0 or self.outlier_min_votes < 1:
            raise ValueError("caps must be 0 (off) or positive, and outlier_min_votes at least 1")
        if not 0 < self.outlier_level < 1:
            raise ValueError(f"outlier_level must be between 0 and 1, not {self.outlier_level}")
        for p in self.identity_patterns:
            try:
                re.compile(p.replace("{model}", "x"))
            except re.error as exc:
                raise ValueError(f"identity pattern {p!r} is not a regular expression: {exc}") from None


@dataclass(frozen=True)
class Vote:
    """One counted human vote: who, when (epoch seconds), the versions, A's score, the prompt and both answers."""

    battle_id: int
    voter: str
    voted_at: float
    model_a: str
    model_b: str
    outcome: float
    prompt: str
    answer_a: str
    answer_b: str
    weight: float = 1.0


@dataclass(frozen=True)
class RuleResult:
    """What one rule did: how many votes it removed (or re-weighted) and a line per case, for people."""

    rule: str
    removed: int
    detail: list[str]
    battle_ids: list[int]

    def text(self) -> str:
        return f"{self.rule}: {'; '.join(self.detail)}" if self.detail else f"{self.rule}: nothing removed"


@dataclass(frozen=True)
class VoterFlag:
    voter: str
    n: int
    z: float
    agreement: float  # share of the voter's decisive votes that side with the other voters' majority
    excluded: bool


def _identity(votes: list[Vote], patterns: Sequence[str]) -> tuple[list[Vote], RuleResult]:
    plain = [re.compile(p, re.IGNORECASE) for p in patterns if "{model}" not in p]
    named = [p for p in patterns if "{model}" in p]
    per_pair: dict[tuple[str, str], list[re.Pattern]] = {}
    kept, void = [], []
    for v in votes:
        if (v.model_a, v.model_b) not in per_pair:
            names = [re.escape(m) for m in (v.model_a, v.model_b)]
            per_pair[(v.model_a, v.model_b)] = plain + [
                re.compile(p.replace("{model}", m), re.IGNORECASE) for p in named for m in names
            ]
        found = next(
            (
                (side, model)
                for side, text, model in (("A", v.answer_a, v.model_a), ("B", v.answer_b, v.model_b))
                if any(rx.search(text or "") for rx in per_pair[(v.model_a, v.model_b)])
            ),
            None,
        )
        if found:
            void.append((v, found))
        else:
            kept.append(v)
    detail = [f"battle {v.battle_id}: answer {side} ({model}) names a model" for v, (side, model) in void[:5]]
    if len(void) > 5:  # a few examples; battle_ids has them all
        detail.append(f"and {len(void) - 5} more")
    if void:
        detail.insert(0, f"{len(void)} vote{'' if len(void) == 1 else 's'} void")
    return kept, RuleResult("identity", len(void), detail, [v.battle_id for v, _ in void])


def _caps(votes: list[Vote], per_day: int, per_pair: int) -> tuple[list[Vote], RuleResult]:
    day, pair = Counter(), Counter()
    kept, removed = [], []
    over = Counter()
    for v in sorted(votes, key=lambda x: (x.voted_at, x.battle_id)):
        d = (v.voter, datetime.fromtimestamp(v.voted_at, UTC).date())
        p = (v.voter, frozenset((v.model_a, v.model_b)))
        if per_day and day[d] >= per_day:
            removed.append(v)
            over[(v.voter, "per day")] += 1
            continue
        if per_pair and pair[p] >= per_pair:
            removed.append(v)
            over[(v.voter, "per pair")] += 1
            continue
        day[d] += 1
        pair[p] += 1
        kept.append(v)
    detail = [f"{voter}: {n} over the cap {what}" for (voter, what), n in sorted(over.items())]
    return kept, RuleResult("caps", len(removed), detail, [v.battle_id for v in removed])


def _outliers(votes: list[Vote], config: IntegrityConfig) -> tuple[list[Vote], RuleResult, list[VoterFlag]]:
    by_voter: dict[str, list[Vote]] = defaultdict(list)
    totals: Counter = Counter()  # (winner side model, other model) -> points
    games: Counter = Counter()  # frozenset pair -> votes
    for v in votes:
        by_voter[v.voter].append(v)
        totals[(v.model_a, v.model_b)] += v.outcome
        totals[(v.model_b, v.model_a)] += 1.0 - v.outcome
        games[frozenset((v.model_a, v.model_b))] += 1
    tested = [u for u, vs in by_voter.items() if len(vs) >= config.outlier_min_votes]
    threshold = NormalDist().inv_cdf(config.outlier_level / max(1, len(tested)))
    flags, removed = [], []
    for voter in sorted(tested):
        mine_points: Counter = Counter()
        mine_games: Counter = Counter()
        for v in by_voter[voter]:
            mine_points[(v.model_a, v.model_b)] += v.outcome
            mine_points[(v.model_b, v.model_a)] += 1.0 - v.outcome
            mine_games[frozenset((v.model_a, v.model_b))] += 1
        score = variance = 0.0
        agree = decisive = 0
        for v in by_voter[voter]:
            others = games[frozenset((v.model_a, v.model_b))] - mine_games[frozenset((v.model_a, v.model_b))]
            won = totals[(v.model_a, v.model_b)] - mine_points[(v.model_a, v.model_b)]
            p = (won + 1.0) / (others + 2.0)
            sign = 0.0 if abs(p - 0.5) < 1e-9 else math.copysign(1.0, p - 0.5)
            score += (v.outcome - p) * sign
            variance += p * (1.0 - p) * abs(sign)
            if sign and v.outcome != 0.5:
                decisive += 1
                agree += (v.outcome > 0.5) == (p > 0.5)
        if variance <= 0:
            continue
        z = score / math.sqrt(variance)
        if z < threshold:
            agreement = agree / decisive if decisive else math.nan
            flags.append(VoterFlag(voter, len(by_voter[voter]), z, agreement, config.exclude_outliers))
            if config.exclude_outliers:
                removed.extend(by_voter[voter])
    gone = {v.battle_id for v in removed}
    detail = [
        f"{f.voter} flagged: {f.n} votes, agrees with the others on {f.agreement:.0%} (z = {f.z:.1f})"
        + (", votes removed" if f.excluded else ", votes kept (exclude_outliers is off)")
        for f in flags
    ]
    result = RuleResult("outliers", len(removed), detail, sorted(gone))
    return [v for v in votes if v.battle_id not in gone], result, flags


def _normalised(prompt: str) -> str:
    return " ".join((prompt or "").lower().split())


def _repeats(votes: list[Vote]) -> tuple[list[Vote], RuleResult]:
    count = Counter(_normalised(v.prompt) for v in votes)
    repeated = {p: k for p, k in count.items() if k > 1}
    out = [replace(v, weight=v.weight / count[_normalised(v.prompt)]) for v in votes]
    lost = sum(k - 1 for k in repeated.values())
    detail = []
    if repeated:
        top = max(repeated.values())
        detail.append(
            f"{len(repeated)} prompt{'' if len(repeated) == 1 else 's'} asked more than once ({top} times at most): "
            f"their {sum(repeated.values())} battles count as {len(repeated)}"
        )
    ids = [v.battle_id for v in votes if _normalised(v.prompt) in repeated]
    return out, RuleResult("repeats", lost, detail, ids)


@dataclass(frozen=True)
class IntegrityReport:
    rules: list[RuleResult]
    flagged: list[VoterFlag]
    kept: int
    total: int


def apply_rules(votes: Sequence[Vote], config: IntegrityConfig | None = None) -> tuple[list[Vote], IntegrityReport]:
    """The votes the board may use (with their weights) and what every rule removed."""
    config = config or IntegrityConfig()
    config.validate()
    votes = list(votes)
    total = len(votes)
    kept, identity = _identity(votes, config.identity_patterns)
    kept, caps = _caps(kept, config.votes_per_day, config.votes_per_pair)
    kept, outliers, flags = _outliers(kept, config)
    rules = [identity, caps, outliers]
    if config.downweight_repeats:
        kept, repeats = _repeats(kept)
        rules.append(repeats)
    kept.sort(key=lambda v: v.battle_id)
    return kept, IntegrityReport(rules, flags, len(kept), total)
