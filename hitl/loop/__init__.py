"""Round orchestration of the human-in-the-loop cycle, with its state in the store."""

from hitl.loop.runner import LoopSettings, StageOutcome, Stages, run_loop, step_round
from hitl.loop.state import LoopRound, current_round, rounds

__all__ = ["LoopRound", "LoopSettings", "StageOutcome", "Stages", "current_round", "rounds", "run_loop", "step_round"]
