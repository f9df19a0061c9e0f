"""Judges for simulated raters and win rates: every oracle of hitl.simulate, plus trained reward models.

    hitl simulate --campaign demo --oracle reward:demo-rm
    hitl eval-policy --a demo-dpo-1 --b default --prompts all --oracle rule:concise

`reward:VERSION_OR_PATH` needs the reward package, which only the top floor (hitl.cli, hitl.loop) may import
(DESIGN.md), so it is resolved here; everything else goes to `hitl.simulate.load_oracle`.
"""

from __future__ import annotations

from hitl.simulate import Oracle, load_oracle
from hitl.store import Store

REWARD_PREFIX = "reward:"


def load_judge(spec: str, store: Store | None = None) -> Oracle:
    """`reward:VERSION_OR_PATH` (a version needs `store`), or any spec of `hitl.simulate.load_oracle`."""
    if spec.startswith(REWARD_PREFIX):
        from reward.score import judge_for

        return judge_for(store, spec.removeprefix(REWARD_PREFIX))
    return load_oracle(spec)
