"""The numbers behind the dashboard: throughput, queue depth, agreement and the per-rater quality table.

    python -c "from hitl.service import Service; help(Service.dashboard)"

Everything is computed by hitl.stats and hitl.quality; this module only gathers it for one campaign
and turns it into plain rows the page (or the REST API) can draw.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from hitl.campaigns import campaign_names, get_campaign
from hitl.service.access import require
from hitl.stats import collection_report, queue_depth, throughput
from hitl.store import Store
from hitl.users import User

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
    "items queued",
    "updated",
    "message",
]
_ROUND_METRICS = ("new_judgments", "reward_accuracy", "rm_win_rate", "oracle_win_rate", "items_queued")


@dataclass(frozen=True)
class Dashboard:
    campaign: str
    summary: dict
    depth: dict
    throughput: list[tuple[float, int]]  # (bucket start epoch, judgments)
    raters: list[dict]  # one dict per rater, keys RATER_COLUMNS
    rounds: list[dict]  # one dict per loop round, newest first, keys ROUND_COLUMNS


def _clean(x: float) -> float | None:
    """nan (not enough data) becomes None, so JSON and tables show a blank instead of a number."""
    return None if isinstance(x, float) and math.isnan(x) else x


class DashboardService:
    def __init__(self, store: Store):
        self.store = store

    def campaigns(self, caller: User) -> list[str]:
        """The campaigns the dashboard can show (reviewers and admins)."""
        require(caller, "reviewer")
        return campaign_names(self.store)

    def dashboard(self, caller: User, campaign: str, bucket_minutes: float = 60, buckets: int = 24) -> Dashboard:
        require(caller, "reviewer")
        c = get_campaign(self.store, campaign)
        summary, report = collection_report(self.store, c)
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
        return Dashboard(
            campaign=c.name,
            summary={k: _clean(v) for k, v in summary.items()},
            depth=asdict(queue_depth(self.store, c)),
            throughput=throughput(self.store, c, bucket_seconds=bucket_minutes * 60, buckets=buckets),
            raters=raters,
            rounds=loop_rows(self.store, c),
        )


def loop_rows(store: Store, campaign) -> list[dict]:
    """The campaign's loop rounds as table rows, newest first."""
    from hitl.loop.state import rounds

    rows = []
    for r in reversed(rounds(store, campaign)):
        metrics = [_clean(r.metrics.get(k)) for k in _ROUND_METRICS]
        values = [r.number, r.stage, r.status, *metrics, r.updated_at, r.message]
        rows.append(dict(zip(ROUND_COLUMNS, values, strict=True)))
    return rows
