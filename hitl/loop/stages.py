"""The stages of a round: reward training, a policy step, fresh pairs into the queue, scores, round metrics.

    hitl loop --campaign demo --config configs/cpu.yaml

Each stage is a thin caller of the step function of its job (hitl.loop.steps, the same ones the CLI calls). The
steps are named after the round (`<campaign>-r<N>-reward`, `<campaign>-r<N>-policy`, the queue's source
`hitl loop <campaign> r<N>`) and reuse what exists under that name, so a restarted loop never trains or queues
the same thing twice.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hitl.campaigns import Campaign
from hitl.errors import InvalidInput, NoPreferencePairs, TrainingDiverged
from hitl.loop.runner import StageOutcome
from hitl.loop.state import LoopRound
from hitl.loop.steps import (
    PolicyStep,
    QueuePart,
    QueueStep,
    RewardStep,
    ScoreStep,
    queue_step,
    score_step,
    train_policy_step,
    train_reward_step,
)
from hitl.loop.steps.policy_step import policy_dir
from hitl.loop.steps.queue_step import campaign_decisiveness, queue_step_done
from hitl.loop.steps.reward_step import cross_validate, reward_dir
from hitl.loop.steps.versions import version_by_id
from hitl.pair_selection import SelectionSettings
from hitl.store import Store
from hitl.store.schema import responses
from hitl.trainer_config import TrainerSource
from policy.config import GenerationSettings

log = logging.getLogger(__name__)


@dataclass
class RoundPlan:
    """What each round does, beyond the reward / policy trainer configs (YAML sections reward:, policy:)."""

    prompts: str = field(default="all", metadata={"help": "Prompts to generate for: a file, a tag, or all."})
    prompts_per_round: int = field(
        default=96,
        metadata={"help": "Prompts answered each round (the next ones of the set each round, wrapping around)."},
    )
    candidates: int = field(
        default=4, metadata={"help": "Answers of the new policy per prompt, split over the temperatures (>= 2)."}
    )
    temperatures: str = field(
        default="0.7,1.0", metadata={"help": "Sampling temperatures of the candidates, comma-separated."}
    )
    include_base: bool = field(
        default=True, metadata={"help": "The base policy's answer joins each prompt's candidates (new vs old pairs)."}
    )
    selection: str = field(
        default="informative",
        metadata={
            "help": "Which candidate pairs raters see: informative (reward-model disagreement and uncertainty), "
            "diversity, or random (the baseline). Near-duplicates are never paired."
        },
    )
    items_per_round: int = field(default=128, metadata={"help": "Pairs queued for raters each round."})
    pairs_per_prompt: int = field(default=2, metadata={"help": "Most pairs queued per prompt (disjoint answers)."})
    reward_folds: int = field(
        default=4,
        metadata={
            "help": "When the reward model's held-out split has fewer decisive pairs than the gate needs, train one "
            "more reward model per other fold of prompts (this many folds in all, each eval_fraction of them) and "
            "gate on every fold's held-out pairs (1: never)."
        },
    )
    waiting_prompts: int = field(
        default=192,
        metadata={
            "help": "Prompts answered for each batch queued while a round waits, once the campaign's judgments "
            "predict which pairs raters decide (hitl.decisiveness); until then a round's --prompts-per-round (a "
            "larger pool costs generation and its choice could not find the decisive pairs in it). 0: always a "
            "round's. More than a round's: the batch is the likeliest-decisive pairs of a larger pool, and a round "
            "waits when decisive pairs are scarce (a sparse preference: few candidate sets hold an answer that "
            "meets it)."
        },
    )
    waiting_batches: int = field(
        default=4,
        metadata={
            "help": "Most batches of --items-per-round pairs queued while a round waits for judgments (one reward "
            "model attempt); as many as the judgments it waits for need."
        },
    )
    selection_samples: int = field(
        default=8, metadata={"help": "MC-dropout passes of the round's reward model that score the candidates."}
    )
    policy_pairs: int = field(
        default=0,
        metadata={"help": "Train the policy on the pairs of the newest N judged items only (0: every judged item)."},
    )
    policy_max_pairs: int = field(
        default=160,
        metadata={
            "help": "Most DPO pairs per policy step, so a round stays short on a CPU (0: all): best-of-n up to a "
            "third, the newest human pairs, then older ones drawn at random (see PolicyStep.max_pairs)."
        },
    )
    best_of_n: bool = field(
        default=True,
        metadata={
            "help": "Add the round reward model's best-vs-worst pairs of the base policy's stored candidates (every "
            "prompt it answered, not only the judged ones) to the human pairs."
        },
    )
    best_of_n_gap: float = field(default=0.5, metadata={"help": "Smallest reward gap for a best-of-n pair."})
    best_of_n_limit: int = field(default=128, metadata={"help": "Most prompts best-of-n pairs come from."})
    max_new_tokens: int = field(default=64, metadata={"help": "Longest generated response, in tokens."})
    score_mc_samples: int = field(
        default=4, metadata={"help": "Dropout passes when the round's reward model scores the open items."}
    )
    oracle: str | None = field(
        default=None,
        metadata={"help": "An oracle (rule:NAME, reward:VERSION or module:function) for the round's win rates."},
    )
    config_path: str | None = field(default=None, metadata={"help": "YAML with reward: and policy: sections."})

    def temperature_list(self) -> list[float]:
        try:
            values = [float(t) for t in self.temperatures.split(",") if t.strip()]
        except ValueError:
            raise InvalidInput(
                f"temperatures must be numbers separated by commas, not {self.temperatures!r}"
            ) from None
        if not values or any(t < 0 for t in values):
            raise InvalidInput(f"temperatures must be one or more numbers >= 0, not {self.temperatures!r}")
        return values

    def validate(self) -> None:
        self.temperature_list()
        SelectionSettings(method=self.selection, per_prompt=self.pairs_per_prompt).validate()
        for name in (
            "prompts_per_round",
            "candidates",
            "items_per_round",
            "selection_samples",
            "max_new_tokens",
            "reward_folds",
            "waiting_batches",
        ):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.waiting_prompts < 0:
            raise InvalidInput(f"waiting_prompts must be 0 (a round's prompts) or more, not {self.waiting_prompts}")
        if self.candidates + self.include_base < 2:
            raise InvalidInput("a round needs at least two candidate answers per prompt to pair")


def candidate_parts(new: str, base: str, plan: RoundPlan) -> list[QueuePart]:
    """The new policy's candidates split over the temperatures (the remainder to the first), then the base's."""
    temps = plan.temperature_list()[: plan.candidates]
    share, extra = divmod(plan.candidates, len(temps))
    parts = [QueuePart(new, n=share + (i < extra), temperature=t, seed_offset=1000 * i) for i, t in enumerate(temps)]
    if plan.include_base:
        parts.append(QueuePart(base, n=1, temperature=temps[0], seed_offset=7919))
    return parts


def _quiet() -> dict[str, Any]:
    """Trainer progress bars only on a terminal: in a worker's log they are lines of escape codes."""
    return {"disable_tqdm": not sys.stderr.isatty()}


