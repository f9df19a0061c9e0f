"""The numbers behind the dashboard: throughput, queue depth, agreement, the per-rater quality table and quality by
prompt tag (per tag and per rater x tag).

    python -c "from hitl.service import Service; help(Service.dashboard)"

Everything is computed by hitl.stats and hitl.quality; this module only gathers it for one campaign
and turns it into plain rows the page (or the REST API) can draw. The quality report reads every judgment of
the campaign, so a dashboard is computed once per change of the collection (and at most every few seconds
while raters submit), never per request (hitl.service.heavy).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select

from hitl.campaigns import campaign_names, get_campaign
from hitl.quality import campaign_summary, rater_report
from hitl.quality.by_tag import tag_report
from hitl.service.access import require
from hitl.service.heavy import HeavyGate, ResultCache
from hitl.stats import judgment_rows, queue_depth, tag_table, throughput
from hitl.store import Store
from hitl.store.schema import (
    adjudications,
    gold_decisions,
    items,
    judgments,
    leases,
    loop_rounds,
    qualification_attempts,
    rater_events,
)
from hitl.users import User
from hitl.workforce.manage import roster

RATER_COLUMNS = [
    "rater",
    "judgments",
    "gold accuracy",
    "agreement",
    "position bias (first shown)",
    "length bias (longer)",
    "median seconds",
    "flagged share",
    "issues",
]

# The loop's rounds (hitl/loop): one row per round, newest first; metrics a round has not reached stay blank.
ROUND_COLUMNS = [
    "round",
    "stage",
    "status",
    "new judgments",
    "reward accuracy",
    "reward win rate (new vs base)",
    "oracle win rate (new vs base)",
    "oracle length-controlled win rate",
    "items queued",
    "updated",
    "message",
]
_ROUND_METRICS = ("new_judgments", "reward_accuracy", "rm_win_rate", "oracle_win_rate", "oracle_lc_win_rate")
_ROUND_METRICS += ("items_queued",)
# Beside each rate of a round: its 95% interval and n (the metric names the loop's stages record them under).
ROUND_INTERVALS = {
    "reward accuracy": ("reward_accuracy_low", "reward_accuracy_high", "reward_eval_pairs"),
    "reward win rate (new vs base)": ("rm_win_low", "rm_win_high", "eval_pairs"),
    "oracle win rate (new vs base)": ("oracle_win_low", "oracle_win_high", "eval_pairs"),
    "oracle length-controlled win rate": ("oracle_lc_low", "oracle_lc_high", "eval_pairs"),
}
# Beside the rater table's rates: how many judgments each rests on and the 95% (Wilson) interval where one exists.
RATER_DETAILS = ("gold n", "gold low", "gold high", "agreement n", "agreement low", "agreement high")
RATER_DETAILS += ("position n", "length n", "timed n")


@dataclass(frozen=True)
class Dashboard:
    campaign: str
    summary: dict
    depth: dict
    throughput: list[tuple[float, int]]  # (bucket start epoch, judgments)
    raters: list[dict]  # one dict per rater, keys RATER_COLUMNS and RATER_DETAILS
    rounds: list[dict]  # one dict per loop round, newest first, keys ROUND_COLUMNS and each ROUND_INTERVALS low/high/n
    # Where each rater stands under the campaign's workforce rules (hitl.workforce.manage.RosterRow as dicts: in
    # training, passed, failed, paused, warned); empty for a campaign without such rules.
    workforce: list[dict] = field(default_factory=list)
    # Quality by prompt tag (hitl.stats.tag_table rows): one per tag, and one per rater x tag.
    tags: list[dict] = field(default_factory=list)
    rater_tags: list[dict] = field(default_factory=list)


def _clean(x: float) -> float | None:
    """nan (not enough data) becomes None, so JSON and tables show a blank instead of a number."""
    return None if isinstance(x, float) and math.isnan(x) else x


def collection_version(store: Store) -> tuple:
    """What changes whenever a judgment, item, lease, adjudication or loop round is added or changed."""
    with store.read() as conn:
        return tuple(
            conn.execute(
                select(
                    select(func.max(judgments.c.id)).scalar_subquery(),
                    select(func.max(items.c.id)).scalar_subquery(),
                    select(func.max(leases.c.id)).scalar_subquery(),
                    select(func.max(adjudications.c.id)).scalar_subquery(),
                    select(func.max(loop_rounds.c.updated_at)).scalar_subquery(),
                    select(func.max(rater_events.c.id)).scalar_subquery(),
                    select(func.max(qualification_attempts.c.id)).scalar_subquery(),
                    select(func.max(qualification_attempts.c.finished_at)).scalar_subquery(),
                    select(func.max(gold_decisions.c.decided_at)).scalar_subquery(),
                )
            ).one()
        )


class DashboardService:
    def __init__(self, store: Store, gate: HeavyGate | None = None):
        self.store = store
        # Throughput buckets move with the clock: an unchanged collection is still recomputed each minute.
        self._cache = ResultCache(gate or HeavyGate(), size=32, max_age=60.0)

    def campaigns(self, caller: User) -> list[str]:
        """The campaigns the dashboard can show (reviewers and admins)."""
        require(caller, "reviewer")
        return campaign_names(self.store)

    def dashboard(self, caller: User, campaign: str, bucket_minutes: float = 60, buckets: int = 24) -> Dashboard:
        require(caller, "reviewer")
        c = get_campaign(self.store, campaign)
        key = (c.id, float(bucket_minutes), int(buckets))
        return self._cache.get(
            key, collection_version(self.store), lambda: self._compute(c, bucket_minutes, buckets), "dashboard"
        )

    def _compute(self, c, bucket_minutes: float, buckets: int) -> Dashboard:
        rows = judgment_rows(self.store, c)
        summary, report = campaign_summary(rows), rater_report(rows)
        by_tag, rater_by_tag = tag_report(rows)
        raters = [
            dict(
                zip(
                    RATER_COLUMNS,
                    [
                        q.rater,
                        q.n_judgments,
                        _clean(q.gold.rate),
                        _clean(q.loo_agreement.rate),
                        _clean(q.position.share),
                        _clean(q.length.share),
                        _clean(q.speed.median_seconds),
                        _clean(q.flagged_share),
                        "; ".join(q.issues),
                    ],
                    strict=True,
                )
            )
            for q in report
        ]
        for row, q in zip(raters, report, strict=True):
            details = [q.gold.total, q.gold.low, q.gold.high, q.loo_agreement.total, q.loo_agreement.low]
            details += [q.loo_agreement.high, q.position.n, q.length.n, q.speed.n]
            row.update(zip(RATER_DETAILS, [_clean(x) for x in details], strict=True))
        return Dashboard(
            campaign=c.name,
            summary={k: _clean(v) for k, v in summary.items()},
            depth=asdict(queue_depth(self.store, c)),
            throughput=throughput(self.store, c, bucket_seconds=bucket_minutes * 60, buckets=buckets),
            raters=raters,
            rounds=loop_rows(self.store, c),
            workforce=[asdict(r) for r in roster(self.store, c)] if c.rules.routes or c.rules.watches else [],
            tags=tag_table(by_tag),
            rater_tags=tag_table(rater_by_tag),
        )


def loop_rows(store: Store, campaign) -> list[dict]:
    """The campaign's loop rounds as table rows, newest first."""
    from hitl.loop.state import rounds

    rows = []
    for r in reversed(rounds(store, campaign)):
        metrics = [_clean(r.metrics.get(k)) for k in _ROUND_METRICS]
        values = [r.number, r.stage, r.status, *metrics, r.updated_at, r.message]
        row = dict(zip(ROUND_COLUMNS, values, strict=True))
        for column, keys in ROUND_INTERVALS.items():
            parts = zip(("low", "high", "n"), keys, strict=True)
            row.update({f"{column} {part}": _clean(r.metrics.get(k)) for part, k in parts})
        rows.append(row)
    return rows
