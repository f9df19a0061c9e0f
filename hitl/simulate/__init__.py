"""Simulated raters over an oracle (rule, reward model or any callable), judging through the real queue."""

from hitl.simulate.oracles import RULES, Oracle, load_oracle
from hitl.simulate.raters import RaterBehaviour, default_crowd
from hitl.simulate.run import SimulationReport, simulate

__all__ = ["RULES", "Oracle", "RaterBehaviour", "SimulationReport", "default_crowd", "load_oracle", "simulate"]
