"""Rater-quality and agreement statistics over plain judgment rows (no database, no torch).

Build :class:`JudgmentRow` objects from the store, then call the metric functions re-exported here, or
:func:`rater_report` / :func:`campaign_summary` for everything at once.
"""

from hitl.quality.agreement import alpha_from_rows, alpha_units, krippendorff_alpha
from hitl.quality.bias import BiasStat, campaign_length_share, length_bias, position_bias
from hitl.quality.consensus import loo_agreement, majority, majority_labels
from hitl.quality.crowd_bias import (
    Consensus,
    CrowdBias,
    consensus_for_rater,
    crowd_consensus,
    length_vs_crowd,
    position_vs_crowd,
)
from hitl.quality.dawid_skene import DawidSkeneResult, dawid_skene, leave_one_out_posteriors, weighted_labels
from hitl.quality.fatigue import FatigueBucket, fatigue, fatigue_slope, fatigue_trend_p, stretch_positions
from hitl.quality.gold import gold_accuracy, is_correct, is_gold
from hitl.quality.kappa import cohen_kappa, fleiss_from_rows, fleiss_kappa, fleiss_table, pairwise_cohen
from hitl.quality.multiple import bh_adjust, bh_flags
from hitl.quality.report import RaterQuality, Thresholds, campaign_summary, make_thresholds, rater_report
from hitl.quality.rows import (
    JudgmentRow,
    by_rater,
    category,
    category_table,
    infer_n_responses,
    latest_by_item,
    n_categories,
)
from hitl.quality.speed import SpeedStat, speed
from hitl.quality.stats import RateStat, rate_stat, wilson_interval

__all__ = [
    "BiasStat",
    "Consensus",
    "CrowdBias",
    "DawidSkeneResult",
    "FatigueBucket",
    "JudgmentRow",
    "RateStat",
    "RaterQuality",
    "SpeedStat",
    "Thresholds",
    "alpha_from_rows",
    "alpha_units",
    "bh_adjust",
    "bh_flags",
    "by_rater",
    "campaign_length_share",
    "campaign_summary",
    "category",
    "category_table",
    "cohen_kappa",
    "consensus_for_rater",
    "crowd_consensus",
    "dawid_skene",
    "fatigue",
    "fatigue_slope",
    "fatigue_trend_p",
    "fleiss_from_rows",
    "fleiss_kappa",
    "fleiss_table",
    "gold_accuracy",
    "infer_n_responses",
    "is_correct",
    "is_gold",
    "krippendorff_alpha",
    "latest_by_item",
    "leave_one_out_posteriors",
    "length_bias",
    "length_vs_crowd",
    "loo_agreement",
    "majority",
    "majority_labels",
    "make_thresholds",
    "n_categories",
    "pairwise_cohen",
    "position_bias",
    "position_vs_crowd",
    "rate_stat",
    "rater_report",
    "speed",
    "stretch_positions",
    "weighted_labels",
    "wilson_interval",
]