def _version_name(store: Store, version_id: int | None) -> str | None:
    row = version_by_id(store, version_id)
    return row.name if row is not None else None


@dataclass
class _ChoiceInputs:
    """What a queue step's choice of pairs uses, loaded once per stage (a reward model, a decisiveness fit)."""

    loaded: bool = False
    rewards: Any = None  # a queue_step RewardSampler
    decisive: Any = None  # hitl.pair_selection.Decisive
    record: dict[str, Any] = field(default_factory=dict)


class RoundStages:
    """hitl.loop.runner.Stages on the real reward model and policy: each stage calls the one step function of its
    job (hitl.loop.steps), with names fixed by the round so that a restarted stage reuses what it made."""

    def __init__(self, plan: RoundPlan, base_policy: str = "default"):
        self.plan = plan
        self.base_policy = base_policy

    def _base(self, store: Store, round_: LoopRound) -> str:
        return _version_name(store, round_.base_policy_id) or self.base_policy

    def _sampling(self, round_: LoopRound, seed: int, n: int) -> GenerationSettings:
        temperature = self.plan.temperature_list()[0]
        return GenerationSettings(n=n, max_new_tokens=self.plan.max_new_tokens, temperature=temperature, seed=seed)

    def train_reward(self, store: Store, campaign: Campaign, round_: LoopRound, min_pairs: int) -> StageOutcome:
        """`min_pairs` is the gate's minimum of decisive held-out pairs (LoopSettings.min_reward_pairs, passed by
        the runner so that the gate and this stage never disagree): fewer in the held-out split and the stage
        cross-validates over the other folds of prompts (RoundPlan.reward_folds)."""
        attempt = round_.metrics.get("reward_attempt", 1)
        name = f"{campaign.name}-r{round_.number}-reward" + (f"-{attempt}" if attempt > 1 else "")
        # A round has few judgments: one Dawid-Skene label per item (a spammer's or a biased rater's votes count
        # for less) and a larger held-out share, so the gate is not decided by a handful of noisy votes. The
        # YAML's reward: section still wins over these; the folder is the round's own.
        step = RewardStep(
            name=name,
            trainer=TrainerSource(
                self.plan.config_path,
                defaults={"aggregate": "dawid_skene", "eval_fraction": 0.25, **_quiet()},
                overrides={"output_dir": reward_dir(name)},
            ),
        )
        started = time.perf_counter()
        try:
            result = train_reward_step(store, campaign, step)
        except NoPreferencePairs:
            return StageOutcome(
                wait="no decisive judgments yet (every judgment so far is a tie or both bad): the reward model "
                "needs raters to prefer one answer; the round waits for more"
            )
        metrics: dict[str, Any] = {"reward_accuracy": result.accuracy, "reward_eval_pairs": result.eval_pairs}
        if result.trained:
            metrics["reward_seconds"] = time.perf_counter() - started
            metrics["reward_cv_seconds"] = None  # this attempt's own, set below when it cross-validates
        if self.plan.reward_folds > 1 and result.eval_pairs < min_pairs:
            # Too few decisive pairs in the held-out split to judge the model on: other folds held out in turn,
            # until the gate has the pairs it needs (every decisive judgment can be a held-out pair; the model it
            # gates is still this one).
            folds = cross_validate(result, step, self.plan.reward_folds, enough=min_pairs)
            metrics.update(
                reward_accuracy=folds.accuracy,
                reward_eval_pairs=folds.pairs,
                reward_heldout_accuracy=result.accuracy,
                reward_heldout_pairs=result.eval_pairs,
                reward_folds=folds.folds,
                reward_cv_seconds=folds.seconds,
            )
        if result.trained:
            # Every attempt's reward models, the ones that failed the gate too: a waiting round's time by stage.
            spent = (metrics["reward_seconds"] or 0.0) + (metrics.get("reward_cv_seconds") or 0.0)
            metrics["reward_seconds_all"] = round_.metrics.get("reward_seconds_all", 0.0) + spent
        return StageOutcome(
            ids={"reward_version_id": result.version_id, "snapshot_id": result.snapshot_ids.get("train")},
            metrics=metrics,
        )

    def train_policy(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        name = f"{campaign.name}-r{round_.number}-policy"
        step = PolicyStep(
            name=name,
            base=self._base(store, round_),
            trainer=TrainerSource(
                self.plan.config_path, defaults=_quiet(), overrides={"output_dir": policy_dir(name)}
            ),
            reward=str(round_.reward_version_id) if round_.reward_version_id else None,
            newest=self.plan.policy_pairs or None,
            max_pairs=self.plan.policy_max_pairs or None,
            best_of_n_stored=self.plan.best_of_n,
            best_of_n_gap=self.plan.best_of_n_gap,
            best_of_n_limit=self.plan.best_of_n_limit,
            round=round_.number,
            snapshot_id=round_.snapshot_id,
            progress=False,
        )
        try:
            result = train_policy_step(store, campaign, step)
        except TrainingDiverged as exc:
            return StageOutcome(stop=str(exc))
        metrics: dict[str, Any] = {"best_of_n_pairs": result.best_of_n_pairs, "human_pairs": result.human_pairs}
        metrics.update(policy_precision=result.precision, policy_loss_terms=result.loss)
        if result.trained:
            metrics.update(policy_seconds=result.seconds, policy_loss=result.metrics.get("train_loss"))
            metrics.update(policy_steps=result.steps, policy_epochs=result.metrics.get("epoch"))
        return StageOutcome(
            ids={"policy_version_id": result.version_id, "base_policy_id": result.base_version_id}, metrics=metrics
        )

    def generate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        """Candidates of the new policy (and the base) for the round's prompts, every one stored; the pairs that
        should teach the reward model most go into the queue (hitl.pair_selection)."""
        plan = self.plan
        plan.validate()
        new = _version_name(store, round_.policy_version_id)
        step = QueueStep(
            candidate_parts(new, self._base(store, round_), plan),
            prompts=plan.prompts,
            limit=plan.prompts_per_round,
            offset=round_.number * plan.prompts_per_round,
            settings=self._sampling(round_, seed=round_.number, n=plan.candidates),
            source=f"hitl loop {campaign.name} r{round_.number}",
            once=True,
            progress=False,
            selection=SelectionSettings(method=plan.selection, per_prompt=plan.pairs_per_prompt),
            budget=plan.items_per_round,
            selection_seed=round_.number,
        )
        result, choice = self._queue(store, campaign, round_, step, _ChoiceInputs())
        metrics: dict[str, Any] = {"items_queued": result.items}
        if not result.skipped:
            metrics.update(
                generate_seconds=result.seconds, candidates=result.candidates, selected_by=result.selected_by, **choice
            )
        return StageOutcome(metrics=metrics)

    def replenish(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        """While the round waits for a usable reward model: more pairs of the base policy for raters, the next
        prompts of the set, chosen with the reward model that did not pass yet (diversity before there is one).

        As many batches of `items_per_round` as the judgments the round waits for need (raters must have something
        to judge for the wait to end; a sparse preference waits for many), at most `waiting_batches` an attempt.
        Each batch has its own source, so a restarted wait never queues one twice."""
        from hitl.loop.state import judgment_count
        from hitl.stats import queue_depth

        plan = self.plan
        started = time.perf_counter()
        attempt = round_.metrics.get("reward_attempt", 2)
        batch = round_.metrics.get(f"waiting_batches_{attempt}", 0)
        queued = round_.metrics.get(f"items_queued_waiting_{attempt}", 0)
        metrics: dict[str, Any] = {}
        base = self._base(store, round_)
        inputs = _ChoiceInputs()  # loaded once for all the batches: no judgment arrives between them
        while batch < plan.waiting_batches:
            short = round_.metrics.get("wait_until_judgments", 0) - judgment_count(store, campaign)
            if batch and queue_depth(store, campaign).judgments_needed >= short:
                break  # the queue already holds what the wait needs
            batch += 1
            self._load_choice(store, campaign, round_, inputs)
            # The larger pool only pays when the choice can find the decisive pairs in it: with no decisiveness
            # model that predicts (too few judged pairs, or ties that follow no pattern it sees) the pairs it
            # would choose are as likely to tie as any, and the extra answers only cost generation.
            prompts = plan.prompts_per_round
            if inputs.decisive is not None and plan.waiting_prompts:
                prompts = plan.waiting_prompts
            tag = f"{attempt}" if batch == 1 else f"{attempt}.{batch}"
            step = QueueStep(
                candidate_parts(base, base, dataclasses.replace(plan, include_base=False)),
                prompts=plan.prompts,
                limit=prompts,
                offset=(round_.number + attempt + 7 * (batch - 1)) * prompts,
                settings=self._sampling(
                    round_, seed=100 * round_.number + attempt + 10_000 * (batch - 1), n=plan.candidates
                ),
                source=f"hitl loop {campaign.name} r{round_.number} more {tag}",
                once=True,
                progress=False,
                selection=SelectionSettings(
                    method=plan.selection if round_.reward_version_id else "diversity",
                    per_prompt=plan.pairs_per_prompt,
                ),
                budget=plan.items_per_round,
                selection_seed=1000 * round_.number + attempt + 10_000 * (batch - 1),
            )
            result, choice = self._queue(store, campaign, round_, step, inputs)
            queued += result.items
            metrics.update({f"items_queued_waiting_{attempt}": queued, f"waiting_batches_{attempt}": batch})
            metrics[f"waiting_pool_prompts_{attempt}"] = prompts
            if "decisive_model" in choice:
                metrics[f"decisive_model_waiting_{attempt}"] = choice["decisive_model"]
            if not result.items:
                break  # nothing left to pair: more of the same would queue nothing either
        if metrics:
            # Generating and choosing the waiting batches, every attempt's: a waiting round's time by stage.
            metrics["waiting_queue_seconds"] = round_.metrics.get("waiting_queue_seconds", 0.0) + (
                time.perf_counter() - started
            )
        return StageOutcome(metrics=metrics)

    def _queue(self, store: Store, campaign: Campaign, round_: LoopRound, step: QueueStep, inputs: _ChoiceInputs):
        """Run a queue step with what the choice of pairs uses (`inputs`, loaded on first use and kept there): the
        round's reward model's samples (informative) and the chance raters decide a pair, learned from the
        campaign's judged pairs (not for random choice, the baseline). Returns the result and what to record
        about the choice."""
        if step.once and queue_step_done(store, campaign, step):
            return queue_step(store, campaign, step), {}
        self._load_choice(store, campaign, round_, inputs)
        result = queue_step(store, campaign, step, rewards=inputs.rewards, decisive=inputs.decisive)
        return result, dict(inputs.record)

    def _load_choice(self, store: Store, campaign: Campaign, round_: LoopRound, inputs: _ChoiceInputs) -> None:
        """Fill `inputs` on first use: the round's reward model's samples (informative choice) and the campaign's
        decisiveness model when it predicts (any choice but random, the baseline)."""
        if inputs.loaded:
            return
        inputs.loaded = True
        if self.plan.selection == "informative" and round_.reward_version_id:
            inputs.rewards = reward_samples(_reward_path(store, round_), self.plan.selection_samples)
        if self.plan.selection != "random":
            model = campaign_decisiveness(store, campaign)
            if model is not None:
                inputs.decisive, inputs.record = model.predict, {"decisive_model": model.summary()}

    def score(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        """The round's reward model pre-labels the open items and puts the ones it is least sure of first."""
        started = time.perf_counter()
        step = ScoreStep([str(round_.reward_version_id)], mc_samples=self.plan.score_mc_samples)
        result = score_step(store, campaign, step)
        return StageOutcome(
            metrics={"items_scored": len(result.scores), "score_seconds": time.perf_counter() - started}
        )

    def evaluate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        """Mean reward of the new policy's answers vs the base's on the same prompts, and (with an oracle)
        the oracle win rate of new over base, from the versus items this round queued."""
        from hitl.winrate import outcome_from_scores, win_rate
        from reward.score import RewardScorer

        pairs = _versus_pairs(store, campaign, round_.policy_version_id, round_.base_policy_id)
        if not pairs:
            return StageOutcome(metrics={"eval_pairs": 0})
        scorer = RewardScorer.from_pretrained(_reward_path(store, round_))
        prompts = [p for p, _, _ in pairs]
        new_r = scorer.score(prompts, [a for _, a, _ in pairs])
        old_r = scorer.score(prompts, [b for _, _, b in pairs])
        metrics: dict[str, Any] = {
            "eval_pairs": len(pairs),
            "mean_reward_new": float(sum(new_r) / len(new_r)),
            "mean_reward_base": float(sum(old_r) / len(old_r)),
        }
        rm = win_rate(
            [outcome_from_scores(a, b) for a, b in zip(new_r, old_r, strict=True)],
            [len(a) for _, a, _ in pairs],
            [len(b) for _, _, b in pairs],
            bootstrap=500,
        )
        metrics.update({"rm_win_rate": rm.rate, "rm_win_low": rm.low, "rm_win_high": rm.high})
        if self.plan.oracle:
            from hitl.loop.judges import load_judge

            oracle = load_judge(self.plan.oracle, store)
            outcomes = [outcome_from_scores(*oracle(p, [a, b])) for p, a, b in pairs]
            wr = win_rate(outcomes, [len(a) for _, a, _ in pairs], [len(b) for _, _, b in pairs], bootstrap=500)
            metrics.update(
                {
                    "oracle_win_rate": wr.rate,
                    "oracle_win_low": wr.low,
                    "oracle_win_high": wr.high,
                    "oracle_lc_win_rate": wr.length_controlled,
                    "oracle_lc_low": wr.lc_low,
                    "oracle_lc_high": wr.lc_high,
                }
            )
        return StageOutcome(metrics=metrics)


def reward_samples(path: str, passes: int):
    """A queue_step reward sampler: `passes` MC-dropout scorings of each answer by the reward model at `path`."""
    from reward.score import RewardScorer

    scorer = RewardScorer.from_pretrained(path)
    return lambda prompts, texts: scorer.mc_scores(list(prompts), list(texts), passes)


def _reward_path(store: Store, round_: LoopRound) -> str:
    return version_by_id(store, round_.reward_version_id).path


def _versus_pairs(store: Store, campaign: Campaign, new_id: int | None, base_id: int | None):
    """(prompt text, new answer, base answer) for each prompt both versions answered, first answer of each.

    Identical answers are kept (they are ties): the queue never pairs them, but a win rate must count them.
    """
    from hitl.catalog import prompt_display_text
    from hitl.store.schema import prompts

    with store.read() as conn:
        rows = conn.execute(
            select(responses.c.prompt_id, responses.c.model_version_id, responses.c.text)
            .where(responses.c.model_version_id.in_([new_id, base_id]))
            .order_by(responses.c.id)
        ).all()
        first: dict[tuple[int, int], str] = {}
        for r in rows:
            first.setdefault((r.prompt_id, r.model_version_id), r.text)
        shared = sorted({pid for pid, v in first if v == new_id} & {pid for pid, v in first if v == base_id})
        texts = {
            p.id: prompt_display_text(p.text, p.messages)
            for p in conn.execute(
                select(prompts.c.id, prompts.c.text, prompts.c.messages).where(prompts.c.id.in_(shared))
            )
        }
    return [(texts[pid], first[(pid, new_id)], first[(pid, base_id)]) for pid in shared]
