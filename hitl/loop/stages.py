"""The real work of a round: reward training, a policy step, fresh pairs into the queue, round metrics.

    hitl loop --campaign demo --config configs/cpu.yaml

This is the one place in hitl (with the CLI) that reaches into reward/ and policy/, importing them
inside the stages. Every stage names what it makes after the round (`<campaign>-r<N>-reward`,
`<campaign>-r<N>-policy`) and reuses it when it already exists, so a restarted loop never trains or
queues the same thing twice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from hitl import embedded
from hitl.campaigns import Campaign
from hitl.loop.runner import StageOutcome
from hitl.loop.state import LoopRound
from hitl.store import Store
from hitl.store.schema import model_versions, responses

log = logging.getLogger(__name__)


@dataclass
class RoundPlan:
    """What each round does, beyond the reward / policy trainer configs (YAML sections reward:, policy:)."""

    prompts: str = field(default="all", metadata={"help": "Prompts to generate for: a file, a tag, or all."})
    prompts_per_round: int = field(default=64, metadata={"help": "Prompts generated for in each round."})
    policy_pairs: int = field(
        default=128,
        metadata={
            "help": "DPO pairs of the newest items the policy step trains on (0: all): on-policy data, bounded time."
        },
    )
    best_of_n: int = field(
        default=0,
        metadata={
            "help": "DPO: also sample N answers per round prompt and add the round reward model's best-vs-worst "
            "pairs (0: human pairs only)."
        },
    )
    samples_of_new: int = field(default=2, metadata={"help": "Samples of the new policy per prompt (paired)."})
    max_new_tokens: int = field(default=64, metadata={"help": "Longest generated response, in tokens."})
    temperature: float = field(default=0.8, metadata={"help": "Sampling temperature of generation."})
    oracle: str | None = field(
        default=None,
        metadata={"help": "An oracle (rule:NAME, reward:VERSION or module:function) for the round's win rates."},
    )
    config_path: str | None = field(default=None, metadata={"help": "YAML with reward: and policy: sections."})


def _version(store: Store, kind: str, name: str):
    with store.read() as conn:
        return conn.execute(
            select(model_versions).where(model_versions.c.kind == kind, model_versions.c.name == name)
        ).first()


def _version_name(store: Store, version_id: int | None) -> str:
    with store.read() as conn:
        return conn.execute(select(model_versions.c.name).where(model_versions.c.id == version_id)).scalar()


class RoundStages:
    """hitl.loop.runner.Stages on the real reward model and policy."""

    def __init__(self, plan: RoundPlan, base_policy: str = "default"):
        self.plan = plan
        self.base_policy = base_policy

    def _yaml(self, section: str) -> dict[str, Any]:
        from hitl.config import load_yaml_overrides

        data = load_yaml_overrides(self.plan.config_path) if self.plan.config_path else {}
        return dict(data.get(section) or {})

    def train_reward(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        name = f"{campaign.name}-r{round_.number}-reward"
        existing = _version(store, "reward", name)
        if existing is not None:  # trained and registered before a restart
            return StageOutcome(
                ids={"reward_version_id": existing.id},
                metrics={"reward_accuracy": (existing.metadata or {}).get("accuracy")},
            )
        from reward.config import load_config
        from reward.train import train_reward

        out = embedded.hitl_home() / "rewards" / name
        # A round has few judgments: one Dawid-Skene label per item (a spammer's or a biased rater's votes
        # count for less) and a larger held-out share, so the accuracy gate is not decided by a handful of
        # noisy votes. The YAML's reward: section still wins over these.
        loop_defaults = {"aggregate": "dawid_skene", "eval_fraction": 0.25}
        values = {**loop_defaults, **self._yaml("reward"), "output_dir": str(out), "campaign": campaign.name}
        config = load_config(None, values)
        started = time.perf_counter()
        result = train_reward(config, store, version_name=name)
        return StageOutcome(
            ids={"reward_version_id": result.version_id, "snapshot_id": (result.snapshot_ids or {}).get("train")},
            metrics={
                "reward_accuracy": result.metrics.get("accuracy"),
                "reward_seconds": time.perf_counter() - started,
            },
        )

    def train_policy(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        name = f"{campaign.name}-r{round_.number}-policy"
        existing = _version(store, "policy", name)
        if existing is not None:
            return StageOutcome(ids={"policy_version_id": existing.id})
        from hitl.catalog import register_model_version
        from policy.fill import register_resolved, resolve_named
        from policy.train import load_for_training, records_from_store, train_policy
        from policy.train_config import make_config

        values = self._yaml("policy")
        algorithm = values.pop("algorithm", "dpo")
        base_spec = _version_name(store, round_.base_policy_id) if round_.base_policy_id else self.base_policy
        base = resolve_named(store, base_spec)
        with store.write() as conn:
            base_id = register_resolved(conn, base)
        out = embedded.hitl_home() / "policies" / name
        config = make_config(algorithm, {**values, "output_dir": str(out)})
        reward_fn = None
        if algorithm in ("grpo", "rloo"):
            from reward.score import RewardScorer, reward_function

            reward_fn = reward_function(RewardScorer.from_pretrained(_reward_path(store, round_)))
        started = time.perf_counter()
        records = records_from_store(store, campaign, algorithm, newest=self.plan.policy_pairs or None)
        extra = self._best_of_n_pairs(store, round_, base) if algorithm == "dpo" and self.plan.best_of_n >= 2 else []
        records["pairs"] = [*records.get("pairs", []), *extra]
        model, tokenizer = load_for_training(base)
        result = train_policy(model, tokenizer, algorithm, config, reward_fn=reward_fn, **records)
        if result.diverged:
            return StageOutcome(stop=f"the {algorithm} step diverged (non-finite loss): no policy was registered")
        with store.write() as conn:
            vid = register_model_version(
                conn,
                kind="policy",
                name=name,
                path=result.output_dir,
                parent_id=base_id,
                metadata={
                    "algorithm": algorithm,
                    "round": round_.number,
                    "reward_version_id": round_.reward_version_id,
                    "snapshot_id": round_.snapshot_id,
                    "metrics": result.metrics,
                },
            )
        return StageOutcome(
            ids={"policy_version_id": vid, "base_policy_id": base_id},
            metrics={
                "policy_seconds": time.perf_counter() - started,
                "policy_loss": result.metrics.get("train_loss"),
                "best_of_n_pairs": len(extra),
            },
        )

    def _best_of_n_pairs(self, store: Store, round_: LoopRound, base) -> list[dict]:
        """The round reward model's best-vs-worst pairs of the base policy's samples on the round's prompts."""
        from policy.best_of_n import best_of_n_pairs, sampler_for
        from policy.config import GenerationSettings
        from policy.prompts import load_prompts
        from reward.score import RewardScorer, reward_function

        prompts = [r.prompt for r in load_prompts(store, self.plan.prompts, self.plan.prompts_per_round)]
        settings = GenerationSettings(
            n=self.plan.best_of_n,
            max_new_tokens=self.plan.max_new_tokens,
            temperature=self.plan.temperature,
            seed=1000 + round_.number,
        )
        score = reward_function(RewardScorer.from_pretrained(_reward_path(store, round_)))
        pairs = best_of_n_pairs(prompts, sampler_for(base), score, settings)
        return [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs]

    def generate(self, store: Store, campaign: Campaign, round_: LoopRound) -> StageOutcome:
        if _responses_of(store, campaign, round_.policy_version_id):
            return StageOutcome()  # queued before a restart
        from policy.config import GenerationSettings
        from policy.fill import fill_queue

        new = _version_name(store, round_.policy_version_id)
        base = _version_name(store, round_.base_policy_id) if round_.base_policy_id else self.base_policy
        settings = GenerationSettings(
            n=self.plan.samples_of_new,
            max_new_tokens=self.plan.max_new_tokens,
            temperature=self.plan.temperature,
            seed=round_.number,
        )
        started = time.perf_counter()
        versus = fill_queue(
            store,
            model=new,
            prompts=self.plan.prompts,
            campaign=campaign.name,
            settings=dataclasses.replace(settings, n=1),
            pairing="versus",
            against=base,
            limit=self.plan.prompts_per_round,
            progress=False,
            source=f"hitl loop r{round_.number}",
        )
        samples = fill_queue(
            store,
            model=new,
            prompts=self.plan.prompts,
            campaign=campaign.name,
            settings=settings,
            pairing="samples",
            limit=self.plan.prompts_per_round,
            progress=False,
            source=f"hitl loop r{round_.number}",
        )
        return StageOutcome(
            metrics={"items_queued": versus.items + samples.items, "generate_seconds": time.perf_counter() - started}
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
            from hitl.simulate import load_oracle

            oracle = load_oracle(self.plan.oracle, store)
            outcomes = [outcome_from_scores(*oracle(p, [a, b])) for p, a, b in pairs]
            wr = win_rate(outcomes, [len(a) for _, a, _ in pairs], [len(b) for _, _, b in pairs], bootstrap=500)
            metrics.update(
                {
                    "oracle_win_rate": wr.rate,
                    "oracle_win_low": wr.low,
                    "oracle_win_high": wr.high,
                    "oracle_lc_win_rate": wr.length_controlled,
                }
            )
        return StageOutcome(metrics=metrics)


def _reward_path(store: Store, round_: LoopRound) -> str:
    with store.read() as conn:
        return conn.execute(
            select(model_versions.c.path).where(model_versions.c.id == round_.reward_version_id)
        ).scalar()


def _responses_of(store: Store, campaign: Campaign, version_id: int | None) -> int:
    with store.read() as conn:
        return conn.execute(
            select(func.count()).select_from(responses).where(responses.c.model_version_id == version_id)
        ).scalar()


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
